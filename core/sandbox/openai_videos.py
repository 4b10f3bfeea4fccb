"""AIHubMix = the OpenAI Videos API (Sora; every other catalog model on ``/v1/videos`` from its declaration)
 (``aihubmix-openai-videos.txt``, REFERENCE.md section 3).

``POST /v1/videos`` (multipart/form-data as the page and openai-python send it, or JSON as AIHubMix's guide shows;
a form-urlencoded body is refused), sizes per model (sora-2: 720x1280 and 1280x720 only — AIHubMix Video-Gen guide,
new-api ``relay/common/relay_utils.go`` ``invalid_size``), ``GET /v1/videos/{id}`` (with ``openai-poll-after-ms``),
``GET /v1/videos`` (list; OpenAI has it, AIHubMix documents none: ``aihubmix_list_endpoint = False`` answers 404),
``DELETE /v1/videos/{id}``, ``POST /v1/videos/{id}/remix`` and
``GET /v1/videos/{id}/content?variant=video|thumbnail|spritesheet`` (same origin, with auth, Range support;
404 until completed, 410 after ``expires_at``). Errors ``{"error":{message,type,param,code}}``.

The create form also accepts the file part under ``input_reference.0`` / ``input_reference[]`` (the curl
sample on the AIHubMix page uses ``input_reference.0``). A reference object ``{"image_url": URL or data URI}``
is accepted as JSON ``input_reference`` or as the form field ``input_reference[image_url]`` (how the official
SDK sends it); ``file_id`` references answer 404 (the sandbox has no Files API).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from . import declared
from . import schemas as s
from .engine import RESULT_VARIANTS, Engine
from .errors import ApiError, bad_request
from .files import serve_file
from .lifecycle import Lifecycle
from .media import decode_inline, is_http_url, probe_image
from .pipeline import BEARER, Call, OriginSpec, Route, json_response, named_task
from .recording import FilePart, summarize
from .records import RenderPlan, TaskInput, TaskRecord

PROVIDER = "aihubmix"
MODELS = ("sora-2", "sora-2-pro")
SECONDS = ("4", "8", "12")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
#: Sizes per model (FIELD-NOTES "Sizes per model"; new-api relay/common/relay_utils.go).
MODEL_SIZES = {"sora-2": SIZES[:2], "sora-2-pro": SIZES}
#: Create bodies the service reads: multipart (page, openai-python) and JSON (AIHubMix guide).
JSON = "application/json"
CREATE_CONTENT_TYPES = ("multipart/form-data", JSON)
LIFECYCLE = Lifecycle(((0.0, "queued"), (0.15, "in_progress")), 0.15, "completed", "failed")
REFERENCE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
REFERENCE_FIELDS = ("input_reference", "input_reference.0", "input_reference[]")
SIZE_MISMATCH = "Inpaint image must match the requested width and height"
FAIL_MESSAGE = "Video generation failed: the request was blocked by our moderation system"

RULES = (
    s.required("prompt"),
    s.string("prompt"),
    s.length("prompt", 1, 32000),
    s.string("model"),
    s.one_of("model", MODELS),
    s.string("seconds"),
    s.one_of("seconds", SECONDS),
    s.string("size"),
    s.one_of("size", SIZES),
    s.rule(
        "size",
        lambda v, b: v in MODEL_SIZES.get(b.get("model") or MODELS[0], SIZES),
        "sora-2 renders only 720x1280 and 1280x720; 1024x1792 and 1792x1024 need sora-2-pro",
        code="invalid_size",
    ),
)
REMIX_RULES = (s.required("prompt"), s.string("prompt"), s.length("prompt", 1, 32000))


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """OpenAI's error shape."""
    kind = "invalid_request_error" if err.status < 500 else "server_error"
    if err.status == 429:
        kind = "rate_limit_exceeded"
    body = {"error": {"message": err.message, "type": kind, "param": err.field, "code": err.code}}
    return json_response(body, status=err.status)


