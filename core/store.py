"""The job store: one SQLite file in the data dir (WAL, migrations numbered by ``PRAGMA user_version``).

A job is written before it is submitted, and its remote id the moment the provider returns it. Keys are never
stored. Several processes may share the file: a lease (owner + expiry) makes sure only one works a job.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from core.errors import StoreError
from core.jobs import TERMINAL, Annotation, Job, JobState
from core.ledger import ReportedCharge
from core.redact import redact
from core.sequence import Sequence as ClipSequence

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
    # 4: fenced leases (a generation per owner change), the two worlds, the API origin, waiting reasons.
    # Jobs made before this migration get world 'legacy' and are sorted into a world by the runtime.
    """
    ALTER TABLE jobs ADD COLUMN lease_gen INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN world TEXT NOT NULL DEFAULT 'legacy';
    ALTER TABLE jobs ADD COLUMN origin TEXT;
    ALTER TABLE jobs ADD COLUMN waiting TEXT;
    ALTER TABLE jobs ADD COLUMN waiting_on_you INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX jobs_world ON jobs(world, state);
    """,
    # 5: sequences (clips in order, trims, crossfade, quality, continuations awaited), one world each
    """
    CREATE TABLE sequences (
        id TEXT PRIMARY KEY,
        world TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX sequences_world ON sequences(world, created_at);
    """,
    # 6: the queue's order (waiting jobs start lowest first; a person may reorder them)
    """
    ALTER TABLE jobs ADD COLUMN queue_pos REAL;
    UPDATE jobs SET queue_pos = created_at;
    """,
    # 7: what the provider reported a job's task cost (the charge ledger, core/ledger.py)
    """
    CREATE TABLE charges (
        job_id TEXT PRIMARY KEY,
        amount REAL NOT NULL,
        unit TEXT NOT NULL,
        field TEXT NOT NULL,
        reported_at REAL NOT NULL
    );
    """,
    # 8: jobs by their last write (an open window looks for what other processes wrote: Engine.look_for_others)
    """
    CREATE INDEX jobs_updated ON jobs(world, updated_at);
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
    "submitted_at", "finished_at", "polls", "attempts", "group_id", "cost_usd", "world", "origin", "waiting",
    "waiting_on_you", "queue_pos",
)
_BOOL_FIELDS = ("needs_decision", "waiting_on_you")
WORLDS = ("real", "sandbox")


def open_or_recover(path: Path, *, world: str | None = None) -> tuple[JobStore, Path | None]:
    """Open the store; if the file is corrupt or unreadable, move it (and its WAL files) aside and start afresh.

    Returns the store and where the damaged file went (None when nothing was wrong). Nothing is deleted.
    """
    try:
        store = JobStore(path, world=world)
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
        return JobStore(path, world=world), aside


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


class LeaseLostError(StoreError):
    """This process no longer holds the job's lease (another took it over, or the job ended): stop, write nothing."""


