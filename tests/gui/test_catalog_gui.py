"""The catalog in the window: a model added with "Add a model…" runs end to end in sandbox mode; deprecated models
are greyed with their note; a broken user catalog file is named and the window starts with the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, sandbox_runtime, until
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.jobs import JobState
from gui.add_model_dialog import AddModelDialog

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


@pytest.fixture
async def data_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A sandbox runtime whose data dir is REELDECK_HOME, where the user's catalog files live."""
    home = tmp_path / "data"
    monkeypatch.setenv("REELDECK_HOME", str(home))
    rt = sandbox_runtime(home)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.close()


async def test_a_model_added_in_the_window_runs_end_to_end(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    window = await make_window(qtbot, data_runtime)
    dialog = AddModelDialog(window)
    qtbot.addWidget(dialog)
    dialog.provider.setCurrentIndex(dialog.provider.findData("aihubmix"))
    dialog.model_id.setText("acme-video-2")
    dialog.label.setText("Acme video 2")
    dialog.seconds.setText("4, 8")
    dialog.sizes.setText("1280x720, 720x1280")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.added == ("aihubmix", "acme-video-2"), dialog.problem.text()
    composer = window.composer
    composer.reload_models(*dialog.added)
    assert composer.model is not None and composer.model.id == "acme-video-2"
    composer.set_prompt("A red fox trots through fresh snow")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit_button.click()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    await until(lambda: window.queue_model.job(0).state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the job to complete")
    done = window.queue_model.job(0)
    assert done is not None and done.model == "acme-video-2" and Path(done.video_path or "").is_file()


async def test_an_empty_model_id_is_refused_in_the_dialog(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    dialog = AddModelDialog()
    qtbot.addWidget(dialog)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.added is None and "model's id" in dialog.problem.text()
    assert not (Path(data_runtime.data.root) / "catalog").exists()


async def test_deprecated_models_are_greyed_with_their_note(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    window = await make_window(qtbot, data_runtime)
    combo = window.composer.model_combo
    assert window.composer.select("aihubmix", "sora-2")
    index = combo.findData("sora-2")
    assert "deprecated" in combo.itemText(index)
    assert "2026-09-24" in combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(combo.itemData(index, Qt.ItemDataRole.ForegroundRole), QColor)
    veo = combo.findData("veo-3.1-generate-preview")
    assert combo.itemData(veo, Qt.ItemDataRole.ForegroundRole) is None and combo.itemText(veo) == "Veo 3.1"


async def test_a_broken_user_catalog_is_named_and_the_window_starts(qtbot: QtBot, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "data"
    monkeypatch.setenv("REELDECK_HOME", str(home))
    (home / "catalog").mkdir(parents=True)
    (home / "catalog" / "broken.toml").write_text('provider = "gateway"\n[[models]]\nid = "x"\n')
    rt = sandbox_runtime(home)
    await rt.start()
    try:
        window = await make_window(qtbot, rt)
        assert "broken.toml" in window.statusBar().currentMessage() and "label" in window.statusBar().currentMessage()
        assert window.composer.select("gateway", "viduq3p-720p")
    finally:
        await rt.close()
