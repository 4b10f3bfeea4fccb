"""A small thread pool whose results come back on the GUI thread through a queued Qt signal.

Image preparation, thumbnails and video probing run here, never on the GUI thread. It works with or without a
running asyncio loop (plain Qt event processing delivers the results), so widgets stay testable on their own.
"""

from __future__ import annotations

import contextlib
import logging
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

    def run(self, fn: Callable[..., Any], *args: Any, callback: Callback, owner: QObject | None = None) -> Future[Any]:
        """Run ``fn(*args)`` in a worker; ``callback`` is skipped when ``owner`` was deleted meanwhile."""
        future: Future[Any] = self._pool.submit(fn, *args)

        def finished(done: Future[Any]) -> None:
            if done.cancelled() or self._closed:
                return
            error = done.exception()
            result = None if error is not None else done.result()
            with contextlib.suppress(RuntimeError):  # the runner itself is gone (shutdown)
                self._finished.emit((callback, owner), result, error)

        future.add_done_callback(finished)
        return future

    def _deliver(self, target: tuple[Callback, QObject | None], result: Any, error: BaseException | None) -> None:
        callback, owner = target
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


_SHARED: Background | None = None


def background() -> Background:
    """The process-wide runner (made on first use)."""
    global _SHARED
    if _SHARED is None or not shiboken6.isValid(_SHARED) or _SHARED._closed:
        _SHARED = Background()
    return _SHARED
