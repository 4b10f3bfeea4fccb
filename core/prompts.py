"""The prompts a person has used: a searchable history in ``prompts.sqlite`` in the data dir.

Every submitted prompt is recorded once (used again, it moves to the top and its count grows), with the provider and
model it was last used with. ``search`` finds prompts containing every word typed, newest first. The schema is
versioned with ``PRAGMA user_version`` so that a prompt library (favourites, templates) can grow on this table.
Prompts of both worlds (sandbox and real) are kept: a prompt is the person's, whichever service rendered it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError

FILE_NAME = "prompts.sqlite"
#: At most this many prompts are kept; the least recently used go first.
KEEP = 5000

MIGRATIONS = (
    """
    CREATE TABLE prompts (
        text TEXT PRIMARY KEY,
        uses INTEGER NOT NULL DEFAULT 1,
        first_used REAL NOT NULL,
        last_used REAL NOT NULL,
        provider TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX prompts_last_used ON prompts(last_used);
    """,
)


@dataclass(frozen=True)
class PromptEntry:
    """One prompt of the history."""

    text: str
    uses: int
    first_used: float
    last_used: float
    provider: str
    model: str


class PromptHistory:
    """The prompt history of one data dir."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=5.0)
            self._db.row_factory = sqlite3.Row
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"The prompt history at {path} cannot be used: {exc}.") from None

    @classmethod
    def in_data_dir(cls, root: Path) -> PromptHistory:
        """The history kept in the data dir ``root``."""
        return cls(root / FILE_NAME)

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._db:
                self._db.executescript(script)
                self._db.execute(f"PRAGMA user_version = {number}")

    def record(self, text: str, provider: str = "", model: str = "") -> PromptEntry | None:
        """Remember a prompt that was used (nothing for a blank one); returns its entry."""
        if not text.strip():
            return None
        now = self._clock()
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO prompts (text, first_used, last_used, provider, model) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(text) DO UPDATE SET uses = uses + 1, last_used = excluded.last_used, "
                    "provider = excluded.provider, model = excluded.model",
                    (text, now, now, provider, model))
                self._db.execute("DELETE FROM prompts WHERE text NOT IN "
                                 "(SELECT text FROM prompts ORDER BY last_used DESC LIMIT ?)", (KEEP,))
        except sqlite3.Error as exc:
            raise StoreError(f"The prompt could not be added to the history: {exc}.") from None
        return self.get(text)

    def get(self, text: str) -> PromptEntry | None:
        row = self._db.execute("SELECT * FROM prompts WHERE text = ?", (text,)).fetchone()
        return _entry(row) if row is not None else None

    def search(self, query: str = "", limit: int = 200) -> list[PromptEntry]:
        """Prompts containing every word of ``query`` (any case), most recently used first."""
        words = query.split()
        where = " AND ".join("instr(lower(text), ?) > 0" for _ in words) or "1 = 1"
        rows = self._db.execute(f"SELECT * FROM prompts WHERE {where} ORDER BY last_used DESC, rowid DESC LIMIT ?",
                                [w.lower() for w in words] + [limit]).fetchall()
        return [_entry(row) for row in rows]

    def remove(self, text: str) -> bool:
        """Forget one prompt; False when it was not there."""
        with self._db:
            return self._db.execute("DELETE FROM prompts WHERE text = ?", (text,)).rowcount > 0

    def close(self) -> None:
        self._db.close()


def _entry(row: sqlite3.Row) -> PromptEntry:
    return PromptEntry(row["text"], int(row["uses"]), float(row["first_used"]), float(row["last_used"]),
                       row["provider"], row["model"])
