"""The engine on a thread of its own (how the window runs it): ``EngineThread``, ``Runtime.start_in_thread``, and
the store's connection per thread. The CLI's way (the engine on the caller's loop) is every other test."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from keyring.backends.null import Keyring as NullKeyring

from core.engine import EngineConfig
from core.errors import InputError, StoreError
from core.jobs import Job, JobState
from core.paths import DataDir
from core.runtime import EngineThread, Runtime
from core.secrets import KeyStore
from core.store import JobStore
from core.submission import JobRequest


def test_engine_thread_runs_functions_and_coroutines_on_its_loop() -> None:
    thread = EngineThread()
    try:
        def where() -> str:
            return threading.current_thread().name

        async def later(value: int) -> tuple[int, bool]:
            await asyncio.sleep(0)
            return value * 2, asyncio.get_running_loop() is thread.loop

        assert thread.run(where).result(5) == "reeldeck-engine"
        assert thread.run(later, 21).result(5) == (42, True)
        with pytest.raises(InputError, match="bad"):
            thread.run(lambda: (_ for _ in ()).throw(InputError("bad"))).result(5)
    finally:
        thread.stop()
    assert not thread.running


def test_stopping_cancels_what_still_runs_and_refuses_more() -> None:
    thread = EngineThread()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    pending = thread.run(forever)
    thread.run(lambda: None).result(5)  # forever() has started
    thread.stop(timeout=5)
    assert not thread.running and cancelled.is_set() and pending.cancelled()
    with pytest.raises(RuntimeError, match="stopped"):
        thread.run(lambda: None)


def test_each_thread_has_its_own_connection_and_sees_the_others_writes(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite", world="sandbox")
    job = Job(id="j1", provider="aihubmix", model="veo-3.1-generate-preview", params={"prompt": "x"}, inputs={},
              state=JobState.PENDING)
    store.add(job)
    seen: dict[str, object] = {}

    def elsewhere() -> None:
        seen["connection"] = store._db
        seen["state"] = store.get("j1").state
        store.update("j1", state=JobState.RUNNING, remote_id="task-1")

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join(10)
    assert seen["connection"] is not store._db
    assert seen["state"] == JobState.PENDING
    assert store.get("j1").state == JobState.RUNNING and store.get("j1").remote_id == "task-1"
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get("j1")  # every connection is closed
    other: list[BaseException] = []

    def after_close() -> None:
        try:
            store.get("j1")
        except BaseException as exc:
            other.append(exc)

    late = threading.Thread(target=after_close)
    late.start()
    late.join(10)
    assert len(other) == 1 and isinstance(other[0], StoreError)  # a new thread opens nothing after close


async def test_a_runtime_started_in_a_thread_works_there_and_closes_with_it(tmp_path: Path) -> None:
    runtime = Runtime(DataDir(tmp_path / "home"), sandbox_mode=True, keys=KeyStore(environ={}, backend=NullKeyring()),
                      sandbox_options={"job_seconds": 0.5}, engine_config=EngineConfig(poll_interval=0.1))
    engine = await runtime.start_in_thread()
    thread = runtime.thread
    assert thread is not None and thread.running
    request = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a kite over dunes"})
    job = await asyncio.wrap_future(thread.run(engine.submit, request))
    (final,) = await asyncio.wrap_future(thread.run(engine.wait, [job.id], 60))
    assert final.state == JobState.COMPLETED and Path(str(final.video_path)).is_file()
    await runtime.switch_world(False)  # hands itself over to the engine's thread
    assert runtime.engine is not engine and runtime.world == "real"
    await runtime.close()
    assert not thread.running


async def test_settings_applied_from_the_window_reach_the_engine_on_its_thread(tmp_path: Path) -> None:
    runtime = Runtime(DataDir(tmp_path / "home"), sandbox_mode=True, keys=KeyStore(environ={}, backend=NullKeyring()))
    engine = await runtime.start_in_thread()
    thread = runtime.thread
    assert thread is not None
    seen: list[str] = []
    runtime.apply_settings({"budget_daily_usd": 1.5, "prices": None})  # from this (the window's) thread

    def read() -> float | None:
        seen.append(threading.current_thread().name)
        return engine.budget_cap

    assert await asyncio.wrap_future(thread.run(read)) == 1.5  # applied on the engine's loop, before this read
    assert seen == ["reeldeck-engine"]
    await runtime.close()
