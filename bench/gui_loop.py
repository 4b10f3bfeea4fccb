"""Running a benchmark the way the GUI runs: offscreen Qt, a qasync loop, and Reeldeck's window (or a plain one).

Imports Qt, so only benchmarks that need the window use it. ``QT_QPA_PLATFORM=offscreen`` is set before Qt loads.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget


def application() -> QApplication:
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication(["reeldeck-bench"])


def run(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``main()`` on a qasync loop over the QApplication, as ``gui.app.run_gui`` does."""
    app = application()
    app.setQuitOnLastWindowClosed(False)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(main())


def reeldeck_window_available() -> bool:
    return (Path(__file__).resolve().parents[1] / "gui" / "main_window.py").exists()


def open_window(runtime: Any | None, *, plain: bool = False) -> tuple[QWidget, str]:
    """Reeldeck's main window over a started runtime when gui/ has it, else a plain QMainWindow. Shown."""
    if not plain and runtime is not None and reeldeck_window_available():
        from gui.app import make_application
        from gui.main_window import MainWindow
        from gui.prefs import GuiPrefs

        make_application()
        window: QWidget = MainWindow(runtime, prefs=GuiPrefs(runtime.data.root))
        kind = "gui.main_window.MainWindow"
    else:
        plain_window = QMainWindow()
        plain_window.setCentralWidget(QLabel("Reeldeck benchmark"))
        plain_window.resize(1200, 800)
        window = plain_window
        kind = "plain QMainWindow"
    window.show()
    return window, kind