def _form_or_json(call: Call) -> dict[str, Any]:
    kind = call.request.content_type
    if call.request.body_exists and kind not in CREATE_CONTENT_TYPES:
        raise ApiError(
            400,
            f"Unsupported Content-Type {kind!r}: send the create as multipart/form-data (or application/json)",
            field="body",
            code="invalid_content_type",
        )
    if isinstance(call.body, dict):
        return call.body
    return call.json_body()  # raises 400 for bad or missing JSON


async def create(engine: Engine, call: Call) -> web.StreamResponse:
    """Create a video job."""
    body = _form_or_json(call)
    if body.get("model") not in (None, *MODELS):
        return await _create_declared(engine, call, body)
    refuse_retired(engine, str(body.get("model") or MODELS[0]))
    s.check(body, RULES)
    size = body.get("size") or SIZES[0]
    task_id = "video_" + secrets.token_hex(16)
    inputs = _reference_input(engine, task_id, body, size)
    width, height = (int(v) for v in size.split("x"))
    plan = RenderPlan(
        width,
        height,
        float(body.get("seconds") or "4"),
        body["prompt"],
        "pan" if inputs else "title",
        body.get("model") or MODELS[0],
    )
    params = summarize({k: v for k, v in body.items() if not k.startswith("input_reference")})
    params.update(size=size, seconds=body.get("seconds") or "4", model=body.get("model") or MODELS[0])
    params["expires_after"] = engine.url_ttl_seconds
    task = call.start_task(engine, task_id, model=params["model"], plan=plan, params=params, inputs=inputs)
    return json_response(video_object(engine, task))


async def _create_declared(engine: Engine, call: Call, body: dict[str, Any]) -> web.StreamResponse:
    """A create for any other model of the catalog (Veo, Wan, a user's model), checked against its declaration."""
    entry = engine.declarations.find(PROVIDER, str(body.get("model")))
    if entry is None:
        raise bad_request("model", f"{body.get('model')!r} is not supported on /v1/videos", "model_not_found")
    refuse_retired(engine, entry.id)
    declared.check(entry, body, multipart=call.request.content_type != JSON)
    task_id = "video_" + secrets.token_hex(16)
    inputs = declared.store_inputs(engine, task_id, entry, body)
    plan = declared.plan(entry, body, bool(inputs))
    params = declared.params_summary(entry, body) | {"model": entry.id, "expires_after": engine.url_ttl_seconds}
    params.update(size=f"{plan.width}x{plan.height}", seconds=str(body.get("seconds") or int(plan.seconds)))
    task = call.start_task(engine, task_id, model=entry.id, plan=plan, params=params, inputs=inputs)
    return json_response(video_object(engine, task))


def refuse_retired(engine: Engine, model: str) -> None:
    """A retired model takes no new job (FIELD-NOTES "Sora retired upstream": OpenAI shut the Sora API down on
    2026-09-24): the answer OpenAI gives for a model that does not exist, 404 ``model_not_found``. A user's catalog
    that re-declares the model as available (a gateway still serving it) is served; videos already made still
    poll and download."""
    entry = engine.declarations.find(PROVIDER, model)
    if entry is not None and entry.lifecycle.status == "retired":
        raise ApiError(404, f"The model `{model}` does not exist or you do not have access to it.", field="model",
                       code="model_not_found")


def refuse_unremixable(engine: Engine, source: TaskRecord) -> None:
    """Only a model that remixes (the catalog's ``remix``: Sora, by the OpenAI videos API) takes a remix; a video of
    any other model on ``/v1/videos`` (Veo, Wan) is refused as an invalid request, and nothing is made."""
    entry = engine.declarations.find(PROVIDER, source.model)
    if entry is None or not entry.remix:
        raise ApiError(400, f"Video '{source.id}' was made with {source.model}, which cannot be remixed; only Sora "
                       "videos can be remixed.", code="invalid_request")