class JobStore:
    """Typed access to the jobs table. One instance per process; pass it in, don't import a global.

    ``world`` scopes the store to the sandbox's jobs or the real providers' (``"sandbox"`` / ``"real"``): every
    read sees only that world, and a job of the other world is "not here". ``None`` (tools and tests) sees all.

    Each thread that uses the store gets a SQLite connection of its own (the window reads on its thread while the
    engine writes on its own): WAL lets them read and write side by side, and a transaction never mixes two
    threads' statements.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, world: str | None = None) -> None:
        if world is not None and world not in WORLDS:
            raise ValueError(f"unknown world {world!r}")
        self.path = path
        self.world = world
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + OPEN_BUSY_SECONDS
        while True:
            try:
                self._adopt(self._connect(path))
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

    def _connect(self, path: Path, *, migrate: bool = True) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=OPEN_BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            if migrate:
                self._local.db = db
                self._migrate()
        except BaseException:
            self._local.db = None
            db.close()
            raise
        return db

    def _adopt(self, db: sqlite3.Connection) -> sqlite3.Connection:
        """Make ``db`` the calling thread's connection (closed with the store)."""
        self._local.db = db
        with self._connections_lock:
            self._connections.append(db)
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        """The calling thread's connection, opened on its first use (the schema is already migrated then)."""
        if self._closed:
            raise StoreError("The job store is closed.")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        try:
            return self._adopt(self._connect(self.path, migrate=False))
        except sqlite3.Error as exc:
            raise StoreError(f"The job database {self.path} cannot be opened: {exc}.") from exc

    def _run(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Execute one statement; a locked database becomes StoreBusyError, other failures StoreError."""
        try:
            return self._db.execute(sql, args)
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise StoreBusyError(f"The job database is busy (another program holds it): {exc}.") from exc
            raise StoreError(f"The job database could not be used: {exc}.") from exc

    def close(self) -> None:
        """Close every thread's connection."""
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()

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

    # --- worlds --------------------------------------------------------------------------------------------

    def _scope(self) -> tuple[str, list[Any]]:
        """The SQL condition (and its argument) that keeps reads inside this store's world."""
        return ("world = ?", [self.world]) if self.world is not None else ("1 = 1", [])

    def sort_legacy(self, sandbox_task_ids: set[str]) -> int:
        """Put jobs made before worlds existed into one: sandbox when the emulator made their task, else real."""
        rows = self._run("SELECT id, remote_id FROM jobs WHERE world = 'legacy'").fetchall()
        for row in rows:
            world = "sandbox" if row["remote_id"] in sandbox_task_ids else "real"
            self._run("UPDATE jobs SET world = ? WHERE id = ?", (world, row["id"]))
        return len(rows)

    # --- writing -------------------------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        """Write a new job (state pending) and return it with its timestamps."""
        now = self._clock()
        job.created_at = job.created_at or now
        job.updated_at = now
        if job.queue_pos is None:
            job.queue_pos = job.created_at  # the queue starts jobs in the order they came
        if self.world is not None:
            job.world = self.world
        row = _to_row(job)
        marks = ", ".join("?" for _ in _COLUMNS)
        try:
            self._run(f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({marks})", [row[c] for c in _COLUMNS])
        except StoreBusyError:  # after busy_timeout: another process kept it locked
            raise StoreBusyError(f"The job database {self.path} is busy (another program keeps it locked); the "
                                 "job was not stored and nothing was sent. Try again in a moment.") from None
        return job

    def update(self, job_id: str, *, lease: tuple[str, int] | None = None, **changes: Any) -> Job:
        """Change some fields of a job and return it as stored.

        With ``lease`` (owner, generation) the write is fenced: it happens only while that lease is still the
        job's and the job has not ended; otherwise nothing is written and LeaseLostError is raised.
        """
        changes["updated_at"] = self._clock()
        for key in _PROVIDER_TEXT:  # last line of defence: provider text never stores a key
            if isinstance(changes.get(key), str):
                changes[key] = redact(changes[key])
        for key in _JSON_FIELDS:
            if key in changes:
                changes[key] = json.dumps(changes[key])
        if "state" in changes:
            changes["state"] = str(changes["state"])
        for key in _BOOL_FIELDS:
            if key in changes:
                changes[key] = int(bool(changes[key]))
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = ?" for k in changes)
        where, args = "id = ?", list[Any]([job_id])
        if lease is not None:
            marks = ", ".join("?" for _ in TERMINAL)
            where += f" AND lease_owner = ? AND lease_gen = ? AND state NOT IN ({marks})"
            args += [lease[0], lease[1], *(str(s) for s in TERMINAL)]
        cursor = self._run(f"UPDATE jobs SET {assignments} WHERE {where}", [*changes.values(), *args])
        if cursor.rowcount != 1:
            if lease is not None and self.find(job_id) is not None:
                raise LeaseLostError(f"Job {job_id} is no longer worked by this process.")
            raise StoreError(f"No job {job_id}.")
        return self.get(job_id)

    def adopt_remote_id(self, job_id: str, remote_id: str) -> bool:
        """Record the task a create made, unless the job already has one. Needs no lease: the task exists whoever
        owns the job now, and the first id recorded wins (a later one is an orphan the caller deals with)."""
        cursor = self._run("UPDATE jobs SET remote_id = ?, updated_at = ? WHERE id = ? AND remote_id IS NULL",
                           (remote_id, self._clock(), job_id))
        return cursor.rowcount == 1

    def delete(self, job_id: str) -> None:
        self._run("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._run("DELETE FROM annotations WHERE job_id = ?", (job_id,))
        self._run("DELETE FROM charges WHERE job_id = ?", (job_id,))

    # --- annotations ---------------------------------------------------------------------------------------

    def annotation(self, job_id: str) -> Annotation:
        row = self._run("SELECT favourite, rating, note FROM annotations WHERE job_id = ?", (job_id,)).fetchone()
        return Annotation(bool(row[0]), int(row[1]), str(row[2])) if row else Annotation()

    def annotations(self) -> dict[str, Annotation]:
        rows = self._run("SELECT job_id, favourite, rating, note FROM annotations").fetchall()
        return {str(r[0]): Annotation(bool(r[1]), int(r[2]), str(r[3])) for r in rows}

    def annotate(self, job_id: str, annotation: Annotation) -> None:
        rating = max(0, min(5, int(annotation.rating)))
        self._run(
            "INSERT INTO annotations (job_id, favourite, rating, note, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(job_id) DO UPDATE SET favourite = excluded.favourite, rating = excluded.rating, "
            "note = excluded.note, updated_at = excluded.updated_at",
            (job_id, int(annotation.favourite), rating, annotation.note, self._clock()),
        )

    # --- reported charges -----------------------------------------------------------------------------------

    def record_charge(self, job_id: str, charge: ReportedCharge) -> None:
        """Keep the provider's latest word on what a job's task cost (no lease needed: it is the provider's fact)."""
        self._run(
            "INSERT INTO charges (job_id, amount, unit, field, reported_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(job_id) DO UPDATE SET amount = excluded.amount, unit = excluded.unit, "
            "field = excluded.field, reported_at = excluded.reported_at",
            (job_id, charge.amount, charge.unit, charge.field, self._clock()),
        )

    def charges(self) -> dict[str, ReportedCharge]:
        """Every job's reported charge, by job id (jobs whose provider reported nothing are absent)."""
        rows = self._run("SELECT job_id, amount, unit, field FROM charges").fetchall()
        return {str(r[0]): ReportedCharge(float(r[1]), str(r[2]), str(r[3])) for r in rows}

    # --- sequences -----------------------------------------------------------------------------------------

    def save_sequence(self, sequence: ClipSequence) -> ClipSequence:
        """Write a sequence (new or changed) in this store's world; returns it with its times."""
        now = self._clock()
        sequence.created_at = sequence.created_at or now
        sequence.updated_at = now
        self._run(
            "INSERT INTO sequences (id, world, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name = excluded.name, body = excluded.body, "
            "updated_at = excluded.updated_at",
            (sequence.id, self.world or "real", sequence.name, json.dumps(sequence.body()), sequence.created_at, now),
        )
        return sequence

    def sequences(self) -> list[ClipSequence]:
        """This world's sequences, oldest first."""
        scope, args = self._scope()
        rows = self._run(f"SELECT * FROM sequences WHERE {scope} ORDER BY created_at, rowid", args).fetchall()
        return [ClipSequence.from_body(r["id"], r["name"], json.loads(r["body"]), r["created_at"], r["updated_at"])
                for r in rows]

    def delete_sequence(self, sequence_id: str) -> None:
        self._run("DELETE FROM sequences WHERE id = ?", (sequence_id,))

    # --- leases --------------------------------------------------------------------------------------------

    def claim(self, job_id: str, owner: str, ttl: float) -> int | None:
        """Take the lease on a job; returns its new generation, or None when another live owner holds it.

        Every claim starts a new generation, so writes fenced with an older one (a worker that was paused or
        locked out past its lease) fail. A lease held by a process of this machine that no longer exists
        (killed, crashed) is taken over at once instead of waiting for it to expire.
        """
        now = self._clock()
        row = self._run("SELECT lease_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
        holder = row["lease_owner"] if row is not None else None
        if holder is not None and holder != owner and not owner_is_alive(holder):
            self._run("UPDATE jobs SET lease_owner = NULL WHERE id = ? AND lease_owner = ?", (job_id, holder))
        cursor = self._run(
            "UPDATE jobs SET lease_owner = ?, lease_until = ?, lease_gen = lease_gen + 1 WHERE id = ? AND "
            "(lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) RETURNING lease_gen",
            (owner, now + ttl, job_id, owner, now),
        )
        found = cursor.fetchall()  # read to the end: the statement (and its write) completes only then
        return int(found[0][0]) if found else None

    def renew(self, job_id: str, owner: str, generation: int, ttl: float) -> bool:
        """Extend a lease this owner still holds (same generation); False when it was lost."""
        cursor = self._run(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_gen = ?",
            (self._clock() + ttl, job_id, owner, generation),
        )
        return cursor.rowcount == 1

    def release(self, job_id: str, owner: str, generation: int | None = None) -> None:
        where, args = "id = ? AND lease_owner = ?", list[Any]([job_id, owner])
        if generation is not None:
            where += " AND lease_gen = ?"
            args.append(generation)
        self._run(f"UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE {where}", args)

    def lease_owner(self, job_id: str) -> str | None:
        row = self._run("SELECT lease_owner, lease_until FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or row["lease_owner"] is None or (row["lease_until"] or 0) < self._clock():
            return None
        owner = str(row["lease_owner"])
        return owner if owner_is_alive(owner) else None

    # --- reading -------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        row = self._run("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise StoreError(f"No job {job_id!r}. `python main.py jobs` lists the jobs.")
        if self.world is not None and row["world"] != self.world:
            where = "in sandbox mode (add --sandbox)" if row["world"] == "sandbox" else "outside sandbox mode"
            raise StoreError(f"Job {job_id!r} belongs to the {row['world']} jobs: it is seen only {where}.")
        return _from_row(row)

    def find(self, job_id: str) -> Job | None:
        scope, args = self._scope()
        row = self._run(f"SELECT * FROM jobs WHERE id = ? AND {scope}", [job_id, *args]).fetchone()
        return _from_row(row) if row else None

    def _select(self, condition: str, args: Sequence[Any] = (), order: str = "created_at, rowid") -> list[Job]:
        scope, scope_args = self._scope()
        rows = self._run(f"SELECT * FROM jobs WHERE {scope} AND ({condition}) ORDER BY {order}",
                         [*scope_args, *args]).fetchall()
        return [_from_row(r) for r in rows]

    def all(self) -> list[Job]:
        return self._select("1 = 1")

    def unfinished(self) -> list[Job]:
        """Unfinished jobs in queue order (the order waiting jobs start in)."""
        marks = ", ".join("?" for _ in TERMINAL)
        return self._select(f"state NOT IN ({marks})", [str(s) for s in TERMINAL],
                            order="COALESCE(queue_pos, created_at), rowid")

    # --- the queue's order -----------------------------------------------------------------------------------

    def set_queue_order(self, job_ids: Sequence[str]) -> dict[str, float]:
        """Put these jobs in this order (the first starts first) and return their new positions.

        They share out the positions they held among themselves, so jobs not named keep their places. Only jobs
        that have not been sent yet can move (a job at the provider has started already); others are ignored.
        """
        marks = ", ".join("?" for _ in job_ids)
        scope, args = self._scope()
        rows = self._run(f"SELECT id, COALESCE(queue_pos, created_at) AS pos FROM jobs WHERE id IN ({marks}) AND "
                         f"state = ? AND {scope}", [*job_ids, str(JobState.PENDING), *args]).fetchall()
        held = {str(r["id"]): float(r["pos"]) for r in rows}
        ordered = [job_id for job_id in dict.fromkeys(job_ids) if job_id in held]
        positions = dict(zip(ordered, sorted(held[i] for i in ordered), strict=True))
        positions = _distinct(positions)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for job_id, position in positions.items():
                self._db.execute("UPDATE jobs SET queue_pos = ?, updated_at = ? WHERE id = ?",
                                 (position, self._clock(), job_id))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise StoreError(f"The queue's order could not be saved: {exc}.") from exc
        return positions

    def data_version(self) -> int:
        """A number that changes when another connection — another process, or another thread here — has
        committed a change since this thread's last look (SQLite's ``PRAGMA data_version``: no table is read)."""
        return int(self._run("PRAGMA data_version").fetchone()[0])

    def changed_since(self, timestamp: float) -> list[Job]:
        """Jobs written at or after ``timestamp`` (by any process), oldest write first."""
        return self._select("updated_at >= ?", (timestamp,), order="updated_at, rowid")

    def since(self, timestamp: float) -> list[Job]:
        """Jobs submitted (or, if never submitted, created) at or after ``timestamp``."""
        return self._select("COALESCE(submitted_at, created_at) >= ?", (timestamp,))

    def remote_ids(self, provider: str) -> set[str]:
        rows = self._run(
            "SELECT remote_id FROM jobs WHERE provider = ? AND remote_id IS NOT NULL", (provider,)
        ).fetchall()
        return {str(r[0]) for r in rows}

    def durations(self, provider: str, model: str, limit: int = 200) -> list[float]:
        """Seconds from submission to completion of the latest completed jobs of a provider's model, oldest first."""
        rows = self._run(
            "SELECT finished_at - submitted_at FROM jobs WHERE provider = ? AND model = ? AND state = ? AND "
            "submitted_at IS NOT NULL AND finished_at > submitted_at ORDER BY finished_at DESC LIMIT ?",
            (provider, model, str(JobState.COMPLETED), limit),
        ).fetchall()
        return [float(r[0]) for r in reversed(rows)]

    def by_ids(self, ids: Iterable[str]) -> list[Job]:
        return [self.get(i) for i in ids]

    def ids_newest_first(self) -> list[str]:
        """Every job id, newest first (no row is decoded: a window lists the ids, then reads them in pages)."""
        scope, args = self._scope()
        rows = self._run(f"SELECT id FROM jobs WHERE {scope} ORDER BY created_at DESC, rowid DESC", args).fetchall()
        return [str(r[0]) for r in rows]

    def some(self, ids: Sequence[str]) -> list[Job]:
        """The jobs with these ids that still exist, in the order of ``ids`` (a page of a listing)."""
        found: dict[str, Job] = {}
        scope, args = self._scope()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            for row in self._run(f"SELECT * FROM jobs WHERE id IN ({marks}) AND {scope}", [*chunk, *args]).fetchall():
                found[row["id"]] = _from_row(row)
        return [found[i] for i in ids if i in found]


def _distinct(positions: dict[str, float]) -> dict[str, float]:
    """Positions made strictly increasing in their order (two jobs made in the same instant share a time)."""
    result: dict[str, float] = {}
    last: float | None = None
    for job_id, position in positions.items():
        if last is not None and position <= last:
            position = last + 1e-6
        result[job_id] = last = position
    return result


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _to_row(job: Job) -> dict[str, Any]:
    row: dict[str, Any] = {c: getattr(job, c) for c in _COLUMNS}
    for key in _JSON_FIELDS:
        row[key] = json.dumps(row[key])
    row["state"] = str(job.state)
    for key in _BOOL_FIELDS:
        row[key] = int(row[key])
    return row


def _from_row(row: sqlite3.Row) -> Job:
    data = {c: row[c] for c in _COLUMNS}
    for key in _JSON_FIELDS:
        data[key] = json.loads(data[key])
    data["state"] = JobState(data["state"])
    for key in _BOOL_FIELDS:
        data[key] = bool(data[key])
    return Job(**data)
