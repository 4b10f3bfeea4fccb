"""Running the CLI in-process and counting what it left behind (requests at the emulator, stored jobs)."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

from core.cli import main
from core.store import JobStore


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one CLI call."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


ROOT = Path(__file__).resolve().parents[2]


async def cli_in_subprocess(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``main.py`` run in its own process with ``env`` (two minutes at most)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "main.py", *args, cwd=ROOT, env=env,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return int(process.returncode or 0), out.decode(), err.decode()


def requests_received(home: Path) -> int:
    """How many requests the sandbox of this data dir has recorded (0 when it never started)."""
    database = home / "sandbox" / "sandbox.sqlite"
    if not database.exists():
        return 0
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM requests").fetchone()[0])
    finally:
        connection.close()


def jobs_stored(home: Path) -> int:
    """How many jobs the data dir's store holds (0 when there is none)."""
    database = home / "reeldeck.sqlite"
    if not database.exists():
        return 0
    store = JobStore(database)
    try:
        return len(store.all())
    finally:
        store.close()
