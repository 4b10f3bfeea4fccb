"""Polling policy in simulated time: 1,000 jobs per provider, polls per job and detection lag, against baselines.

Each provider is modelled by a duration distribution and its API's own signals. At every poll the benchmark
builds the answer the API would give at that instant (the JSON body shaped as documented, and headers) and runs
the provider's real ``parse_poll`` on it; the policy under test is the engine's own :class:`PollPlanner`, driven
exactly as ``Engine._poll_until_done`` drives it (first delay, then a delay after every answer), with the same
:class:`DurationHistory` filled by the jobs before. Baselines in the same run: fixed 10 s (the providers' sample
scripts) and fixed 1 s (the official OpenAI SDK's default); both poll at once after the create, as those do.

Models (assumptions, documented in bench/RESULTS.md):

* goapi — hug video, 45–300 s (log-normal around 120 s); pending → staged → processing; no progress, no ETA.
* aimlapi — MiniMax live2d, "about 3 minutes": 90–300 s around 180 s; queued → generating; no progress.
* aihubmix — Veo 3.1 on ``/v1/videos`` (Sora 2 retired 2026-09-24), ``seconds`` 4/6/8 mixed (one history for the
  model): 30–300 s; integer ``progress``
  rising unevenly (per-job curve exponent 0.8–1.25), ``openai-poll-after-ms`` as the emulator sends it
  (a quarter of the time left, 0.25–15 s). Also run without the header (a proxy may drop it).
* gateway — Vidu Q3 via shape (a): 30–150 s; ``"NN%"`` progress rising unevenly; no ETA.
* novita — img2video-motion, 60–300 s; ``eta`` with a per-job bias (normal, sd 15 %, clipped at ±40 %) and
  ±2 s noise per answer, and ``progress_percent``.

Every job has a queue phase (5–30 % of its duration) with no progress.

Stress rows (reported against fixed 10 s, no target): the same APIs with harsher signals than the models above —
queues up to 50 % of the job, progress curves bending twice as much (exponent 0.6–1.6; above 1 the job speeds up,
which linear extrapolation overshoots) and Novita ETAs off by a normal 30 % (clipped at ±60 %).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import emit, header, mean, percentile, rounded, verdict
from core.polling import DurationHistory, PollPlanner, PollPolicy
from core.providers import provider_class
from core.providers.base import Phase, Provider, RemoteStatus
from core.settings import Settings

NO_HEADERS = httpx.Headers()
CDN = "https://cdn.example/result.mp4?Expires=1"
#: The AIHubMix model the simulated jobs use (a current one: Sora was retired on 2026-09-24).
VEO = "veo-3.1-generate-preview"


@dataclass
class SimJob:
    """One job's hidden truth: when it starts running and ends, and how its signals behave."""

    index: int
    duration: float
    queue: float
    curve: float = 1.0
    eta_bias: float = 0.0
    noise: random.Random = field(default_factory=random.Random)

    def fraction(self, t: float) -> float:
        """Share of the running phase done at ``t`` (0 while queued)."""
        if t <= self.queue:
            return 0.0
        return min(1.0, (t - self.queue) / (self.duration - self.queue))

    def progress(self, t: float) -> int:
        return min(99, int(100 * self.fraction(t) ** self.curve))

    def done(self, t: float) -> bool:
        return t >= self.duration


def _lognormal(rng: random.Random, median: float, sigma: float, low: float, high: float) -> float:
    return min(high, max(low, median * math.exp(rng.gauss(0, sigma))))


def _queued(rng: random.Random, duration: float) -> float:
    return duration * rng.uniform(0.05, 0.30)


# --- the providers' answers ----------------------------------------------------------------------------------

