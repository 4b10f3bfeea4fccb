"""The poll planner: what it makes of ETAs, progress, server hints and past durations; and the engine using it."""

from __future__ import annotations

import random

import pytest
from harness import Harness

from core.jobs import JobState
from core.polling import DurationHistory, PollPlanner, PollPolicy, quantile
from core.providers.base import Phase, RemoteStatus
from core.store import JobStore
from core.submission import JobRequest

POLICY = PollPolicy()


def planner(history: list[float] | None = None, policy: PollPolicy = POLICY) -> PollPlanner:
    return PollPlanner(policy, history or [], random.Random(1))


def running(progress: float | None = None, eta: float | None = None, poll_after: float | None = None) -> RemoteStatus:
    return RemoteStatus(Phase.RUNNING, "running", progress=progress, eta=eta, poll_after=poll_after)


QUEUED = RemoteStatus(Phase.PENDING, "queued")


def test_with_nothing_to_go_on_it_polls_at_once_then_at_the_default_cadence() -> None:
    p = planner()
    assert p.first_delay(0.0) == 0.0
    delays = [p.next_delay(QUEUED, t) for t in (0.0, 10.0, 20.0)]
    assert all(POLICY.default_interval * (1 - POLICY.jitter) <= d <= POLICY.default_interval for d in delays)


def test_history_sets_the_first_poll_just_before_the_earliest_past_jobs_ended() -> None:
    history = [float(s) for s in range(100, 300)]
    p = planner(history)
    early = quantile(history, POLICY.history_quantile) * POLICY.history_share
    first = p.first_delay(0.0)
    assert early * 0.95 < first < early  # a little more margin while the history is short
    assert p.first_delay(first + 5) == 0.0  # a resumed job that is already past it: poll now
    assert planner(history[: POLICY.history_min - 1]).first_delay(0.0) == 0.0  # too little history


def test_no_signal_with_history_waits_for_the_early_mark_then_keeps_the_default_cadence() -> None:
    p = planner([100.0] * 50)
    assert p.next_delay(QUEUED, 0.0) == POLICY.max_interval  # towards the early mark (85 s), capped
    assert p.next_delay(QUEUED, 90.0) <= POLICY.default_interval


def test_an_eta_is_slept_mostly_and_never_past_it() -> None:
    p = planner()
    delay = p.next_delay(running(eta=100.0), 10.0)
    assert 100 * POLICY.eta_share * (1 - POLICY.jitter) <= delay <= 100 * POLICY.eta_share


def test_close_to_the_predicted_end_it_aims_just_before_it() -> None:
    p = planner()
    assert p.next_delay(running(eta=3.0), 50.0) == pytest.approx(3.0 + POLICY.finish_pad)
    assert p.next_delay(running(eta=0.2), 53.0) == POLICY.min_interval  # never faster than the floor


def test_two_progress_answers_give_a_rate_and_a_predicted_end() -> None:
    p = planner()
    p.next_delay(running(progress=0), 0.0)
    p.next_delay(running(progress=20), 20.0)  # one answer: an upper bound only
    delay = p.next_delay(running(progress=40), 40.0)  # 1 %/s: 60 s left; early progress: a smaller share
    assert 60 * POLICY.early_share * (1 - POLICY.jitter) <= delay <= 60 * POLICY.early_share
    delay = p.next_delay(running(progress=70), 70.0)  # still 1 %/s: 30 s left
    assert 30 * POLICY.rate_share * (1 - POLICY.jitter) <= delay <= 30 * POLICY.rate_share


def test_the_rate_is_measured_over_a_span_of_progress_not_the_last_step() -> None:
    p = planner()
    p.next_delay(running(progress=0), 0.0)
    for t, progress in ((10.0, 10), (60.0, 60), (62.0, 61)):  # the last step alone says 0.5 %/s
        delay = p.next_delay(running(progress=progress), t)
    assert delay <= 39 * POLICY.rate_share  # 1 %/s since 60 s ago: 39 s left


def test_one_progress_answer_sleeps_a_small_share_of_the_slowest_possible_rate() -> None:
    p = planner()
    p.next_delay(QUEUED, 0.0)
    delay = p.next_delay(running(progress=25), 30.0)  # ran at most 30 s for 25 %: at most 90 s left
    assert delay <= 90 * POLICY.first_rate_share


