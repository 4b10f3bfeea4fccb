"""Two Reeldeck processes on one data dir, against one provider (the emulator, on loopback, in this test's process,
as the real service would be): one owner per job, fenced, and a cancel that wins over a create in flight."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from core.sandbox import Fault, Sandbox

ROOT = Path(__file__).resolve().parents[2]
VEO = ("--provider", "aihubmix", "--model", "veo-3.1-generate-preview")
KEY = "sk-two-processes-0123456789abcdef"


@pytest.fixture
async def provider(tmp_path: Path) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(tmp_path / "provider", job_seconds=2)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def client_env(home: Path, provider: Sandbox, **extra: str) -> dict[str, str]:
    """A user's shell: the real world, its base URL and key from the environment (pointing at the emulator)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    return clean | provider.endpoints() | {"REELDECK_HOME": str(home), "REELDECK_AIHUBMIX_API_KEY": KEY} | extra


async def start(home: Path, provider: Sandbox, *args: str, **extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "main.py", *args, cwd=ROOT,
                                                env=client_env(home, provider, **extra),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finish(process: asyncio.subprocess.Process, timeout: float = 120) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return int(process.returncode if process.returncode is not None else -1), out.decode(), err.decode()


def job_row(home: Path) -> dict[str, Any]:
    database = home / "reeldeck.sqlite"
    if not database.exists():
        return {}
    db = sqlite3.connect(database)
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM jobs").fetchone()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return dict(row) if row is not None else {}


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Watch another process's files until ``condition`` holds (the loop keeps serving the emulator)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_paused_owner_loses_the_job_and_neither_process_creates_twice(
    isolated_env: Path, provider: Sandbox
) -> None:
    home = isolated_env
    slow = provider.faults.add(Fault("slow", provider="aihubmix", request_kind="create", delay=6))  # made at +6 s
    first = await start(home, provider, "submit", *VEO, "--prompt", "a heron", "--wait", "--json",
                        REELDECK_LEASE_SECONDS="2")
    await until(lambda: slow.fired == 1)  # the create has reached the provider
    first.send_signal(signal.SIGSTOP)  # paused with the create in flight, past its lease
    try:
        second = await start(home, provider, "wait", "--json", REELDECK_LEASE_SECONDS="2")
        code, out, err = await finish(second)
        assert code == 0, err
        (taken_over,) = json.loads(out)
        assert taken_over["state"] == "completed" and taken_over["remote_id"]
    finally:
        first.send_signal(signal.SIGCONT)
    code, out, err = await finish(first)  # its create's answer arrives: same task, recorded once, nothing re-sent
    assert code == 0, err
    job = json.loads(out)
    assert job["state"] == "completed" and job["remote_id"] == taken_over["remote_id"]
    assert [t.id for t in provider.tasks.list("aihubmix")] == [job["remote_id"]]  # one task, one charge
    assert provider.count("aihubmix", "create") == 1 and provider.count("aihubmix", "cancel") == 0
    assert [p.name for p in (home / "library").glob("*.mp4")] == [Path(job["video_path"]).name]


async def test_a_cancel_from_another_process_wins_over_a_create_in_flight(isolated_env: Path,
                                                                          provider: Sandbox) -> None:
    home = isolated_env
    provider.faults.add(Fault("slow", provider="aihubmix", request_kind="create", delay=3))
    worker = await start(home, provider, "submit", *VEO, "--prompt", "a heron", "--wait", "--json")
    await until(lambda: job_row(home).get("state") == "submitting")
    job_id = job_row(home)["id"]
    canceled = await finish(await start(home, provider, "cancel", job_id))
    assert canceled[0] == 0 and "canceled" in canceled[1], canceled
    code, out, err = await finish(worker)
    assert code == 1, err  # its job did not complete
    job = json.loads(out)
    (task,) = provider.tasks.list("aihubmix")
    assert job["state"] == "canceled" and job["remote_id"] == task.id  # the task made is known, and stopped:
    cancels = [r for r in provider.requests if r.provider == "aihubmix" and r.kind == "cancel"]
    assert [r.path for r in cancels] == [f"/v1/videos/{task.id}"]
    assert not list((home / "library").glob("*.mp4"))
