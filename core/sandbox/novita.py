"""Novita ``img2video-motion`` (``novita-img2video-motion.txt``, REFERENCE.md section 5): the API origin.

``POST /v3/async/img2video-motion`` and ``GET /v3/async/task-result?task_id=``; auth Bearer; errors
``{code, reason, message, metadata}``. Assets come from the separate asset host (:mod:`.novita_assets`);
``motion_video_assets_id`` may also be one of the page's five preset ids.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from aiohttp import web

from . import declared
from . import schemas as s
from .engine import Engine
from .errors import ApiError
from .lifecycle import Lifecycle
from .pipeline import BEARER, Call, OriginSpec, Route, json_response, named_task, required_query
from .recording import summarize
from .records import RenderPlan, TaskInput, TaskRecord

PROVIDER = "novita"
MODEL = "img2video-motion"
TASK_TYPE = "IMG_TO_VIDEO_MOTION"
LIFECYCLE = Lifecycle(
    ((0.0, "TASK_STATUS_QUEUED"), (0.15, "TASK_STATUS_PROCESSING")), 0.15, "TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED"
)
VIDEO_SECONDS = 4.0
FAIL_MESSAGE = "task failed: no human pose detected in the motion video"

#: The five ready-made motion video asset ids on the Novita page, with their demo videos.
PRESET_MOTIONS = {
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL3BYTjRDTXpwNzNqa2U2Wm1Na0FiRmVpcGtXRHMyajM4": "https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo1.mp4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1BRNlpiRW5jWW1LR1pINk1LWDViMzRCRmo1Yk1jRDY4": "https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo2.mp4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL2JrdE01UEpIY0tIU0ZmUzdINEQ0aTdTZEpTWjhBRWFC": "https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo3.mp4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL0NLd0N3aHJwS0ZyYVduNWVoejVFV0tleGlzN0toNmRq": "https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo4.mp4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1FFcmphdGJCOFI3ODdhR0gzajVUSkJZbTNkaHIzNzRu": "https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo5.mp4",
}
REASONS = {
    400: "INVALID_REQUEST_BODY",
    401: "INVALID_API_KEY",
    403: "NOT_ENOUGH_BALANCE",
    404: "TASK_NOT_FOUND",
    413: "REQUEST_ENTITY_TOO_LARGE",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """Novita's error shape."""
    reason = err.code if err.code and err.code.isupper() else REASONS.get(err.status, "INTERNAL_ERROR")
    body = {
        "code": err.status,
        "reason": reason,
        "message": err.message,
        "metadata": {"field": err.field} if err.field else {},
    }
    return json_response(body, status=err.status)


def rules(engine: Engine) -> tuple[s.Rule, ...]:
    """The create rules (two of them look assets up in this emulator's store)."""

    def known_image(value: Any, _body: dict[str, Any]) -> bool:
        asset = engine.store.get_asset(value)
        return asset is not None and asset.kind == "image"

    def known_motion(value: Any, _body: dict[str, Any]) -> bool:
        asset = engine.store.get_asset(value)
        return value in PRESET_MOTIONS or (asset is not None and asset.kind == "video")

    return (
        s.required("image_assets_id"),
        s.string("image_assets_id"),
        s.length("image_assets_id", 1),
        s.rule("image_assets_id", known_image, "is not a known image asset (upload it to the asset host)"),
        s.required("motion_video_assets_id"),
        s.string("motion_video_assets_id"),
        s.length("motion_video_assets_id", 1),
        s.rule("motion_video_assets_id", known_motion, "is neither an uploaded video asset nor a preset motion"),
        s.required("seed"),
        s.integer("seed"),
        s.int_range("seed", -1),
        s.obj("extra"),
    )


def _inputs(engine: Engine, task_id: str, body: dict[str, Any]) -> list[TaskInput]:
    image = engine.store.get_asset(body["image_assets_id"])
    assert image is not None
    inputs = [engine.store_asset_input(task_id, "image", image)]
    motion_id = body["motion_video_assets_id"]
    motion = engine.store.get_asset(motion_id)
    if motion is not None:
        inputs.append(engine.store_asset_input(task_id, "motion", motion))
    else:
        inputs.append(TaskInput("motion", "preset", None, PRESET_MOTIONS[motion_id], "video/mp4"))
    return inputs


async def create(engine: Engine, call: Call) -> web.StreamResponse:
    """Create an img2video-motion task."""
    body = call.json_body()
    s.check(body, rules(engine))
    task_id = str(uuid.uuid4())
    inputs = _inputs(engine, task_id, body)
    motion = inputs[1]
    caption = "motion: " + (motion.url.rsplit("/", 1)[-1] if motion.url else "uploaded video")
    plan = RenderPlan(0, 0, VIDEO_SECONDS, caption, "pan", MODEL)
    task = call.start_task(engine, task_id, model=MODEL, plan=plan, params=summarize(body), inputs=inputs)
    return json_response({"task_id": task.id})


async def create_declared(engine: Engine, call: Call) -> web.StreamResponse:
    """``POST /v3/async/<endpoint>`` for another catalog model (the path names it), checked against its declaration."""
    entry = engine.declarations.by_path(PROVIDER, call.request.path)
    if entry is None:
        raise ApiError(404, f"no such endpoint: {call.request.path}", code="NOT_FOUND")
    body = call.json_body()
    task = declared.create_task(engine, call, entry, body, task_id=str(uuid.uuid4()))
    return json_response({"task_id": task.id})


async def task_result(engine: Engine, call: Call) -> web.StreamResponse:
    """Poll a task."""
    task_id = required_query(call, "task_id", "INVALID_REQUEST_BODY")
    missing = ApiError(404, f"task {task_id} not found", code="TASK_NOT_FOUND")
    task = named_task(engine, call, task_id, PROVIDER, missing)
    return json_response(result(engine, task))


def result(engine: Engine, task: TaskRecord) -> dict[str, Any]:
    """The task-result answer."""
    snap = engine.status(task)
    videos = []
    if snap.succeeded:
        ttl = str(int(engine.url_ttl_seconds))
        videos = [{"video_url": engine.result_url(task), "video_url_ttl": ttl, "video_type": "mp4"}]
    return {
        "task": {
            "task_id": task.id,
            "task_type": TASK_TYPE if task.model == MODEL else task.model.upper().replace("-", "_"),
            "status": snap.status,
            "reason": task.fail_message if snap.failed else "",
            "eta": 0 if snap.terminal else math.ceil(snap.remaining),
            "progress_percent": 100 if snap.succeeded else snap.progress,
        },
        "images": [],
        "videos": videos,
        "extra": {},
    }


SPEC = OriginSpec.api(PROVIDER, auth=BEARER, errors=error_response, fail_message=FAIL_MESSAGE, routes=(
    Route("POST", "/v3/async/img2video-motion", "create", create, body="json"),
    Route("GET", "/v3/async/task-result", "poll", task_result),
    Route("POST", "/v3/async/{endpoint}", "create", create_declared, body="json"),
))
