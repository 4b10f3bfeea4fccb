"""An OpenAI-compatible video gateway serving Vidu Q3 models: ``/v1/video/generations`` create and poll.

There is no default host: the user enters the gateway's own URL. Four modes — text, image, first-and-last frame
and reference images (the ``-mix`` model only); the prompt is required in every one (the page; new-api
``relay/common/relay_utils.go`` ``validatePrompt``). Local images go inline as base64 data URIs, prepared to Vidu's
limits.

Two request dialects, chosen per gateway in Settings (option ``dialect``) and kept in each job's ``prepared``:
``page`` — the page's fields (``image``, ``last_image``, ``reference_image_urls``, ``aspect_ratio``, ``duration``,
``extra_body``); ``new-api`` — what gateways built on QuantumNous/new-api read (``relay/common/relay_info.go``
``TaskSubmitReq``; ``relay/channel/task/vidu/adaptor.go``): ``prompt``, ``images[]`` (1 = image to video, 2 = first
and last frame, 3+ = reference images), ``size`` (Vidu's resolution, default 1080p there), ``duration`` and
``metadata`` (merged into Vidu's request: ``seed``, ``bgm``). new-api has no aspect ratio or audio field, so a job
asking for them is refused rather than silently changed.

Gateways differ in their poll answers: new-api's envelope, OpenAI-like objects and Vidu's own task object
(``state``, ``creations[].url``) are all read. A status outside the known sets is shown verbatim and polled less
and less often, up to Vidu's 48-hour delivery window (``unknown_status_window``).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from core.errors import InputError, NotFoundError, ProtocolError
from core.http import ErrorAnswer, HttpRequest, error_message_from, origin_of
from core.params import ProviderSpec, Slot, SlotKind
from core.providers import wire
from core.providers.base import (
    DownloadSource,
    InputPlan,
    JobInput,
    Phase,
    Provider,
    RemoteStatus,
    classify_status,
    require,
    task_id,
)
from core.providers.errors import ErrorRule, ErrorSpec, classify_error, plain_error

PATH = "/v1/video/generations"  # page: POST {BASE_URL}/v1/video/generations
#: Request dialects (Settings option ``dialect``): the page's fields, or new-api's (FIELD-NOTES "new-api dialect").
DIALECT_PAGE = "page"
DIALECT_NEW_API = "new-api"
DIALECTS = (DIALECT_PAGE, DIALECT_NEW_API)
DEFAULT_DIALECT = DIALECT_PAGE
#: new-api reads 3+ images as reference mode (adaptor.go ``ValidateRequestAndSetAction``: 2 = first-tail).
NEW_API_MIN_REFERENCES = 3
#: Fields new-api's Vidu adaptor cannot carry (its ``requestPayload`` has no such field): refused, not dropped.
NEW_API_UNSUPPORTED = ("aspect_ratio", "audio")
#: Vidu's delivery promise for off-peak jobs (FIELD-NOTES "Off-peak": "Vidu promises delivery within 48 h").
DELIVERY_WINDOW = 48 * 3600.0
#: An unknown task id at new-api: 400 ``task_not_exist`` (FIELD-NOTES "Poll shapes met in the field").
NOT_FOUND_CODES = ("task_not_exist", "task_not_found")
#: Error answers: new-api's ``{code, message, data}`` envelope, OpenAI's ``error`` object, a failed task's
#: ``data.fail_reason``, or a bare ``error`` text (FIELD-NOTES "Poll shapes met in the field").
ERRORS = ErrorSpec(
    message_paths=("message", "error.message", "data.fail_reason", "error"),
    code_paths=("code", "error.code", "error.type"),
    rules=(
        ErrorRule(NotFoundError, "{name} does not know this task ({code}); it may have expired or been made with "
                  "another key or gateway.", markers=NOT_FOUND_CODES),
    ),
)
#: The provider; its models (Vidu Q3, and any the user adds) are in ``resources/catalog/gateway.toml``.
SPEC = ProviderSpec(
    id="gateway",
    name="Video gateway (Vidu)",
    default_base_url=None,
    key_help="The key (sk-...) your OpenAI-compatible video gateway issued. The gateway has no fixed address: "
    "set its URL (scheme://host[:port][/prefix]) in REELDECK_GATEWAY_BASE_URL or in Settings.",
    docs="Create Video Task: POST {BASE_URL}/v1/video/generations",
    options={"dialect": (DEFAULT_DIALECT, DIALECTS)},  # FIELD-NOTES: new-api relays speak their own request shape
    models=(),
    errors=ERRORS,
)

#: Statuses, compared case-insensitively (FIELD-NOTES "Poll shapes met in the field"): new-api NOT_START |
#: SUBMITTED | QUEUED | IN_PROGRESS | SUCCESS | FAILURE; OpenAI-like queued | in_progress | completed | failed;
#: Vidu's own ``state`` created | queueing | processing | success | failed (new-api vidu adaptor ParseTaskResult).
PENDING = {"not_start", "submitted", "queued", "pending", "created", "queueing"}
RUNNING = {"in_progress", "processing", "running", "generating"}
SUCCEEDED = {"success", "completed", "succeeded"}
FAILED = {"failure", "failed", "error"}
CANCELED = frozenset({"canceled", "cancelled"})
#: The first wait after an unknown status, doubled per unknown answer in a row, at most ``UNKNOWN_MAX_WAIT``.
UNKNOWN_FIRST_WAIT = 15.0
UNKNOWN_MAX_WAIT = 1800.0
OFF_PEAK_NOTE = " (waiting for off-peak)"


class GatewayProvider(Provider):
    """An OpenAI-compatible gateway's ``/v1/video/generations`` for Vidu Q3."""

    spec = SPEC
    default_poll_interval = 10.0
    unknown_status_window = DELIVERY_WINDOW

    def __init__(self, api: Any, settings: dict[str, str] | None = None) -> None:
        super().__init__(api, settings)
        self._unknown_streak: dict[str, int] = {}  # task id -> unknown answers in a row
        self._models: dict[str, str] = {}  # task id -> model, from answers that name it

    def dialect(self) -> str:
        """The request dialect set for this gateway (Settings option ``dialect``)."""
        value = self.settings.get("dialect") or DEFAULT_DIALECT
        return value if value in DIALECTS else DEFAULT_DIALECT

    def plan_inputs(self, job: JobInput) -> InputPlan:
        """Fix the job's dialect (shown in its details) and refuse what that dialect cannot say; uploads nothing."""
        dialect = self.dialect()
        if dialect == DIALECT_NEW_API:
            _check_new_api(job)
        return InputPlan(kept={"dialect": dialect})

    def build_create(self, job: JobInput) -> HttpRequest:
        if job.prepared.get("dialect", self.dialect()) == DIALECT_NEW_API:
            return HttpRequest("POST", PATH, json=_new_api_body(job), idempotent=False)
        model = self.spec.model(job.model)
        values = wire.inline_values(model, job.inputs, job.files)
        return HttpRequest("POST", model.wire.create_path or PATH, json=wire.json_body(model, job.params, values),
                           idempotent=False)

    def parse_create(self, body: Any) -> str:
        _check_envelope(body, self.spec)
        node = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
        value = (node.get("task_id") or node.get("id")) if isinstance(node, dict) else None
        if not value:
            require(body, "task_id", self.spec)
        remote_id = task_id(value, "task_id", self.spec)
        if isinstance(node, dict) and isinstance(node.get("model"), str):
            self._models[remote_id] = node["model"]
        return remote_id

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
        return HttpRequest("GET", f"{PATH}/{remote_id}")

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        _check_envelope(body, self.spec)
        task = _task_node(body)
        key = "status" if "status" in task or "state" not in task else "state"  # Vidu's own object: ``state``
        raw = str(require(task, key, self.spec) or "")
        phase = classify_status(raw, PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED)
        error = None
        if phase in (Phase.FAILED, Phase.CANCELED):
            error = error_message_from(task, "fail_reason", "error.message", "err_code", "error", "message") or None
        remote_id = _remote_id(body, task)
        if isinstance(task.get("model"), str):
            self._models[remote_id] = task["model"]
        poll_after = None
        if phase == Phase.UNKNOWN:  # shown verbatim; polled less and less often, up to the delivery window
            streak = self._unknown_streak.get(remote_id, 0)
            self._unknown_streak[remote_id] = streak + 1
            poll_after = min(UNKNOWN_MAX_WAIT, UNKNOWN_FIRST_WAIT * 2 ** streak)
        else:
            self._unknown_streak.pop(remote_id, None)
        if phase == Phase.PENDING and self._models.get(remote_id, "").endswith("-offpeak"):
            raw += OFF_PEAK_NOTE
        return RemoteStatus(phase=phase, raw=raw, progress=_progress(task.get("progress")),
                            video_url=_video_url(task), error=error, poll_after=poll_after)

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        if not status.video_url:
            raise ProtocolError(f"{self.spec.name} reported the video as finished but gave no address to "
                                "download it from.")
        same_origin = origin_of(status.video_url) == origin_of(self.api.base_url)
        return DownloadSource(status.video_url, with_auth=same_origin)


