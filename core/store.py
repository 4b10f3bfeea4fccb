"""The job store: one SQLite file in the data dir (WAL, migrations numbered by ``PRAGMA user_version``).

A job is written before it is submitted, and its remote id the moment the provider returns it. Keys are never
stored. Several processes may share the file: a lease (owner + expiry) makes sure only one works a job.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from core.errors import StoreError
from core.jobs import TERMINAL, Annotation, Job, JobState
from core.redact import redact

MIGRATIONS: list[str] = [
    # 1: jobs
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        mode TEXT NOT NULL DEFAULT 'default',
        params TEXT NOT NULL,
        inputs TEXT NOT NULL,
        prepared TEXT NOT NULL DEFAULT '{}',
        input_notes TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL,
        remote_id TEXT,
        remote_status TEXT,
        progress REAL,
        eta REAL,
        video_path TEXT,
        error TEXT,
        needs_decision INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        submitted_at REAL,
        finished_at REAL,
        polls INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until REAL
    );
    CREATE INDEX jobs_state ON jobs(state);
    CREATE INDEX jobs_remote ON jobs(provider, remote_id);
    """,
    # 2: batches and cost estimates
    """
    ALTER TABLE jobs ADD COLUMN group_id TEXT;
    ALTER TABLE jobs ADD COLUMN cost_usd REAL;
    CREATE INDEX jobs_group ON jobs(group_id);
    """,
    # 3: what a person said about a video (favourite, rating, note)
    """
    CREATE TABLE annotations (
        job_id TEXT PRIMARY KEY,
        favourite INTEGER NOT NULL DEFAULT 0,
        rating INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    """,
]

#: How long opening waits for another process that is creating or migrating the database.
OPEN_BUSY_SECONDS = 10.0
_JSON_FIELDS = ("params", "inputs", "prepared", "input_notes")
_PROVIDER_TEXT = ("error", "remote_status")
_IDS_PER_QUERY = 500  # SQLite takes up to 32,766 parameters; pages are smaller
_COLUMNS = (
    "id", "provider", "model", "mode", "params", "inputs", "prepared", "input_notes", "state", "remote_id",
    "remote_status", "progress", "eta", "video_path", "error", "needs_decision", "created_at", "updated_at",
    "submitted_at", "finished_at", "polls", "attempts", "group_id", "cost_usd",
)


def open_or_recover(path: Path) -> tuple[JobStore, Path | None]:
    """Open the store; if the file is corrupt or unreadable, move it (and its WAL files) aside and start afresh.

    Returns the store and where the damaged file went (None when nothing was wrong). Nothing is deleted.
    """
    try:
        store = JobStore(path)
        store.check()
        return store, None
    except StoreBusyError:
        raise  # locked by another process is not damage: never move a healthy database aside
    except StoreError:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(path) + suffix)
            if source.exists():
                source.replace(Path(str(aside) + suffix))
        return JobStore(path), aside


class StoreBusyError(StoreError):
    """The database is locked by another process for longer than we wait; it is not damaged."""


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def make_owner() -> str:
    """A lease owner id: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_alive(owner: str) -> bool:
    """False only when the owner is a process of this machine that has ended; unknown owners count as alive."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


