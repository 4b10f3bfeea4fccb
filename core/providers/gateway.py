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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.errors import InputError, NotFoundError, ProtocolError, ProviderError
from core.http import HttpRequest, error_message_from, origin_of
from core.imaging import ImageRules, data_uri
from core.params import Mode, ModelSpec, Param, ParamType, ProviderSpec, Slot, SlotKind
from core.providers.base import (
    DownloadSource,
    JobInput,
    Phase,
    Provider,
    RemoteStatus,
    classify_status,
    http_error,
    require,
    task_id,
)

PATH = "/v1/video/generations"  # page: POST {BASE_URL}/v1/video/generations
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")  # page example "16:9"; the rest are Vidu's (platform.vidu.com)
MAX_REFERENCES = 4  # REFERENCE.md section 4: reference_image_urls "up to 4"
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
MIX_MODEL = "viduq3p-mix-720p"
#: Vidu: PNG/JPEG/WebP, at least 128×128, aspect 1:4..4:1, at most 50 MB, base64 payload under 10 MB.
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_BASE64_CHARS = 10_000_000

_PROMPT = Param("prompt", ParamType.TEXT, "Prompt", "What the video should show (required in every mode). In "
                "reference mode, cite the reference images as @Image1, @Image2, … in their order.", required=True,
                min_length=1)
_COMMON = (
    Param("aspect_ratio", ParamType.ENUM, "Aspect ratio", "Frame shape of the result (text and reference "
          "modes; with an image the image decides). Leave unset for the gateway's default (16:9).",
          choices=ASPECT_RATIOS),
    Param("duration", ParamType.INTEGER, "Length (s)", "Clip duration in seconds, 1 to 16.", default=5,
          minimum=1, maximum=16),
    Param("audio", ParamType.BOOLEAN, "Audio", "Generate sound with the video.", path="extra_body.audio"),
    Param("seed", ParamType.INTEGER, "Seed", "Random seed for repeatable results (0 or unset: random).",
          minimum=0, path="extra_body.seed"),
    Param("bgm", ParamType.BOOLEAN, "Background music", "Add background music.", path="extra_body.bgm"),
    Param("image_fit", ParamType.ENUM, "Fit image", "How an image outside the 1:4..4:1 aspect range is fixed: "
          "pad with black bars, crop, or stretch.", default="pad", choices=("pad", "crop", "scale"), local=True),
)

#: The longest side of a Vidu video per resolution in the model id (the page's model list: 540p/720p/1080p;
#: a 16:9 frame of that height): an image is kept up to this many pixels on its shorter side.
VIDEO_LONG_SIDE = {"540p": 960, "720p": 1280, "1080p": 1920}


def _image(resolution: str) -> Slot:
    return Slot("image", SlotKind.IMAGE, "First frame", "Start image (PNG/JPEG/WebP, at least 128×128, aspect "
                "1:4..4:1; a local file is fixed to fit) or an image URL.", field="image",
                max_image_short_side=VIDEO_LONG_SIDE[resolution])


def _last(resolution: str) -> Slot:
    return Slot("last_image", SlotKind.IMAGE, "Last frame", "End image for first-and-last-frame mode; needs a "
                "first frame too.", field="last_image", max_image_short_side=VIDEO_LONG_SIDE[resolution])


_REFS = Slot("ref_image", SlotKind.IMAGE, "Reference images", "Up to 4 reference images, in order; the prompt "
             "refers to them as @Image1..@Image4.", field="reference_image_urls", max_count=MAX_REFERENCES,
             max_image_short_side=VIDEO_LONG_SIDE["720p"])  # the mix model renders 720p

FRAME_MODES = (
    Mode("first_last", "First and last frame", requires=("image", "last_image", "prompt")),
    Mode("image", "Image to video", requires=("image", "prompt"), forbids=("last_image",)),
    Mode("text", "Text to video", requires=("prompt",), forbids=("image", "last_image")),
)
REFERENCE_MODES = (Mode("reference", "Reference images to video", requires=("ref_image", "prompt")),)


def _frame_model(model_id: str) -> ModelSpec:
    family, resolution = model_id.split("-")[0], model_id.split("-")[1]
    kind = "Pro" if family == "viduq3p" else "Turbo"
    offpeak = model_id.endswith("-offpeak")
    return ModelSpec(
        id=model_id,
        label=f"Vidu Q3 {kind} {resolution}" + (" (off-peak)" if offpeak else ""),
        help=f"Vidu Q3 {kind} at {resolution}: text to video, image to video, or first and last frame."
        + (" Off-peak: cheaper, queued until the provider has spare capacity." if offpeak else ""),
        params=(_PROMPT, *_COMMON),
        slots=(_image(resolution), _last(resolution)),
        modes=FRAME_MODES,
    )