def _check_new_api(job: JobInput) -> None:
    """Refuse what new-api's Vidu adaptor would silently drop or read as another mode."""
    asked = [name for name in NEW_API_UNSUPPORTED if job.params.get(name) not in (None, "")]
    if asked:
        raise InputError(f"This gateway is set to the new-api request dialect, which has no {' or '.join(asked)} "
                         "field (new-api would drop it). Remove it, or switch the gateway's dialect to the page's "
                         "fields in Settings.")
    refs = job.inputs.get("ref_image") or []
    if refs and len(refs) < NEW_API_MIN_REFERENCES:
        raise InputError("In the new-api request dialect one image means image to video and two mean first and "
                         f"last frame, so reference mode needs 3 or 4 reference images (got {len(refs)}).")


def _new_api_body(job: JobInput) -> dict[str, Any]:
    """new-api's fields: prompt, images[], size (Vidu's resolution), duration, metadata (seed, bgm)."""
    body: dict[str, Any] = {"model": job.model, "prompt": str(job.params.get("prompt", ""))}
    images = [wire.inline_value(_ANY_IMAGE, v, job.files) for slot in ("image", "last_image", "ref_image")
              for v in job.inputs.get(slot) or []]
    if images:
        body["images"] = images
    size = next((part for part in job.model.split("-") if part.endswith("p") and part[:-1].isdigit()), None)
    if size:  # Vidu's resolution from the model id (viduq3p-720p -> 720p); new-api defaults to 1080p without it
        body["size"] = size
    if job.params.get("duration") is not None:
        body["duration"] = int(job.params["duration"])
    metadata = {name: job.params[name] for name in ("seed", "bgm") if job.params.get(name) is not None}
    if metadata:
        body["metadata"] = metadata
    return body


