"""When to poll next: use what the API says (suggested interval, ETA, progress), else back off gently.

Pure functions of the status, so the policy is tested and benchmarked with simulated time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.providers.base import Phase, RemoteStatus


@dataclass(frozen=True)
class PollPolicy:
    """Bounds and defaults for the poll interval, in seconds."""

    min_interval: float = 2.0
    max_interval: float = 60.0
    default_interval: float = 10.0
    jitter: float = 0.1

    def scaled(self, default_interval: float) -> PollPolicy:
        return PollPolicy(self.min_interval, self.max_interval, default_interval, self.jitter)


def next_delay(
    policy: PollPolicy,
    status: RemoteStatus,
    elapsed: float,
    rng: random.Random,
    expected_duration: float | None = None,
) -> float:
    """Seconds to wait before the next poll of a task that has run for ``elapsed`` seconds."""
    delay = _raw_delay(policy, status, elapsed, expected_duration)
    delay = min(policy.max_interval, max(policy.min_interval, delay))
    return delay * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


def _raw_delay(policy: PollPolicy, status: RemoteStatus, elapsed: float, expected: float | None) -> float:
    if status.poll_after is not None and status.poll_after > 0:
        return status.poll_after
    if status.eta is not None and status.eta > 0:
        return status.eta * 0.9
    progress = status.progress
    if status.phase == Phase.RUNNING and progress is not None and 0 < progress < 100 and elapsed > 0:
        remaining = elapsed * (100 - progress) / progress
        return remaining * 0.6
    if expected is not None and expected > elapsed:
        return (expected - elapsed) * 0.8
    return policy.default_interval
