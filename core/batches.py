"""Batches: where a group of jobs queued together stands, derived from the jobs themselves (no state of its own).

The window's Batch column, its "batch finished" notice and the compare view read these summaries; a front end
computes them from the jobs it holds and never keeps a second count beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.jobs import Job, JobState


@dataclass(frozen=True)
class GroupSummary:
    """Where a batch stands: how many of its jobs ended, how many made a video, overall progress."""

    group_id: str
    total: int
    ended: int
    completed: int
    progress: float  # 0..100, ended jobs counting as 100

    @property
    def finished(self) -> bool:
        return self.ended == self.total

    @property
    def short(self) -> str:
        return self.group_id.removeprefix("g")[:4]

    @property
    def label(self) -> str:
        return f"Batch {self.short}"

    @property
    def text(self) -> str:
        """What the Batch column shows: '7a3c · 3/4' while it runs, '7a3c · 4/4 done' (', 1 failed') after."""
        if self.finished:
            failed = self.total - self.completed
            return f"{self.short} · {self.completed}/{self.total} done" + (f", {failed} failed" if failed else "")
        return f"{self.short} · {self.ended}/{self.total}"


def summarize_group(group_id: str, members: Iterable[Job]) -> GroupSummary | None:
    """The summary of one batch from its jobs (None when it has none)."""
    group = list(members)
    if not group:
        return None
    ended = sum(1 for j in group if j.terminal)
    completed = sum(1 for j in group if j.state == JobState.COMPLETED)
    progress = sum(100.0 if j.terminal else (j.progress or 0.0) for j in group) / len(group)
    return GroupSummary(group_id, len(group), ended, completed, progress)


def summarize_groups(jobs: Iterable[Job]) -> dict[str, GroupSummary]:
    """Per group id: its summary."""
    members: dict[str, list[Job]] = {}
    for job in jobs:
        if job.group_id:
            members.setdefault(job.group_id, []).append(job)
    return {group_id: summary for group_id, group in members.items()
            if (summary := summarize_group(group_id, group)) is not None}
