"""GoAPI unified task API for ``Qubico/hug-video`` (``goapi-hug-video.txt``, REFERENCE.md section 1).

``POST /api/v1/task``, ``GET /api/v1/task/{id}``, ``DELETE /api/v1/task/{id}`` (only while ``pending``);
auth ``X-API-Key``; answers in the unified envelope; errors ``{code, message}``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from . import declared
from . import schemas as s
from .engine import Engine
from .errors import ApiError, bad_request
from .lifecycle import Lifecycle
from .media import is_http_url
from .pipeline import Auth, Call, OriginSpec, Route, json_response, named_task
from .recording import summarize
from .records import RenderPlan, TaskRecord

PROVIDER = "goapi"
MODEL = "Qubico/hug-video"
TASK_TYPE = "image_to_video"
LIFECYCLE = Lifecycle(((0.0, "pending"), (0.1, "staged"), (0.2, "processing")), 0.2, "completed", "failed")
ZERO_TIME = "0001-01-01T00:00:00Z"
COST = 200_000
FAIL_MESSAGE = "task failed: the model could not find two people to hug in the image"
AUTH = Auth("X-API-Key", bearer=False)

RULES = (
    s.required("model"),
    s.string("model"),
    s.one_of("model", [MODEL]),
    s.required("task_type"),
    s.string("task_type"),
    s.one_of("task_type", [TASK_TYPE]),
    s.required("input"),
    s.obj("input"),
    s.required("input.image_url"),
    s.string("input.image_url"),
    s.http_url("input.image_url"),
    s.obj("config"),
    s.string("config.service_mode"),
    s.one_of("config.service_mode", ["public", "private", ""]),
    s.obj("config.webhook_config"),
    s.string("config.webhook_config.endpoint"),
    s.rule("config.webhook_config.endpoint", lambda v, _b: v == "" or is_http_url(v), "must be an http(s) URL"),
    s.string("config.webhook_config.secret"),
)


def iso(timestamp: float) -> str:
    """GoAPI's timestamp format (UTC, milliseconds, ``Z``)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """GoAPI's error shape ``{code, message}``."""
    return json_response({"code": err.status, "message": err.message}, status=err.status)


async def create(engine: Engine, call: Call) -> web.StreamResponse:
    """Create a hug-video task."""
    body = call.json_body()
    if isinstance(body, dict) and body.get("model") != MODEL:
        return await _create_declared(engine, call, body)
    s.check(body, RULES)
    task_id = str(uuid.uuid4())
    image = engine.store_input(task_id, "image", body["input"]["image_url"])
    plan = RenderPlan(0, 0, 5.0, "AI hug video", "pan", MODEL)
    task = call.start_task(engine, task_id, model=MODEL, plan=plan, params=summarize(body), inputs=[image])
    return json_response(envelope(engine, task))


async def _create_declared(engine: Engine, call: Call, body: dict[str, Any]) -> web.StreamResponse:
    """A task for another catalog model (Kling, Hailuo, Wan, Hunyuan, a user's), checked against its declaration."""
    entry = engine.declarations.by_wire(PROVIDER, str(body.get("model")), body)
    if entry is None:
        raise bad_request("model", f"{body.get('model')!r} with task_type {body.get('task_type')!r} is not supported")
    task = declared.create_task(engine, call, entry, body, task_id=str(uuid.uuid4()), model=entry.sent_model)
    return json_response(envelope(engine, task))


async def get(engine: Engine, call: Call) -> web.StreamResponse:
    """Poll a task."""
    task = _task(engine, call)
    return json_response(envelope(engine, task))


async def cancel(engine: Engine, call: Call) -> web.StreamResponse:
    """Cancel a task that is still ``pending``."""
    task = _task(engine, call)
    status = engine.status(task).status
    if status != "pending":
        raise ApiError(400, f"task {task.id} cannot be canceled: its status is {status}, not pending")
    task.canceled_at = engine.clock()
    task.fail_message = "task canceled by user"
    engine.save_task(task)
    return json_response({"code": 200, "message": f"task {task.id} canceled"})


def _task(engine: Engine, call: Call) -> TaskRecord:
    task_id = call.request.match_info["task_id"]
    return named_task(engine, call, task_id, PROVIDER, ApiError(404, f"task {task_id} not found"))


def envelope(engine: Engine, task: TaskRecord) -> dict[str, Any]:
    """The unified task envelope."""
    return {"code": 200, "message": "success", "data": task_data(engine, task)}


def task_data(engine: Engine, task: TaskRecord) -> dict[str, Any]:
    """The ``data`` object of the unified envelope."""
    snap = engine.status(task)
    return {
        "task_id": task.id,
        "model": task.model,
        "task_type": task.params.get("task_type", TASK_TYPE),
        "status": snap.status,
        "config": _config(task.params.get("config")),
        "input": task.params.get("input", {}),
        "output": {"video_url": engine.result_url(task)} if snap.succeeded else {},
        "meta": {
            "created_at": iso(task.created_at),
            "started_at": iso(snap.started_at) if snap.started else ZERO_TIME,
            "ended_at": iso(snap.ended_at) if snap.terminal else ZERO_TIME,
            "usage": {
                "type": "point",
                "frozen": 0 if snap.terminal else COST,
                "consume": COST if snap.succeeded else 0,
            },
            "is_using_private_pool": False,
        },
        "detail": None,
        "logs": [],
        "error": _error(task.fail_message if snap.failed else None),
    }


def _config(config: Any) -> dict[str, Any]:
    config = config if isinstance(config, dict) else {}
    webhook = config.get("webhook_config") if isinstance(config.get("webhook_config"), dict) else {}
    return {
        "service_mode": config.get("service_mode", ""),
        "webhook_config": {"endpoint": webhook.get("endpoint", ""), "secret": ""},
    }


def _error(message: str | None) -> dict[str, Any]:
    if message is None:
        return {"code": 0, "raw_message": "", "message": "", "detail": None}
    return {"code": 10000, "raw_message": message, "message": message, "detail": None}


SPEC = OriginSpec.api(PROVIDER, auth=AUTH, errors=error_response, fail_message=FAIL_MESSAGE, routes=(
    Route("POST", "/api/v1/task", "create", create, body="json"),
    Route("GET", "/api/v1/task/{task_id}", "poll", get),
    Route("DELETE", "/api/v1/task/{task_id}", "cancel", cancel),
))
