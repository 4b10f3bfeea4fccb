"""Favourites, ratings and notes on library videos, in the GUI's own small SQLite file (``gui.sqlite``).

Kept out of core's jobs table on purpose (the GUI does not own it); keyed by job id so it can be moved into the
store later with a one-line migration.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "gui.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    job_id TEXT PRIMARY KEY,
    favourite INTEGER NOT NULL DEFAULT 0,
    rating INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL
)
"""


@dataclass
class Annotation:
    """What a person said about one video."""

    favourite: bool = False
    rating: int = 0  # 0 (none) .. 5
    note: str = ""


class AnnotationStore:
    """Read and write annotations; every write is committed at once."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / FILE_NAME
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self._db.close()

    def get(self, job_id: str) -> Annotation:
        if self.closed:
            return Annotation()
        row = self._db.execute("SELECT favourite, rating, note FROM annotations WHERE job_id = ?",
                               (job_id,)).fetchone()
        return Annotation(bool(row[0]), int(row[1]), str(row[2])) if row else Annotation()

    def all(self) -> dict[str, Annotation]:
        if self.closed:
            return {}
        rows = self._db.execute("SELECT job_id, favourite, rating, note FROM annotations").fetchall()
        return {str(r[0]): Annotation(bool(r[1]), int(r[2]), str(r[3])) for r in rows}

    def put(self, job_id: str, annotation: Annotation) -> None:
        if self.closed:
            return
        rating = max(0, min(5, int(annotation.rating)))
        self._db.execute(
            "INSERT INTO annotations (job_id, favourite, rating, note, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(job_id) DO UPDATE SET favourite = excluded.favourite, rating = excluded.rating, "
            "note = excluded.note, updated_at = excluded.updated_at",
            (job_id, int(annotation.favourite), rating, annotation.note, time.time()),
        )

    def delete(self, job_id: str) -> None:
        if self.closed:
            return
        self._db.execute("DELETE FROM annotations WHERE job_id = ?", (job_id,))
