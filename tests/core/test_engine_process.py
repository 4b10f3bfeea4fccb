"""The engine in a process of its own (how the window runs it): ``core.engine_process`` and
``Runtime.start_in_process``. Two real processes: this one keeps a dormant engine for reading and listening, the
child works the jobs against its own emulator; a killed child loses no job and sends no second create."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from keyring.backends.null import Keyring as NullKeyring

from core.engine import Engine, EngineConfig
from core.engine_process import EngineProcess, EngineStopped
from core.errors import InputError
from core.jobs import Job, JobState
from core.paths import DataDir
from core.runtime import Runtime, sandbox_task_ids
from core.secrets import KeyStore
from core.submission import JobRequest

VEO = "veo-3.1-generate-preview"


def sandbox_runtime(home: Path, job_seconds: float = 0.5) -> Runtime:
    return Runtime(DataDir(home), sandbox_mode=True, keys=KeyStore(environ={}, backend=NullKeyring()),
                   sandbox_options={"job_seconds": job_seconds}, engine_config=EngineConfig(poll_interval=0.1))


@contextlib.asynccontextmanager
async def in_process(runtime: Runtime) -> AsyncIterator[tuple[Runtime, Engine, EngineProcess]]:
    """The runtime started with its engine in a child process (as the window starts it), closed afterwards."""
    engine = await runtime.start_in_process()
    process = runtime.thread
    assert isinstance(process, EngineProcess) and process.pid is not None
    try:
        yield runtime, engine, process
    finally:
        await runtime.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def on_child(runtime: Runtime, function: object, *args: object) -> object:
    assert isinstance(runtime.thread, EngineProcess)
    return await asyncio.wrap_future(runtime.thread.run(function, *args))  # type: ignore[arg-type]


async def test_a_job_runs_in_the_child_and_its_events_reach_the_window_side(tmp_path: Path) -> None:
    runtime = sandbox_runtime(tmp_path / "home")
    engine = await runtime.start_in_process()
    process = runtime.thread
    assert isinstance(process, EngineProcess) and runtime.in_process
    assert process.pid is not None and process.pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, process.pid) > os.getpriority(os.PRIO_PROCESS, 0)  # the window first
    assert engine.durations.get("aihubmix", VEO) == []  # asked once, before any job (as the stall box does)
    seen: list[tuple[str, JobState, str]] = []
    engine.subscribe(lambda job: seen.append((job.id, job.state, threading.current_thread().name)))
    job = await on_child(runtime, engine.submit, JobRequest("aihubmix", VEO, {"prompt": "a kite over dunes"}))
    assert isinstance(job, Job)
    assert any(job_id == job.id for job_id, _, _ in seen)  # its events came before the answer
    (final,) = await on_child(runtime, engine.wait, [job.id], 60)  # type: ignore[misc]
    assert final.state == JobState.COMPLETED and Path(str(final.video_path)).is_file()
    assert runtime.store is not None and runtime.store.get(job.id).state == JobState.COMPLETED  # same store
    await asyncio.wait_for(_until(lambda: len(engine.durations.get("aihubmix", VEO)) == 1), 10)  # learnt since
    await asyncio.wait_for(_until(lambda: (job.id, JobState.COMPLETED) in {(i, s) for i, s, _ in seen}), 10)
    assert {name for _, _, name in seen} == {"reeldeck-engine-pipe"}  # not this loop's thread: the bridge's job
    pid = process.pid
    await runtime.close()
    assert not alive(pid)


async def test_a_refusal_crosses_with_its_words_and_only_engine_methods_cross(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home")) as (runtime, engine, _process):
        with pytest.raises(InputError, match="prompt"):
            await on_child(runtime, engine.submit, JobRequest("aihubmix", VEO, {"prompt": ""}))
        assert runtime.thread is not None
        with pytest.raises(TypeError, match="cannot run in the engine's process"):
            runtime.thread.run(lambda: 1)
        assert runtime.store is not None and runtime.store.all() == []  # nothing stored, nothing sent


async def test_the_child_switches_worlds_with_the_window_and_gets_its_settings(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home")) as (runtime, _engine, _process):
        new = await runtime.switch_world(False)  # the budget counts real jobs only
        assert runtime.world == "real" and runtime.engine is new
        runtime.apply_settings({"budget_daily_usd": 1.5})
        assert new.budget_cap == 1.5  # the window reads its own dormant engine
        problem = await on_child(runtime, new.budget_problem, 2.0)
        assert isinstance(problem, str) and "1.50" in problem  # the child's engine is real and has it too


async def test_a_killed_child_is_replaced_and_its_job_finishes_with_one_create(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with in_process(sandbox_runtime(home, job_seconds=3.0)) as (runtime, engine, process):
        job = await on_child(runtime, engine.submit, JobRequest("aihubmix", VEO, {"prompt": "a lighthouse"}))
        assert isinstance(job, Job) and runtime.store is not None
        store = runtime.store
        await asyncio.wait_for(_until(lambda: store.get(job.id).remote_id is not None), 30)
        first = process.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await asyncio.wait_for(_until(lambda: process.restarts == 1 and process.pid != first), 30)
        finals = await on_child(runtime, engine.wait, [job.id], 90)
        (final,) = finals  # type: ignore[misc]
        assert final.state == JobState.COMPLETED
        assert len(sandbox_task_ids(DataDir(home).sandbox)) == 1  # the remote task was made once


async def test_a_call_in_flight_when_the_child_dies_fails_in_plain_words(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home", job_seconds=30.0)) as (runtime, engine, process):
        job = await on_child(runtime, engine.submit, JobRequest("aihubmix", VEO, {"prompt": "a slow tide"}))
        waiting = process.run(engine.wait, [job.id], 600)  # type: ignore[attr-defined]
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(EngineStopped, match="restarted"):
            await asyncio.wrap_future(waiting)


async def _until(condition: object) -> None:
    while not condition():  # type: ignore[operator]
        await asyncio.sleep(0.05)


async def test_a_key_kept_in_memory_only_reaches_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # no keyring, here or there
    monkeypatch.delenv("REELDECK_GOAPI_KEY", raising=False)
    runtime = Runtime(DataDir(tmp_path / "home"), keys=KeyStore(environ={}, backend=NullKeyring()))
    async with in_process(runtime) as (runtime, _engine, _process):
        need = await on_child(runtime, runtime.setup_need, "goapi")
        assert need is not None and need.what == "key"  # type: ignore[attr-defined]
        runtime.keys.set_session("goapi", "gk-session-only-123")
        runtime.remember_secret("goapi")  # what the keys dialog calls after a change
        assert await on_child(runtime, runtime.setup_need, "goapi") is None


async def test_ctrl_c_in_the_terminal_leaves_the_child_to_the_window(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home")) as (runtime, engine, process):
        await on_child(runtime, engine.budget_problem, 0.0)  # the child is up and answering
        os.kill(process.pid, signal.SIGINT)  # what the terminal sends the whole process group
        assert await on_child(runtime, engine.budget_problem, 0.0) is None  # still the same child, answering
        assert process.restarts == 0


async def test_the_window_never_waits_on_a_full_pipe(tmp_path: Path) -> None:
    runtime = sandbox_runtime(tmp_path / "home")
    engine = await runtime.start_in_process()
    process = runtime.thread
    assert isinstance(process, EngineProcess) and process.pid is not None
    try:
        await on_child(runtime, engine.budget_problem, 0.0)
        os.kill(process.pid, signal.SIGSTOP)  # a child too busy to read: the pipe fills up
        futures: list[object] = []
        window = threading.Thread(target=lambda: futures.extend(
            process.run(engine.budget_problem, 0.0, what="x" * 100_000) for _ in range(100)))  # 10 MB
        window.start()
        window.join(30)  # a failure bound: the calls are only queued, so this returns at once
        blocked = window.is_alive()
        os.kill(process.pid, signal.SIGCONT)
        assert not blocked and len(futures) == 100
        answers = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))  # type: ignore[arg-type]
        assert answers == [None] * 100
    finally:
        os.kill(process.pid, signal.SIGCONT)
        await runtime.close()


async def test_a_call_that_cannot_cross_fails_alone(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home")) as (runtime, engine, _process):
        with pytest.raises(Exception, match="pickle"):
            await on_child(runtime, engine.budget_problem, lambda: 0.0)  # a function does not cross
        assert await on_child(runtime, engine.budget_problem, 0.0) is None  # the next one does


async def test_a_submit_the_dead_child_never_read_is_not_done_by_the_next(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with in_process(sandbox_runtime(home)) as (runtime, engine, process):
        await on_child(runtime, engine.budget_problem, 0.0)
        first = process.pid
        os.kill(first, signal.SIGSTOP)  # it will never read what is sent now
        pending = process.run(engine.submit, JobRequest("aihubmix", VEO, {"prompt": "never made"}))
        os.kill(first, signal.SIGKILL)
        with pytest.raises(EngineStopped):
            await asyncio.wrap_future(pending)
        await asyncio.wait_for(_until(lambda: process.restarts == 1), 30)
        assert await on_child(runtime, engine.budget_problem, 0.0) is None  # the new child answers
        assert runtime.store is not None and runtime.store.all() == []  # the submit was done by neither
        assert sandbox_task_ids(DataDir(home).sandbox) == set()


async def test_a_job_the_command_line_submits_appears_and_is_worked_by_the_windows_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's engine is open on a data dir; a script submits there from the command line (without --wait)
    and exits once the provider has the task. The window lists the job and its engine finishes it: one task."""
    import json
    import sys

    from core.sandbox import Sandbox

    provider = Sandbox(tmp_path / "provider", job_seconds=2)
    await provider.start()
    home = tmp_path / "home"
    key = "sk-look-for-others-0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= provider.endpoints() | {"REELDECK_HOME": str(home), "REELDECK_AIHUBMIX_API_KEY": key}
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the engine's process starts with this environment
    runtime = Runtime(DataDir(home), keys=KeyStore(environ=env, backend=NullKeyring()),
                      engine_config=EngineConfig(poll_interval=0.2))
    engine = await runtime.start_in_process()
    seen: dict[str, JobState] = {}
    engine.subscribe(lambda job: seen.__setitem__(job.id, job.state))
    try:
        await on_child(runtime, engine.budget_problem, 0.0)  # the window's engine is up
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "submit", "--provider", "aihubmix", "--model", VEO, "--prompt", "from a script",
            "--json", cwd=Path(__file__).resolve().parents[2], env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(cli.communicate(), 120)
        assert cli.returncode == 0, err.decode()[-2000:]
        job_id = json.loads(out)["id"]
        await asyncio.wait_for(_until(lambda: job_id in seen), 30)  # listed in the window
        await asyncio.wait_for(_until(lambda: seen.get(job_id) == JobState.COMPLETED), 60)  # worked to its end
        assert runtime.store is not None
        final = runtime.store.get(job_id)
        assert final.state == JobState.COMPLETED and Path(str(final.video_path)).is_file()
        assert [t.id for t in provider.tasks.list("aihubmix")] == [final.remote_id]  # one task, one charge
    finally:
        await runtime.close()
        await provider.stop()