def _reference_value(body: dict[str, Any]) -> Any:
    for name in REFERENCE_FIELDS:
        if body.get(name) not in (None, ""):
            return body[name]
    nested = {
        key: body[f"input_reference[{key}]"] for key in ("image_url", "file_id") if f"input_reference[{key}]" in body
    }
    return nested or None


def _reference_input(engine: Engine, task_id: str, body: dict[str, Any], size: str) -> list[TaskInput]:
    value = _reference_value(body)
    if value is None:
        return []
    if isinstance(value, FilePart):
        _check_reference(value.data, size)
        return [engine.store_input_bytes(task_id, "input_reference", value.data, value.content_type)]
    if isinstance(value, dict) and isinstance(value.get("image_url"), str):
        return [_reference_from_url(engine, task_id, value["image_url"], size)]
    if isinstance(value, dict) and "file_id" in value:
        raise ApiError(404, f"No such File object: {value['file_id']}", field="input_reference", code="not_found")
    raise ApiError(
        400,
        'input_reference must be an image file or a reference object {"image_url": ...}',
        field="input_reference",
        code="invalid_type",
    )


def _reference_from_url(engine: Engine, task_id: str, url: str, size: str) -> TaskInput:
    if is_http_url(url):
        local = engine.local_file_for_url(url)
        if local is not None:
            _check_reference(local.read_bytes(), size)
        return engine.store_input(task_id, "input_reference", url)
    try:
        _check_reference(decode_inline(url).data, size)
    except ValueError as exc:
        raise ApiError(
            400, f"input_reference.image_url: {exc}", field="input_reference", code="invalid_value"
        ) from None
    return engine.store_input(task_id, "input_reference", url)


def _check_reference(data: bytes, size: str) -> None:
    info = probe_image(data)
    if info is None or info.format not in REFERENCE_FORMATS:
        raise ApiError(
            400,
            "input_reference: unsupported image format; use image/jpeg, image/png or image/webp",
            field="input_reference",
            code="invalid_value",
        )
    if f"{info.width}x{info.height}" != size:
        raise ApiError(400, SIZE_MISMATCH, field="input_reference", code="invalid_value")


def video_object(engine: Engine, task: TaskRecord) -> dict[str, Any]:
    """The Video object."""
    snap = engine.status(task)
    params = task.params
    expires_after = float(params.get("expires_after", engine.url_ttl_seconds))
    return {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": snap.status,
        "progress": snap.progress,
        "created_at": int(task.created_at + engine.provider_clock_offset),
        "completed_at": int(snap.ended_at + engine.provider_clock_offset) if snap.succeeded else None,
        "expires_at": int(snap.ended_at + expires_after + engine.provider_clock_offset) if snap.succeeded else None,
        "prompt": task.plan.caption,
        "size": params.get("size", SIZES[0]),
        "seconds": params.get("seconds", "4"),
        "quality": "standard",
        "remixed_from_video_id": task.remixed_from,
        "error": {"code": "video_generation_failed", "message": task.fail_message} if snap.failed else None,
    }


def _task(engine: Engine, call: Call) -> TaskRecord:
    video_id = call.request.match_info["video_id"]
    return named_task(engine, call, video_id, PROVIDER,
                      ApiError(404, f"Video with id '{video_id}' not found.", field="video_id", code="not_found"))


async def retrieve(engine: Engine, call: Call) -> web.StreamResponse:
    """Poll a video, suggesting the next poll interval in ``openai-poll-after-ms``."""
    task = _task(engine, call)
    snap = engine.status(task)
    headers = {}
    if not snap.terminal:
        headers["openai-poll-after-ms"] = str(int(min(max(snap.remaining * 250, 250), 15_000)))
    return json_response(video_object(engine, task), headers=headers)


async def delete(engine: Engine, call: Call) -> web.StreamResponse:
    """Delete a video."""
    task = _task(engine, call)
    task.deleted_at = engine.clock()
    engine.save_task(task)
    return json_response({"id": task.id, "deleted": True, "object": "video.deleted"})


