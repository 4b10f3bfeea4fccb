"""Start-up: the QApplication, theme and icon, the window's first frame, a qasync event loop, the core
``Runtime``, the window's content, resume.

``python main.py`` calls :func:`run_gui`. The first frame (the window's menus, tabs and sandbox banner) is shown and
painted before anything the frame does not show is imported or started: the event loop, the core (store, keyring,
TLS context, providers, the emulator) and the window's content come after it (:func:`run_window` hands the started
runtime to the window). The loop is started with ``asyncio.Runner(loop_factory=...)`` because Python 3.11's
``asyncio.run`` has no ``loop_factory`` (docs/ARCHITECTURE.md, "Known pitfalls").
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import ReeldeckError
from core.paths import DataDir
from gui.prefs import GuiPrefs
from gui.resources import app_icon
from gui.theme import ThemeManager, theme_manager

if TYPE_CHECKING:
    import asyncio

    from core.secrets import KeyStore
    from gui.main_window import MainWindow

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


def show_first_frame(data: DataDir, sandbox: bool, *, paint: bool = True) -> MainWindow:
    """The window's frame (menus, tabs, the sandbox banner, its size and theme), shown — and with ``paint``, painted
    now: call it so only before the event loop runs — before the core is imported or started (its content comes with
    :meth:`MainWindow.attach`)."""
    from gui.main_window import MainWindow  # after QApplication exists

    prefs = GuiPrefs(data.root)
    theme_manager().set_mode(prefs.theme)  # before the widgets exist: the style sheet is applied once
    window = MainWindow(data=data, sandbox=sandbox or prefs.sandbox_mode, prefs=prefs)
    window.show()
    window.activateWindow()  # keyboard focus even without a window manager (Xvfb, kiosk sessions)
    if paint:  # now: what follows (the loop, the core, the content) keeps this thread busy for a while
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    return window


#: How often the window looks for catalog files changed behind its back (an edited user catalog shows within it).
CATALOG_LOOK_SECONDS = 1.0


async def run_window(data: DataDir, sandbox: bool, keys: KeyStore | None = None,
                     window: MainWindow | None = None, *, freeze_startup: bool = False) -> int:
    """Start the core, give the window (its first frame, shown now unless given) its content, resume unfinished
    jobs; return when the window has closed (at once when it was closed before the core was up).

    The engine runs in a process of its own (``Runtime.start_in_process``): this loop only paints and asks,
    through ``gui.engine_bridge``, and this interpreter's lock and collections are the window's alone; closing the
    runtime ends the process. ``keys`` are the window's (the keys dialog); the engine's process reads the same
    keyring and environment, and is handed the keys kept in memory only. The app (``run_gui``) also freezes what
    start-up made once the window is up (``keep_startup_out_of_collections``; not in a test process)."""
    import asyncio

    from core.runtime import Runtime
    from core.secrets import KeyStore

    window = window or show_first_frame(data, sandbox, paint=False)  # the loop runs: it paints the frame
    closed = asyncio.get_running_loop().create_future()
    window.closed.connect(lambda: _resolve(closed))
    if window.is_closed:
        return 0
    from core.providers import catalog

    runtime = Runtime(data, sandbox_mode=window.sandbox, keys=keys or KeyStore())
    catalog.check_files_at_most_every(CATALOG_LOOK_SECONDS)  # rows read models as they paint
    try:
        await runtime.start_in_process()  # network and database work out of the window's interpreter
        if not closed.done():
            if runtime.hub is not None:  # the input previews prepare images as submission will
                from gui.slots import image_sending

                image_sending().set_originals(runtime.hub.settings.send_original_images())
            window.attach(runtime)
            show_notices(window, runtime.notices)
            window.resume()
            if freeze_startup:
                keep_startup_out_of_collections()
            _quit_on_sigint(window)
            await closed
    finally:
        catalog.check_files_at_most_every(0.0)
        await runtime.close()
    return 0


def keep_startup_out_of_collections() -> None:
    """Collect once, then leave what start-up made (modules, widgets, the catalog: most of what the collector
    tracks) out of later collections (``gc.freeze``). A full collection holds every thread — the window's too —
    and under load one scanned all of it: 90–115 ms, the longest pauses the window had (bench/RESULTS.md)."""
    import gc

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
    try:
        data = DataDir.from_env()
        window = show_first_frame(data, sandbox)
        import asyncio  # after the first paint, as everything the frame does not show

        import qasync

        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(run_window(data, sandbox, window=window, freeze_startup=True))
    except ReeldeckError as exc:
        QMessageBox.critical(None, "Reeldeck cannot start", exc.message)
        return 1
    finally:
        from gui import work

        work.shutdown()
