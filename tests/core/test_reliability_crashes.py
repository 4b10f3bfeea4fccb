"""Crashes and concurrency, with real processes: SIGKILL during a submission and during a download, the window and
the command line on one data dir at once, and a damaged job database. Moments are hit with the documented
REELDECK_SANDBOX_FAULTS hook (a slow create, downloads that keep breaking) and waited for as conditions in the
store, with deadlines — never with fixed sleeps."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from harness import VEO_31

from core import store as store_module
from core.cli import EXIT_BAD_INPUT, EXIT_JOB_FAILED, EXIT_OK, main
from core.engine import Engine, EngineConfig
from core.errors import ConfigError
from core.hub import ProviderHub
from core.jobs import JobState
from core.media import content_digest
from core.runtime import sandbox_faults
from core.sandbox import Fault, ManualClock, Sandbox
from core.secrets import KeyStore
from core.settings import Settings
from core.store import JobStore, open_or_recover
from core.submission import JobRequest, build_job

ROOT = Path(__file__).resolve().parents[2]
VEO = ("--provider", "aihubmix", "--model", "veo-3.1-generate-preview")
LIVE2D = ("--provider", "aimlapi", "--model", "video-01-live2d", "--image", "https://images.example/face.jpg")


def env(home: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    return clean | {"REELDECK_HOME": str(home), "REELDECK_SANDBOX_JOB_SECONDS": "1"} | extra


def start(home: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "main.py", *args], cwd=ROOT, env=env(home, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env(home), capture_output=True,
                          text=True, timeout=120, check=False)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str] | None = None,
             timeout: float = 60.0) -> None:
    """Wait until ``condition()`` holds (it reads another process's files), failing at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended early: {process.communicate()}")
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def job_row(home: Path) -> dict[str, Any] | None:
    database = home / "reeldeck.sqlite"
    if not database.exists():
        return None
    db = sqlite3.connect(database)
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM jobs").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return dict(row) if row is not None else None


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


@contextmanager
def emulator_state(home: Path) -> Iterator[Sandbox]:
    """The emulator's recorded tasks and requests in a data dir (read after the processes are gone)."""
    sandbox = Sandbox(home / "sandbox")
    try:
        yield sandbox
    finally:
        sandbox.store.close()


def test_sigkill_during_a_submission_then_the_person_decides(isolated_env: Path) -> None:
    slow_create = json.dumps([{"kind": "slow", "request_kind": "create", "delay": 60}])
    process = start(isolated_env, "--sandbox", "submit", *VEO, "--prompt", "a heron", "--wait",
                    REELDECK_SANDBOX_FAULTS=slow_create)
    try:
        wait_for(lambda: (job_row(isolated_env) or {}).get("state") == "submitting", process)
    finally:
        kill(process)
    assert job_row(isolated_env)["remote_id"] is None  # type: ignore[index]

    # The create's outcome is unknown: the list is read over a window, nothing is sent again by itself.
    undecided = run(isolated_env, "--sandbox", "wait", "--json")
    assert undecided.returncode == EXIT_JOB_FAILED
    (job,) = json.loads(undecided.stdout)
    assert job["needs_decision"] and job["state"] == "submitting" and "decide" in undecided.stderr
    with emulator_state(isolated_env) as sandbox:
        assert [t.id for t in sandbox.tasks] == [] and sandbox.count("aihubmix", "list") >= 2

    decided = run(isolated_env, "--sandbox", "decide", job["id"], "--send-again")
    assert decided.returncode == EXIT_OK, decided.stderr
    result = run(isolated_env, "--sandbox", "wait", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    (job,) = json.loads(result.stdout)
    assert job["state"] == "completed" and Path(job["video_path"]).suffix == ".mp4"
    with emulator_state(isolated_env) as sandbox:
        assert [t.id for t in sandbox.tasks] == [job["remote_id"]]  # exactly one task, sent again by a decision


def test_sigkill_during_a_download_then_it_resumes_and_no_part_file_is_a_video(isolated_env: Path) -> None:
    broken_downloads = json.dumps([{"kind": "truncate", "origin": "cdn", "fraction": 0.5, "times": None}])
    process = start(isolated_env, "--sandbox", "submit", *LIVE2D, "--prompt", "she waves", "--wait",
                    REELDECK_SANDBOX_FAULTS=broken_downloads)
    library = isolated_env / "library"

    def half_downloaded() -> bool:
        row = job_row(isolated_env) or {}
        return row.get("state") == "downloading" and any(p.stat().st_size > 0 for p in library.glob("*.part"))

    try:
        wait_for(half_downloaded, process)
    finally:
        kill(process)
    listed = json.loads(run(isolated_env, "--sandbox", "jobs", "--json").stdout)
    assert [(j["state"], j["video_path"]) for j in listed] == [("downloading", None)]  # the .part is no video
    with emulator_state(isolated_env) as sandbox:
        seen = max(r.seq for r in sandbox.requests)

    result = run(isolated_env, "--sandbox", "wait", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    (job,) = json.loads(result.stdout)
    assert job["state"] == "completed"
    assert [p.suffix for p in library.iterdir() if p.suffix in (".mp4", ".part")] == [".mp4"]
    with emulator_state(isolated_env) as sandbox:
        assert len(sandbox.tasks) == 1
        resumed = [r for r in sandbox.requests if r.seq > seen and r.origin == "cdn"]
        assert resumed and "range" in {n.lower() for n in resumed[0].header_names} and resumed[0].status == 206
        assert content_digest(Path(job["video_path"])) == content_digest(sandbox.tasks.video_path(job["remote_id"]))


HALF = 4  # jobs per side: within one provider's concurrency (4), so each side works all of its jobs at once




async def test_window_and_command_line_on_one_data_dir_never_work_the_same_job(isolated_env: Path, tmp_path: Path,
                                                                              quick_renders: None) -> None:
    """The in-test engine plays the window (key B); `main.py wait` is the command line (key A). Each job is created
    and polled by exactly one of them, told apart by the key the emulator saw (it records only a hash)."""
    clock = ManualClock(time.time())
    sandbox = Sandbox(tmp_path / "emulator", job_seconds=4, clock=clock)  # frozen until advanced
    await sandbox.start()
    endpoints = sandbox.endpoints()
    store = JobStore(isolated_env / "reeldeck.sqlite")
    ids = []
    for index in range(2 * HALF):  # written as pending, not started: both sides find them on the same data dir
        job = build_job(JobRequest("aihubmix", VEO_31, {"prompt": f"shared job {index}"}), isolated_env / "inputs")
        ids.append(store.add(job).id)
    hub = ProviderHub(Settings(environ=endpoints), KeyStore(environ={"REELDECK_AIHUBMIX_API_KEY": "key-B"}))
    window = Engine(store, hub, library_dir=isolated_env / "library", inputs_dir=isolated_env / "inputs",
                    config=EngineConfig(poll_interval=0.2))
    try:
        mine = [window.start(job_id) for job_id in ids[:HALF]]

        async def until(check: Callable[[], bool]) -> None:
            deadline = time.monotonic() + 60
            while not check():
                assert time.monotonic() < deadline, "condition not met in time"
                await asyncio.sleep(0.02)

        await until(lambda: all(store.get(i).remote_id for i in ids[:HALF]))  # created; their tasks wait (clock)
        sandbox.job_seconds = 0  # tasks created from now on are done at once
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "wait", "--json", cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env(isolated_env, REELDECK_AIHUBMIX_API_KEY="key-A", **endpoints))
        await until(lambda: all(store.get(i).state == JobState.COMPLETED for i in ids[HALF:]))
        clock.advance(60)  # now the window's tasks finish too
        await asyncio.gather(*[task for task in mine if task is not None])
        out, err = await asyncio.wait_for(cli.communicate(), 60)
        assert cli.returncode == EXIT_OK, err.decode()
        assert [j["state"] for j in json.loads(out)] == ["completed"] * 2 * HALF
    finally:
        await window.close()
        await hub.close()
        store.close()
        await sandbox.stop()

    key_hash = {name: hashlib.sha256(f"Bearer key-{name}".encode()).hexdigest() for name in "AB"}
    jobs = [JobStore(isolated_env / "reeldeck.sqlite").get(i) for i in ids]
    assert len({j.remote_id for j in jobs}) == 2 * HALF == len(sandbox.tasks)
    for index, job in enumerate(jobs):
        seen = [r for r in sandbox.requests if r.task_id == job.remote_id and r.origin == "aihubmix"]
        assert [r.kind for r in seen].count("create") == 1
        assert {r.auth_sha256 for r in seen} == {key_hash["B" if index < HALF else "A"]}  # one owner, start to end
        assert {"poll", "content"} <= {r.kind for r in seen}


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_corrupt_database_is_moved_aside_and_the_app_starts(isolated_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_SANDBOX_JOB_SECONDS", "0.5")
    isolated_env.mkdir(parents=True)
    garbage = b"this was a job database until the disk hiccuped\x00" * 200
    (isolated_env / "reeldeck.sqlite").write_bytes(garbage)
    code, out, err = cli("jobs", "--json")
    assert (code, json.loads(out)) == (EXIT_OK, [])
    assert err.startswith("warning: The job database was damaged and has been moved aside to ")
    (aside,) = isolated_env.glob("reeldeck.sqlite.damaged-*")
    assert aside.read_bytes() == garbage and aside.name in err  # kept, not deleted
    code, out, err = cli("--sandbox", "submit", *LIVE2D, "--prompt", "after the crash", "--wait", "--json")
    assert code == EXIT_OK, err
    assert json.loads(out)["state"] == "completed" and "damaged" not in err


def test_an_unreadable_database_is_moved_aside_and_the_app_starts(isolated_env: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop root from reading, so an unreadable database "
                    "cannot be simulated here (the corrupt-file test covers the same recovery path)")
    isolated_env.mkdir(parents=True)
    JobStore(isolated_env / "reeldeck.sqlite").close()
    (isolated_env / "reeldeck.sqlite").chmod(0)
    code, out, err = cli("jobs", "--json")
    assert (code, json.loads(out)) == (EXIT_OK, [])
    assert "moved aside" in err and list(isolated_env.glob("reeldeck.sqlite.damaged-*"))


def test_the_sandbox_fault_hook_is_checked() -> None:
    (fault,) = sandbox_faults('[{"kind": "slow", "request_kind": "create", "delay": 60}]')
    assert isinstance(fault, Fault) and (fault.kind, fault.request_kind, fault.delay) == ("slow", "create", 60)
    assert sandbox_faults(None) == [] and sandbox_faults("") == []
    for bad in ('{"kind": "slow"}', "[1]", '[{"kind": "explode"}]', '[{"nope": 1}]', "not json"):
        with pytest.raises(ConfigError, match="REELDECK_SANDBOX_FAULTS is not a valid list"):
            sandbox_faults(bad)


def test_a_bad_fault_hook_is_a_clear_error_that_sends_nothing(isolated_env: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_SANDBOX_FAULTS", "[{]")
    code, out, err = cli("--sandbox", "submit", *VEO, "--prompt", "x")
    assert (code, out) == (EXIT_BAD_INPUT, "") and "REELDECK_SANDBOX_FAULTS is not a valid list" in err


def test_processes_starting_together_on_a_fresh_data_dir_share_one_healthy_database(tmp_path: Path) -> None:
    """The window and the command line started at the same moment both create and migrate the database; neither
    may take the other's half-made file for a damaged one and move it aside."""
    for trial in range(15):
        path = tmp_path / f"fresh-{trial}" / "reeldeck.sqlite"
        start_line = threading.Barrier(6)
        outcomes: list[object] = []

        def open_it(path: Path = path, start_line: threading.Barrier = start_line,
                    outcomes: list[object] = outcomes) -> None:
            start_line.wait()
            try:
                store, aside = open_or_recover(path)
                store.close()
                outcomes.append(aside)
            except Exception as exc:  # collected, then asserted below
                outcomes.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == [None] * 6
        assert [p.name for p in path.parent.iterdir() if "damaged" in p.name] == []


def test_a_busy_database_is_never_moved_aside(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_env.mkdir(parents=True)
    path = isolated_env / "reeldeck.sqlite"
    store = JobStore(path)
    store.add(build_job(JobRequest("aihubmix", VEO_31, {"prompt": "keep me"}), isolated_env / "inputs"))
    store.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # an old-style file another program holds locked
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store_module, "OPEN_BUSY_SECONDS", 0.3)
    try:
        code, out, err = cli("jobs", "--json")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (code, out) == (EXIT_BAD_INPUT, "") and "is busy (another Reeldeck holds it)" in err
    assert list(isolated_env.glob("*damaged*")) == []
    code, out, err = cli("jobs", "--json")
    assert code == EXIT_OK and [j["prompt"] for j in json.loads(out)] == ["keep me"]
