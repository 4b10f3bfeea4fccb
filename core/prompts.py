"""The prompt library: every prompt a person has used, in ``prompts.sqlite`` in the data dir.

Every submitted prompt is recorded once (used again, it moves to the top and its count grows), with the provider and
model it was last used with; the window and ``python main.py submit`` both record. ``search`` finds prompts
containing every word typed, favourites first, then newest first; it can keep to favourites or to templates
(prompts with placeholders, ``core.templates``). A favourite is never pruned, and a prompt can be kept as a
favourite before it is ever used. The schema is versioned with ``PRAGMA user_version``. Prompts of both worlds
(sandbox and real) are kept: a prompt is the person's, whichever service rendered it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError
from core.templates import TemplateError, parse_template

log = logging.getLogger(__name__)

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
    """
    ALTER TABLE prompts ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
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
    favourite: bool = False

    @property
    def placeholders(self) -> list[str]:
        """The names of its placeholders (none for a plain prompt or a malformed template)."""
        try:
            return parse_template(self.text).names
        except TemplateError:
            return []

    @property
    def is_template(self) -> bool:
        return bool(self.placeholders)


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
                self._db.execute("DELETE FROM prompts WHERE favourite = 0 AND text NOT IN (SELECT text FROM "
                                 "prompts WHERE favourite = 0 ORDER BY last_used DESC LIMIT ?)", (KEEP,))
        except sqlite3.Error as exc:
            raise StoreError(f"The prompt could not be added to the history: {exc}.") from None
        return self.get(text)

    def get(self, text: str) -> PromptEntry | None:
        row = self._db.execute("SELECT * FROM prompts WHERE text = ?", (text,)).fetchone()
        return _entry(row) if row is not None else None

    def set_favourite(self, text: str, favourite: bool = True, provider: str = "",
                      model: str = "") -> PromptEntry | None:
        """Star (or unstar) a prompt; starring one never used keeps it (with no use counted). None for a blank
        prompt, or when unstarring one that is not there."""
        if not text.strip():
            return None
        now = self._clock()
        try:
            with self._db:
                self._db.execute("UPDATE prompts SET favourite = ? WHERE text = ?", (int(favourite), text))
                if favourite:
                    self._db.execute(
                        "INSERT OR IGNORE INTO prompts (text, uses, first_used, last_used, provider, model, favourite) "
                        "VALUES (?, 0, ?, ?, ?, ?, 1)", (text, now, now, provider, model))
        except sqlite3.Error as exc:
            raise StoreError(f"The prompt library could not keep that change: {exc}.") from None
        return self.get(text)

    def search(self, query: str = "", limit: int = 200, *, favourites: bool = False,
               templates: bool = False) -> list[PromptEntry]:
        """Prompts containing every word of ``query`` (any case), favourites first, then most recently used first;
        ``favourites`` keeps to starred prompts, ``templates`` to prompts with placeholders."""
        words = query.split()
        conditions = ["instr(lower(text), ?) > 0" for _ in words]
        conditions += ["favourite = 1"] if favourites else []
        conditions += ["instr(text, '{') > 0"] if templates else []
        where = " AND ".join(conditions) or "1 = 1"
        rows = self._db.execute(f"SELECT * FROM prompts WHERE {where} "
                                "ORDER BY favourite DESC, last_used DESC, rowid DESC LIMIT ?",
                                [w.lower() for w in words] + [-1 if templates else limit]).fetchall()
        entries = [_entry(row) for row in rows]
        return [e for e in entries if e.is_template][:limit] if templates else entries

    def remove(self, text: str) -> bool:
        """Forget one prompt; False when it was not there."""
        with self._db:
            return self._db.execute("DELETE FROM prompts WHERE text = ?", (text,)).rowcount > 0

    def close(self) -> None:
        self._db.close()


def _entry(row: sqlite3.Row) -> PromptEntry:
    return PromptEntry(row["text"], int(row["uses"]), float(row["first_used"]), float(row["last_used"]),
                       row["provider"], row["model"], bool(row["favourite"]))


def record_quietly(root: Path, text: str, provider: str = "", model: str = "") -> bool:
    """Record a prompt in the library of the data dir ``root`` (the command line's submit); a library that cannot
    be written is logged and never stops a job. True when it was recorded."""
    try:
        history = PromptHistory.in_data_dir(root)
    except StoreError as exc:
        log.warning("%s", exc.message)
        return False
    try:
        return history.record(text, provider, model) is not None
    except StoreError as exc:
        log.warning("%s", exc.message)
        return False
    finally:
        history.close()
