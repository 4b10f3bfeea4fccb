"""Shared fixtures for core tests: a started sandbox emulator on a manual clock and an HTTP client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import harness, real_harness  # noqa: F401  (the engine fixtures, shared)

from core.sandbox import ManualClock, Sandbox
from core.sandbox.testing import advance_until as _advance_until

#: Job length used by sandbox tests: short, and only ever passed by advancing the manual clock.
JOB_SECONDS = 2.0
CLOCK_START = 1_800_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock; ``clock.advance(s)`` moves every sandbox task and URL expiry along."""
    return ManualClock(CLOCK_START)


@pytest.fixture
async def sandbox(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Sandbox]:
    """A started sandbox on ``tmp_path/"sandbox"``, driven by the manual clock; stopped afterwards.

    Results are rendered when first downloaded (``render_on_create = False``) so tests that never download
    do not pay for encoding; set it back to True to test eager rendering.
    """
    sb = Sandbox(tmp_path / "sandbox", job_seconds=JOB_SECONDS, clock=clock)
    sb.render_on_create = False
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client (no base URL, no retries)."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        yield client


@pytest.fixture
def advance_until(clock: ManualClock) -> Callable[..., Awaitable[list[Any]]]:
    """``await advance_until(poll, done)``: poll, advance the manual clock a step, repeat until done.

    Returns every poll result seen, so tests can check the status progression. Never sleeps.
    """

    async def run(poll: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], **kw: Any) -> list[Any]:
        kw.setdefault("step", JOB_SECONDS / 10)
        return await _advance_until(clock, poll, done, **kw)

    return run


@pytest.fixture
def quick_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's results are copies of one small clip, for tests about the client rather than the encoder."""
    from core.sandbox import renderer
    from core.sandbox.render import RenderJob, output_paths, render

    template = render(RenderJob(160, 96, 1.0, "quick", "title", "quick", (), tmp_path / "template"))

    def copy(job: RenderJob) -> object:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        out = output_paths(job.out_dir)
        for source, target in zip((template.video, template.thumbnail, template.spritesheet),
                                  (out.video, out.thumbnail, out.spritesheet), strict=True):
            shutil.copyfile(source, target)
        return out

    monkeypatch.setattr(renderer, "render", copy)
