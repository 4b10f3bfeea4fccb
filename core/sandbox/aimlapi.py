"""AI/ML API, MiniMax ``video-01-live2d`` (``aimlapi-minimax-video-01-live2d.txt``, REFERENCE.md section 2).

``POST /v2/generate/video/minimax/generation`` and ``GET`` the same path ``?generation_id=``; auth Bearer.
Errors ``{message, path, requestId, statusCode, timestamp}``; body violations say ``Body validation error!``
and list the fields in ``meta`` (zod-like issues; the exact detail format is our choice).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from . import declared
from . import schemas as s
from .engine import Engine
from .errors import ApiError, bad_request
from .lifecycle import Lifecycle
from .media import ImageLimits
from .pipeline import BEARER, Call, OriginSpec, Route, json_response, named_task, required_query
from .recording import summarize
from .records import RenderPlan, TaskRecord

PROVIDER = "aimlapi"
MODEL = "video-01-live2d"
PATH = "/v2/generate/video/minimax/generation"
#: The universal path every other video model uses (FIELD-NOTES "AI/ML API"); a task polls on its create path.
UNIVERSAL_PATH = "/v2/video/generations"
LIFECYCLE = Lifecycle(((0.0, "queued"), (0.15, "generating")), 0.15, "completed", "error")
VIDEO_SECONDS = 6
FAIL_MESSAGE = "Video generation failed: the input image was rejected by the content filter"

FIRST_FRAME = ImageLimits(
    formats=frozenset({"JPEG", "PNG"}),
    max_bytes=20 * 1024 * 1024,
    short_side_over=300,
    aspect_min=2 / 5,
    aspect_max=5 / 2,
    aspect_strict=True,
)

RULES = (
    s.required("model"),
    s.string("model"),
    s.one_of("model", [MODEL]),
    s.required("prompt"),
    s.string("prompt"),
    s.length("prompt", 1, 2000),
    s.boolean("prompt_optimizer"),
    s.required("first_frame_image"),
    s.string("first_frame_image"),
    s.length("first_frame_image", 1),
    s.image("first_frame_image", FIRST_FRAME),
)


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """AI/ML API's error shape."""
    message = err.message
    body: dict[str, Any] = {}
    if err.status == 400 and err.field:
        message = "Query validation error!" if err.code == "invalid_query" else "Body validation error!"
        body["meta"] = [{"path": err.field.split("."), "message": err.message, "code": err.code}]
    body.update(
        message=message,
        path=request.path,
        requestId=str(uuid.uuid4()),
        statusCode=err.status,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    return json_response(body, status=err.status)


async def create(engine: Engine, call: Call) -> web.StreamResponse:
    """Create a generation."""
    body = call.json_body()
    s.check(body, RULES)
    task_id = str(secrets.randbelow(9 * 10**14) + 10**14)
    image = engine.store_input(task_id, "first_frame_image", body["first_frame_image"])
    plan = RenderPlan(0, 0, float(VIDEO_SECONDS), body["prompt"], "pan", MODEL)
    task = call.start_task(engine, task_id, model=MODEL, plan=plan, params=summarize(body), inputs=[image])
    return json_response({"generation_id": task.id, "status": "queued"})


async def poll(engine: Engine, call: Call) -> web.StreamResponse:
    """Retrieve a generation."""
    generation_id = required_query(call, "generation_id", "invalid_query")
    task = named_task(engine, call, generation_id, PROVIDER, ApiError(404, f"Generation {generation_id} not found"))
    return json_response(generation(engine, task))


async def create_universal(engine: Engine, call: Call) -> web.StreamResponse:
    """``POST /v2/video/generations``: any catalog model on the universal path, checked against its declaration."""
    body = call.json_body()
    entry = engine.declarations.find(PROVIDER, str(body.get("model"))) if isinstance(body, dict) else None
    if entry is None or (entry.create_path or PATH) != UNIVERSAL_PATH:
        raise bad_request("model", "must be one of the video models of /v2/video/generations")
    task = declared.create_task(engine, call, entry, body, task_id=str(uuid.uuid4()))
    return json_response({"id": task.id, "status": "queued", "meta": {"usage": {"tokens_used": 0}}})


def generation(engine: Engine, task: TaskRecord) -> dict[str, Any]:
    """The poll answer."""
    snap = engine.status(task)
    done = snap.succeeded
    return {
        "id": task.id,
        "status": snap.status,
        "video": {"url": engine.result_url(task), "duration": task.plan.seconds} if done else None,
        "duration": task.plan.seconds if done else None,
        "error": {"name": "GenerationError", "message": task.fail_message} if snap.failed else None,
        "meta": {"usage": {"tokens_used": 420_000} if done else {}},
    }


SPEC = OriginSpec.api(PROVIDER, auth=BEARER, errors=error_response, fail_message=FAIL_MESSAGE, routes=(
    Route("POST", PATH, "create", create, body="json"),
    Route("GET", PATH, "poll", poll),
    Route("POST", UNIVERSAL_PATH, "create", create_universal, body="json"),
    Route("GET", UNIVERSAL_PATH, "poll", poll),
))
