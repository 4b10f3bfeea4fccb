"""Running coroutines from Qt slots on the qasync loop, keeping the tasks referenced and reporting failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

_TASKS: set[asyncio.Task[Any]] = set()

ErrorHandler = Callable[[BaseException], None]


def spawn(coro: Coroutine[Any, Any, Any], on_error: ErrorHandler | None = None) -> asyncio.Task[Any]:
    """Schedule ``coro`` on the running loop; exceptions go to ``on_error`` (or the log), never lost."""
    task = asyncio.get_event_loop().create_task(coro)
    _TASKS.add(task)

    def finished(done: asyncio.Task[Any]) -> None:
        _TASKS.discard(done)
        if done.cancelled():
            return
        error = done.exception()
        if error is None:
            return
        if on_error is not None:
            try:
                on_error(error)
                return
            except Exception:  # a broken handler must not hide the original error
                log.exception("error handler failed")
        log.error("background task failed", exc_info=error)

    task.add_done_callback(finished)
    return task


def pending_tasks() -> int:
    """How many spawned tasks are still running (for tests and shutdown)."""
    return len(_TASKS)
