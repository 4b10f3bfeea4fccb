"""The window's one way into the engine, and the engine's one way back: calls in, job events out.

When the runtime runs the engine elsewhere — in a process of its own (``Runtime.start_in_process``, as ``gui.app``
starts it) or on a thread (``Runtime.start_in_thread``) — the window's qasync loop only paints and asks: a call is
handed to the engine and its outcome comes back through ``gui.work`` — the window's one way to run work off its
thread, with its one callback shape (``on_done``, ``on_error``, ``owner``) — and the engine's job events cross to
this thread through one queued Qt signal,
coalesced — many events of one job within a frame become its latest one — and are delivered together
(to ``MainWindow._on_job``). When the engine runs on this very loop (tests, tools), calls run directly and events are
delivered as they happen, exactly as before.

The engine itself stays free of Qt; the store gives each thread its own connection, so the window may read it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.engine import Engine
from core.jobs import Job
from core.runtime import Runtime
from gui import work
from gui.work import OnDone, OnError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long events gather before the window is told (one frame at 60 Hz).
FRAME_MS = 16


class EngineCalls(Protocol):
    """What a view needs to call into the engine wherever it runs (the callbacks as in ``gui.work``)."""

    async def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def send(self, function: Callable[..., Any], *args: Any, on_done: OnDone | None = None,
             on_error: OnError | None = None, owner: QObject | None = None) -> None: ...


class InlineCalls:
    """Calls into an engine on the caller's own loop (a view made without a window, tests): run at once."""

    async def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    def send(self, function: Callable[..., Any], *args: Any, on_done: OnDone | None = None,
             on_error: OnError | None = None, owner: QObject | None = None) -> None:
        """Call ``function(*args)`` and don't wait: a plain function runs and answers now, a coroutine as a task on
        this loop (``work.spawn``)."""
        try:
            result = function(*args)
        except Exception as exc:
            work.settle(None, exc, on_error=on_error, owner=owner)
            return
        if inspect.isawaitable(result):
            work.spawn(result, on_done=on_done, on_error=on_error, owner=owner)
        else:
            work.settle(result, None, on_done=on_done, owner=owner)


INLINE = InlineCalls()


#: The longest the window waits for a short call on the engine's thread.
RUN_NOW_SECONDS = 10.0


class EngineBridge(QObject):
    """Calls from the window into the runtime's engine, and the engine's job events back to ``deliver``.

    ``attach(engine)`` starts delivering an engine's events (a world switch attaches the new one); ``detach``
    stops and drops what has not been delivered. ``call`` is awaited, ``send`` is not; both run the function on
    the engine's loop, and the events the call made are delivered before its answer (a job just submitted is in the
    queue when ``call`` returns).
    """

    _events_waiting = Signal()
    #: The engine is gone for good (its process could not start, or kept dying), with the reason in words; on the
    #: window's thread.
    engine_stopped = Signal(str)

    def __init__(self, runtime: Runtime, deliver: Callable[[Job], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        if hasattr(runtime.thread, "on_stopped"):  # the engine's process tells from its reader thread: queued here
            runtime.thread.on_stopped = self.engine_stopped.emit  # type: ignore[union-attr]
            if runtime.thread.stopped_because:  # type: ignore[union-attr]  # before the window was there
                QTimer.singleShot(0, lambda: self.engine_stopped.emit(runtime.thread.stopped_because))  # type: ignore[union-attr]
        self._deliver = deliver
        self._pending: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._signalled = False
        self._unsubscribe: Callable[[], None] | None = None
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self.flush)
        self._events_waiting.connect(self._frame_later, Qt.ConnectionType.QueuedConnection)
        #: Events delivered and how many engine events they stood for (a measure of the coalescing).
        self.delivered = 0
        self.collected = 0

    @property
    def threaded(self) -> bool:
        """True when the engine runs elsewhere (its own process or thread): events are collected off this thread."""
        return self.runtime.thread is not None

    # --- events ------------------------------------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        """Deliver ``engine``'s job events from now on (and no other engine's)."""
        self.detach()
        self._unsubscribe = engine.subscribe(self._collect if self.threaded else self._deliver)

    def detach(self) -> None:
        """Stop delivering events; those not delivered yet are dropped."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._lock:
            self._pending.clear()
        self._frame.stop()

    def _collect(self, job: Job) -> None:
        """On the engine's thread: keep the job's latest state; the first event of a frame wakes the window."""
        with self._lock:
            self._pending[job.id] = job
            self.collected += 1
            if self._signalled:
                return
            self._signalled = True
        self._events_waiting.emit()

    def _frame_later(self) -> None:
        if not self._frame.isActive():
            self._frame.start()

    def flush(self) -> None:
        """Deliver every job's latest event now (on the window's thread)."""
        with self._lock:
            jobs = list(self._pending.values())
            self._pending.clear()
            self._signalled = False
        self._frame.stop()
        for job in jobs:
            try:
                self._deliver(job)
            except Exception:  # one bad event must not stop the others
                log.exception("showing a job event failed")
        self.delivered += len(jobs)

    # --- calls ---------------------------------------------------------------------------------------------------

    async def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` on the engine's loop (awaited when it is a coroutine): its result, or its
        exception raised here. The answer comes back as :meth:`send`'s does."""
        if self.runtime.thread is None:
            return await INLINE.call(function, *args, **kwargs)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def answered(result: Any) -> None:
            if not answer.done():  # (the awaiting flow may have been cancelled)
                answer.set_result(result)

        def refused(error: BaseException) -> None:
            if not answer.done():
                answer.set_exception(error)

        self.send(functools.partial(function, *args, **kwargs), on_done=answered, on_error=refused)
        return await answer

    def send(self, function: Callable[..., Any], *args: Any, on_done: OnDone | None = None,
             on_error: OnError | None = None, owner: QObject | None = None) -> None:
        """``function(*args)`` on the engine's loop without waiting; its outcome reaches ``on_done`` or ``on_error``
        on this thread through ``gui.work`` (the events it made are shown first). On this loop a plain function runs
        at once."""
        thread = self.runtime.thread
        if thread is None:
            INLINE.send(function, *args, on_done=on_done, on_error=on_error, owner=owner)
            return
        work.follow(thread.run(function, *args), on_done=self._events_first(on_done),
                    on_error=self._events_first(on_error), owner=owner)

    def _events_first(self, callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        """``callback`` after the events waiting are shown (a job just submitted is in the queue by then)."""
        if callback is None:
            return None

        def shown_then(value: Any) -> None:
            self._flush_attached()
            callback(value)
        return shown_then

    def _flush_attached(self) -> None:
        if shiboken6.isValid(self) and self._unsubscribe is not None:
            self.flush()

    def run_now(self, function: Callable[..., Any], *args: Any) -> Any:
        """A short plain call (a store write) on the engine's loop, waited for here: for the window's synchronous
        actions (the library's trash and undo), the one call the window waits for. Its events are shown before it
        returns."""
        thread = self.runtime.thread
        if thread is None:
            return function(*args)
        try:
            return thread.run(function, *args).result(timeout=RUN_NOW_SECONDS)
        finally:
            self._flush_attached()