def test_an_eta_and_a_faster_progress_rate_take_the_earlier_end() -> None:
    p = planner()
    p.next_delay(running(progress=10, eta=500), 10.0)
    delay = p.next_delay(running(progress=50, eta=500), 50.0)  # 1 %/s: 50 s left, whatever the ETA says
    assert delay <= 50 * POLICY.rate_share


def test_progress_at_100_is_due_and_an_overrun_backs_off_slowly() -> None:
    p = planner()
    delays = []
    t = 0.0
    for _ in range(30):
        delay = p.next_delay(running(progress=100), t)
        delays.append(delay)
        t += delay
    assert delays[0] == POLICY.finish_interval
    assert delays == sorted(delays) and delays[-1] <= POLICY.default_interval
    assert delays[3] < 2.5  # the first seconds of an overrun stay close


def test_the_servers_suggested_interval_is_the_shortest_wait() -> None:
    p = planner()
    assert p.next_delay(running(eta=2.0, poll_after=7.0), 10.0) == 7.0
    assert p.next_delay(running(eta=100.0, poll_after=0.25), 20.0) > 70  # a short hint does not force a poll


def test_waits_stay_within_bounds() -> None:
    p = planner()
    assert p.next_delay(running(eta=10_000.0), 0.0) == POLICY.max_predicted_interval
    q = planner()
    q.next_delay(QUEUED, 0.0)
    assert q.next_delay(running(progress=1), 1000.0) == POLICY.max_interval  # a guess: the shorter cap


def test_scaled_policy_keeps_fast_cadences_fast() -> None:
    fast = POLICY.scaled(0.5)
    assert fast.default_interval == fast.min_interval == fast.finish_interval == 0.5
    slow = POLICY.scaled(15.0)
    assert (slow.default_interval, slow.min_interval, slow.finish_interval) == (15.0, 1.0, 1.5)


@pytest.mark.parametrize("duration", [30.0, 95.0, 300.0])
def test_a_steadily_progressing_job_is_seen_soon_after_it_ends_with_few_polls(duration: float) -> None:
    queue = duration * 0.2
    history = [duration * f for f in (0.9, 1.0, 1.1, 1.2, 1.3, 1.0, 0.95, 1.05)]
    p = planner(history)
    t = p.first_delay(0.0)
    polls = 0
    while True:
        polls += 1
        if t >= duration:
            break
        share = max(0.0, (t - queue) / (duration - queue))
        status = running(progress=int(share * 100)) if share > 0 else QUEUED
        t += p.next_delay(status, t)
    assert polls <= 6
    assert t - duration <= 2.0


def test_quantile_interpolates() -> None:
    assert quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert quantile([0.0, 10.0], 0.25) == 2.5
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_duration_history_loads_once_per_model_and_keeps_the_newest() -> None:
    calls = []

    def load(provider: str, model: str) -> list[float]:
        calls.append((provider, model))
        return [1.0, 2.0, -1.0, 3.0]

    history = DurationHistory(load, keep=3)
    assert history.get("goapi", "m") == [1.0, 2.0, 3.0]
    history.add("goapi", "m", 4.0)
    history.add("goapi", "m", 0.0)  # nonsense is ignored
    assert history.get("goapi", "m") == [2.0, 3.0, 4.0]
    assert history.get("aimlapi", "m") == [1.0, 2.0, 3.0]
    assert calls == [("goapi", "m"), ("aimlapi", "m")]


VEO = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a red fox", "seconds": "4"})


async def test_the_engine_learns_durations_and_they_outlive_it(harness: Harness, tmp_path: object) -> None:
    h = harness
    first = await h.run(VEO.provider, VEO.model, VEO.params)
    assert first.state == JobState.COMPLETED, first.error
    learned = h.engine.durations.get("aihubmix", "veo-3.1-generate-preview")
    assert len(learned) == 1 and learned[0] > 0
    stored = JobStore(h.engine.store.path).durations("aihubmix", "veo-3.1-generate-preview")
    assert len(stored) == 1 and stored[0] >= learned[0]  # from submission to the video on disk
    assert JobStore(h.engine.store.path).durations("aihubmix", "veo-3.1-fast-generate-preview") == []


async def test_with_history_the_engine_polls_less(harness: Harness) -> None:
    h = harness
    polls = []
    for _ in range(8):
        job = await h.run(VEO.provider, VEO.model, VEO.params)
        assert job.state == JobState.COMPLETED, job.error
        polls.append(job.polls)
    assert sum(polls[-3:]) < sum(polls[:3])
