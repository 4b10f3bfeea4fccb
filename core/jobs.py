"""The job record and its states.

``pending`` (local, not yet sent) → ``submitting`` → ``running`` → ``downloading`` → ``completed``;
or ``failed`` / ``canceled``. ``completed`` means the video is on disk, complete and verified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    """A job's local state."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELED})


@dataclass
class Job:
    """One generation job, as stored."""

    id: str
    provider: str
    model: str
    params: dict[str, Any]
    inputs: dict[str, list[str]]
    state: JobState = JobState.PENDING
    mode: str = "default"
    prepared: dict[str, Any] = field(default_factory=dict)
    input_notes: dict[str, list[str]] = field(default_factory=dict)
    remote_id: str | None = None
    remote_status: str | None = None
    progress: float | None = None
    eta: float | None = None
    video_path: str | None = None
    error: str | None = None
    #: Set when a create's outcome is unknown and cannot be reconciled: the user must decide.
    needs_decision: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    submitted_at: float | None = None
    finished_at: float | None = None
    polls: int = 0
    attempts: int = 0
    #: Jobs submitted together (a batch) share a group id.
    group_id: str | None = None
    #: The cost estimate at submission, in US dollars (None when no price is known).
    cost_usd: float | None = None
    #: "sandbox" (the built-in emulator) or "real" (the providers); neither world touches the other's jobs.
    world: str = "real"
    #: The API origin the create was sent to; a real job is polled there even if the base URL setting changes.
    origin: str | None = None
    #: Why a job that is not finished is waiting instead of progressing (None while it progresses).
    waiting: str | None = None
    #: True when only the person can remove the cause (a key, a base URL): the job resumes once they have.
    waiting_on_you: bool = False
    #: Where the job stands in the queue: waiting jobs start lowest first (the creation time unless reordered).
    queue_pos: float | None = None

    @property
    def prompt(self) -> str:
        return str(self.params.get("prompt") or "")

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def seed(self) -> str | None:
        """The seed the job asked for, as text (None when the provider chose one: unset, empty or -1)."""
        value = self.params.get("seed")
        return None if value in (None, "", -1, "-1") else str(value)

    def to_json(self) -> dict[str, Any]:
        """The job object of the CLI's ``--json`` output."""
        data = asdict(self)
        data["state"] = str(self.state)
        for key in ("created_at", "updated_at", "submitted_at", "finished_at"):
            data[key] = iso(data[key])
        data["prompt"] = self.prompt
        return data


@dataclass
class Annotation:
    """What a person said about one video: favourite, a 0–5 rating, a free-text note."""

    favourite: bool = False
    rating: int = 0
    note: str = ""


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