def _models() -> tuple[ModelSpec, ...]:
    ids = [f"{family}-{res}{suffix}" for family in ("viduq3p", "viduq3t") for res in ("540p", "720p", "1080p")
           for suffix in ("", "-offpeak")]
    mix = ModelSpec(
        id=MIX_MODEL,
        label="Vidu Q3 Pro mix 720p (reference images)",
        help="Up to 4 reference images (people, objects, styles) combined by the prompt, which cites them as "
        "@Image1, @Image2, ….",
        params=(_PROMPT, *_COMMON),
        slots=(_REFS,),
        modes=REFERENCE_MODES,
    )
    return (*(_frame_model(i) for i in ids), mix)


SPEC = ProviderSpec(
    id="gateway",
    name="Video gateway (Vidu)",
    default_base_url=None,
    key_help="The key (sk-...) your OpenAI-compatible video gateway issued. The gateway has no fixed address: "
    "set its URL (scheme://host[:port][/prefix]) in REELDECK_GATEWAY_BASE_URL or in Settings.",
    docs="Create Video Task: POST {BASE_URL}/v1/video/generations",
    models=_models(),
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
NOT_FOUND_CODES = ("task_not_exist", "task_not_found")


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

    async def prepare_inputs(self, job: JobInput) -> dict[str, Any]:
        """Fix the job's dialect (shown in its details) and refuse what that dialect cannot say; sends nothing."""
        dialect = self.dialect()
        if dialect == DIALECT_NEW_API:
            _check_new_api(job)
        return {"dialect": dialect}

    def parse_error(self, response: httpx.Response, body: Any) -> ProviderError:
        code = self.error_code(body)
        if code.lower() in NOT_FOUND_CODES or any(c in self.error_text(body).lower() for c in NOT_FOUND_CODES):
            return _not_found(self.spec, code or "task_not_exist", response.status_code)
        return super().parse_error(response, body)

    def error_text(self, body: Any) -> str:
        return error_message_from(body, "message", "error.message", "data.fail_reason", "error")

    def error_code(self, body: Any) -> str:
        return error_message_from(body, "code", "error.code", "error.type")

    @classmethod
    def image_rules(cls, params: dict[str, Any], slot: str) -> ImageRules:
        return ImageRules(
            min_side=128,
            aspect_min=1 / 4,
            aspect_max=4.0,
            max_bytes=MAX_IMAGE_BYTES,
            max_base64_chars=MAX_BASE64_CHARS,
            formats=("PNG", "JPEG", "WEBP"),
            fit=str(params.get("image_fit", "pad")),
        )

    def build_create(self, job: JobInput) -> HttpRequest:
        if job.prepared.get("dialect", self.dialect()) == DIALECT_NEW_API:
            return HttpRequest("POST", PATH, json=_new_api_body(job), idempotent=False)
        model = self.spec.model(job.model)
        body: dict[str, Any] = {"model": job.model}
        for param in model.params:
            value = job.params.get(param.name)
            if param.local or value is None or (isinstance(value, str) and not value.strip()):
                continue
            _put(body, param.body_path, value)
        for slot in model.slots:
            values = [_image_value(v) for v in job.inputs.get(slot.name) or []]
            if not values:
                continue
            body[slot.field] = values if slot.max_count > 1 else values[0]
        return HttpRequest("POST", PATH, json=body, idempotent=False)

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

    def build_poll(self, remote_id: str) -> HttpRequest:
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
    images = [_image_value(v) for slot in ("image", "last_image", "ref_image") for v in job.inputs.get(slot) or []]
    if images:
        body["images"] = images
    body["size"] = next(part for part in job.model.split("-") if part.endswith("p") and part[:-1].isdigit())
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


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path, creating nested objects (so an empty ``extra_body`` is never sent)."""
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _image_value(value: str) -> str:
    """A URL as is; a prepared local file as a base64 data URI."""
    if _is_url(value):
        return value
    return data_uri(Path(value).read_bytes())


def _not_found(spec: ProviderSpec, code: str, status: int | None) -> NotFoundError:
    return NotFoundError(f"{spec.name} does not know this task ({code}); it may have expired or been made with "
                         "another key or gateway.", status_code=status)


def _check_envelope(body: Any, spec: ProviderSpec) -> None:
    """Shape (a) wraps answers in ``{code, message, data}``; a code other than success is an error."""
    if not isinstance(body, dict):
        raise ProtocolError(f"{spec.name} sent an answer that could not be understood.", detail=str(body)[:300])
    code = body.get("code")
    if not isinstance(code, str) or code.lower() in ("success", "ok", "0", "200"):
        return
    if code.lower() in NOT_FOUND_CODES:
        raise _not_found(spec, code, None)
    if isinstance(body.get("data"), dict) and "status" in body["data"]:
        return  # a task answer with an odd code: the status decides
    raise http_error(spec, 400, error_message_from(body, "message") or code, code)


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


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
