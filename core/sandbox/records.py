"""Plain data records of the sandbox emulator: recorded requests, tasks, stored files and assets.

Every record converts to and from a JSON-compatible dict so the SQLite store can keep it in one column.
No record ever holds an API key: requests keep only header *names*, whether auth was present and a
SHA-256 of the auth header value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The request kinds the emulator records.
REQUEST_KINDS = (
    "create",
    "poll",
    "cancel",
    "list",
    "content",
    "remix",
    "upload",
    "asset_upload",
    "download",
    "unknown",
)


@dataclass
class RecordedRequest:
    """One HTTP request the emulator received (and how it answered), without any secret."""

    seq: int
    time: float
    method: str
    path: str
    query: dict[str, str]
    origin: str
    provider: str
    kind: str
    header_names: list[str]
    auth_present: bool
    auth_sha256: str | None
    body: Any = None
    status: int | None = None
    fault: str | None = None
    task_id: str | None = None
    error: str | None = None
    #: The request body's media type without parameters (``multipart/form-data``), or None without a body.
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedRequest:
        """Build a record from :meth:`to_dict` output."""
        return cls(**data)


@dataclass(frozen=True)
class TaskInput:
    """One input image (or motion video) of a task, as stored by the emulator.

    ``source`` is ``inline`` (data URI / base64 / multipart file), ``cdn`` (a file on the emulator's CDN),
    ``asset`` (a Novita asset or preset) or ``external`` (a URL the emulator never fetches; ``path`` is None).
    ``path`` is relative to the state dir.
    """

    role: str
    source: str
    path: str | None = None
    url: str | None = None
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict."""
        return asdict(self)


@dataclass(frozen=True)
class RenderPlan:
    """What the result video of a task looks like.

    ``width``/``height`` of 0 mean "derive from the first input image's orientation".
    ``mode`` is ``pan`` (pan/zoom over the first image), ``crossfade`` (first to last image) or ``title``.
    """

    width: int
    height: int
    seconds: float
    caption: str
    mode: str = "pan"
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict."""
        return asdict(self)


@dataclass
class TaskRecord:
    """A generation task of any provider, with everything needed to answer polls and render its video."""

    id: str
    provider: str
    model: str
    created_at: float
    job_seconds: float
    fate: str
    plan: RenderPlan
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[TaskInput] = field(default_factory=list)
    fail_message: str | None = None
    canceled_at: float | None = None
    deleted_at: float | None = None
    remixed_from: str | None = None

    @property
    def will_fail(self) -> bool:
        """True when this task is fated to end in the provider's failed status."""
        return self.fate == "fail"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-compatible dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRecord:
        """Build a record from :meth:`to_dict` output."""
        values = dict(data)
        values["plan"] = RenderPlan(**values["plan"])
        values["inputs"] = [TaskInput(**item) for item in values.get("inputs", [])]
        return cls(**values)


@dataclass(frozen=True)
class FileRecord:
    """A file the CDN origin serves: a task result variant or an uploaded file."""

    token: str
    ext: str
    rel_path: str
    content_type: str
    provider: str
    task_id: str | None
    variant: str
    created_at: float

    @property
    def name(self) -> str:
        """The file name in CDN URLs: ``{token}.{ext}``."""
        return f"{self.token}.{self.ext}"


@dataclass(frozen=True)
class AssetRecord:
    """A Novita asset (image or motion video) uploaded to the asset host."""

    id: str
    kind: str
    rel_path: str
    size: int
    content_type: str
    created_at: float

    def path(self, state_dir: Path) -> Path:
        """Absolute path of the stored bytes."""
        return state_dir / self.rel_path
