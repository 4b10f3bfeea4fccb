"""What every provider implements, and the pieces they share.

A provider is pure: it turns a job into plans and ``HttpRequest``s and turns answers into ``RemoteStatus``; it reads
no file and sends nothing. The engine (``core/plans.py``) does every I/O a plan names: it reads the local files a
create carries inline (``inline_files`` → ``JobInput.files``), reads or fetches and uploads the inputs of
``plan_inputs`` (the answers are stored with the job, so nothing is uploaded twice), and reads the list pages of
``build_list``/``match_created`` after a create whose outcome is unknown. Error answers are not the client's: its
declaration words them (``ProviderSpec.errors``, read by ``core/providers/errors.py``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import httpx

from core.errors import ProtocolError, ProviderError
from core.http import ApiClient, HttpRequest
from core.imaging import ImageRules
from core.params import ProviderSpec, Slot
from core.providers import catalog, wire


class Phase(StrEnum):
    """Where a remote task is, whatever the provider calls it."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


@dataclass
class RemoteStatus:
    """One poll's answer, normalised."""

    phase: Phase
    raw: str
    progress: float | None = None  # 0..100
    eta: float | None = None  # seconds left, when the API says
    video_url: str | None = None
    error: str | None = None
    poll_after: float | None = None  # the server's suggested interval, seconds


@dataclass(frozen=True)
class DownloadSource:
    """Where to fetch the finished video, and whether the provider key goes with it (same API origin only)."""

    url: str
    with_auth: bool = False


@dataclass
class JobInput:
    """What a provider needs to know about a job to build its requests."""

    id: str
    model: str
    params: dict[str, Any]
    inputs: dict[str, list[str]]  # slot -> local paths (prepared copies) or URLs or preset names
    prepared: dict[str, Any] = field(default_factory=dict)  # results of the input plan (asset ids, URLs)
    created_at: float = 0.0
    submitted_at: float | None = None
    #: The bytes of the local files ``inline_files`` names, read by the engine before ``build_create``.
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """One input to send ahead of the create: the engine reads ``source`` (a local file) or fetches it (a URL,
    never with the key, at most ``limit`` bytes: local files were checked when the job was made), passes the bytes
    through ``check`` (in a worker thread; it may refuse or convert them), sends ``build(data)`` and keeps
    ``parse(answer body)`` under ``key``. ``what`` names the input in messages ("image", "motion video")."""

    key: str
    source: str
    what: str
    build: Callable[[bytes], HttpRequest]
    parse: Callable[[Any], str]
    limit: int | None = None
    check: Callable[[bytes], bytes] | None = None

    def request(self, data: bytes) -> HttpRequest:
        """The upload of ``data``, marked as an upload: the provider's error rules for uploads read its answer."""
        return replace(self.build(data), upload=True)


@dataclass(frozen=True)
class InputPlan:
    """What a job's inputs need before the create: values kept as they are (preset ids) and uploads."""

    kept: dict[str, str] = field(default_factory=dict)
    uploads: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class ListMatch:
    """One list page read after an unknown create: the task found, or the cursor of the next page to read."""

    found: str | None = None
    next_cursor: str | None = None


def classify_status(raw: str, pending: set[str], running: set[str], succeeded: set[str],
                    failed: set[str], canceled: frozenset[str] = frozenset()) -> Phase:
    """Map a provider's status string to a Phase, case-insensitively. Unknown strings are UNKNOWN."""
    value = (raw or "").strip().lower()
    for names, phase in ((pending, Phase.PENDING), (running, Phase.RUNNING), (succeeded, Phase.SUCCEEDED),
                         (failed, Phase.FAILED), (canceled, Phase.CANCELED)):
        if value in {n.lower() for n in names}:
            return phase
    return Phase.UNKNOWN


class _CatalogSpec:
    """``Provider.spec``: the class's declaration with its models read from the catalog at each access, so a
    changed user catalog file is seen without a restart."""

    def __get__(self, instance: object, owner: type[Provider]) -> ProviderSpec:
        bare = owner.bare_spec
        return replace(bare, models=catalog.models_for(bare.id))