async def test_an_engine_that_cannot_start_says_why_and_is_not_started_again(tmp_path: Path) -> None:
    runtime = Runtime(DataDir(tmp_path / "home"), sandbox_mode=True, keys=KeyStore(environ={}, backend=NullKeyring()),
                      sandbox_options={"no_such_option": 1})  # the emulator refuses it: only the child starts one
    async with in_process(runtime) as (runtime, engine, process):
        told: list[str] = []
        process.on_stopped = told.append
        with pytest.raises(EngineStopped, match="could not start: TypeError"):
            await on_child(runtime, engine.budget_problem, 0.0)
        assert process.restarts == 0 and told == [process.stopped_because]
        with pytest.raises(EngineStopped, match="could not start"):  # every later call says the same
            await on_child(runtime, engine.budget_problem, 0.0)


async def test_an_engine_that_keeps_dying_is_not_restarted_for_ever(tmp_path: Path) -> None:
    async with in_process(sandbox_runtime(tmp_path / "home")) as (runtime, engine, process):
        told: list[str] = []
        process.on_stopped = told.append
        from core.engine_process import MAX_DEATHS

        for death in range(1, MAX_DEATHS + 1):
            await on_child(runtime, engine.budget_problem, 0.0)  # this child is up
            pid = process.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.wait_for(_until(lambda d=death: process.restarts == d or process.stopped_because), 30)
        assert process.restarts == MAX_DEATHS - 1 and told and "not started again" in told[0]
        with pytest.raises(EngineStopped, match="not started again"):
            await on_child(runtime, engine.budget_problem, 0.0)