def goapi_answer(job: SimJob, t: float) -> tuple[dict[str, Any], httpx.Headers]:
    if job.done(t):
        status, output = "completed", {"video_url": CDN}
    else:
        status = "pending" if t < job.queue / 2 else "staged" if t < job.queue else "processing"
        output = {}
    data = {"task_id": f"t{job.index}", "model": "Qubico/hug-video", "task_type": "image_to_video", "status": status,
            "config": {}, "input": {}, "output": output, "meta": {}, "detail": None, "logs": [],
            "error": {"code": 0, "raw_message": "", "message": "", "detail": None}}
    return {"code": 200, "message": "success", "data": data}, NO_HEADERS


def aimlapi_answer(job: SimJob, t: float) -> tuple[dict[str, Any], httpx.Headers]:
    done = job.done(t)
    status = "completed" if done else "queued" if t < job.queue else "generating"
    return {"id": f"g{job.index}", "status": status, "video": {"url": CDN, "duration": 6} if done else None,
            "duration": 6, "error": None, "meta": {"usage": {}}}, NO_HEADERS


def _video_answer(job: SimJob, t: float, with_header: bool) -> tuple[dict[str, Any], httpx.Headers]:
    done = job.done(t)
    status = "completed" if done else "queued" if t < job.queue else "in_progress"
    body = {"id": f"video_{job.index}", "object": "video", "model": VEO, "status": status,
            "progress": 100 if done else job.progress(t), "created_at": 0, "completed_at": None,
            "expires_at": None, "size": "720x1280", "seconds": "8", "error": None}
    headers = NO_HEADERS
    if with_header and not done:  # as the emulator sends it: a quarter of the time left, 0.25..15 s
        headers = httpx.Headers({"openai-poll-after-ms": str(int(min(max((job.duration - t) * 250, 250), 15_000)))})
    return body, headers


def gateway_answer(job: SimJob, t: float) -> tuple[dict[str, Any], httpx.Headers]:
    done = job.done(t)
    if done:
        status, progress = "SUCCESS", "100%"
    elif t < job.queue:
        status, progress = ("SUBMITTED" if t < job.queue / 2 else "QUEUED"), "0%"
    else:
        status, progress = "IN_PROGRESS", f"{job.progress(t)}%"
    data = {"task_id": f"task_{job.index}", "action": "generate", "status": status, "progress": progress,
            "fail_reason": "", "result_url": CDN if done else "", "data": {}}
    return {"code": "success", "message": "", "data": data}, NO_HEADERS


def novita_answer(job: SimJob, t: float) -> tuple[dict[str, Any], httpx.Headers]:
    done = job.done(t)
    if done:
        status, eta, progress = "TASK_STATUS_SUCCEED", 0, 100
    else:
        status = "TASK_STATUS_QUEUED" if t < job.queue else "TASK_STATUS_PROCESSING"
        left = (job.duration - t) * (1 + job.eta_bias) + job.noise.uniform(-2, 2)
        eta, progress = max(0, math.ceil(left)), job.progress(t)
    task = {"task_id": f"n{job.index}", "task_type": "IMG_TO_VIDEO_MOTION", "status": status, "reason": "",
            "eta": eta, "progress_percent": progress}
    videos = [{"video_url": CDN, "video_url_ttl": "3600", "video_type": "mp4"}] if done else []
    return {"task": task, "images": [], "videos": videos, "extra": {}}, NO_HEADERS


# --- job populations -----------------------------------------------------------------------------------------

def goapi_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = _lognormal(rng, 120, 0.4, 45, 300)
        jobs.append(SimJob(i, d, _queued(rng, d)))
    return jobs


def aimlapi_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = _lognormal(rng, 180, 0.25, 90, 300)
        jobs.append(SimJob(i, d, _queued(rng, d)))
    return jobs


def openai_video_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        seconds = rng.choice((4, 6, 8))
        d = min(300.0, max(30.0, (20 + 14 * seconds) * rng.uniform(0.7, 1.4)))
        jobs.append(SimJob(i, d, _queued(rng, d), curve=rng.uniform(0.8, 1.25)))
    return jobs


def gateway_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = rng.uniform(30, 150)
        jobs.append(SimJob(i, d, _queued(rng, d), curve=rng.uniform(0.8, 1.25)))
    return jobs


