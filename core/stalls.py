"""Stalls said out loud: how long a model usually takes, learned from past jobs, and when a job is past it.

Each provider's model has a usual duration: the median and the 95th percentile of the seconds from submission to
completion of its finished jobs (``JobStore.durations``, kept fresh by the engine's ``DurationHistory``). A job
still working past that 95th percentile is "taking longer than usual (usually 2–4 min)": the window then offers
to cancel it or keep waiting. With fewer than ``MIN_SAMPLES`` past jobs nothing is said (no guess).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.jobs import Job, JobState

#: Finished jobs needed before a model's usual duration is trusted.
MIN_SAMPLES = 5
#: States in which a job waits on the provider (a stall there is the provider's).
WORKING = frozenset({JobState.SUBMITTING, JobState.RUNNING})


@dataclass(frozen=True)
class UsualDuration:
    """How long a model's jobs usually take, in seconds."""

    median: float
    p95: float
    samples: int

    def describe(self) -> str:
        """'2–4 min', '40–75 s', '1–2 h': from the median to the 95th percentile."""
        return span(self.median, self.p95)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` percentile (0..100) with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def usual_duration(seconds: Sequence[float]) -> UsualDuration | None:
    """The usual duration of a model from its past jobs' durations; None with fewer than ``MIN_SAMPLES``."""
    known = [s for s in seconds if s > 0]
    if len(known) < MIN_SAMPLES:
        return None
    return UsualDuration(percentile(known, 50), percentile(known, 95), len(known))


def span(low: float, high: float) -> str:
    """A range of durations in the unit that reads best for its upper end."""
    if high < 90:
        unit, size = "s", 1.0
    elif high < 90 * 60:
        unit, size = "min", 60.0
    else:
        unit, size = "h", 3600.0
    first = max(1, round(low / size)) if unit != "s" else max(1, round(low))
    last = max(first, round(high / size) if unit != "s" else round(high))
    return f"{first} {unit}" if first == last else f"{first}–{last} {unit}"


@dataclass(frozen=True)
class Stall:
    """A job that is taking longer than its model usually does."""

    job_id: str
    elapsed: float
    usual: UsualDuration

    @property
    def message(self) -> str:
        return f"Taking longer than usual (usually {self.usual.describe()})"


def stall_of(job: Job, history: Sequence[float], now: float) -> Stall | None:
    """The stall of a job still working at the provider past its model's 95th percentile, else None."""
    if job.state not in WORKING or job.submitted_at is None or job.needs_decision:
        return None
    usual = usual_duration(history)
    elapsed = now - job.submitted_at
    if usual is None or elapsed <= usual.p95:
        return None
    return Stall(job.id, elapsed, usual)