def _remote_id(body: dict[str, Any], task: dict[str, Any]) -> str:
    for node in (task, body):
        for key in ("task_id", "id"):
            if isinstance(node.get(key), str | int) and not isinstance(node.get(key), bool):
                return str(node[key])
    return ""


def _check_envelope(body: Any, spec: ProviderSpec) -> None:
    """Shape (a) wraps answers in ``{code, message, data}``; a code other than success is an error."""
    if not isinstance(body, dict):
        raise ProtocolError(f"{spec.name} sent an answer that could not be understood.", detail=str(body)[:300])
    code = body.get("code")
    if not isinstance(code, str) or code.lower() in ("success", "ok", "0", "200"):
        return
    if code.lower() in NOT_FOUND_CODES:
        raise classify_error(spec, ErrorAnswer(200, body))  # worded by the declared rule; no HTTP error status
    if isinstance(body.get("data"), dict) and "status" in body["data"]:
        return  # a task answer with an odd code: the status decides
    raise plain_error(spec, ErrorAnswer(400, body), error_message_from(body, "message") or code, code)


def _task_node(body: dict[str, Any]) -> dict[str, Any]:
    """The object holding ``status``: ``data`` in new-api's envelope, else the body itself (OpenAI-like objects and
    Vidu's own task object, whose status is ``state``)."""
    data = body.get("data")
    if "status" not in body and "state" not in body and isinstance(data, dict) and "status" in data:
        return data
    return body


def _progress(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%?\s*", value)):
        number = float(match.group(1))
    else:
        return None
    return max(0.0, min(100.0, number))


_URL_PATHS = ("result_url", "url", "video_url", "metadata.url", "metadata.video_url", "output.url",
              "output.video_url", "data.video_url", "data.url", "video.url")


def _video_url(task: dict[str, Any]) -> str | None:
    for path in _URL_PATHS:
        value = error_message_from(task, path)
        if _is_url(value):
            return value
    data = task.get("data")
    creations = data.get("creations") if isinstance(data, dict) else task.get("creations")  # Vidu: creations[].url
    if isinstance(creations, list):
        for creation in creations:
            url = creation.get("url") if isinstance(creation, dict) else None
            if isinstance(url, str) and _is_url(url):
                return url
    return None


_is_url = wire.is_url
#: Any image slot, for new-api's ``images[]`` (URLs pass; local files go inline).
_ANY_IMAGE = Slot("image", SlotKind.IMAGE, "Image", "", field="images")