async def test_the_engine_process_ends_when_the_window_process_is_killed(tmp_path: Path) -> None:
    """No orphan engine: a window killed outright (SIGKILL, a crash) takes its engine's process with it, so the next
    window finds the jobs free to resume (their leases name a process that is gone)."""
    import sys

    script = tmp_path / "window.py"
    script.write_text(
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from keyring.backends.null import Keyring\n"
        "from core.paths import DataDir\n"
        "from core.runtime import Runtime\n"
        "from core.secrets import KeyStore\n"
        "async def main():\n"
        "    runtime = Runtime(DataDir(Path(sys.argv[1])), sandbox_mode=True,\n"
        "                      keys=KeyStore(environ={}, backend=Keyring()))\n"
        "    engine = await runtime.start_in_process()\n"
        "    await asyncio.wrap_future(runtime.thread.run(engine.budget_problem, 0.0))\n"
        "    print(runtime.thread.pid, flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n")
    window = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(tmp_path / "home"), cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}, stdout=asyncio.subprocess.PIPE)
    assert window.stdout is not None
    line = await asyncio.wait_for(window.stdout.readline(), 60)
    engine_pid = int(line)
    assert alive(engine_pid)
    window.kill()
    await window.wait()
    await asyncio.wait_for(_until(lambda: not alive(engine_pid) or _zombie(engine_pid)), 30)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return False
