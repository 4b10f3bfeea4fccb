"""Start-up: the QApplication, theme and icon, a qasync event loop, the core ``Runtime``, the window, resume.

The engine runs on a loop of its own in a thread (``Runtime.start_in_thread``): the qasync loop only paints and
asks, through ``gui.engine_bridge``; closing the window closes the runtime there and ends the thread.

``python main.py`` calls :func:`run_gui`. The loop is started with ``asyncio.Runner(loop_factory=...)`` because
Python 3.11's ``asyncio.run`` has no ``loop_factory`` (docs/ARCHITECTURE.md, "Known pitfalls").
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import ReeldeckError
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore
from gui.background import background
from gui.prefs import GuiPrefs
from gui.resources import app_icon
from gui.theme import ThemeManager

log = logging.getLogger(__name__)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with Reeldeck's names, icon and theme (reused when one exists)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Reeldeck")
    app.setOrganizationName("Reeldeck")
    app.setApplicationDisplayName("Reeldeck")
    app.setDesktopFileName("reeldeck")
    app.setWindowIcon(app_icon())
    if not hasattr(app, "_reeldeck_theme"):
        app._reeldeck_theme = ThemeManager(app)  # type: ignore[attr-defined]
    return app


async def run_window(data: DataDir, sandbox: bool, keys: KeyStore | None = None, *,
                     freeze_startup: bool = False) -> int:
    """Start the core, show the window, resume unfinished jobs; return when the window has closed. The app
    (``run_gui``) also freezes what start-up made (``keep_startup_out_of_collections``; not in a test process)."""
    from gui.main_window import MainWindow  # after QApplication exists

    prefs = GuiPrefs(data.root)
    runtime = Runtime(data, sandbox_mode=sandbox or prefs.sandbox_mode, keys=keys or KeyStore())
    try:
        await runtime.start_in_thread()  # network and database work off the window's thread
    except BaseException:
        await runtime.close()
        raise
    closed = asyncio.get_running_loop().create_future()
    try:
        window = MainWindow(runtime, prefs=prefs)
        window.closed.connect(lambda: _resolve(closed))
        window.show()
        window.activateWindow()  # keyboard focus even without a window manager (Xvfb, kiosk sessions)
        show_notices(window, runtime.notices)
        window.resume()
        if freeze_startup:
            keep_startup_out_of_collections()
        _quit_on_sigint(window)
        await closed
    finally:
        await runtime.close()
    return 0


def keep_startup_out_of_collections() -> None:
    """Collect once, then leave what start-up made (modules, widgets, the catalog: most of what the collector
    tracks) out of later collections (``gc.freeze``). A full collection holds every thread — the window's too —
    and under load one scanned all of it: 90–115 ms, the longest pauses the window had (bench/RESULTS.md)."""
    gc.collect()
    gc.freeze()


def show_notices(window: QWidget, notices: list[str]) -> QMessageBox | None:
    """Tell the person what start-up found (a settings value of the wrong type, a damaged database moved aside)
    in a message over the window; not modal, so the window works meanwhile."""
    if not notices:
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, "Reeldeck started with some defaults", "\n\n".join(notices),
                      QMessageBox.StandardButton.Ok, window)
    box.setObjectName("StartupNotices")
    box.open()
    return box


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _quit_on_sigint(window: QWidget) -> None:
    """Ctrl+C in the terminal closes the window properly (a timer lets Python see the signal)."""
    try:
        signal.signal(signal.SIGINT, lambda *_: window.close())
    except ValueError:  # not the main thread
        return
    timer = QTimer(window)
    timer.start(300)
    timer.timeout.connect(lambda: None)


def run_gui(sandbox: bool) -> int:
    """Open the window; returns the process exit status."""
    app = make_application()
    app.setQuitOnLastWindowClosed(False)  # the runtime closes first; then the loop ends
    data = DataDir.from_env()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(run_window(data, sandbox, freeze_startup=True))
    except ReeldeckError as exc:
        QMessageBox.critical(None, "Reeldeck cannot start", exc.message)
        return 1
    finally:
        background().shutdown()
