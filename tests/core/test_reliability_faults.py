"""Faults at the provider, end to end on the emulator: the retry policy (backoff, Retry-After, no hammering),
lost create answers for every provider, expired result links, interrupted and bad downloads."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Harness, request_for, wait_until

from core.engine import unknown_outcome_message
from core.errors import ProviderError
from core.http import ApiClient, HttpRequest, RetryPolicy
from core.jobs import Job, JobState
from core.media import content_digest, probe_video
from core.providers.errors import classify_error
from core.providers.goapi import SPEC as GOAPI
from core.sandbox import Fault


async def run(h: Harness, provider: str) -> Job:
    job = await h.engine.submit(request_for(h, provider))
    (final,) = await h.engine.wait([job.id], timeout=120)
    return final


def assert_verified_video(h: Harness, job: Job) -> None:
    assert job.state == JobState.COMPLETED, job.error
    assert job.video_path is not None and job.video_path.endswith(".mp4")
    probe_video(Path(job.video_path))
    assert not list((h.tmp / "library").glob("*.part"))


# --- the retry policy, unit level --------------------------------------------------------------------------------


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def client(handler: Callable[[httpx.Request], httpx.Response], sleeps: Sleeps, seed: int = 1,
           **policy: Any) -> ApiClient:
    return ApiClient(name="GoAPI", base_url="https://api.test", auth_headers={"X-API-Key": "k"},
                     classify=partial(classify_error, GOAPI),
                     client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
                     retry=RetryPolicy(**policy), sleep=sleeps, rng=random.Random(seed))


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried_then_succeed(status: int) -> None:
    answers = iter([httpx.Response(status), httpx.Response(200, json={"ok": 1})])
    sleeps = Sleeps()
    assert (await client(lambda r: next(answers), sleeps).send(HttpRequest("GET", "/x"))).body == {"ok": 1}
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 405, 410, 413, 422])
async def test_other_4xx_are_never_retried(status: int) -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"message": "no"})

    with pytest.raises(ProviderError):
        await client(answer, Sleeps()).send(HttpRequest("POST", "/x", json={}, idempotent=False))
    assert len(calls) == 1


async def test_backoff_is_exponential_jittered_and_capped() -> None:
    runs = []
    for seed in (1, 2):
        sleeps = Sleeps()
        with pytest.raises(ProviderError):
            await client(lambda r: httpx.Response(503), sleeps, seed=seed, max_attempts=8, base_delay=1.0,
                         max_delay=10.0).send(HttpRequest("GET", "/x"))
        caps = [min(10.0, 2.0 ** n) for n in range(7)]
        assert len(sleeps.delays) == 7
        assert all(cap / 2 <= delay <= cap for delay, cap in zip(sleeps.delays, caps, strict=True))
        runs.append(sleeps.delays)
    assert runs[0] != runs[1]  # jitter: two clients do not retry in lockstep


async def test_retry_after_is_honoured_up_to_the_cap() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "20"}), httpx.Response(200, json={})])
    sleeps = Sleeps()
    await client(lambda r: next(answers), sleeps, max_retry_after=60).send(HttpRequest("GET", "/x"))
    assert 20 <= sleeps.delays[0] <= 20.25
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as caught:  # beyond the cap: give up this call, say so; never wait hours
        await client(lambda r: httpx.Response(503, headers={"Retry-After": "7200"}), sleeps,
                     max_retry_after=60).send(HttpRequest("GET", "/x"))
    assert sleeps.delays == [] and caught.value.retry_after == 7200


# --- the retry policy, end to end ----------------------------------------------------------------------------


async def test_retry_after_on_a_create_is_waited_for_and_one_task_is_made(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("status", provider="gateway", request_kind="create", status=429, retry_after=30))
    job = await run(h, "gateway")
    assert_verified_video(h, job)
    first, second = h.received("gateway", "create")
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 30
    assert len(h.sandbox.tasks.list("gateway")) == 1


async def test_a_create_answered_503_is_sent_once_and_left_to_a_decision(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("status", provider="gateway", status=503, times=None))
    job = await run(h, "gateway")
    # A proxy's 503 can come after the vendor took the task: the outcome is unknown, the create is not re-sent.
    assert job.needs_decision and job.state == JobState.SUBMITTING and job.remote_id is None
    assert len(h.received("gateway", "create")) == 1
    assert job.error and "charged twice" in job.error


async def test_polls_that_keep_failing_wait_with_the_reason_and_a_bounded_rate_then_resume(harness: Harness) -> None:
    h = harness
    fault = h.sandbox.faults.add(Fault("status", provider="aimlapi", request_kind="poll", status=502, times=None))
    job = await h.engine.submit(request_for(h, "aimlapi"))
    waiting = await wait_until(h, job.id, lambda j: h.sandbox.count("aimlapi", "poll") >= 40)
    assert waiting.state == JobState.RUNNING and not waiting.terminal and waiting.remote_id
    assert "had a problem on its side (HTTP 502)" in (waiting.waiting or "") and not waiting.waiting_on_you
    polls = h.received("aimlapi", "poll")
    span = polls[-1].time - polls[0].time
    assert len(polls) / (span / 60) <= 10  # no more than ten requests a minute, however long it lasts
    h.sandbox.faults.faults.remove(fault)  # the provider is back
    (final,) = await h.engine.wait([job.id], timeout=600)
    assert_verified_video(h, final)
    assert final.waiting is None and h.sandbox.count("aimlapi", "create") == 1


async def test_a_flaky_network_costs_a_few_extra_requests_not_a_loop(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("reset", provider="novita", request_kind="poll", times=3))
    h.sandbox.faults.add(Fault("reset", provider="novita", request_kind="asset_upload", times=2))
    job = await run(h, "novita")
    assert_verified_video(h, job)
    assert len(h.received("novita", "asset_upload")) == 3
    assert h.sandbox.count("novita", "create") == 1


# --- lost create answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["goapi", "aimlapi", "aihubmix", "gateway", "novita"])
async def test_a_lost_create_answer_is_reconciled_or_left_to_the_user(harness: Harness, provider: str) -> None:
    h = harness
    fault = h.sandbox.faults.add(Fault("reset_after", provider=provider, request_kind="create"))
    job = await run(h, provider)
    assert fault.fired == 1
    assert len(h.sandbox.tasks.list(provider)) == 1 and h.sandbox.count(provider, "create") == 1
    if provider == "aihubmix":  # the OpenAI videos API's list (where it exists) finds the task: nothing re-sent
        assert job.state == JobState.COMPLETED and job.remote_id == h.sandbox.tasks.list(provider)[0].id
        assert h.sandbox.count(provider, "list") >= 1
        return
    # The others have no way to look a task up: the person decides; nothing is re-sent on its own.
    assert job.needs_decision and job.state == JobState.SUBMITTING and job.remote_id is None
    assert job.error == unknown_outcome_message(h.engine.hub.get(provider).spec.name)
    assert "charged twice" in job.error
    assert h.sandbox.count(provider, "list") == 0
    h.engine.resolve(job.id, resend=False)
    assert h.engine.store.get(job.id).state == JobState.CANCELED
    assert h.sandbox.count(provider, "create") == 1


async def test_a_create_answered_429_is_retried_and_makes_one_task(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("status", provider="aimlapi", request_kind="create", status=429, times=2))
    job = await run(h, "aimlapi")
    assert_verified_video(h, job)
    assert [r.status for r in h.received("aimlapi", "create")] == [429, 429, 200]
    assert len(h.sandbox.tasks.list("aimlapi")) == 1


# --- result links and downloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["goapi", "novita"])
async def test_an_expired_result_link_is_refreshed_by_one_more_poll(harness: Harness, provider: str) -> None:
    h = harness
    h.sandbox.faults.add(Fault("expire_url", origin="cdn"))
    job = await run(h, provider)
    assert_verified_video(h, job)
    downloads = [r for r in h.sandbox.requests if r.origin == "cdn" and r.provider == provider]
    assert [r.status for r in downloads] == [403, 200]
    polls_after_403 = [r for r in h.received(provider, "poll") if r.seq > downloads[0].seq]
    assert len(polls_after_403) == 1 and polls_after_403[0].seq < downloads[1].seq
    assert h.sandbox.count(provider, "create") == 1


async def test_sora_content_after_expires_at_fails_clearly_after_one_refresh(harness: Harness) -> None:
    h = harness
    h.sandbox.url_ttl_seconds = 0  # expires_at = completed_at: gone by the time it is fetched
    job = await run(h, "aihubmix")
    assert job.state == JobState.FAILED and job.video_path is None
    assert job.error and "no longer keeps this video (HTTP 410: gone)" in job.error
    contents = h.received("aihubmix", "content")
    assert [r.status for r in contents] == [410, 410]
    assert len([r for r in h.received("aihubmix", "poll") if contents[0].seq < r.seq < contents[1].seq]) == 1
    assert not (h.tmp / "library").exists() or not list((h.tmp / "library").glob("*.mp4*"))


async def test_a_cut_download_restarts_when_the_server_cannot_resume(harness: Harness) -> None:
    h = harness
    h.sandbox.range_support = False
    h.sandbox.faults.add(Fault("truncate", origin="cdn", fraction=0.6))
    job = await run(h, "gateway")
    assert_verified_video(h, job)
    downloads = [r for r in h.sandbox.requests if r.origin == "cdn"]
    assert [r.status for r in downloads] == [200, 200]
    assert "range" in [n.lower() for n in downloads[1].header_names]  # asked to resume, got the whole file
    assert job.video_path is not None
    expected = content_digest(h.sandbox.tasks.video_path(job.remote_id or ""))
    assert content_digest(Path(job.video_path)) == expected


async def test_a_cut_sora_download_resumes_with_range(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("truncate", provider="aihubmix", request_kind="content", fraction=0.3))
    job = await run(h, "aihubmix")
    assert_verified_video(h, job)
    contents = [r for r in h.received("aihubmix", "content") if r.query.get("variant", "video") == "video"]
    assert [r.status for r in contents] == [200, 206]
    assert job.video_path is not None
    expected = content_digest(h.sandbox.tasks.video_path(job.remote_id or ""))
    assert content_digest(Path(job.video_path)) == expected


@pytest.mark.parametrize(("body", "reason"), [
    ("<html><body>Access denied by proxy</body></html>", "not an MP4 video"),
    (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 500, "damaged"),
])
async def test_a_bad_download_is_never_called_completed(harness: Harness, body: Any, reason: str) -> None:
    h = harness
    fault = h.sandbox.faults.add(Fault("body", origin="cdn", body=body, times=None))
    job = await h.engine.submit(request_for(h, "aimlapi"))
    waiting = await wait_until(h, job.id, lambda j: reason in (j.waiting or ""))
    # The provider made the video: the job waits for a whole one instead of failing (and is not "completed").
    assert waiting.state == JobState.DOWNLOADING and waiting.video_path is None and waiting.error is None
    library = h.tmp / "library"
    assert not library.exists() or list(library.iterdir()) == []  # no .part, no .mp4 left behind
    h.sandbox.faults.faults.remove(fault)  # the result host is fixed
    (final,) = await h.engine.wait([job.id], timeout=120)
    assert_verified_video(h, final)
    assert h.sandbox.count("aimlapi", "create") == 1
