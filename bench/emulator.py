"""The sandbox emulator in its own process, with tiny result videos, so a load benchmark measures Reeldeck.

``python -m bench.emulator STATE_DIR --job-seconds S`` prints one JSON line with the ``REELDECK_*`` endpoints once
every origin is bound, then serves until stdin closes or SIGTERM. Results are not rendered per task: one tiny
real MP4 (and thumbnail, spritesheet) is made with the emulator's own renderer at start and copied for every task,
so the emulator's CPU goes to answering requests, not to encoding video.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
from pathlib import Path

from core.sandbox import Sandbox
from core.sandbox import renderer as sandbox_renderer
from core.sandbox.render import RenderJob, RenderOutput, output_paths, render


def tiny_renders(state_dir: Path) -> RenderOutput:
    """Render one small result set with the real renderer; the template every task gets a copy of."""
    template = RenderJob(width=64, height=64, seconds=1.0, caption="bench", mode="text", label="bench",
                         sources=(), out_dir=state_dir / "template")
    return render(template)


def install_copying_renderer(template: RenderOutput) -> None:
    def copy(job: RenderJob) -> RenderOutput:
        out = output_paths(job.out_dir)
        job.out_dir.mkdir(parents=True, exist_ok=True)
        for source, target in ((template.video, out.video), (template.thumbnail, out.thumbnail),
                               (template.spritesheet, out.spritesheet)):
            shutil.copyfile(source, target)
        return out

    sandbox_renderer.render = copy  # type: ignore[assignment]


async def serve(state_dir: Path, job_seconds: float) -> None:
    install_copying_renderer(tiny_renders(state_dir))
    sandbox = Sandbox(state_dir, job_seconds=job_seconds)
    await sandbox.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.readline() else None)
    print(json.dumps(sandbox.endpoints()), flush=True)
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await sandbox.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--job-seconds", type=float, default=8.0)
    args = parser.parse_args()
    asyncio.run(serve(args.state_dir, args.job_seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
