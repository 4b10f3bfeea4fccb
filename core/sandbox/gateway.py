"""OpenAI-compatible video gateway, Vidu models (``gateway-video-generations-vidu.txt``, REFERENCE.md section 4).

``POST /v1/video/generations`` and ``GET /v1/video/generations/{task_id}``; auth Bearer; errors
``{"code": "<str>", "message": ..., "data": null}``. The poll body takes one of four shapes chosen by
``sb.gateway_shape``: "a" (new-api's envelope), "b" (OpenAI-video-like), "c" (``{task_id, status, url}``;
REFERENCE.md section 4) or "vidu" (Vidu's own task object passed through: ``{id, state, err_code, credits,
creations:[{url, cover_url}]}``, FIELD-NOTES; new-api ``relay/channel/task/vidu/adaptor.go`` ``taskResultResponse``).

``sb.gateway_dialect`` picks the create fields the gateway reads, and any other field is refused:
"page" (the page's ``image``, ``last_image``, ``reference_image_urls``, ``aspect_ratio``, ``duration``,
``extra_body``) or "new-api" (``TaskSubmitReq`` in new-api ``relay/common/relay_info.go``: ``image``/``images[]``,
``size``, ``duration``, ``metadata``; the Vidu adaptor reads 1 image as image to video, 2 as first and last frame,
3+ as references, and merges ``metadata`` into Vidu's ``requestPayload``, which has no aspect ratio or audio).
``prompt`` is required in every mode and dialect (page; new-api ``validatePrompt``).

Choices where the page is silent: ``aspect_ratio`` is one of 16:9, 9:16, 1:1, 4:3, 3:4 (default 16:9, or the
closest to the first image's shape); ``duration`` is an integer 1..16 or a numeric string (default 5);
``viduq3p-mix-720p`` requires reference images.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from aiohttp import web

from . import declared
from . import schemas as s
from .engine import Engine
from .errors import ApiError, bad_request
from .lifecycle import Lifecycle, Snapshot
from .media import ImageLimits, is_http_url, probe_image
from .pipeline import BEARER, Call, OriginSpec, Route, json_response, named_task
from .recording import summarize
from .records import RenderPlan, TaskInput, TaskRecord

PROVIDER = "gateway"
MIX_MODEL = "viduq3p-mix-720p"
BASE_MODELS = tuple(f"viduq3{tier}-{res}" for tier in ("p", "t") for res in ("540p", "720p", "1080p"))
MODELS = (*BASE_MODELS, *(f"{m}-offpeak" for m in BASE_MODELS), MIX_MODEL)
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
DEFAULT_DURATION = 5
FAIL_MESSAGE = "upstream task failed: content moderation rejected the input"

LIFECYCLE_A = Lifecycle(
    ((0.0, "NOT_START"), (0.05, "SUBMITTED"), (0.1, "QUEUED"), (0.2, "IN_PROGRESS")), 0.2, "SUCCESS", "FAILURE"
)
LIFECYCLE_BC = Lifecycle(((0.0, "queued"), (0.15, "in_progress")), 0.15, "completed", "failed")
#: Vidu's own ``state`` values (platform.vidu.com get-generation; new-api vidu adaptor ``ParseTaskResult``).
LIFECYCLE_VIDU = Lifecycle(((0.0, "created"), (0.05, "queueing"), (0.2, "processing")), 0.2, "success", "failed")
SHAPES = ("a", "b", "c", "vidu")
DIALECTS = ("page", "new-api")
PAGE_FIELDS = frozenset({"model", "prompt", "image", "last_image", "reference_image_urls", "aspect_ratio", "duration",
                         "extra_body"})
NEW_API_FIELDS = frozenset({"model", "prompt", "image", "images", "size", "duration", "metadata"})
#: Keys of Vidu's ``requestPayload`` in new-api's adaptor that ``metadata`` may set.
NEW_API_METADATA = frozenset({"seed", "bgm", "movement_amplitude", "payload", "callback_url", "resolution"})
RESOLUTIONS = ("540p", "720p", "1080p")

IMAGE = ImageLimits(
    formats=frozenset({"JPEG", "PNG", "WEBP"}),
    max_bytes=50 * 1024 * 1024,
    max_payload_chars=10 * 1024 * 1024,
    min_side=128,
    aspect_min=1 / 4,
    aspect_max=4.0,
    data_uri_only=True,
)


def duration_value(value: Any) -> int | None:
    """The duration as an int (int or numeric string), or None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _check_duration(value: Any, _body: dict[str, Any]) -> str | None:
    number = duration_value(value)
    if number is None:
        return "must be an integer (or a numeric string)"
    return None if 1 <= number <= 16 else "must be between 1 and 16"


