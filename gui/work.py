"""The window's one way to run work off the GUI thread, and the one way its outcome comes back.

The GUI thread only paints and asks. Work leaves it in one of three ways, all with one shape — ``on_done(result)``
or ``on_error(error)`` is called later, on the GUI thread, never both, and neither when ``owner`` (a QObject) has
been deleted meanwhile:

- ``work.run(fn, *args, on_done=, on_error=, owner=)``: a blocking function — decoding images, probing and
  exporting videos, checking files on disk, writing a CSV — in a small pool of worker threads;
- ``work.spawn(coro, on_done=, on_error=, owner=)``: a coroutine on the window's own (qasync) loop, for a flow that
  awaits engine calls and updates widgets between them (submitting, switching worlds, testing a key);
- an engine operation, through the window's ``EngineBridge`` (``gui/engine_bridge.py``): ``bridge.send(fn, *args,
  on_done=, on_error=, owner=)`` runs it in the engine's own process (``core.engine_process``, as the app runs it)
  or on its thread (``core.runtime.EngineThread``) and hands the future to ``work.follow``, so its outcome comes
  back through this same delivery; ``await bridge.call(...)`` is the same inside a coroutine.

Rules every path keeps:

- **Failures are never lost.** Without ``on_error``, or when the owner is gone, a failure is logged; a callback that
  raises is logged and does not take the window down. A cancelled call (shutdown, the engine stopping) calls
  nothing.
- **A worker never holds the last reference to what a call holds** — the function, its arguments, the callbacks.
  Those often reach Qt objects (a bound method, a lambda over a widget), and a Qt object freed in a worker thread is
  destroyed there: Qt warns ("Timers cannot be stopped from another thread") or crashes. The GUI thread keeps them
  until delivery, and the worker drops its own references before it reports back.
- **Outcomes are queued**: even a call that ends at once answers from the event loop, never inside ``run``.
- **Shutdown is clean**: ``work.shutdown()`` (``gui/app.py``, after the window closed) drops queued work and every
  outcome not yet delivered; running functions finish on their own. Spawned tasks are kept referenced until done.

One producer is not a call: the sequence preview streams frames for as long as it plays, into a bounded queue it
stops on a cancel token; ``work.stream(fn, *args, name=)`` starts it on a daemon thread of its own.

This module is the only place in ``gui/`` that makes pools, threads or tasks (``tests/gui/test_work.py`` checks that
no other file uses ``ThreadPoolExecutor``, ``asyncio.to_thread``, ``create_task``/``ensure_future`` or
``threading.Thread``). It works with or without a running asyncio loop for ``run`` (plain Qt event processing
delivers the outcomes), so widgets stay testable on their own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]

#: Stands for a call cancelled before it ended (its delivery is dropped, nothing is called).
_CANCELLED = object()


@dataclass
class _Delivery:
    """Where one call's outcome goes, and what only the GUI thread may let go of (``keep``)."""

    on_done: OnDone | None
    on_error: OnError | None
    owner: QObject | None
    keep: tuple[Any, ...] = ()

    def settle(self, result: Any, error: BaseException | None) -> None:
        settle(result, error, on_done=self.on_done, on_error=self.on_error, owner=self.owner)


def settle(result: Any, error: BaseException | None, *, on_done: OnDone | None = None,
           on_error: OnError | None = None, owner: QObject | None = None) -> None:
    """Hand one outcome to its callback now, by the rules above (on the GUI thread)."""
    if owner is not None and not shiboken6.isValid(owner):
        if error is not None:
            log.error("work for a closed part of the window failed", exc_info=error)
        return
    if error is None:
        _call_back(on_done, result)
    elif on_error is None:
        log.error("work off the GUI thread failed", exc_info=error)
    elif not _call_back(on_error, error):
        log.error("the failure it was handed", exc_info=error)  # a broken handler must not hide the failure


def _call_back(callback: Callable[[Any], None] | None, value: Any) -> bool:
    if callback is None:
        return True
    try:
        callback(value)
    except Exception:  # a failing callback must not take the window down
        log.exception("a callback of work off the GUI thread failed")
        return False
    return True