class JobStore:
    """Typed access to the jobs table. One instance per process; pass it in, don't import a global."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + OPEN_BUSY_SECONDS
        while True:
            try:
                self._db = self._connect(path)
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise StoreError(f"The job database {path} cannot be opened: {exc}.") from exc
                if time.monotonic() > deadline:
                    raise StoreBusyError(f"The job database {path} is busy (another Reeldeck holds it); try again "
                                         "in a moment.") from exc
                time.sleep(0.05)  # another process is creating or migrating it right now (SQLite may not wait)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"The job database {path} cannot be opened: {exc}.") from exc

    def _connect(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=OPEN_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._db = db
            self._migrate()
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def check(self) -> None:
        """Check the file's structure (``PRAGMA quick_check``, no full read); raise StoreError when it is damaged."""
        try:
            result = self._db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"The job database {self.path} is damaged: {exc}.") from exc
        if result != "ok":
            raise StoreError(f"The job database {self.path} is damaged: {result}.")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.schema_version >= len(MIGRATIONS):
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # Read the version again under the write lock: another process (the window and the command line
            # starting together on a fresh data dir) may have migrated meanwhile.
            version = self.schema_version
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
            self._db.execute("COMMIT")
        except Exception:
            self._db.execute("ROLLBACK")
            raise

    # --- writing -------------------------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        """Write a new job (state pending) and return it with its timestamps."""
        now = self._clock()
        job.created_at = job.created_at or now
        job.updated_at = now
        row = _to_row(job)
        marks = ", ".join("?" for _ in _COLUMNS)
        try:
            self._db.execute(f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({marks})",
                             [row[c] for c in _COLUMNS])
        except sqlite3.OperationalError as exc:  # after busy_timeout: another process kept it locked
            if not _busy(exc):
                raise StoreError(f"The job could not be written to {self.path}: {exc}.") from None
            raise StoreBusyError(f"The job database {self.path} is busy (another program keeps it locked); the "
                                 "job was not stored and nothing was sent. Try again in a moment.") from None
        return job

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change some fields of a job and return it as stored."""
        changes["updated_at"] = self._clock()
        for key in _PROVIDER_TEXT:  # last line of defence: provider text never stores a key
            if isinstance(changes.get(key), str):
                changes[key] = redact(changes[key])
        for key in _JSON_FIELDS:
            if key in changes:
                changes[key] = json.dumps(changes[key])
        if "state" in changes:
            changes["state"] = str(changes["state"])
        if "needs_decision" in changes:
            changes["needs_decision"] = int(bool(changes["needs_decision"]))
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in changes)
        cursor = self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*changes.values(), job_id])
        if cursor.rowcount != 1:
            raise StoreError(f"No job {job_id}.")
        return self.get(job_id)

    def delete(self, job_id: str) -> None:
        self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._db.execute("DELETE FROM annotations WHERE job_id = ?", (job_id,))

    # --- annotations ---------------------------------------------------------------------------------------

    def annotation(self, job_id: str) -> Annotation:
        row = self._db.execute("SELECT favourite, rating, note FROM annotations WHERE job_id = ?",
                               (job_id,)).fetchone()
        return Annotation(bool(row[0]), int(row[1]), str(row[2])) if row else Annotation()

    def annotations(self) -> dict[str, Annotation]:
        rows = self._db.execute("SELECT job_id, favourite, rating, note FROM annotations").fetchall()
        return {str(r[0]): Annotation(bool(r[1]), int(r[2]), str(r[3])) for r in rows}

    def annotate(self, job_id: str, annotation: Annotation) -> None:
        rating = max(0, min(5, int(annotation.rating)))
        self._db.execute(
            "INSERT INTO annotations (job_id, favourite, rating, note, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(job_id) DO UPDATE SET favourite = excluded.favourite, rating = excluded.rating, "
            "note = excluded.note, updated_at = excluded.updated_at",
            (job_id, int(annotation.favourite), rating, annotation.note, self._clock()),
        )

    # --- leases --------------------------------------------------------------------------------------------

    def claim(self, job_id: str, owner: str, ttl: float) -> bool:
        """Take (or renew) the lease on a job; False when another live owner holds it.

        A lease held by a process of this machine that no longer exists (killed, crashed) is taken over at once
        instead of waiting for it to expire.
        """
        now = self._clock()
        row = self._db.execute("SELECT lease_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
        holder = row["lease_owner"] if row is not None else None
        if holder is not None and holder != owner and not owner_is_alive(holder):
            self._db.execute("UPDATE jobs SET lease_owner = NULL WHERE id = ? AND lease_owner = ?", (job_id, holder))
        cursor = self._db.execute(
            "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? AND "
            "(lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)",
            (owner, now + ttl, job_id, owner, now),
        )
        return cursor.rowcount == 1

    def release(self, job_id: str, owner: str) -> None:
        self._db.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            (job_id, owner),
        )

    def lease_owner(self, job_id: str) -> str | None:
        row = self._db.execute(
            "SELECT lease_owner, lease_until FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if row is None or row["lease_owner"] is None or (row["lease_until"] or 0) < self._clock():
            return None
        owner = str(row["lease_owner"])
        return owner if owner_is_alive(owner) else None

    # --- reading -------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise StoreError(f"No job {job_id!r}. `python main.py jobs` lists the jobs.")
        return _from_row(row)

    def find(self, job_id: str) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _from_row(row) if row else None

    def all(self) -> list[Job]:
        rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at, rowid").fetchall()
        return [_from_row(r) for r in rows]

    def unfinished(self) -> list[Job]:
        marks = ", ".join("?" for _ in TERMINAL)
        rows = self._db.execute(
            f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY created_at, rowid",
            [str(s) for s in TERMINAL],
        ).fetchall()
        return [_from_row(r) for r in rows]

    def since(self, timestamp: float) -> list[Job]:
        """Jobs submitted (or, if never submitted, created) at or after ``timestamp``."""
        rows = self._db.execute(
            "SELECT * FROM jobs WHERE COALESCE(submitted_at, created_at) >= ? ORDER BY created_at, rowid",
            (timestamp,),
        ).fetchall()
        return [_from_row(r) for r in rows]

    def remote_ids(self, provider: str) -> set[str]:
        rows = self._db.execute(
            "SELECT remote_id FROM jobs WHERE provider = ? AND remote_id IS NOT NULL", (provider,)
        ).fetchall()
        return {str(r[0]) for r in rows}

    def durations(self, provider: str, model: str, limit: int = 200) -> list[float]:
        """Seconds from submission to completion of the latest completed jobs of a provider's model, oldest first."""
        rows = self._db.execute(
            "SELECT finished_at - submitted_at FROM jobs WHERE provider = ? AND model = ? AND state = ? AND "
            "submitted_at IS NOT NULL AND finished_at > submitted_at ORDER BY finished_at DESC LIMIT ?",
            (provider, model, str(JobState.COMPLETED), limit),
        ).fetchall()
        return [float(r[0]) for r in reversed(rows)]

    def by_ids(self, ids: Iterable[str]) -> list[Job]:
        return [self.get(i) for i in ids]

    def ids_newest_first(self) -> list[str]:
        """Every job id, newest first (no row is decoded: a window lists the ids, then reads them in pages)."""
        rows = self._db.execute("SELECT id FROM jobs ORDER BY created_at DESC, rowid DESC").fetchall()
        return [str(r[0]) for r in rows]

    def some(self, ids: Sequence[str]) -> list[Job]:
        """The jobs with these ids that still exist, in the order of ``ids`` (a page of a listing)."""
        found: dict[str, Job] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            for row in self._db.execute(f"SELECT * FROM jobs WHERE id IN ({marks})", list(chunk)).fetchall():
                found[row["id"]] = _from_row(row)
        return [found[i] for i in ids if i in found]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _to_row(job: Job) -> dict[str, Any]:
    row: dict[str, Any] = {c: getattr(job, c) for c in _COLUMNS}
    for key in _JSON_FIELDS:
        row[key] = json.dumps(row[key])
    row["state"] = str(job.state)
    row["needs_decision"] = int(job.needs_decision)
    return row


def _from_row(row: sqlite3.Row) -> Job:
    data = {c: row[c] for c in _COLUMNS}
    for key in _JSON_FIELDS:
        data[key] = json.loads(data[key])
    data["state"] = JobState(data["state"])
    data["needs_decision"] = bool(data["needs_decision"])
    return Job(**data)
