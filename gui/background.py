"""A small thread pool whose results come back on the GUI thread through a queued Qt signal.

Image preparation, thumbnails and video probing run here, never on the GUI thread. It works with or without a
running asyncio loop (plain Qt event processing delivers the results), so widgets stay testable on their own.

A worker thread never holds the last reference to the function, its arguments or the callback: those often reach
Qt objects (a bound method, a lambda over a widget), and a Qt object freed in a worker thread is destroyed there —
Qt warns ("Timers cannot be stopped from another thread") or crashes. The GUI thread keeps them until delivery, and
the worker drops its own references before it reports back.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Callback = Callable[[Any, BaseException | None], None]


class Background(QObject):
    """Runs functions in worker threads and calls ``callback(result, error)`` on the GUI thread."""

    _finished = Signal(object, object, object)

    def __init__(self, workers: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reeldeck-gui")
        self._finished.connect(self._deliver)
        self._closed = False
        self._tokens = itertools.count()
        #: Per running call, what only the GUI thread may let go of: callback, owner, function and arguments.
        self._pending: dict[int, tuple[Callback, QObject | None, Callable[..., Any], tuple[Any, ...]]] = {}

    def run(self, fn: Callable[..., Any], *args: Any, callback: Callback, owner: QObject | None = None) -> Future[Any]:
        """Run ``fn(*args)`` in a worker; ``callback`` is skipped when ``owner`` was deleted meanwhile."""
        token = next(self._tokens)
        self._pending[token] = (callback, owner, fn, args)
        future: Future[Any] = self._pool.submit(_call, [fn, args])

        def finished(done: Future[Any]) -> None:
            if done.cancelled() or self._closed:
                return
            error = done.exception()
            result = None if error is not None else done.result()
            with contextlib.suppress(RuntimeError):  # the runner itself is gone (shutdown)
                self._finished.emit(token, result, error)

        future.add_done_callback(finished)
        return future

    def _deliver(self, token: int, result: Any, error: BaseException | None) -> None:
        target = self._pending.pop(token, None)
        if target is None:
            return
        callback, owner, _fn, _args = target
        if owner is not None and not shiboken6.isValid(owner):
            return
        try:
            callback(result, error)
        except Exception:  # a failing callback must not take the window down
            log.exception("background callback failed")

    def shutdown(self) -> None:
        """Stop accepting work and drop queued work; running functions finish on their own."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pending.clear()


def _call(job: list[Any]) -> Any:
    """Run ``job = [fn, args]`` in a worker, dropping the worker's references before the result is reported."""
    fn, args = job
    job.clear()
    try:
        return fn(*args)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)  # the traceback still prints, but holds no locals
        raise
    finally:
        del fn, args


_SHARED: Background | None = None


def background() -> Background:
    """The process-wide runner (made on first use)."""
    global _SHARED
    if _SHARED is None or not shiboken6.isValid(_SHARED) or _SHARED._closed:
        _SHARED = Background()
    return _SHARED