def novita_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = rng.uniform(60, 300)
        bias = min(0.4, max(-0.4, rng.gauss(0, 0.15)))
        jobs.append(SimJob(i, d, _queued(rng, d), curve=rng.uniform(0.8, 1.25), eta_bias=bias,
                           noise=random.Random(rng.random())))
    return jobs


def harsh_progress_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = rng.uniform(30, 300)
        jobs.append(SimJob(i, d, d * rng.uniform(0.05, 0.5), curve=rng.uniform(0.6, 1.6)))
    return jobs


def harsh_novita_jobs(rng: random.Random, n: int) -> list[SimJob]:
    jobs = []
    for i in range(n):
        d = rng.uniform(60, 300)
        bias = min(0.6, max(-0.6, rng.gauss(0, 0.3)))
        jobs.append(SimJob(i, d, d * rng.uniform(0.05, 0.5), curve=rng.uniform(0.6, 1.6), eta_bias=bias,
                           noise=random.Random(rng.random())))
    return jobs


@dataclass(frozen=True)
class Case:
    name: str
    provider: str
    model: str
    signals: bool  # progress or ETA: the <= 6 polls, <= 2 s target applies
    jobs: Callable[[random.Random, int], list[SimJob]]
    answer: Callable[[SimJob, float], tuple[dict[str, Any], httpx.Headers]]


CASES = (
    Case("goapi", "goapi", "Qubico/hug-video", False, goapi_jobs, goapi_answer),
    Case("aimlapi", "aimlapi", "video-01-live2d", False, aimlapi_jobs, aimlapi_answer),
    Case("aihubmix", "aihubmix", VEO, True, openai_video_jobs, lambda j, t: _video_answer(j, t, True)),
    Case("aihubmix-no-header", "aihubmix", VEO, True, openai_video_jobs, lambda j, t: _video_answer(j, t, False)),
    Case("gateway", "gateway", "viduq3p-720p", True, gateway_jobs, gateway_answer),
    Case("novita", "novita", "img2video-motion", True, novita_jobs, novita_answer),
)
STRESS = (
    Case("stress-aihubmix", "aihubmix", VEO, False, harsh_progress_jobs, lambda j, t: _video_answer(j, t, False)),
    Case("stress-gateway", "gateway", "viduq3p-720p", False, harsh_progress_jobs, gateway_answer),
    Case("stress-novita", "novita", "img2video-motion", False, harsh_novita_jobs, novita_answer),
)


# --- the runs ------------------------------------------------------------------------------------------------