class Provider(ABC):
    """One provider API. Subclasses declare ``spec`` (identity, hosts, auth; no models: those are catalog data)
    and build/parse requests."""

    #: The provider's own declaration as the subclass wrote it; ``spec`` adds the catalog's models.
    bare_spec: ProviderSpec

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("spec")
        if isinstance(declared, ProviderSpec):
            cls.bare_spec = declared
            cls.spec = _CatalogSpec()  # type: ignore[assignment]

    spec: ProviderSpec
    #: Polling bounds in seconds when the API gives no hint.
    default_poll_interval: float = 10.0
    #: True when ``build_list``/``match_created`` can look a task up: unknown creates can be reconciled.
    can_reconcile: bool = False
    #: True when the API documents a cancel endpoint.
    can_cancel: bool = False
    #: True when a finished video can be remixed with a new prompt (``prepared["remix_of"]`` on the new job).
    can_remix: bool = False
    #: How long (seconds) a status the client does not know is polled before the job is given up: the provider's
    #: documented delivery window. The engine reads it instead of a fixed 30 minutes.
    unknown_status_window: float = 1800.0

    def __init__(self, api: ApiClient, settings: dict[str, str] | None = None) -> None:
        self.api = api
        self.settings = settings or {}

    @classmethod
    def declared(cls) -> ProviderSpec:
        """The provider's declaration with its models from the catalog (shipped and the user's)."""
        return cls.spec

    @classmethod
    def image_rules(cls, params: dict[str, Any], slot: str, model: str | None = None) -> ImageRules:
        """What the API accepts for an image slot of ``model`` (its catalog rules), given the job's parameters.

        Without ``model`` the first model of the provider with such a slot is used."""
        spec = cls.declared()
        candidates = [m for m in spec.models if m.id == model] or list(spec.models)
        declared = next((m.slot(slot) for m in candidates if m.slot(slot)), None)
        return slot_image_rules(declared.rules, params) if declared else ImageRules()

    @classmethod
    def slot_image_rules(cls, slot: Slot, params: dict[str, Any], *, model: str | None = None,
                         send_originals: bool = False) -> ImageRules:
        """The rules an image for ``slot`` of ``model`` is prepared by: the API's (``image_rules``) and, unless the
        person chose to send originals, the slot's declared size cap (``Slot.max_image_short_side``)."""
        cap = None if send_originals else slot.max_image_short_side
        return replace(cls.image_rules(params, slot.name, model), max_short_side=cap)

    def plan_inputs(self, job: JobInput) -> InputPlan:
        """What must be uploaded (or kept) before the create; the engine carries it out. Default: nothing."""
        return InputPlan()

    def inline_files(self, job: JobInput) -> list[str]:
        """The local files the create carries itself (data URIs, multipart parts): the engine reads them into
        ``JobInput.files`` before ``build_create``."""
        return wire.local_values(self.spec.model(job.model), job.inputs, ("data-uri", "file-part"))

    @abstractmethod
    def build_create(self, job: JobInput) -> HttpRequest:
        """The create request for a job (pure)."""

    @abstractmethod
    def parse_create(self, body: Any) -> str:
        """The remote id from the create answer."""

    @abstractmethod
    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
        """The status request for a remote task of ``model`` (pure)."""

    @abstractmethod
    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        """Normalise a status answer."""

    def build_key_check(self) -> HttpRequest:
        """A cheap authenticated request that creates nothing: by default, a status query for a task that does
        not exist (401/403 = key refused; 404/400 = key accepted, see ``key_check_accepted``)."""
        return self.build_poll("reeldeck-key-check-0000")

    def key_check_accepted(self, error: ProviderError) -> bool | None:
        """What a not-found or bad-request answer to ``build_key_check`` says about the key: True (accepted),
        False (refused) or None (it proves nothing). By default the API looked for the made-up task, so the key
        passed."""
        return True

    def thumbnail_source(self, remote_id: str) -> DownloadSource | None:
        """Where the provider serves a still of the finished video, if it does."""
        return None

    def build_cancel(self, remote_id: str) -> HttpRequest | None:
        """The cancel request, or None when the API has none."""
        return None

    @abstractmethod
    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        """Where to download the finished video from."""

    def build_list(self, cursor: str | None) -> HttpRequest:
        """A page of the provider's recent tasks (newest first), after ``cursor``; only when ``can_reconcile``."""
        raise NotImplementedError

    def match_created(self, body: Any, job: JobInput, exclude: set[str]) -> ListMatch:
        """In one list page, the task this job's create made (``exclude``: ids other jobs own), or where to read
        next; an empty match ends the search."""
        return ListMatch()


_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+@-]{0,255}")


def task_id(value: Any, path: str, provider: ProviderSpec) -> str:
    """A remote task id from an answer: a plain token or a whole number; anything else is a ProtocolError.

    Ids go into request paths and queries, so one that is empty, not text, or holds ``/``, ``?``, ``%``, spaces
    or control characters is refused rather than stored.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _TASK_ID.fullmatch(value.strip()):
        return value.strip()
    raise ProtocolError(f"{provider.name} answered without a usable task id ('{path}'); it could not be understood.",
                        detail=repr(value)[:300])


def require(body: Any, path: str, provider: ProviderSpec) -> Any:
    """A value at a dotted path of a JSON answer, or a ProtocolError that says what was missing."""
    node = body
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ProtocolError(f"{provider.name} sent an answer without '{path}'; it could not be understood.",
                                detail=str(body)[:300])
        node = node[part]
    return node


def slot_image_rules(rules: Any, params: dict[str, Any]) -> ImageRules:
    """A slot's declared rules (``core.params.SlotRules``) for this job's parameters, as ``ImageRules``."""
    exact = None
    if rules.exact_size_param and params.get(rules.exact_size_param):
        width, height = (int(v) for v in str(params[rules.exact_size_param]).split("x"))
        exact = (width, height)
    return ImageRules(
        exact_size=exact,
        min_short_side=rules.min_short_side,
        short_side_exclusive=rules.short_side_exclusive,
        min_side=rules.min_side,
        aspect_min=rules.aspect_min,
        aspect_max=rules.aspect_max,
        aspect_exclusive=rules.aspect_exclusive,
        max_bytes=rules.max_bytes,
        max_base64_chars=rules.max_base64_chars,
        formats=rules.formats,
        fit=str(params.get(rules.fit_param, "pad")) if rules.fit_param else "pad",
    )



def current_model(spec: ProviderSpec, instead_of: str = "") -> str | None:
    """A model of the provider that takes new jobs (not ``instead_of``), to suggest in place of a retired one."""
    return next((m.id for m in spec.models if m.lifecycle.usable and m.id != instead_of), None)
