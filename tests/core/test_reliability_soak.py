"""Soak: 100 jobs on all five providers while a fifth of all requests fail — faults after the provider made the
task included (a proxy's 5xx page once the work is done, a reset after processing) — and a tenth of the jobs fail
at the provider. Every job ends completed, failed *by the provider* (with its reason), or — a create whose
outcome is unknown at a provider that cannot be asked — waiting for the person's decision with the explanation.
None is lost or stuck, none failed while its task lives, the provider holds exactly one task per job that was
sent, requests per job stay bounded, nothing crashes. Simulated time: it runs in seconds."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from harness import Harness

from core.engine import not_found_message, unknown_outcome_message
from core.jobs import JobState
from core.media import probe_video
from core.providers import provider_spec
from core.sandbox import Fault, TaskRecord
from core.submission import JobRequest

JOBS = 100
PROVIDERS = ("goapi", "aimlapi", "aihubmix", "gateway", "novita")
#: No remote task may see more requests than this (create, polls, downloads, retries included).
MAX_REQUESTS_PER_TASK = 40
TAG = re.compile(r"soak-(\d{3})")


def _request(index: int, image: str) -> JobRequest:
    tag = f"soak-{index:03d}"
    provider = PROVIDERS[index % len(PROVIDERS)]
    if provider == "goapi":
        return JobRequest("goapi", "Qubico/hug-video", {}, {"image": [f"https://images.example/{tag}.jpg"]})
    if provider == "aimlapi":
        return JobRequest("aimlapi", "video-01-live2d", {"prompt": tag},
                          {"image": [f"https://images.example/{tag}.jpg"]})
    if provider == "aihubmix":
        return JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": tag})
    if provider == "gateway":
        return JobRequest("gateway", "viduq3t-540p", {"prompt": tag, "duration": "1"})
    return JobRequest("novita", "img2video-motion", {"seed": str(1000 + index)},
                      {"image": [image], "motion_video": ["demo1"]})


def _job_index(task: TaskRecord) -> int:
    """Which soak job a remote task was made for (its unique prompt, image URL or seed)."""
    if task.provider == "novita":
        return int(task.params["seed"]) - 1000
    match = TAG.search(json.dumps(task.params))
    assert match, task.params
    return int(match.group(1))




async def test_soak_under_faults(harness: Harness, quick_renders: None, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    sb = h.sandbox
    sb.url_ttl_seconds = 10**7  # every job advances the shared simulated clock: keep links valid meanwhile
    for provider in PROVIDERS:  # 10 % of the jobs fail at the provider
        sb.faults.add(Fault("fail_job", provider=provider, times=JOBS // 10 // len(PROVIDERS)))
    sb.faults.random(rate=0.2, seed=20261105, kinds=["status", "reset", "reset_after", "after", "slow", "truncate"],
                     statuses=(429, 500, 502, 503, 504), retry_after=1.0, delay=0.01, fraction=0.5)
    image = h.image("person.png", (320, 480))
    caplog.set_level(logging.INFO)

    jobs = [await h.engine.submit(_request(i, image)) for i in range(JOBS)]
    final = await h.engine.wait([j.id for j in jobs], timeout=300)

    assert len(h.engine.store.all()) == JOBS  # none lost
    by_state = Counter(j.state if not j.needs_decision else "needs_decision" for j in final)
    print("outcomes:", dict(by_state), "faults fired:", Counter(e.kind for e in sb.faults.history),
          "requests:", len(sb.requests))
    for job in final:
        if job.needs_decision:  # a lost create answer at a provider that cannot be asked: the user decides
            assert job.state == JobState.SUBMITTING
            name = provider_spec(job.provider).name
            looked = not_found_message(name, 5)  # AIHubMix's list was read for 5 minutes: nothing was made
            assert job.error in (unknown_outcome_message(name), looked) and "charged twice" in job.error
        elif job.state == JobState.COMPLETED:
            assert job.video_path and job.video_path.endswith(".mp4")
            assert probe_video(Path(job.video_path)).frames_decoded == 1
        else:  # nothing pending, running or stuck; failed only where the provider said so
            assert job.state == JobState.FAILED, (job.state, job.error, job.waiting)
            assert job.error and "could not make this video" in job.error
    decisions = sum(1 for j in final if j.needs_decision)
    # A decision is asked only for a create whose answer was lost: never more than the faults that hit creates
    # (how many that is follows the random draw, which varies with the order requests arrive in).
    lost_creates = sum(1 for e in sb.faults.history if e.request_kind == "create" and e.kind != "fail_job")
    assert decisions <= lost_creates < JOBS // 2

    tasks_per_job: dict[int, list[str]] = defaultdict(list)
    for task in sb.tasks:
        tasks_per_job[_job_index(task)].append(task.id)
    assert max(len(ids) for ids in tasks_per_job.values()) == 1  # no job created two remote tasks
    for index, job in enumerate(final):
        if job.remote_id:
            assert tasks_per_job[index] == [job.remote_id]
    fated = {_job_index(task) for task in sb.tasks if task.will_fail}
    assert len(fated) == JOBS // 10  # every fail_job fault fired, each on a different job
    provider_failed = {i for i, j in enumerate(final) if j.error and "could not make this video" in j.error}
    assert provider_failed <= fated  # the provider's reason is shown, for exactly the jobs it failed
    # Every other job made its video: the count follows from the faults' draw (which varies with the order in which
    # requests arrive), never from a job lost, stuck or failed by Reeldeck.
    assert by_state[JobState.COMPLETED] == JOBS - decisions - len(provider_failed)
    assert all(final[i].needs_decision for i in fated - provider_failed)  # (or its create answer was lost)
    assert sb.faults.fired_count("after") > 0 and sb.faults.fired_count("reset_after") > 0
    assert all(not j.waiting for j in final)

    per_task = Counter(r.task_id for r in sb.requests if r.task_id)
    assert max(per_task.values()) <= MAX_REQUESTS_PER_TASK, per_task.most_common(3)
    assert len(sb.requests) <= JOBS * MAX_REQUESTS_PER_TASK // 2
    library = h.tmp / "library"
    assert not list(library.glob("*.part"))  # no half-written file left behind, none taken for a video
    assert sorted(p.name for p in library.glob("*.mp4")) == sorted(Path(j.video_path).name for j in final
                                                               if j.video_path)
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
