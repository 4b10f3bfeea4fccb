"""The job store: real SQLite files, migrations, leases, several connections at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.errors import StoreError
from core.jobs import Job, JobState
from core.store import MIGRATIONS, JobStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _job(job_id: str = "abc") -> Job:
    return Job(id=job_id, provider="aihubmix", model="sora-2", params={"prompt": "fox"}, inputs={})


def test_add_update_and_reload_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    store = JobStore(path)
    store.add(_job())
    store.update("abc", state=JobState.RUNNING, remote_id="video_1", progress=40.0)
    store.close()
    again = JobStore(path)
    job = again.get("abc")
    assert (job.state, job.remote_id, job.progress, job.params) == (
        JobState.RUNNING,
        "video_1",
        40.0,
        {"prompt": "fox"},
    )
    assert again.schema_version == len(MIGRATIONS)
    assert [j.id for j in again.unfinished()] == ["abc"]
    again.update("abc", state=JobState.COMPLETED)
    assert again.unfinished() == []


def test_wal_mode_and_user_version(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    JobStore(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    with pytest.raises(StoreError, match="No job 'nope'"):
        store.get("nope")


def test_lease_excludes_other_owners_until_it_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "jobs.sqlite"
    gui, cli = JobStore(path, clock=clock), JobStore(path, clock=clock)
    gui.add(_job())
    assert gui.claim("abc", "gui", ttl=60)
    assert not cli.claim("abc", "cli", ttl=60)
    assert cli.lease_owner("abc") == "gui"
    clock.now += 61
    assert cli.lease_owner("abc") is None
    assert cli.claim("abc", "cli", ttl=60)
    assert not gui.claim("abc", "gui", ttl=60)
    cli.release("abc", "cli")
    assert gui.claim("abc", "gui", ttl=60)


def test_json_output_has_the_contract_fields(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    data = store.add(_job()).to_json()
    for key in (
        "id",
        "provider",
        "model",
        "state",
        "remote_id",
        "remote_status",
        "video_path",
        "error",
        "created_at",
        "updated_at",
    ):
        assert key in data
    assert data["state"] == "pending"
    assert data["created_at"].endswith("Z")


def test_remote_ids_per_provider(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    store.add(_job("a"))
    store.add(_job("b"))
    store.update("a", remote_id="video_1")
    assert store.remote_ids("aihubmix") == {"video_1"}
    assert store.remote_ids("goapi") == set()


def test_a_damaged_database_is_moved_aside_not_lost(tmp_path: Path) -> None:
    from core.store import open_or_recover

    path = tmp_path / "reeldeck.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    store, aside = open_or_recover(path)
    assert aside is not None and aside.read_bytes().startswith(b"this is not a database")
    store.add(_job())
    assert [j.id for j in store.all()] == ["abc"]


def test_a_healthy_database_is_left_alone(tmp_path: Path) -> None:
    from core.store import open_or_recover

    path = tmp_path / "reeldeck.sqlite"
    first = JobStore(path)
    first.add(_job())
    first.close()
    store, aside = open_or_recover(path)
    assert aside is None and [j.id for j in store.all()] == ["abc"]


def test_a_dead_processs_lease_is_taken_over_at_once(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from core.store import make_owner

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_owner = f"{socket.gethostname()}:{finished.stdout.strip()}:deadbeef"
    store = JobStore(tmp_path / "jobs.sqlite")
    store.add(_job())
    assert store.claim("abc", dead_owner, ttl=600)
    assert store.claim("abc", make_owner(), ttl=600)
    other_host = "some-other-host:1:cafe"
    assert not store.claim("abc", other_host, ttl=600)


def test_annotations_live_in_the_store_and_go_with_the_job(tmp_path: Path) -> None:
    from core.jobs import Annotation

    path = tmp_path / "jobs.sqlite"
    store = JobStore(path)
    store.add(_job())
    assert store.annotation("abc") == Annotation()
    store.annotate("abc", Annotation(True, 9, "keep"))
    store.close()
    again = JobStore(path)
    assert again.annotation("abc") == Annotation(True, 5, "keep")  # rating clamped to 0..5
    assert again.annotations() == {"abc": Annotation(True, 5, "keep")}
    again.delete("abc")
    assert again.annotations() == {}


def test_ids_newest_first_and_pages_of_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    for number, created in enumerate((30.0, 10.0, 20.0, 20.0)):
        job = _job(f"j{number}")
        job.created_at = created
        store.add(job)
    ids = store.ids_newest_first()
    assert ids == ["j0", "j3", "j2", "j1"]  # equal times: the later row first (all() lists them the other way)
    assert [j.id for j in store.all()] == list(reversed(ids))
    store.delete("j2")
    assert [j.id for j in store.some(ids[1:])] == ["j3", "j1"]  # in the asked order; a deleted job is skipped
    assert store.some([]) == []
    many = [f"x{n}" for n in range(1_200)]
    for job_id in many:
        store.add(_job(job_id))
    assert [j.id for j in store.some(many)] == many  # more ids than one query takes
