"""A real Engine wired to the sandbox emulator on a manual clock, shared by the engine and contract tests.

The engine's sleep advances the emulator's clock, so hours of provider time pass in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.engine import Engine, EngineConfig
from core.hub import ProviderHub
from core.jobs import Job
from core.sandbox import ManualClock, RecordedRequest, Sandbox
from core.secrets import KeyStore
from core.settings import Settings
from core.store import JobStore
from core.submission import JobRequest

#: AIHubMix's current model (Sora was retired on 2026-09-24): the one tests use for an ordinary AIHubMix job.
VEO_31 = "veo-3.1-generate-preview"


class Harness:
    """An engine wired to the sandbox, plus helpers to look at what the emulator received."""

    def __init__(self, engine: Engine, hub: ProviderHub, sandbox: Sandbox, tmp_path: Path) -> None:
        self.engine, self.hub, self.sandbox, self.tmp = engine, hub, sandbox, tmp_path

    async def run(self, provider: str, model: str, params: dict[str, Any] | None = None,
                  **inputs: list[str]) -> Job:
        job = await self.engine.submit(JobRequest(provider, model, dict(params or {}), dict(inputs)))
        (final,) = await self.engine.wait([job.id], timeout=60)
        return final

    def received(self, provider: str, kind: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.sandbox.requests if r.provider == provider and kind in (None, r.kind)]

    def only(self, provider: str, kind: str) -> RecordedRequest:
        found = self.received(provider, kind)
        assert len(found) == 1, [(r.method, r.path, r.kind) for r in found]
        return found[0]

    def image(self, name: str, size: tuple[int, int], fmt: str = "PNG", color: str = "orange") -> str:
        path = self.tmp / name
        image = Image.new("RGB", size, color)
        image.paste((20, 40, 200), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
        image.save(path, fmt)
        return str(path)


def request_for(h: Harness, provider: str) -> JobRequest:
    """A small valid job for each provider (Novita's image is a local file: it is uploaded)."""
    url = "https://images.example/two-people.jpg"
    if provider == "goapi":
        return JobRequest("goapi", "Qubico/hug-video", {}, {"image": [url]})
    if provider == "aimlapi":
        return JobRequest("aimlapi", "video-01-live2d", {"prompt": "wave"}, {"image": [url]})
    if provider == "aihubmix":
        return JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a red fox"})
    if provider == "gateway":
        return JobRequest("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "1"})
    return JobRequest("novita", "img2video-motion", {}, {"image": [h.image("me.png", (300, 400))],
                                                        "motion_video": ["demo1"]})


async def wait_until(h: Harness, job_id: str, condition: Callable[[Job], bool], turns: int = 200_000) -> Job:
    """Let the engine work (simulated time runs with its sleeps) until ``condition(job)`` holds."""
    for _ in range(turns):
        job = h.engine.store.get(job_id)
        if condition(job):
            return job
        await asyncio.sleep(0)
    raise AssertionError(f"job {job_id} never reached the condition; it is {h.engine.store.get(job_id)}")


#: The keys a real-world harness gives its providers (the emulator accepts any).
REAL_KEYS = {f"REELDECK_{p.upper()}_API_KEY": f"sk-harness-{p}-0123456789abcdef" for p in
             ("goapi", "aimlapi", "aihubmix", "gateway", "novita")}


@pytest.fixture
async def harness(tmp_path: Path, sandbox: Sandbox, clock: ManualClock) -> AsyncIterator[Harness]:
    """The engine in sandbox mode (the emulator's endpoints, no keys), on simulated time."""
    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints=sandbox.endpoints(),
                      sleep=simulated_sleep(clock))
    async for made in _harness(tmp_path, sandbox, clock, hub):
        yield made


@pytest.fixture
async def real_harness(tmp_path: Path, sandbox: Sandbox, clock: ManualClock) -> AsyncIterator[Harness]:
    """The engine of the real world (base URLs and keys from the environment, as a user sets them), pointed at
    the emulator, on simulated time: keys, origins and spend behave as with the real providers."""
    environ = sandbox.endpoints() | REAL_KEYS
    hub = ProviderHub(Settings(environ=environ), KeyStore(environ=environ), sleep=simulated_sleep(clock))
    async for made in _harness(tmp_path, sandbox, clock, hub):
        yield made


def simulated_sleep(clock: ManualClock) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)
    return sleep


async def _harness(tmp_path: Path, sandbox: Sandbox, clock: ManualClock, hub: ProviderHub) -> AsyncIterator[Harness]:
    store = JobStore(tmp_path / "jobs.sqlite", clock=clock)
    engine = Engine(store, hub, library_dir=tmp_path / "library", inputs_dir=tmp_path / "inputs",
                    config=EngineConfig(poll_interval=0.5), clock=clock, sleep=hub.transport.sleep)
    try:
        yield Harness(engine, hub, sandbox, tmp_path)
    finally:
        await engine.close()
        await hub.close()
        store.close()
