"""The engine in a process of its own: the window's interpreter keeps only the window.

On a thread (``EngineThread``) the engine's Python work — HTTP, JSON, store writes, its garbage collections —
shares the window's interpreter lock: under a thousand jobs the window's loop was late by up to a quarter of a
second (bench/RESULTS.md, issue 15). In a process of its own it shares nothing but the job store (SQLite in WAL
mode, which two processes already share by leases) and a pipe.

:class:`EngineProcess` stands where an ``EngineThread`` stands (``Runtime.thread``): ``run(function, *args)``
returns a future of the result, where ``function`` is a method of the runtime or of its engine — the window's own
runtime keeps a *dormant* engine over the same store for what it reads (prices, the budget, durations) and for
the events it listens to; calling one of its methods through ``run`` calls the same method of the engine in the
child process. The child sends its job events back in batches, one per frame (only each job's latest), and
before the answer of the call that caused them, so a submitted job is listed when ``submit`` returns.

When the child ends unexpectedly (killed, crashed), calls in flight fail with a plain message, and a new child is
started that resumes every unfinished job: their leases belonged to a process that no longer exists.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from core.errors import ReeldeckError
from core.jobs import JobState
from core.redact import redact

if TYPE_CHECKING:
    from core.engine import Engine, EngineConfig
    from core.jobs import Job
    from core.paths import DataDir
    from core.runtime import Runtime

log = logging.getLogger(__name__)

#: How long job events gather in the child before they are sent (one frame at 60 Hz).
FRAME_SECONDS = 0.016
#: How often the engine's process looks for jobs other processes wrote (``Engine.look_for_others``).
LOOK_SECONDS = 1.0
#: How much lower the engine's process runs than the window's: on a busy machine the window gets the cores first
#: (painting is what a person waits on; a poll a few milliseconds later is not).
ENGINE_NICENESS = 10
#: A child that dies this many times within ``DEATH_WINDOW_SECONDS`` is not started again (a crash loop would
#: spin the machine and help no job: they are safe in the store and resume at the next start).
MAX_DEATHS = 4
DEATH_WINDOW_SECONDS = 60.0
#: How long stopping waits for the child to close its runtime and end before it is killed.
STOP_SECONDS = 30.0


class EngineStopped(ReeldeckError):
    """The engine's process ended before it answered."""


@dataclass(frozen=True)
class ChildSetup:
    """What the child needs to build the same runtime as the window's (keys come from its own keyring)."""

    data: DataDir
    sandbox_mode: bool
    emulator: bool = True
    sandbox_options: dict[str, Any] = field(default_factory=dict)
    engine_config: EngineConfig | None = None


def setup_of(runtime: Runtime, emulator: bool) -> ChildSetup:
    return ChildSetup(runtime.data, runtime.sandbox_mode, emulator, dict(runtime.sandbox_options),
                      runtime.engine_config)


# --- the window's side --------------------------------------------------------------------------------------------


