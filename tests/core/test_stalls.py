"""Stalls said out loud: a model's usual duration learned from past jobs, and the notice once a job is past its 95th
percentile — driven by the emulator's clock."""

from __future__ import annotations

import pytest
from harness import Harness, wait_until

from core.jobs import Job, JobState
from core.sandbox import ManualClock
from core.stalls import MIN_SAMPLES, percentile, span, stall_of, usual_duration
from core.submission import JobRequest


async def test_a_job_past_its_models_95th_percentile_says_so(harness: Harness, clock: ManualClock) -> None:
    h = harness
    for seed in range(MIN_SAMPLES):
        done = await h.run("gateway", "viduq3t-540p", {"prompt": "a fox", "duration": "1", "seed": str(seed)})
        assert done.state == JobState.COMPLETED
    history = h.engine.store.durations("gateway", "viduq3t-540p")
    usual = usual_duration(history)
    assert usual is not None and usual.samples == MIN_SAMPLES and 0 < usual.median <= usual.p95 < 10

    h.sandbox.job_seconds = 600  # the provider is slow today
    job = await h.engine.submit(JobRequest("gateway", "viduq3t-540p", {"prompt": "a slow fox", "duration": "1"}))
    running = await wait_until(h, job.id, lambda j: j.state == JobState.RUNNING and j.submitted_at is not None)
    assert stall_of(running, h.engine.durations.get("gateway", "viduq3t-540p"), clock()) is None  # not yet

    def stalled(j: Job) -> bool:
        return stall_of(j, h.engine.durations.get("gateway", "viduq3t-540p"), clock()) is not None

    late = await wait_until(h, job.id, stalled)
    stall = stall_of(late, h.engine.durations.get("gateway", "viduq3t-540p"), clock())
    assert stall is not None and late.state == JobState.RUNNING
    assert stall.elapsed > usual.p95 and stall.usual == usual
    assert stall.message == f"Taking longer than usual (usually {span(usual.median, usual.p95)})"

    await h.engine.cancel(job.id)  # the notice's "Cancel"
    assert h.engine.store.get(job.id).state == JobState.CANCELED
    assert stall_of(h.engine.store.get(job.id), history, clock()) is None  # an ended job never stalls


def test_too_few_past_jobs_say_nothing() -> None:
    assert usual_duration([120.0] * (MIN_SAMPLES - 1)) is None
    job = Job("j", "gateway", "viduq3t-540p", {}, {}, state=JobState.RUNNING, submitted_at=0.0)
    assert stall_of(job, [120.0] * (MIN_SAMPLES - 1), now=10_000) is None
    assert stall_of(job, [120.0] * MIN_SAMPLES, now=10_000) is not None


def test_percentiles_and_spans() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert span(120, 240) == "2–4 min"
    assert span(40, 75) == "40–75 s"
    assert span(2 * 3600, 2.2 * 3600) == "2 h"
    assert span(100, 110) == "2 min"
