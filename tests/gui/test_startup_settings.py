"""The window starts when settings.json holds a value of the wrong type: a message names the setting, the default
is used, and nothing crashes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, memory_keys, until
from PySide6.QtWidgets import QApplication, QMessageBox

from core.paths import DataDir
from gui.app import run_window
from gui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


def top(kind: type) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


async def test_a_wrongly_typed_setting_is_named_and_the_window_opens(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data")
    data.root.mkdir(parents=True)
    data.settings_file.write_text(json.dumps({"download_dir": 5}))
    running = asyncio.ensure_future(run_window(data, True, keys=memory_keys()))
    await until(lambda: running.done() or (top(MainWindow) and top(QMessageBox)), what="the window and a message")
    assert not running.done(), running.exception()
    (box,) = top(QMessageBox)
    assert "'download_dir'" in box.text() and "default" in box.text()
    (window,) = top(MainWindow)
    assert window.runtime.engine is not None and window.runtime.engine.library_dir == data.library
    box.accept()
    window.close()
    assert await asyncio.wait_for(running, 30) == 0