async def remix(engine: Engine, call: Call) -> web.StreamResponse:
    """Remix a completed video with a new prompt."""
    source = _task(engine, call)
    body = call.json_body()
    s.check(body, REMIX_RULES)
    refuse_unremixable(engine, source)
    if not engine.status(source).succeeded:
        raise ApiError(
            400, f"Video '{source.id}' is not completed; only completed videos can be remixed.", code="invalid_request"
        )
    refuse_retired(engine, source.model)
    task_id = "video_" + secrets.token_hex(16)
    plan = RenderPlan(
        source.plan.width, source.plan.height, source.plan.seconds, body["prompt"], source.plan.mode, source.model
    )
    params = dict(source.params, prompt=body["prompt"], expires_after=engine.url_ttl_seconds)
    task = call.start_task(engine, task_id, model=source.model, plan=plan, params=params,
                           inputs=list(source.inputs), remixed_from=source.id)
    return json_response(video_object(engine, task))


async def content(engine: Engine, call: Call) -> web.StreamResponse:
    """Download the video, thumbnail or spritesheet of a completed video."""
    task = _task(engine, call)
    variant = call.request.query.get("variant", "video")
    if variant not in RESULT_VARIANTS:
        raise ApiError(
            400, "variant: must be one of 'video', 'thumbnail', 'spritesheet'", field="variant", code="invalid_value"
        )
    snap = engine.status(task)
    if not snap.succeeded:
        raise ApiError(404, f"Video '{task.id}' is not ready: its status is {snap.status}.", code="not_found")
    if engine.clock() > video_object(engine, task)["expires_at"]:
        raise ApiError(410, f"The content of video '{task.id}' has expired.", code="video_expired")
    outputs = await engine.renders.ensure(task)
    path = {"video": outputs.video, "thumbnail": outputs.thumbnail, "spritesheet": outputs.spritesheet}[variant]
    return await serve_file(engine, call, path, RESULT_VARIANTS[variant][1])


async def list_videos(engine: Engine, call: Call) -> web.StreamResponse:
    """List videos with cursor pagination (404 when ``aihubmix_list_endpoint`` is off)."""
    if not engine.aihubmix_list_endpoint:
        raise ApiError(404, f"Invalid URL (GET {call.request.path})", code="not_found")
    query = call.request.query
    limit = _limit(query.get("limit", "20"))
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, "order: must be 'asc' or 'desc'", field="order", code="invalid_value")
    listed_before = engine.clock() - engine.list_lag_seconds
    tasks = [t for t in engine.store.list_tasks(PROVIDER) if t.deleted_at is None and t.created_at <= listed_before]
    if order == "desc":
        tasks.reverse()
    after = query.get("after")
    if after:
        ids = [t.id for t in tasks]
        tasks = tasks[ids.index(after) + 1 :] if after in ids else []
    page = tasks[:limit]
    data = [video_object(engine, t) for t in page]
    return json_response(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(tasks) > len(page),
        }
    )


def _limit(raw: str) -> int:
    try:
        limit = int(raw)
    except ValueError:
        limit = -1
    if not 0 <= limit <= 100:
        raise ApiError(400, "limit: must be an integer between 0 and 100", field="limit", code="invalid_value")
    return limit


SPEC = OriginSpec.api(PROVIDER, auth=BEARER, errors=error_response, fail_message=FAIL_MESSAGE, routes=(
    Route("POST", "/v1/videos", "create", create, body="auto"),
    Route("GET", "/v1/videos", "list", list_videos),
    Route("GET", "/v1/videos/{video_id}", "poll", retrieve),
    Route("DELETE", "/v1/videos/{video_id}", "cancel", delete),
    Route("POST", "/v1/videos/{video_id}/remix", "remix", remix, body="json"),
    Route("GET", "/v1/videos/{video_id}/content", "content", content),
))
