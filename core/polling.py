"""When to poll next: predict when the job ends from what the API says and what past jobs took; poll just then.

A :class:`PollPlanner` follows one job. From each answer it predicts the moment the job ends:

* the API's own ETA (Novita's ``eta``),
* the rate of its progress between two answers (OpenAI's ``progress``, the gateway's ``"40%"``, Novita's
  ``progress_percent``),
* otherwise the durations of past jobs of the same provider and model (:class:`DurationHistory`).

It sleeps most of the predicted remaining time (keeping a margin for the prediction's error), so the polls close
in geometrically on the end; once the job is due it polls every ``finish_interval``, backing off slowly if the job
overruns. With no signal and no history it polls every ``default_interval``. A suggested interval from the server
(``openai-poll-after-ms``) is honoured as the shortest wait. Pure and clock-free: the engine passes elapsed
seconds, so the same code runs in the engine and in the simulated-time benchmark (``bench/polling.py``).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from core.providers.base import Phase, RemoteStatus


@dataclass(frozen=True)
class PollPolicy:
    """Bounds and tunables of the poll schedule, in seconds."""

    min_interval: float = 1.0
    #: The longest wait on a guess (no progress rate or ETA yet), and on a prediction from a rate or an ETA.
    max_interval: float = 60.0
    max_predicted_interval: float = 120.0
    #: The cadence when nothing better is known (no progress, no ETA, no history).
    default_interval: float = 10.0
    #: The cadence once the job is due; also bounds the detection lag when the prediction was early.
    finish_interval: float = 1.5
    #: Share of a predicted remaining time slept at once, by how the prediction was made. A rate measured while
    #: progress is under ``early_progress`` % gets ``early_share``: early progress says least about the curve
    #: ahead (a job that speeds up would be overshot).
    eta_share: float = 0.8
    rate_share: float = 0.8
    early_progress: float = 50.0
    early_share: float = 0.55
    #: Progress rates are measured over at least this many points (whole-percent reports make short spans noisy).
    rate_span: float = 10.0
    #: First look at a job that reports progress but whose start is unknown: this share of the upper bound.
    first_rate_share: float = 0.35
    #: Within this many seconds of the predicted end, sleep until ``finish_pad`` after it (negative: before it:
    #: arriving a little early costs one ``finish_interval``, arriving late costs the whole overshoot in lag).
    finish_window: float = 4.0
    finish_pad: float = -0.5
    #: Past durations needed before the history is used, and the quantile that sets the first poll.
    history_min: int = 5
    history_quantile: float = 0.05
    history_share: float = 0.85
    jitter: float = 0.1

    def scaled(self, default_interval: float) -> PollPolicy:
        """The same policy around another default cadence (sandbox mode and tests use short ones)."""
        return replace(
            self,
            default_interval=default_interval,
            min_interval=min(self.min_interval, default_interval),
            finish_interval=min(self.finish_interval, default_interval),
        )


@dataclass
class _Sample:
    at: float
    progress: float


@dataclass(frozen=True)
class _Guess:
    """Predicted seconds left, the share of them safe to sleep, and whether a rate or an ETA backs it."""

    remaining: float
    share: float
    predicted: bool


@dataclass
class PollPlanner:
    """Plans the polls of one job. ``first_delay`` before the first poll, then ``next_delay`` after each answer."""

    policy: PollPolicy = field(default_factory=PollPolicy)
    #: Seconds from submission to completion of past jobs of the same provider and model.
    history: Sequence[float] = ()
    rng: random.Random = field(default_factory=random.Random)
    _samples: list[_Sample] = field(default_factory=list)
    _progress_from: float = 0.0  # the last moment the job was seen without progress (it started after it)
    _due_at: float | None = None  # when the job was last predicted to end
    _overdue_since: float | None = None  # when the job first was due and had not ended

    def first_delay(self, elapsed: float) -> float:
        """Seconds to wait before the first poll of a job submitted ``elapsed`` seconds ago.

        Without history, poll at once (the create answer says nothing new). With history, wait until the
        earliest that jobs of this model have finished, less a margin.
        """
        early = self._history_early()
        if early is None or elapsed >= early:
            return 0.0
        return early - elapsed

    def next_delay(self, status: RemoteStatus, elapsed: float) -> float:
        """Seconds to wait before polling again, after ``status`` arrived ``elapsed`` seconds after submission."""
        policy = self.policy
        guess = self._guess(status, elapsed)
        longest = policy.max_interval
        if guess is None:
            early = self._history_early()
            delay = early - elapsed if early is not None and elapsed < early else policy.default_interval
            delay *= self.rng.uniform(1 - policy.jitter, 1)  # jitter only ever shortens a wait
        else:
            delay = self._toward_end(guess, elapsed)
            if guess.predicted:
                longest = policy.max_predicted_interval
        if status.poll_after is not None and status.poll_after > 0:
            delay = max(delay, status.poll_after)  # the server asked us not to come back sooner
        return min(longest, max(policy.min_interval, delay))

    # --- the plan --------------------------------------------------------------------------------------------

    def _toward_end(self, guess: _Guess, elapsed: float) -> float:
        """A share of the time left while it is long; just about the end when it is short; then a slow
        back-off while the job overruns its prediction."""
        policy = self.policy
        remaining = guess.remaining
        self._due_at = elapsed + remaining
        if remaining <= 0:
            if self._overdue_since is None:
                self._overdue_since = elapsed
            overrun = elapsed - self._overdue_since
            return min(policy.default_interval, policy.finish_interval + 0.1 * overrun)
        self._overdue_since = None
        if remaining <= policy.finish_window:
            return remaining + policy.finish_pad
        return remaining * guess.share * self.rng.uniform(1 - policy.jitter, 1)

    def _guess(self, status: RemoteStatus, elapsed: float) -> _Guess | None:
        """What this answer and the earlier ones say about the time left; None when they say nothing."""
        policy = self.policy
        progress = status.progress if status.phase == Phase.RUNNING else None
        if progress is not None and progress > 0:
            self._samples.append(_Sample(elapsed, progress))
        elif status.phase in (Phase.PENDING, Phase.RUNNING):
            self._progress_from = elapsed
        if progress is not None and progress >= 100:
            return _Guess(0.0, 1.0, True)  # finishing: it is due
        by_rate = self._by_rate()
        if status.eta is not None and status.phase in (Phase.PENDING, Phase.RUNNING):
            eta = max(0.0, status.eta)
            if by_rate is not None and by_rate < eta:
                return _Guess(by_rate, policy.rate_share, True)  # two opinions: the earlier end is the safe one
            return _Guess(eta, policy.eta_share, True)
        if by_rate is not None:
            share = policy.early_share if self._samples[-1].progress < policy.early_progress else policy.rate_share
            return _Guess(by_rate, share, True)
        if self._samples and self._samples[-1].at == elapsed:
            upper = self._upper_bound()
            if upper is not None:
                return _Guess(upper, policy.first_rate_share, False)
        if self._due_at is not None and status.phase == Phase.RUNNING:
            return _Guess(self._due_at - elapsed, 1.0, True)  # progress stalled: keep to the last prediction
        return None

    def _by_rate(self) -> float | None:
        """Seconds left at the progress rate since an earlier answer: the latest one at least ``rate_span`` points
        behind (recent, for curves that bend), else the earliest."""
        if len(self._samples) < 2:
            return None
        last = self._samples[-1]
        earlier = next((s for s in reversed(self._samples[:-1]) if last.progress - s.progress >= self.policy.rate_span),
                       self._samples[0])
        if earlier.progress >= last.progress or last.at <= earlier.at:
            return None
        rate = (last.progress - earlier.progress) / (last.at - earlier.at)
        return (100 - last.progress) / rate

    def _upper_bound(self) -> float | None:
        """One progress answer: the job ran at most since it was last seen without progress, so at least
        this fast; the time left at that slowest rate bounds the true time left from above."""
        first = self._samples[0]
        if len(self._samples) != 1 or first.at <= self._progress_from:
            return None
        rate = first.progress / (first.at - self._progress_from)
        return (100 - first.progress) / rate

    def _history_early(self) -> float | None:
        """The earliest that past jobs of this model usually ended: a low quantile less a margin, and a wider
        margin while there are few of them."""
        policy = self.policy
        count = len(self.history)
        if count < policy.history_min:
            return None
        trust = count / (count + policy.history_min)
        return quantile(self.history, policy.history_quantile) * policy.history_share * trust


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (linear interpolation; ``values`` need not be sorted)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * min(1.0, max(0.0, q))
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


Loader = Callable[[str, str], Sequence[float]]


class DurationHistory:
    """How long past jobs took from submission to completion, per provider and model (newest kept).

    Seeded once per model from ``load`` (the store's completed jobs), then fed by the engine as jobs finish.
    """

    def __init__(self, load: Loader | None = None, keep: int = 200) -> None:
        self._load = load
        self._keep = keep
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def get(self, provider: str, model: str) -> list[float]:
        return list(self._entry(provider, model))

    def forget(self, provider: str, model: str) -> None:
        """Read this model's durations from ``load`` again when next asked (another process finished a job)."""
        self._seen.pop((provider, model), None)

    def add(self, provider: str, model: str, seconds: float) -> None:
        if seconds > 0:
            self._entry(provider, model).append(seconds)

    def _entry(self, provider: str, model: str) -> deque[float]:
        key = (provider, model)
        if key not in self._seen:
            loaded = [s for s in (self._load(provider, model) if self._load else ()) if s > 0]
            self._seen[key] = deque(loaded[-self._keep:], maxlen=self._keep)
        return self._seen[key]
