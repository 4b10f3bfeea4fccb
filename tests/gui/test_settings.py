"""Settings dialog (URLs checked live, saved to settings.json), GUI prefs, theme, trash fallback, override guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from guikit import memory_keys
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from core.paths import DataDir
from core.runtime import Runtime
from core.settings import Settings
from gui.prefs import GuiPrefs
from gui.queue_view import trash_or_delete
from gui.settings_dialog import SettingsDialog
from gui.theme import ThemeManager, colors, palette, style_sheet

ROOT = Path(__file__).resolve().parents[2]


def make_dialog(qtbot: QtBot, tmp_path: Path) -> tuple[SettingsDialog, DataDir, GuiPrefs]:
    data = DataDir(tmp_path / "data").ensure()
    prefs = GuiPrefs(data.root)
    dialog = SettingsDialog(Runtime(data, keys=memory_keys()), prefs)
    qtbot.addWidget(dialog)
    return dialog, data, prefs


def test_urls_are_checked_live_and_saved(qtbot: QtBot, tmp_path: Path) -> None:
    dialog, data, _prefs = make_dialog(qtbot, tmp_path)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save.isEnabled()
    gateway = dialog.urls["gateway"]
    gateway.edit.setText("http://gateway.example.com")
    assert not save.isEnabled()
    assert "only https" in gateway.verdict.text()
    gateway.edit.setText("http://127.0.0.1:8080/v1")  # plain http is fine on loopback
    assert save.isEnabled() and gateway.verdict.isHidden()
    dialog.endpoints["REELDECK_NOVITA_ASSETS_URL"].edit.setText("ftp://assets")
    assert not save.isEnabled()
    dialog.endpoints["REELDECK_NOVITA_ASSETS_URL"].edit.setText("https://assets.example.com")
    dialog.concurrency["aihubmix"].setValue(2)
    folder = tmp_path / "videos"
    dialog.download_dir.setText(str(folder))
    dialog.sandbox_box.setChecked(True)
    assert "next time" in dialog.restart_note.text()
    dialog.save()
    saved = json.loads(data.settings_file.read_text())
    assert saved["base_urls"] == {"gateway": "http://127.0.0.1:8080/v1"}
    assert saved["endpoints"] == {"REELDECK_NOVITA_ASSETS_URL": "https://assets.example.com"}
    assert saved["concurrency"]["aihubmix"] == 2
    assert saved["download_dir"] == str(folder)
    assert GuiPrefs(data.root).sandbox_mode is True
    settings = Settings.load(data.settings_file, environ={})
    assert settings.base_url("gateway", None) == "http://127.0.0.1:8080/v1"
    assert settings.concurrency("aihubmix") == 2


def test_gateway_request_dialect_is_a_choice_saved_per_gateway(qtbot: QtBot, tmp_path: Path) -> None:
    dialog, data, _prefs = make_dialog(qtbot, tmp_path)
    choice = dialog.options[("gateway", "dialect")]
    assert choice.currentData() == "page"  # the page's fields by default
    assert [choice.itemData(i) for i in range(choice.count())] == ["page", "new-api"]
    choice.setCurrentIndex(choice.findData("new-api"))
    dialog.save()
    saved = json.loads(data.settings_file.read_text())
    assert saved["options"] == {"gateway": {"dialect": "new-api"}}
    assert Settings.load(data.settings_file, environ={}).option("gateway", "dialect") == "new-api"
    again, _data, _prefs = make_dialog(qtbot, tmp_path)
    assert again.options[("gateway", "dialect")].currentData() == "new-api"


def test_download_folder_must_be_a_folder(qtbot: QtBot, tmp_path: Path) -> None:
    dialog, _data, _prefs = make_dialog(qtbot, tmp_path)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    dialog.download_dir.setText(str(afile))
    assert "not a folder" in dialog.folder_verdict.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()


def test_environment_override_is_shown(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_GOAPI_BASE_URL", "https://proxy.example.com")
    dialog, _data, _prefs = make_dialog(qtbot, tmp_path)
    assert "wins over this" in dialog.urls["goapi"].verdict.text()


def test_themes_follow_the_scheme(qapp: QApplication) -> None:
    assert palette(True).color(QPalette.ColorRole.Window).name() == colors(True)["window"]
    assert palette(False).color(QPalette.ColorRole.Window).name() == colors(False)["window"]
    assert "#SandboxBanner" in style_sheet(False) and "$" not in style_sheet(True)
    old_palette, old_sheet, old_style = qapp.palette(), qapp.styleSheet(), qapp.style().name()
    try:
        manager = ThemeManager(qapp)
        expected_dark = qapp.styleHints().colorScheme() == Qt.ColorScheme.Dark
        assert manager.dark == expected_dark
        manager.apply(dark=True)
        assert qapp.palette().color(QPalette.ColorRole.Base).name() == colors(True)["base"]
        manager.apply(dark=False)
        assert qapp.palette().color(QPalette.ColorRole.Base).name() == colors(False)["base"]
    finally:
        qapp.setStyleSheet(old_sheet)
        qapp.setPalette(old_palette)
        qapp.setStyle(old_style)


def test_trash_falls_back_gracefully(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "no" / "such" / "place"))
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    questions: list[str] = []
    outcome = trash_or_delete(video, lambda title, text: questions.append(text) or False)
    if questions:  # this system has no usable trash here: we asked, and kept the file
        assert "kept" in outcome and video.exists()
        assert trash_or_delete(video, lambda title, text: True) == "the video was deleted permanently"
        assert not video.exists()
    else:
        assert "trash" in outcome
    assert trash_or_delete(video, lambda title, text: True) == "the file was already gone"


def test_overrides_never_let_exceptions_reach_pyside() -> None:
    """A sqlite3 error escaping a Qt override segfaults PySide6 6.11; guarded overrides log it instead."""
    script = textwrap.dedent("""
        import sqlite3
        from PySide6.QtWidgets import QApplication, QWidget
        from gui.safety import guarded

        app = QApplication([])

        class Window(QWidget):
            @guarded()
            def closeEvent(self, event):
                db = sqlite3.connect(":memory:")
                db.close()
                db.execute("select 1")

        window = Window()
        window.show()
        app.processEvents()
        window.close()
        print("survived")
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-1500:]
    assert "survived" in result.stdout
