"""Task status as a pure function of elapsed time, the provider's status list and the task's fate.

A task spends the first part of ``job_seconds`` in the provider's waiting statuses, then runs with progress
rising, and reaches its terminal status (succeeded, or failed when fated to fail) at ``job_seconds``.
Nothing is stored per poll, so the answer survives restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .records import TaskRecord


@dataclass(frozen=True)
class Lifecycle:
    """A provider's status progression.

    ``phases`` are ``(start_fraction, status)`` pairs in increasing order, the first starting at 0;
    progress starts rising at ``run_from``.
    """

    phases: tuple[tuple[float, str], ...]
    run_from: float
    succeeded: str
    failed: str


@dataclass(frozen=True)
class Snapshot:
    """Where a task stands at one instant."""

    status: str
    progress: int
    fraction: float
    remaining: float
    started: bool
    terminal: bool
    succeeded: bool
    failed: bool
    started_at: float
    ended_at: float

    @property
    def running(self) -> bool:
        """True while the task has started but not ended."""
        return self.started and not self.terminal


def snapshot(task: TaskRecord, lifecycle: Lifecycle, now: float) -> Snapshot:
    """The status of ``task`` at time ``now`` under ``lifecycle``."""
    job = max(task.job_seconds, 0.0)
    started_at = task.created_at + job * lifecycle.run_from
    ended_at = task.created_at + job
    if task.canceled_at is not None:
        return _failed(lifecycle, 0.0, task.canceled_at, min(started_at, task.canceled_at))
    fraction = math.inf if job == 0 else (now - task.created_at) / job
    if fraction >= 1.0:
        if task.will_fail:
            return _failed(lifecycle, 1.0, ended_at, started_at)
        return Snapshot(lifecycle.succeeded, 100, 1.0, 0.0, True, True, True, False, started_at, ended_at)
    fraction = max(fraction, 0.0)
    status = lifecycle.phases[0][1]
    for start, name in lifecycle.phases:
        if fraction >= start:
            status = name
    started = fraction >= lifecycle.run_from
    progress = 0
    if started:
        progress = int(100 * (fraction - lifecycle.run_from) / (1.0 - lifecycle.run_from))
        progress = min(max(progress, 0), 99)
    remaining = max(ended_at - now, 0.0)
    return Snapshot(status, progress, fraction, remaining, started, False, False, False, started_at, ended_at)


def _failed(lifecycle: Lifecycle, fraction: float, ended_at: float, started_at: float) -> Snapshot:
    return Snapshot(lifecycle.failed, 0, fraction, 0.0, True, True, False, True, started_at, ended_at)
