"""Provider hub: key checks against every provider, forgetting cached providers, engine housekeeping."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import VEO_31, Harness

from core.hub import ProviderHub
from core.jobs import JobState
from core.providers import PROVIDER_IDS
from core.sandbox import Sandbox
from core.secrets import KeyStore
from core.settings import Settings
from core.submission import JobRequest


def _hub(sandbox: Sandbox, keys: dict[str, str]) -> ProviderHub:
    env = dict(sandbox.endpoints()) | {f"REELDECK_{p.upper()}_API_KEY": k for p, k in keys.items()}
    return ProviderHub(Settings(environ=env), KeyStore(environ=env))


@pytest.mark.parametrize("provider", PROVIDER_IDS)
async def test_key_check_tells_good_from_bad_keys_and_creates_nothing(sandbox: Sandbox, provider: str) -> None:
    sandbox.valid_keys = {p: f"good-{p}" for p in PROVIDER_IDS}
    good = _hub(sandbox, {provider: f"good-{provider}"})
    bad = _hub(sandbox, {provider: "wrong"})
    missing = _hub(sandbox, {})
    try:
        assert (await good.check_key(provider)).ok is True
        refused = await bad.check_key(provider)
        assert refused.ok is False and "did not accept the API key" in refused.message
        unset = await missing.check_key(provider)
        assert unset.ok is None and "No API key" in unset.message
    finally:
        for hub in (good, bad, missing):
            await hub.close()
    assert sandbox.count(provider, "create") == 0
    assert sandbox.count(provider) == 2  # one check per key given; none without a key


async def test_forget_picks_up_a_changed_key(sandbox: Sandbox) -> None:
    sandbox.valid_keys = {"aihubmix": "new"}
    env = dict(sandbox.endpoints()) | {"REELDECK_AIHUBMIX_API_KEY": "old"}
    hub = ProviderHub(Settings(environ=env), KeyStore(environ=env))
    try:
        assert (await hub.check_key("aihubmix")).ok is False
        env["REELDECK_AIHUBMIX_API_KEY"] = "new"
        assert (await hub.check_key("aihubmix")).ok is False  # still the cached provider with the old key
        hub.forget("aihubmix")
        assert (await hub.check_key("aihubmix")).ok is True
    finally:
        await hub.close()


async def test_delete_removes_job_and_inputs(harness: Harness, tmp_path: Path) -> None:
    h = harness
    request = JobRequest("aihubmix", VEO_31, {"prompt": "x"}, {"image": [h.image("a.png", (900, 500))]})
    job = await h.engine.submit(request, start=False)
    assert (h.tmp / "inputs" / job.id).is_dir()
    await h.engine.delete(job.id)
    assert h.engine.store.find(job.id) is None
    assert not (h.tmp / "inputs" / job.id).exists()


async def test_download_progress_is_reported_then_cleared(harness: Harness) -> None:
    seen: list[tuple[int, int | None]] = []
    harness.engine.subscribe(lambda job: seen.extend(
        [harness.engine.download_progress[job.id]] if job.id in harness.engine.download_progress else []))
    job = await harness.run("aihubmix", "veo-3.1-generate-preview", {"prompt": "bytes"})
    assert job.state == JobState.COMPLETED
    assert seen and seen[-1][0] == seen[-1][1] == harness.sandbox.tasks.video_path(job.remote_id or "").stat().st_size
    assert harness.engine.download_progress == {}