class Fixed:
    """A fixed cadence, first poll at once (the sample scripts, the OpenAI SDK)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval

    def first_delay(self, elapsed: float) -> float:
        return 0.0

    def next_delay(self, status: RemoteStatus, elapsed: float) -> float:
        return self.interval


@dataclass
class Outcome:
    polls: list[int] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    lag_shares: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "polls_mean": rounded(mean(self.polls), 2),
            "polls_p95": rounded(percentile(self.polls, 95), 1),
            "lag_p50": rounded(percentile(self.lags, 50), 2),
            "lag_p95": rounded(percentile(self.lags, 95), 2),
            "lag_share_p50": rounded(percentile(self.lag_shares, 50), 4),
            "lag_share_p95": rounded(percentile(self.lag_shares, 95), 4),
        }


def make_provider(provider_id: str) -> Provider:
    from core.hub import ProviderHub
    from core.secrets import KeyStore

    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}),
                      sandbox_endpoints={f"REELDECK_{p.upper()}_BASE_URL": "http://127.0.0.1:9"
                                         for p in ("goapi", "aimlapi", "aihubmix", "gateway", "novita")}
                      | {"REELDECK_GOAPI_UPLOAD_URL": "http://127.0.0.1:9/u",
                         "REELDECK_NOVITA_ASSETS_URL": "http://127.0.0.1:9"})
    return hub.get(provider_id)


def run_case(case: Case, jobs: list[SimJob], policy_name: str, seed: int) -> Outcome:
    """Run every job one after another (each sees the history of those before), as the engine would."""
    provider = make_provider(case.provider)
    history = DurationHistory()
    rng = random.Random(seed)
    base = PollPolicy().scaled(provider_class(case.provider).default_poll_interval)
    out = Outcome()
    for job in jobs:
        planner: Any
        if policy_name == "smart":
            planner = PollPlanner(base, history.get(case.provider, case.model), rng)
        else:
            planner = Fixed(float(policy_name.removeprefix("fixed-").removesuffix("s")))
        t = planner.first_delay(0.0)
        polls = 0
        while True:
            polls += 1
            body, headers = case.answer(job, t)
            status = provider.parse_poll(body, headers)
            if status.phase == Phase.SUCCEEDED:
                break
            if status.phase not in (Phase.PENDING, Phase.RUNNING):
                raise AssertionError(f"{case.name}: unexpected {status}")
            t += planner.next_delay(status, t)
        history.add(case.provider, case.model, t)
        lag = t - job.duration
        out.polls.append(polls)
        out.lags.append(lag)
        out.lag_shares.append(lag / job.duration)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="(same: 1,000 jobs per provider is already quick)")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    header(f"polling policy, simulated time: {args.jobs} jobs per provider")
    started = time.perf_counter()
    results: dict[str, Any] = {}
    ok = True
    print(f"   {'provider':<20}{'policy':<10}{'polls mean':>11}{'p95':>6}{'lag p50':>9}{'p95':>7}"
          f"{'lag/duration p50':>18}{'p95':>8}")
    for case in CASES:
        jobs = case.jobs(random.Random(f"{args.seed}-{case.name}"), args.jobs)
        rows = {name: run_case(case, jobs, name, args.seed).figures() for name in ("smart", "fixed-10s", "fixed-1s")}
        results[case.name] = rows
        for name, f in rows.items():
            print(f"   {case.name:<20}{name:<10}{f['polls_mean']:>11.2f}{f['polls_p95']:>6.0f}{f['lag_p50']:>8.2f}s"
                  f"{f['lag_p95']:>6.2f}s{f['lag_share_p50']:>17.2%}{f['lag_share_p95']:>8.2%}")
    print("   targets:")
    for case in CASES:
        smart, fixed = results[case.name]["smart"], results[case.name]["fixed-10s"]
        ok &= verdict(f"{case.name} beats fixed 10 s", smart["polls_mean"] < fixed["polls_mean"]
                      and smart["lag_p95"] <= fixed["lag_p95"],
                      f"polls {smart['polls_mean']:.2f} < {fixed['polls_mean']:.2f}, "
                      f"p95 lag {smart['lag_p95']:.2f} s <= {fixed['lag_p95']:.2f} s")
        if case.signals:
            ok &= verdict(f"{case.name} with progress/ETA", smart["polls_mean"] <= 6 and smart["lag_p95"] <= 2,
                          f"polls {smart['polls_mean']:.2f} <= 6, p95 lag {smart['lag_p95']:.2f} s <= 2 s")
    print("   stress (harsher signals than modelled above; no target, compared with fixed 10 s):")
    stress: dict[str, Any] = {}
    for case in STRESS:
        jobs = case.jobs(random.Random(f"{args.seed}-{case.name}"), args.jobs)
        rows = {name: run_case(case, jobs, name, args.seed).figures() for name in ("smart", "fixed-10s")}
        stress[case.name] = rows
        smart, fixed = rows["smart"], rows["fixed-10s"]
        print(f"   {case.name:<20}polls {smart['polls_mean']:.2f} vs {fixed['polls_mean']:.2f}, p95 lag "
              f"{smart['lag_p95']:.2f} s vs {fixed['lag_p95']:.2f} s")
    print(f"   ({time.perf_counter() - started:.1f} s)")
    emit("polling", {"jobs_per_provider": args.jobs, "ok": ok, "results": results, "stress": stress})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