class Work(QObject):
    """Runs blocking functions in worker threads and coroutines on the window's loop, and follows futures made
    elsewhere (the engine's thread); every outcome reaches ``on_done``/``on_error`` on the GUI thread."""

    _settled = Signal(object, object, object)  # token, result, error

    def __init__(self, workers: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reeldeck-gui")
        self._settled.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False
        self._tokens = itertools.count()
        self._waiting: dict[int, _Delivery] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """Calls and tasks whose outcome has not been delivered yet."""
        return len(self._waiting) + len(self._tasks)

    def run(self, fn: Callable[..., Any], *args: Any, on_done: OnDone | None = None, on_error: OnError | None = None,
            owner: QObject | None = None) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args)`` in a worker thread."""
        future = self._pool.submit(_call, [fn, args])
        return self.follow(future, on_done=on_done, on_error=on_error, owner=owner, keep=(fn, args))

    def follow(self, future: concurrent.futures.Future[Any], *, on_done: OnDone | None = None,
               on_error: OnError | None = None, owner: QObject | None = None,
               keep: tuple[Any, ...] = ()) -> concurrent.futures.Future[Any]:
        """Deliver the outcome of ``future`` (ended on any thread) to the callbacks on the GUI thread."""
        token = next(self._tokens)
        self._waiting[token] = _Delivery(on_done, on_error, owner, keep)

        def ended(done: concurrent.futures.Future[Any]) -> None:
            if self._closed:
                return
            if done.cancelled():
                result, error = _CANCELLED, None
            else:
                error = done.exception()
                result = None if error is not None else done.result()
            with contextlib.suppress(RuntimeError):  # the runner itself is gone (shutdown)
                self._settled.emit(token, result, error)

        future.add_done_callback(ended)
        return future

    def _deliver(self, token: int, result: Any, error: BaseException | None) -> None:
        delivery = self._waiting.pop(token, None)
        if delivery is not None and result is not _CANCELLED:
            delivery.settle(result, error)

    def spawn(self, coro: Awaitable[Any], *, on_done: OnDone | None = None, on_error: OnError | None = None,
              owner: QObject | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` (a coroutine or any awaitable) on the window's loop, kept referenced until it ends."""
        task = asyncio.get_event_loop().create_task(coro if asyncio.iscoroutine(coro) else _awaited(coro))
        self._tasks.add(task)
        delivery = _Delivery(on_done, on_error, owner)

        def ended(done: asyncio.Task[Any]) -> None:
            self._tasks.discard(done)
            if done.cancelled():
                return
            error = done.exception()
            delivery.settle(None if error is not None else done.result(), error)

        task.add_done_callback(ended)
        return task

    def shutdown(self) -> None:
        """Stop accepting work and drop queued work and undelivered outcomes; running functions finish on their own."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._waiting.clear()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


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


_SHARED: Work | None = None


def shared() -> Work:
    """The process-wide runner (made on first use, and again after a shutdown)."""
    global _SHARED
    if _SHARED is None or not shiboken6.isValid(_SHARED) or _SHARED.closed:
        _SHARED = Work()
    return _SHARED


def run(fn: Callable[..., Any], *args: Any, on_done: OnDone | None = None, on_error: OnError | None = None,
        owner: QObject | None = None) -> concurrent.futures.Future[Any]:
    """``fn(*args)`` in the shared pool; see the module's rules."""
    return shared().run(fn, *args, on_done=on_done, on_error=on_error, owner=owner)


def spawn(coro: Awaitable[Any], *, on_done: OnDone | None = None, on_error: OnError | None = None,
          owner: QObject | None = None) -> asyncio.Task[Any]:
    """``coro`` on the window's loop; see the module's rules."""
    return shared().spawn(coro, on_done=on_done, on_error=on_error, owner=owner)


def follow(future: concurrent.futures.Future[Any], *, on_done: OnDone | None = None, on_error: OnError | None = None,
           owner: QObject | None = None) -> concurrent.futures.Future[Any]:
    """The outcome of a future made elsewhere (the engine's thread), delivered on the GUI thread."""
    return shared().follow(future, on_done=on_done, on_error=on_error, owner=owner)


def stream(fn: Callable[..., None], *args: Any, name: str) -> threading.Thread:
    """Start a producer that runs as long as its consumer wants (it must stop on its own cancel token) on a daemon
    thread; it reports through what it produces, not through callbacks."""
    thread = threading.Thread(target=fn, args=args, name=name, daemon=True)
    thread.start()
    return thread


def shutdown() -> None:
    """Shut the shared runner down (the app, once the window has closed)."""
    if _SHARED is not None and shiboken6.isValid(_SHARED):
        _SHARED.shutdown()