class EngineProcess:
    """The window's handle on the engine's process: calls out, answers and job events in (a reader thread)."""

    def __init__(self, runtime: Runtime, setup: ChildSetup) -> None:
        self.runtime = runtime
        self.setup = setup
        self._ids = itertools.count(1)
        self._waiting: dict[int, concurrent.futures.Future[Any]] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self.restarts = 0
        #: Why the engine is gone for good (it could not start, or it kept dying), in words for the person.
        self.stopped_because: str | None = None
        #: Called (from a thread of this class) with ``stopped_because`` when the engine is gone for good.
        self.on_stopped: Callable[[str], None] | None = None
        self._deaths: list[float] = []
        self._process: Any = None
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        #: Which child a message was meant for: one queued for a child that died is never sent to the next.
        self._generation = 0
        #: Messages to the child, written by one thread: the window never waits on a full pipe (a thousand
        #: submits at once filled it while the child was busy, and the window's loop stalled in ``send``).
        self._outbox: queue.SimpleQueue[tuple[int, tuple[Any, ...]] | None] = queue.SimpleQueue()
        with self._lock:
            self._spawn()
        threading.Thread(target=self._write, name="reeldeck-engine-pipe-out", daemon=True).start()

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def _spawn(self) -> None:
        """Start a child and its reader (with ``_lock`` held: no call is sent half-way through a restart)."""
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt and threads
        ours, theirs = context.Pipe(duplex=True)
        setup = replace(self.setup, sandbox_mode=self.runtime.sandbox_mode)  # the world it is in now
        self._process = context.Process(target=serve, args=(theirs, setup), name="reeldeck-engine", daemon=True)
        self._process.start()
        theirs.close()
        if hasattr(os, "setpriority"):  # POSIX; on Windows the engine keeps the normal priority
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, self._process.pid,
                               os.getpriority(os.PRIO_PROCESS, 0) + ENGINE_NICENESS)
        self._conn = ours
        self._generation += 1
        self._reader = threading.Thread(target=self._read, args=(ours, self._process), name="reeldeck-engine-pipe",
                                        daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return not self._stopping and self._process is not None

    def in_thread(self) -> bool:
        """Never: the window's code does not run in the engine's process."""
        return False

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """End the child (after ``runtime.close`` was called in it) and wait for it; kill it if it hangs. The
        reader thread reaps the child once its pipe closes, so only that thread waits on the process itself."""
        self._stopping = True
        stopped: set[int] = set()
        while self._reader is not None and id(self._reader) not in stopped:  # a restart may be under way
            reader, process = self._reader, self._process
            stopped.add(id(reader))
            self._send(("stop",))
            if reader is threading.current_thread():
                return
            reader.join(timeout)
            if reader.is_alive():
                log.warning("the engine's process did not end in %.0f s; killing it", timeout)
                process.kill()
                reader.join(10)
        self._outbox.put(None)
        if self._conn is not None:
            self._conn.close()

    # --- calls -------------------------------------------------------------------------------------------------

    def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Call the same method of the child's runtime or engine; the future holds its result or exception."""
        target, name, args, kwargs = self._address(function, args, kwargs)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self._stopping:
            future.set_exception(EngineStopped(self.stopped_because or "Reeldeck's engine has stopped."))
            return future
        call_id = next(self._ids)
        with self._lock:
            self._waiting[call_id] = future
            self._outbox.put((self._generation, ("call", call_id, target, name, args, kwargs)))
        return future

    def _address(self, function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> tuple[str, str, tuple[Any, ...], dict[str, Any]]:
        if isinstance(function, functools.partial):
            return self._address(function.func, (*function.args, *args), {**function.keywords, **kwargs})
        owner = getattr(function, "__self__", None)
        name = getattr(function, "__name__", "")
        if owner is not None and owner is self.runtime.engine:
            return "engine", name, args, kwargs
        if owner is self.runtime:
            return "runtime", name, args, kwargs
        raise TypeError(f"{function!r} is not a method of the runtime or its engine: it cannot run in the engine's "
                        "process")

    def _send(self, message: tuple[Any, ...]) -> None:
        """Queue ``message`` for the current child (never blocks)."""
        with self._lock:
            self._outbox.put((self._generation, message))

    def _write(self) -> None:
        """The one writer: pickles and sends in order; a call that cannot reach its child fails, and one queued
        for a child that died is dropped — never done by the next — and fails in plain words."""
        while (item := self._outbox.get()) is not None:
            generation, message = item
            with self._lock:
                conn, current = self._conn, self._generation
            if generation != current or conn is None:
                self._fail(message, EngineStopped("Reeldeck's engine stopped before this reached it, so nothing of "
                                                  "it was done; the engine has been restarted."))
                continue
            try:
                conn.send(message)
            except (OSError, ValueError) as exc:
                self._fail(message, EngineStopped("Reeldeck's engine has stopped; it is being restarted."))
                log.debug("writing to the engine's process failed: %s", exc)
            except Exception as exc:  # an argument that does not pickle: that call fails, the others go on
                self._fail(message, exc)

    def _fail(self, message: tuple[Any, ...], error: BaseException) -> None:
        if message[0] != "call":
            return
        with self._lock:
            future = self._waiting.pop(message[1], None)
        if future is not None and not future.done():
            future.set_exception(error)

    # --- answers and events ------------------------------------------------------------------------------------

    def _read(self, conn: Connection, process: Any) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # an answer that does not unpickle: fail nothing else for it
                log.exception("an answer from the engine's process could not be read")
                continue
            self._receive(message)
        process.join(10)  # reaped: its leases now count as abandoned
        if not self._stopping and process is self._process and self._too_many_deaths():
            self._give_up(f"Reeldeck's engine stopped {MAX_DEATHS} times within a minute, so it is not started "
                          "again. Your jobs are safe and resume when Reeldeck starts again; the log in the data "
                          "folder (Help → Open the log) says why it stopped.")
        self._fail_waiting(EngineStopped(
            self.stopped_because or "Reeldeck's engine has stopped." if self._stopping else
            "Reeldeck's engine stopped before it answered; it has been restarted and every unfinished job resumes "
            "(a job you had just submitted may be among them: look in the queue before submitting it again)."))
        if not self._stopping and process is self._process:
            self._restart()

    def _too_many_deaths(self) -> bool:
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < DEATH_WINDOW_SECONDS] + [now]
        return len(self._deaths) >= MAX_DEATHS

    def _give_up(self, why: str) -> None:
        """The engine is gone for good: every call from now on fails with ``why``, and the window is told."""
        log.error("%s", why)
        self.stopped_because, self._stopping = why, True
        if self.on_stopped is not None:
            try:
                self.on_stopped(why)
            except Exception:  # telling must not break the reader
                log.exception("telling that the engine stopped failed")

    def _receive(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "events":
            self._deliver(message[1], message[2])
        elif kind in ("result", "error"):
            with self._lock:
                future = self._waiting.pop(message[1], None)
            if future is None:
                return
            if kind == "result":
                future.set_result(message[2])
            else:
                future.set_exception(message[2])
        elif kind == "failed":
            self._give_up(f"Reeldeck's engine could not start: {message[1]} Your jobs are safe and resume when "
                          "Reeldeck starts again.")

    def _deliver(self, world: str, jobs: list[Job]) -> None:
        engine = self.runtime.engine
        if engine is None or world != self.runtime.world:  # a switch of worlds is under way: not this one's
            return
        for job in jobs:
            if job.state == JobState.COMPLETED:  # the child learnt how long it took; the window reads it anew
                engine.durations.forget(job.provider, job.model)
            engine.emit(job)

    def _fail_waiting(self, error: Exception) -> None:
        with self._lock:
            futures = list(self._waiting.values())
            self._waiting.clear()
        for future in futures:
            if not future.done():
                future.set_exception(error)

    def _restart(self) -> None:
        log.error("the engine's process ended unexpectedly (exit code %s); starting a new one",
                  self._process.exitcode if self._process is not None else None)
        self.restarts += 1
        with self._lock:
            if self._stopping:
                return
            self._spawn()
        self.run(self.runtime.use_session_keys, self.runtime.keys.session_keys())
        if self.runtime.engine is not None:
            self.run(self.runtime.engine.resume_all)


# --- the engine's side (the child) --------------------------------------------------------------------------------


def serve(conn: Connection, setup: ChildSetup) -> None:
    """The child's main: build the runtime, then answer calls until told to stop. Ctrl+C in the terminal reaches
    the whole process group: the window closes the runtime and then this process, which must not die first."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_Child(conn, setup).serve())
    finally:
        conn.close()


class _Child:
    """The engine's process: one runtime, its engine's events sent in batches, calls answered in order."""

    def __init__(self, conn: Connection, setup: ChildSetup) -> None:
        self.conn = conn
        self.setup = setup
        self.runtime: Runtime | None = None
        self._pending: dict[str, Job] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stop = asyncio.Event()
        self._closed = False

    async def serve(self) -> None:
        from core.runtime import Runtime

        self.runtime = Runtime(self.setup.data, sandbox_mode=self.setup.sandbox_mode, emulator=self.setup.emulator,
                               sandbox_options=self.setup.sandbox_options, engine_config=self.setup.engine_config)
        loop = asyncio.get_running_loop()
        try:
            await self.runtime.start()
        except Exception as exc:  # told to the window, not retried: it would fail the same way again
            log.exception("the engine's process could not start")
            words = exc.message if isinstance(exc, ReeldeckError) else f"{type(exc).__name__}: {exc}."
            self.conn.send(("failed", redact(words)))
            return
        self._follow(self.runtime.engine)
        log.info("the engine's process %d works the %s world", os.getpid(), self.runtime.world)
        threading.Thread(target=self._listen, args=(loop,), name="reeldeck-engine-pipe", daemon=True).start()
        looking = loop.create_task(self._look_for_others())
        await self._stop.wait()
        looking.cancel()

    async def _look_for_others(self) -> None:
        """Once a second: jobs the command line (or another window) wrote appear in this window, and those nobody
        works any more are taken up here."""
        while True:
            await asyncio.sleep(LOOK_SECONDS)
            engine = self.runtime.engine if self.runtime is not None and not self._closed else None
            if engine is None:
                continue
            try:
                engine.look_for_others()
            except ReeldeckError as exc:  # a busy database: look again next time
                log.debug("looking for other processes' jobs: %s", exc.message)
            except Exception:  # never the end of looking: the next second looks again
                log.exception("looking for other processes' jobs failed")

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the window's process is gone: stop, jobs resume next time
                message = ("stop",)
            loop.call_soon_threadsafe(self._handle, message)
            if message[0] == "stop":
                return

    def _handle(self, message: tuple[Any, ...]) -> None:
        if message[0] == "stop":
            asyncio.get_running_loop().create_task(self._close())
        elif message[0] == "call":
            asyncio.get_running_loop().create_task(self._call(*message[1:]))

    async def _close(self) -> None:
        if self.runtime is not None and not self._closed:
            self._closed = True
            await self.runtime.close()
        self._flush()
        self._stop.set()

    async def _call(self, call_id: int, target: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        assert self.runtime is not None
        try:
            owner = self.runtime if target == "runtime" else self.runtime.engine
            result = getattr(owner, name)(*args, **kwargs)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            if target == "runtime" and name == "switch_world":
                self._follow(self.runtime.engine)
            if target == "runtime" and name == "close":
                self._closed = True
            reply: tuple[Any, ...] = ("result", call_id, _sendable(result))
        except BaseException as exc:  # every failure goes back to the caller
            reply = ("error", call_id, _portable(exc))
        self._flush()  # the events the call made arrive before its answer
        self._send(reply)

    # --- events ------------------------------------------------------------------------------------------------

    def _follow(self, engine: Engine | None) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._flush()
        self._unsubscribe = engine.subscribe(self._collect) if engine is not None else None

    def _collect(self, job: Job) -> None:
        self._pending[job.id] = job
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(FRAME_SECONDS, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending or self.runtime is None:
            return
        jobs = list(self._pending.values())
        self._pending.clear()
        self._send(("events", self.runtime.world, jobs))

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self.conn.send(message)
        except (OSError, ValueError):  # the window's process is gone
            self._stop.set()


def _sendable(result: Any) -> Any:
    """What crosses back: engines and other live objects do not (the window keeps its own dormant engine)."""
    from core.engine import Engine

    return None if isinstance(result, Engine) else result


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it crosses the pipe intact, else one with its words."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
        if isinstance(copy, BaseException) and str(copy) == str(exc):
            return copy
    except Exception:
        pass
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return ReeldeckError(message)
