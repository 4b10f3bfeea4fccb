"""Assembles a working core — data dir, store, keys, settings, providers, engine and (optionally) the sandbox.

The CLI and the GUI both build one ``Runtime`` and drive the same engine on their event loop.

Test hooks for sandbox mode (environment): ``REELDECK_SANDBOX_JOB_SECONDS`` sets how long emulated jobs take;
``REELDECK_SANDBOX_FAULTS`` is a JSON list of faults for the in-process emulator, each object holding the fields
of :class:`core.sandbox.Fault` (``[{"kind": "slow", "request_kind": "create", "delay": 60}]``), so tests can
make a subprocess misbehave at a chosen moment (e.g. to kill it mid-request). Neither has any effect outside
sandbox mode. ``REELDECK_LEASE_SECONDS`` shortens how long a process's hold on a job lasts unrenewed (30 s), so
two-process tests can pause one past it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.engine import Engine, EngineConfig
from core.errors import ConfigError, ReeldeckError
from core.hub import ProviderHub
from core.logs import REDACTOR, setup_logging
from core.paths import DataDir
from core.providers import available_ids, provider_class
from core.secrets import KeyStore
from core.settings import Settings
from core.store import JobStore, open_or_recover

if TYPE_CHECKING:
    from core.engine_process import EngineProcess

T = TypeVar("T")
log = logging.getLogger(__name__)

SANDBOX_POLL_INTERVAL = 1.0
#: The emulator's list shows a task at once (unless a test makes it lag): look for a lost create's task briefly.
SANDBOX_RECONCILE_READS = (0.5, 1.5, 3.0)


@dataclass(frozen=True)
class SetupNeed:
    """Something a provider lacks before it can be used: ``what`` is ``"key"`` or ``"base_url"``; ``message`` says
    it in plain words (front ends add where to set it: the CLI a command, the window a button)."""

    provider_id: str
    what: str
    message: str


@dataclass
class Runtime:
    """Everything a front end needs, started and stopped together."""

    data: DataDir
    sandbox_mode: bool = False
    #: In sandbox mode, start the emulator (commands that only read jobs don't need it).
    emulator: bool = True
    keys: KeyStore = field(default_factory=KeyStore)
    sandbox_options: dict[str, Any] = field(default_factory=dict)
    engine_config: EngineConfig | None = None

    def __post_init__(self) -> None:
        self.sandbox: Any = None
        self.store: JobStore | None = None
        self.hub: ProviderHub | None = None
        self.engine: Engine | None = None
        #: Messages for the user from start-up (shown by the CLI on stderr, by the GUI in a dialog).
        self.notices: list[str] = []
        #: The thread whose loop runs the engine when started with :meth:`start_in_thread` (the window); None when
        #: it runs on the caller's loop (the CLI, tests).
        self.thread: EngineThread | EngineProcess | None = None

    async def start_in_process(self) -> Engine:
        """Start with the engine in a process of its own (``core.engine_process``): this runtime opens the store,
        the settings and a *dormant* engine for the window to read and listen to, and every call of the engine's
        or the runtime's methods through ``self.thread.run`` runs in the child, whose job events come back to the
        dormant engine's listeners. The child starts after the store is open here (one of them migrates or moves
        a damaged file aside, never both at once) and runs the emulator in sandbox mode. Opening (the database's
        check and migrations, the keyring) runs on a passing thread, never on the caller's loop (the window's)."""
        from core.engine_process import EngineProcess, setup_of

        emulator, self.emulator = self.emulator, False
        opener = EngineThread(name="reeldeck-open")
        try:
            engine = await self._on_thread(self.start, thread=opener)
        finally:
            opener.stop()
        self.thread = EngineProcess(self, setup_of(self, emulator))
        return engine

    @property
    def in_process(self) -> bool:
        """True when the engine works in a process of its own and this runtime only reads and listens."""
        from core.engine_process import EngineProcess

        return isinstance(self.thread, EngineProcess)

    async def start_in_thread(self) -> Engine:
        """Start on an :class:`EngineThread` of its own: the engine, its HTTP and its store writes run there, and
        the caller's loop only awaits them. Calls into the engine go through ``self.thread.run``; :meth:`close`
        and :meth:`switch_world` hand themselves over."""
        self.thread = EngineThread()
        return await self._on_thread(self.start)

    async def _on_thread(self, function: Callable[..., Awaitable[T]], *args: Any,
                         thread: EngineThread | EngineProcess | None = None) -> T:
        """``function(*args)`` on ``thread`` (default: the engine's), awaited here."""
        on = thread or self.thread
        assert on is not None
        return await asyncio.wrap_future(on.run(function, *args))

    def _elsewhere(self) -> bool:
        """True when the engine runs on its own thread and the caller is not on it."""
        return self.thread is not None and not self.thread.in_thread()

    async def start(self) -> Engine:
        """Open the store, start the sandbox when asked, and build the engine."""
        self.data.ensure()
        setup_logging(self.data.logs)
        settings = Settings.load(self.data.settings_file)
        self.notices.extend(settings.problems)
        self.store, aside = open_or_recover(self.data.database, world=self.world)
        self.store.sort_legacy(sandbox_task_ids(self.data.sandbox))
        if aside is not None:
            self.notices.append(
                f"The job database was damaged and has been moved aside to {aside}; Reeldeck started with an empty "
                "one. Finished videos are still in the library folder."
            )
        return await self._start_world(settings)

    async def _start_world(self, settings: Settings) -> Engine:
        """The world's providers (the emulator in sandbox mode, keys otherwise) and an engine over the store."""
        assert self.store is not None
        endpoints = await self._start_sandbox() if self.sandbox_mode and self.emulator else None
        if not self.sandbox_mode:  # sandbox mode uses no keys: don't touch the keyring at all
            for provider_id in available_ids():
                self.remember_secret(provider_id)
        self.hub = ProviderHub(settings, self.keys, sandbox_endpoints=endpoints)
        config = replace(self.engine_config) if self.engine_config is not None else EngineConfig()
        lease = os.environ.get("REELDECK_LEASE_SECONDS")
        if lease:
            config.lease_ttl = float(lease)
        if self.sandbox_mode and config.poll_interval is None:
            config.poll_interval = SANDBOX_POLL_INTERVAL
            config.reconcile_reads = SANDBOX_RECONCILE_READS
        self.engine = Engine(self.store, self.hub, library_dir=self._library(settings),
                             inputs_dir=self.data.inputs, config=config)
        return self.engine

    async def switch_world(self, sandbox: bool) -> Engine:
        """Switch between sandbox mode and the real providers while running; returns the new world's engine.

        The old world's engine stops working (its unfinished jobs stay as stored, leases released, and resume when
        that world is opened again); the store is narrowed to the new world, so its jobs only are seen and worked.
        Nothing of one world ever runs in the other.
        """
        if self._elsewhere():
            engine = await self._on_thread(self.switch_world, sandbox)
            if not self.in_process:
                return engine
        if self.store is None or self.engine is None:
            raise RuntimeError("start the runtime before switching worlds")
        if sandbox == self.sandbox_mode:
            return self.engine
        await self._stop_world()
        self.sandbox_mode = sandbox
        self.store.world = self.world
        return await self._start_world(Settings.load(self.data.settings_file))

    def apply_settings(self, changes: dict[str, Any] | None = None, provider_id: str | None = None) -> None:
        """Hand changed settings to the running engine (``Engine.apply_settings``) on the engine's own thread when
        it has one: the hub and its providers are only ever changed there (calls run there in the order made, so a
        submit made after this sees the new settings)."""
        engine = self.engine
        if engine is None:
            return
        if self._elsewhere():
            assert self.thread is not None
            self.thread.run(engine.apply_settings, changes, provider_id)
        if not self._elsewhere() or self.in_process:  # the window's dormant engine reads them too (prices, budget)
            engine.apply_settings(changes, provider_id)

    def setup_need(self, provider_id: str) -> SetupNeed | None:
        """What ``provider_id`` lacks before it can make a video in this world (a key, a base URL), or None."""
        if self.sandbox_mode:
            return None
        spec = provider_class(provider_id).spec
        if not self.keys.get(provider_id):
            return SetupNeed(provider_id, "key", f"{spec.name} needs an API key before it can make videos.")
        settings = self.hub.settings if self.hub is not None else Settings.load(self.data.settings_file)
        try:
            url = settings.base_url(provider_id, spec.default_base_url)
        except ConfigError as exc:
            return SetupNeed(provider_id, "base_url", f"The address set for {spec.name} cannot be used: "
                                                      f"{exc.message}")
        if not url:
            return SetupNeed(provider_id, "base_url", f"{spec.name} needs the address of your gateway (its base "
                                                      "URL) before it can make videos.")
        return None

    @property
    def world(self) -> str:
        """Which jobs this runtime sees and works: the sandbox's or the real providers'."""
        return "sandbox" if self.sandbox_mode else "real"

    def _library(self, settings: Settings) -> Path:
        folder = settings.data.get("download_dir")
        return Path(folder).expanduser() if folder else self.data.library

    async def _start_sandbox(self) -> dict[str, str]:
        from core.sandbox import Sandbox

        options = dict(self.sandbox_options)
        seconds = os.environ.get("REELDECK_SANDBOX_JOB_SECONDS")
        if seconds and "job_seconds" not in options:
            options["job_seconds"] = float(seconds)
        faults = sandbox_faults(os.environ.get("REELDECK_SANDBOX_FAULTS"))
        self.sandbox = Sandbox(self.data.sandbox, **options)
        for fault in faults:
            self.sandbox.faults.add(fault)
        await self.sandbox.start()
        return dict(self.sandbox.endpoints())

    def remember_secret(self, provider_id: str) -> None:
        """A key was set or removed: it is redacted from every text, here and in the engine's process, which is
        also handed the keys kept in memory only (no keyring)."""
        key = self.keys.get(provider_id)
        if key:
            REDACTOR.add(key)
        if self.in_process and self._elsewhere():
            assert self.thread is not None
            self.thread.run(self.use_session_keys, self.keys.session_keys())
            self.thread.run(self.remember_secret, provider_id)

    def use_session_keys(self, keys: dict[str, str]) -> None:
        """In the engine's process: hold the window's in-memory keys (``KeyStore.use_session_keys``)."""
        self.keys.use_session_keys(keys)

    async def close(self) -> None:
        """Stop work (unfinished jobs resume next time), close HTTP, the store and the sandbox (and the engine's
        thread, when it has one)."""
        if self._elsewhere():
            assert self.thread is not None
            try:
                if self.thread.running:
                    await self._on_thread(self.close)
            except ReeldeckError as exc:  # the engine's process died meanwhile: its jobs resume next time
                log.warning("closing the engine: %s", exc.message)
            finally:
                self.thread.stop()
            if not self.in_process:
                return
        await self._stop_world()
        if self.store is not None:
            self.store.close()

    async def _stop_world(self) -> None:
        """Stop the engine (jobs stay as stored), close HTTP and the emulator; the store stays open. Each step has
        a time limit: quitting never hangs on one (what it left unfinished resumes next time)."""
        if self.engine is not None:
            await _within_limit("the engine", self.engine.close())
        if self.hub is not None:
            await _within_limit("the HTTP client", self.hub.close())
        if self.sandbox is not None:
            await _within_limit("the sandbox", self.sandbox.stop())
            self.sandbox = None


class EngineThread:
    """A plain asyncio loop in a thread of its own, where the window runs the engine (network and database work).

    The window's event loop stays free for painting: it hands work over with :meth:`run` (any thread may call it)
    and awaits the answer. The CLI needs none of this; it runs the engine on ``asyncio.run``.
    """

    def __init__(self, name: str = "reeldeck-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def in_thread(self) -> bool:
        """True when the caller runs on this thread (its loop)."""
        return threading.current_thread() is self._thread

    def run(self, function: Callable[..., T | Awaitable[T]], *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        """Call ``function(*args, **kwargs)`` on the engine's loop (awaiting it when it is a coroutine function or
        returns an awaitable); the returned future holds its result or exception."""
        if not self.running:
            raise RuntimeError("the engine thread has stopped")

        async def call() -> T:
            result = function(*args, **kwargs)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                return await result
            return result  # type: ignore[return-value]

        return asyncio.run_coroutine_threadsafe(call(), self.loop)

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop (tasks still on it are cancelled) and wait for the thread; call it after closing the runtime."""
        if not self.running:
            return
        self.loop.call_soon_threadsafe(self._cancel_and_stop)
        self._thread.join(timeout)

    def _cancel_and_stop(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if not tasks:
            self.loop.stop()
            return
        gathered = asyncio.gather(*tasks, return_exceptions=True)
        gathered.add_done_callback(lambda _: self.loop.stop())


#: The longest one step of closing (the engine, HTTP, the emulator) may take before closing goes on without it.
CLOSE_STEP_SECONDS = 20.0


async def _within_limit(what: str, step: Awaitable[None]) -> None:
    try:
        await asyncio.wait_for(step, CLOSE_STEP_SECONDS)
    except TimeoutError:
        log.warning("closing %s took over %.0f s; going on without it (unfinished jobs resume next time)", what,
                    CLOSE_STEP_SECONDS)


def open_store(data_root: Path) -> JobStore:
    """The job store of a data dir, for tools and views that only read and annotate (no engine, no world scope)."""
    return JobStore(DataDir(data_root).database)


def sandbox_task_ids(state_dir: Path) -> set[str]:
    """Ids of every task the emulator of this data dir ever made (to sort jobs made before worlds existed)."""
    database = state_dir / "sandbox.sqlite"
    if not database.exists():
        return set()
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            return {str(row[0]) for row in connection.execute("SELECT id FROM tasks")}
        finally:
            connection.close()
    except sqlite3.Error:
        return set()


def sandbox_faults(spec: str | None) -> list[Any]:
    """The faults described by ``REELDECK_SANDBOX_FAULTS`` (a JSON list of Fault fields); ConfigError if invalid."""
    from core.sandbox import Fault

    if not spec:
        return []
    try:
        items = json.loads(spec)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError("expected a JSON list of objects")
        return [Fault(**item) for item in items]
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"REELDECK_SANDBOX_FAULTS is not a valid list of sandbox faults: {exc}.") from None