def _check_references(value: Any, _body: dict[str, Any]) -> str | None:
    if not isinstance(value, list):
        return "must be an array of image URLs"
    if not 1 <= len(value) <= 4:
        return "must hold 1 to 4 images"
    for index, item in enumerate(value):
        problem = _image_problem(item)
        if problem is not None:
            return f"item {index}: {problem}"
    return None


def _image_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return None if is_http_url(value) else IMAGE.check_inline(value)


def _has_prompt(body: dict[str, Any]) -> bool:
    prompt = body.get("prompt")
    return isinstance(prompt, str) and bool(prompt.strip())


def _unknown_field(body: dict[str, Any], allowed: frozenset[str]) -> str | None:
    return next((name for name in body if name not in allowed), None)


PROMPT_RULE = s.rule(
    "prompt",
    lambda _v, b: _has_prompt(b),
    "is required (in every mode)",
    code="invalid_request",
    when_missing=True,
)


def _image_count(value: Any, body: dict[str, Any]) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty array of images"
    if len(value) > MAX_NEW_API_REFERENCES:
        return f"must hold at most {MAX_NEW_API_REFERENCES} images"
    for index, item in enumerate(value):
        problem = _image_problem(item)
        if problem is not None:
            return f"item {index}: {problem}"
    is_mix = body.get("model") == MIX_MODEL
    if len(value) >= 3 and not is_mix:
        return f"3 or more images mean reference mode, which only {MIX_MODEL} supports"
    if is_mix and len(value) < 3:
        return "1 image means image to video and 2 mean first and last frame; reference mode needs 3 or more"
    return None


MAX_NEW_API_REFERENCES = 4

NEW_API_RULES = (
    s.required("model"),
    s.string("model"),
    s.one_of("model", MODELS),
    PROMPT_RULE,
    s.string("prompt"),
    s.string("image"),
    s.image("image", IMAGE),
    s.Rule("images", _image_count),
    s.rule("images", lambda _v, b: b.get("image") is None, "send either image or images"),
    s.rule("model", lambda v, b: v != MIX_MODEL or b.get("images") is not None, f"{MIX_MODEL} needs images"),
    s.string("size"),
    s.one_of("size", RESOLUTIONS),
    s.integer("duration"),
    s.int_range("duration", 1, 16),
    s.obj("metadata"),
    s.integer("metadata.seed"),
    s.boolean("metadata.bgm"),
)


RULES = (
    s.required("model"),
    s.string("model"),
    s.one_of("model", MODELS),
    s.string("prompt"),
    s.string("image"),
    s.image("image", IMAGE),
    s.string("last_image"),
    s.image("last_image", IMAGE),
    s.Rule("reference_image_urls", _check_references),
    s.string("aspect_ratio"),
    s.one_of("aspect_ratio", ASPECT_RATIOS),
    s.Rule("duration", _check_duration),
    s.obj("extra_body"),
    s.boolean("extra_body.audio"),
    s.integer("extra_body.seed"),
    s.boolean("extra_body.bgm"),
    s.rule(
        "last_image",
        lambda _v, b: b.get("image") is not None,
        "needs image too (first-and-last-frame mode); last_image alone is not supported",
    ),
    s.rule("reference_image_urls", lambda _v, b: b.get("image") is None, "cannot be combined with image"),
    s.rule(
        "reference_image_urls", lambda _v, b: b.get("model") == MIX_MODEL, f"is only supported by model {MIX_MODEL}"
    ),
    s.rule(
        "model",
        lambda v, b: v != MIX_MODEL or b.get("reference_image_urls") is not None,
        f"{MIX_MODEL} needs reference_image_urls",
    ),
    PROMPT_RULE,
)


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """The gateway's error shape."""
    code = err.code or ("invalid_request" if err.status < 500 else "server_error")
    return json_response({"code": code, "message": err.message, "data": None}, status=err.status)


def _new_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "task_" + "".join(secrets.choice(alphabet) for _ in range(28))


def _store_inputs(engine: Engine, task_id: str, body: dict[str, Any]) -> list[TaskInput]:
    inputs = []
    for role in ("image", "last_image"):
        if body.get(role) is not None:
            inputs.append(engine.store_input(task_id, role, body[role]))
    for url in body.get("reference_image_urls") or []:
        inputs.append(engine.store_input(task_id, "reference", url))
    return inputs


