"""Clocks for the emulator: the real one (``time.time``) and a manual one for tests."""

from __future__ import annotations

import time


class ManualClock:
    """A clock that only moves when told to: call it for the time, ``advance(seconds)`` to move it.

    Task progress, URL expiry and ``created_at`` fields all read the emulator's clock, so tests drive
    whole job lifecycles without sleeping.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = float(time.time() if start is None else start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        self.now += seconds
        return self.now
