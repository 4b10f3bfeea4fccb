"""Child process of bench/startup.py: start a window, print the wall-clock time of its first paint, exit.

``python -m bench.startup_child reeldeck`` starts Reeldeck exactly as ``python main.py`` does (on the data dir in
``REELDECK_HOME``); ``bare`` starts a bare PySide6 window with one label. Both print ``PAINTED <time.time()>``
once the first paint of the main window has finished. The bare window then leaves at once (teardown is not
start-up); Reeldeck first waits until its library lists every job of the store (it reads them in pages after the
first paint) and prints ``LISTED <time.time()>``. Reeldeck also prints ``PHASE <name> <time.time()>`` marks
(wrappers around its start-up steps, put in place as Reeldeck imports their modules) for the breakdown.
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


_WAIT_FOR_LISTING = False
_LISTED = False


def _report() -> None:
    print(f"PAINTED {time.time():.6f}", flush=True)
    if not _WAIT_FOR_LISTING or _LISTED:
        os._exit(0)


def _listed() -> None:
    global _LISTED
    if not _LISTED:
        _LISTED = True
        print(f"LISTED {time.time():.6f}", flush=True)
        if _FILTER is not None and getattr(_FILTER, "seen", False):
            os._exit(0)  # painted already (else _report leaves once it has)


def _hook_listing(library_model: type) -> None:
    """Mark when the library has every job: the end of its paged loading (or of its one load, in older code)."""
    global _WAIT_FOR_LISTING
    for name in ("finish_loading", "_checked"):
        original = getattr(library_model, name, None)
        if original is None:
            continue

        def wrapper(self: object, *args: object, _original: object = original, **kwargs: object) -> object:
            result = _original(self, *args, **kwargs)  # type: ignore[operator]
            if getattr(self, "loaded", False):
                _listed()
            return result

        setattr(library_model, name, wrapper)
        _WAIT_FOR_LISTING = True
        return


def _when_imported(name: str, then: object) -> None:
    """Call ``then(module)`` right after the module ``name`` is first imported (by Reeldeck, when it needs it), so
    the marks import nothing earlier than Reeldeck itself would."""
    import importlib.abc
    import importlib.machinery

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname: str, path: object, target: object = None) -> object:
            if fullname != name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)  # type: ignore[arg-type]
            if spec is None or spec.loader is None:
                return spec
            execute = spec.loader.exec_module

            def exec_module(module: object) -> None:
                execute(module)  # type: ignore[arg-type]
                then(module)  # type: ignore[operator]

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, Finder())


def reeldeck() -> int:
    global _WAIT_FOR_LISTING
    _mark("python")
    _WAIT_FOR_LISTING = True  # its library lists the jobs after the first paint (hooked once imported)
    from gui import app as gui_app

    _mark("imports")
    original = gui_app.make_application

    def make_application(argv: list[str] | None = None) -> object:
        app = original(argv)
        _hook(app)
        _mark("qapplication")
        return app

    def window_module(module: object) -> None:
        _mark("window_imports")
        window = module.MainWindow  # type: ignore[attr-defined]
        _timed(window, "__init__", "window_built")  # the frame (older code: the whole window)
        _timed(window, "show", "shown")
        if hasattr(window, "attach"):
            _timed(window, "attach", "attached")  # the content, once the core is up

    gui_app.make_application = make_application  # type: ignore[assignment]
    _when_imported("gui.main_window", window_module)
    _when_imported("core.runtime", lambda module: _timed(module.Runtime, "start", "runtime_started"))
    _when_imported("gui.job_list", lambda module: _hook_listing(module.JobListModel))
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