def output_size(model: str, aspect: str | None, inputs: list[TaskInput], engine: Engine) -> tuple[int, int]:
    """Pixel size from the model's resolution and the aspect ratio (or the first image's shape)."""
    short = int(next(part for part in model.split("-") if part.endswith("p") and part[:-1].isdigit())[:-1])
    if aspect is None:
        aspect = _closest_aspect(engine, inputs)
    width, height = (int(v) for v in aspect.split(":"))
    if width >= height:
        return _even(short * width / height), short
    return short, _even(short * height / width)


def _closest_aspect(engine: Engine, inputs: list[TaskInput]) -> str:
    stored = next((item for item in inputs if item.path), None)
    info = probe_image((engine.state_dir / stored.path).read_bytes()) if stored and stored.path else None
    if info is None:
        return "16:9"
    ratio = info.width / info.height

    def distance(aspect: str) -> float:
        w, h = (int(v) for v in aspect.split(":"))
        return abs(w / h - ratio)

    return min(ASPECT_RATIOS, key=distance)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def check_dialect(engine: Engine, body: Any) -> dict[str, Any]:
    """Check a create body against the configured dialect's fields and rules; returns it in the page's terms."""
    if not isinstance(body, dict):
        raise ApiError(400, "body: must be a JSON object", field="body", code="invalid_request")
    new_api = engine.gateway_dialect == "new-api"
    allowed = NEW_API_FIELDS if new_api else PAGE_FIELDS
    unknown = next((name for name in body if name not in allowed), None)
    if unknown is not None:
        dialect = "new-api" if new_api else "page"
        raise ApiError(400, f"{unknown}: this gateway ({dialect} dialect) has no such field", field=unknown,
                       code="invalid_request")
    if not new_api:
        s.check(body, RULES)
        return body
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        extra = next((key for key in metadata if key not in NEW_API_METADATA), None)
        if extra is not None:
            raise ApiError(400, f"metadata.{extra}: Vidu's request (new-api adaptor) has no such field",
                           field=f"metadata.{extra}", code="invalid_request")
    s.check(body, NEW_API_RULES)
    return _as_page(body)


def _as_page(body: dict[str, Any]) -> dict[str, Any]:
    """A new-api body in the page's terms, for storing and rendering."""
    images = body.get("images") or ([body["image"]] if body.get("image") is not None else [])
    page: dict[str, Any] = {"model": body["model"], "prompt": body["prompt"]}
    if len(images) >= 3:
        page["reference_image_urls"] = images
    elif images:
        page["image"] = images[0]
        if len(images) == 2:
            page["last_image"] = images[1]
    if body.get("duration") is not None:
        page["duration"] = body["duration"]
    return page


async def create(engine: Engine, call: Call) -> web.StreamResponse:
    """Create a generation job."""
    received = call.json_body()
    if isinstance(received, dict) and received.get("model") not in (None, *MODELS):
        return await _create_declared(engine, call, received)
    body = check_dialect(engine, received)
    task_id = _new_id()
    inputs = _store_inputs(engine, task_id, body)
    width, height = output_size(body["model"], body.get("aspect_ratio"), inputs, engine)
    duration = duration_value(body.get("duration")) or DEFAULT_DURATION
    mode = "title" if not inputs else ("crossfade" if body.get("last_image") is not None else "pan")
    plan = RenderPlan(width, height, float(duration), body.get("prompt") or "", mode, body["model"])
    params = summarize(received)
    params["duration"] = duration
    task = call.start_task(engine, task_id, model=body["model"], plan=plan, params=params, inputs=inputs)
    return json_response(created(task))


async def _create_declared(engine: Engine, call: Call, body: dict[str, Any]) -> web.StreamResponse:
    """A model the gateway's catalog declares besides the page's Vidu ones (a user's model), checked against its
    declaration (page dialect fields)."""
    entry = engine.declarations.find(PROVIDER, str(body.get("model")))
    if entry is None:
        raise bad_request("model", f"must be one of {', '.join(m.id for m in engine.declarations.models(PROVIDER))}")
    task = declared.create_task(engine, call, entry, body, task_id=_new_id())
    return json_response(created(task))


def created(task: TaskRecord) -> dict[str, Any]:
    """The create's answer: the new job, queued."""
    return {"id": task.id, "task_id": task.id, "object": "video.generation.job", "model": task.model,
            "status": "queued", "progress": 0, "created_at": int(task.created_at)}


