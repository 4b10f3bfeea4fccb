"""``python -m core.sandbox [--port N] [--state-dir DIR]``: run the emulator until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
from pathlib import Path

from .server import serve_forever


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m core.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="first of 8 consecutive ports (0 = ephemeral)")
    parser.add_argument("--state-dir", type=Path, default=Path(tempfile.gettempdir()) / "reeldeck-sandbox")
    parser.add_argument("--job-seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.state_dir, args.port, job_seconds=args.job_seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
