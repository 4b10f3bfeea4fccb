"""Child process of bench/startup.py: start a window, print the wall-clock time of its first paint, exit.

``python -m bench.startup_child reeldeck`` starts Reeldeck exactly as ``python main.py`` does (on the data dir in
``REELDECK_HOME``); ``bare`` starts a bare PySide6 window with one label. Both print ``PAINTED <time.time()>``
once the first paint of the main window has finished, then leave at once (teardown is not start-up). Reeldeck
also prints ``PHASE <name> <time.time()>`` marks (wrappers around its start-up steps) for the breakdown.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _hook(app: object) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow, QWidget

    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (not self.seen and event.type() == QEvent.Type.Paint and isinstance(watched, QWidget)
                    and isinstance(watched.window(), QMainWindow)):
                self.seen = True
                QTimer.singleShot(0, _report)  # after this paint pass (it runs synchronously) has finished
            return False

    global _FILTER
    _FILTER = FirstPaint()
    app.installEventFilter(_FILTER)  # type: ignore[attr-defined]


_FILTER: object = None


def _mark(name: str) -> None:
    print(f"PHASE {name} {time.time():.6f}", flush=True)


def _timed(owner: object, name: str, label: str) -> None:
    """Wrap ``owner.name`` (a function or coroutine function) to mark when it ends."""
    import inspect

    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):
        async def wrapper_async(*args: object, **kwargs: object) -> object:
            result = await original(*args, **kwargs)
            _mark(label)
            return result
        setattr(owner, name, wrapper_async)
    else:
        def wrapper(*args: object, **kwargs: object) -> object:
            result = original(*args, **kwargs)
            _mark(label)
            return result
        setattr(owner, name, wrapper)


def _report() -> None:
    print(f"PAINTED {time.time():.6f}", flush=True)
    os._exit(0)


def reeldeck() -> int:
    _mark("python")
    from gui import app as gui_app

    _mark("imports")
    original = gui_app.make_application

    def make_application(argv: list[str] | None = None) -> object:
        app = original(argv)
        _hook(app)
        _mark("qapplication")
        from core.runtime import Runtime
        from gui import main_window

        _mark("window_imports")  # run_window imports it first thing, once the QApplication exists
        _timed(Runtime, "start", "runtime_started")
        _timed(main_window.MainWindow, "_load_jobs", "jobs_loaded")
        _timed(main_window.MainWindow, "show", "window_built")
        return app

    gui_app.make_application = make_application  # type: ignore[assignment]
    import main

    return main.main([])


def bare() -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    _hook(app)
    window = QMainWindow()
    window.setCentralWidget(QLabel("Hello"))
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(reeldeck() if sys.argv[1] == "reeldeck" else bare())