async def poll(engine: Engine, call: Call) -> web.StreamResponse:
    """Poll a generation in the configured shape."""
    task_id = call.request.match_info["task_id"]
    task = named_task(engine, call, task_id, PROVIDER,
                      ApiError(400, f"task_not_exist: {task_id}", code="task_not_exist"))
    snap = engine.status(task)
    url = engine.result_url(task) if snap.succeeded else None
    shape = engine.gateway_shape if engine.gateway_shape in SHAPES else "a"
    builders = {"a": shape_a, "b": shape_b, "c": shape_c, "vidu": shape_vidu}
    return json_response(builders[shape](engine, task, snap, url))


def shape_a(engine: Engine, task: TaskRecord, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """``{"code":"success","data":{task_id,status,progress:"40%",fail_reason,result_url,data:{...}}}``."""
    upstream: dict[str, Any] = {"task_id": task.id, "state": snap.status.lower(), "creations": [],
                                "credits": vidu_credits(task)}  # Vidu's task object, passed through by new-api
    if url is not None:
        upstream["creations"] = [{"id": task.id, "url": url, "cover_url": engine.result_url(task, "thumbnail")}]
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": task.id,
            "action": "generate",
            "status": snap.status,
            "progress": f"{snap.progress}%",
            "fail_reason": task.fail_message if snap.failed else "",
            "result_url": url or "",
            "submit_time": int(task.created_at),
            "start_time": int(snap.started_at) if snap.started else 0,
            "finish_time": int(snap.ended_at) if snap.terminal else 0,
            "data": upstream,
        },
    }


def _error(task: TaskRecord, snap: Snapshot) -> dict[str, Any] | None:
    return {"code": "generation_failed", "message": task.fail_message} if snap.failed else None


def shape_b(engine: Engine, task: TaskRecord, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """OpenAI-video-like: ``{id, status, progress:int, metadata:{url}, error}``."""
    return {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": snap.status,
        "progress": snap.progress,
        "created_at": int(task.created_at),
        "completed_at": int(snap.ended_at) if snap.succeeded else None,
        "metadata": {"url": url} if url else {},
        "error": _error(task, snap),
    }


def shape_c(engine: Engine, task: TaskRecord, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """``{task_id, status, url, format, metadata, error}``."""
    plan = task.plan
    return {
        "task_id": task.id,
        "status": snap.status,
        "url": url,
        "format": "mp4",
        "metadata": {"duration": plan.seconds, "resolution": f"{plan.width}x{plan.height}", "progress": snap.progress},
        "error": _error(task, snap),
    }


def vidu_credits(task: TaskRecord) -> int:
    """The ``credits`` Vidu reports a task consumed (Vidu's get-generation: "credits, Int, the credits this task
    consumed"). The page gives no price list, so the emulator charges per second by resolution, double for "p"
    (pro) models and half off-peak; a failed task still reports what was taken (the refund is a separate matter)."""
    resolution = next((r for r in RESOLUTIONS if r in task.model), "720p")
    per_second = {"540p": 2, "720p": 4, "1080p": 8}[resolution] * (2 if task.model.startswith("viduq3p") else 1)
    credits = max(1, round(task.plan.seconds)) * per_second
    return credits // 2 if task.model.endswith("-offpeak") else credits


def shape_vidu(engine: Engine, task: TaskRecord, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """Vidu's own task object: ``{id, state, err_code, credits, payload, creations:[{id, url, cover_url}]}``."""
    creations = []
    if url is not None:
        creations = [{"id": task.id, "url": url, "cover_url": engine.result_url(task, "thumbnail")}]
    return {
        "id": task.id,
        "state": snap.status,
        "err_code": "AuditSubmitIllegal" if snap.failed else "",
        "credits": vidu_credits(task),
        "payload": "",
        "creations": creations,
    }


def lifecycle(engine: Engine) -> Lifecycle:
    """The lifecycle matching the configured poll shape."""
    if engine.gateway_shape == "vidu":
        return LIFECYCLE_VIDU
    return LIFECYCLE_A if engine.gateway_shape not in ("b", "c") else LIFECYCLE_BC


SPEC = OriginSpec.api(PROVIDER, auth=BEARER, errors=error_response, fail_message=FAIL_MESSAGE, routes=(
    Route("POST", "/v1/video/generations", "create", create, body="json"),
    Route("GET", "/v1/video/generations/{task_id}", "poll", poll),
))
