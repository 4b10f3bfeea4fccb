"""SQLite persistence of the sandbox emulator (``state_dir/sandbox.sqlite``, WAL).

Tasks, CDN files, Novita assets, the request log and the URL-signing secret live here, so a new emulator
on the same state dir (with new ports) knows everything an earlier one did. The connection opens lazily and
may be closed and reopened at any time. Writes are tiny, so they run on the event loop.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from .records import AssetRecord, FileRecord, RecordedRequest, TaskRecord

DB_NAME = "sandbox.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
    " provider TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS files (token TEXT PRIMARY KEY, task_id TEXT, variant TEXT NOT NULL,"
    " data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS files_task ON files (task_id, variant)",
    "CREATE TABLE IF NOT EXISTS assets (id TEXT PRIMARY KEY, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)",
)
#: Plain columns of the request log, beside the JSON record, so other tools can query it with SQL.
REQUEST_COLUMNS = {
    "time": "REAL",
    "origin": "TEXT",
    "provider": "TEXT",
    "kind": "TEXT",
    "method": "TEXT",
    "path": "TEXT",
    "status": "INTEGER",
    "fault": "TEXT",
    "task_id": "TEXT",
    "auth_present": "INTEGER",
}


class Store:
    """Typed wrapper around the emulator's SQLite database."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / DB_NAME
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (opened and migrated on first use)."""
        if self._conn is None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            _add_missing_columns(conn, "requests", REQUEST_COLUMNS)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        """Close the connection; the next access reopens it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- meta ---------------------------------------------------------------------------------------------
    def signing_secret(self) -> bytes:
        """The HMAC secret for CDN URLs, created once per state dir."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()
        if row is not None:
            return bytes.fromhex(row[0])
        value = secrets.token_bytes(32)
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('signing_secret', ?)", (value.hex(),))
        return value

    # -- tasks --------------------------------------------------------------------------------------------
    def save_task(self, task: TaskRecord) -> None:
        """Insert or update a task."""
        data = json.dumps(task.to_dict())
        self.conn.execute(
            "INSERT INTO tasks (id, provider, data) VALUES (?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (task.id, task.provider, data),
        )

    def get_task(self, task_id: str) -> TaskRecord | None:
        """The task with this id, or None."""
        row = self.conn.execute("SELECT data FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else TaskRecord.from_dict(json.loads(row[0]))

    def list_tasks(self, provider: str | None = None) -> list[TaskRecord]:
        """All tasks (of one provider), oldest first."""
        if provider is None:
            rows = self.conn.execute("SELECT data FROM tasks ORDER BY seq").fetchall()
        else:
            rows = self.conn.execute("SELECT data FROM tasks WHERE provider = ? ORDER BY seq", (provider,)).fetchall()
        return [TaskRecord.from_dict(json.loads(row[0])) for row in rows]

    # -- files --------------------------------------------------------------------------------------------
    def save_file(self, record: FileRecord) -> None:
        """Register a file the CDN serves."""
        self.conn.execute(
            "INSERT OR REPLACE INTO files (token, task_id, variant, data) VALUES (?, ?, ?, ?)",
            (record.token, record.task_id, record.variant, json.dumps(asdict(record))),
        )

    def get_file(self, token: str) -> FileRecord | None:
        """The CDN file with this token, or None."""
        row = self.conn.execute("SELECT data FROM files WHERE token = ?", (token,)).fetchone()
        return None if row is None else FileRecord(**json.loads(row[0]))

    def task_file(self, task_id: str, variant: str) -> FileRecord | None:
        """The CDN file of a task's result variant (video, thumbnail, spritesheet), or None."""
        row = self.conn.execute(
            "SELECT data FROM files WHERE task_id = ? AND variant = ?", (task_id, variant)
        ).fetchone()
        return None if row is None else FileRecord(**json.loads(row[0]))

    # -- assets -------------------------------------------------------------------------------------------
    def save_asset(self, asset: AssetRecord) -> None:
        """Register a Novita asset."""
        data = json.dumps(asdict(asset))
        self.conn.execute("INSERT OR REPLACE INTO assets (id, data) VALUES (?, ?)", (asset.id, data))

    def get_asset(self, asset_id: str) -> AssetRecord | None:
        """The asset with this id, or None."""
        row = self.conn.execute("SELECT data FROM assets WHERE id = ?", (asset_id,)).fetchone()
        return None if row is None else AssetRecord(**json.loads(row[0]))

    # -- request log --------------------------------------------------------------------------------------
    def save_request(self, record: RecordedRequest) -> None:
        """Insert or update a request record (keyed by its sequence number)."""
        data = record.to_dict()
        names = ["seq", "data", *REQUEST_COLUMNS]
        values = [record.seq, json.dumps(data, default=str), *(data[name] for name in REQUEST_COLUMNS)]
        marks = ", ".join("?" for _ in names)
        self.conn.execute(f"INSERT OR REPLACE INTO requests ({', '.join(names)}) VALUES ({marks})", values)

    def iter_requests(self) -> Iterator[RecordedRequest]:
        """Every recorded request, in arrival order."""
        for (data,) in self.conn.execute("SELECT data FROM requests ORDER BY seq").fetchall():
            yield RecordedRequest.from_dict(json.loads(data))


def _add_missing_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    for name, kind in columns.items():
        if name not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
