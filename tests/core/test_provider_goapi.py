"""GoAPI (Qubico/hug-video): request building, envelope parsing, uploads and errors — no network."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.errors import (
    AuthError,
    BadRequestError,
    InputError,
    ModerationError,
    NoCreditsError,
    NotFoundError,
    ProtocolError,
)
from core.http import ErrorAnswer, RetryPolicy
from core.hub import ProviderHub
from core.params import validate
from core.plans import build_create, prepare_inputs
from core.providers.base import JobInput, Phase, RemoteStatus
from core.providers.errors import classify_error
from core.providers.goapi import GoAPIProvider
from core.secrets import KeyStore
from core.settings import Settings

API = "https://api.goapi.test"
UPLOAD = "https://upload.goapi.test/api/ephemeral_resource"
ENDPOINTS = {
    "REELDECK_GOAPI_BASE_URL": API,
    "REELDECK_GOAPI_UPLOAD_URL": UPLOAD,
}
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler | None = None) -> GoAPIProvider:
    """A GoAPI provider built the way the hub builds it, on a mock transport."""
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(599)))
    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints=ENDPOINTS,
                      client=httpx.AsyncClient(transport=transport), retry=RetryPolicy(max_attempts=1))
    provider = hub.get("goapi")
    assert isinstance(provider, GoAPIProvider)
    return provider


def job(inputs: dict[str, list[str]], params: dict[str, object] | None = None,
        prepared: dict[str, object] | None = None) -> JobInput:
    return JobInput("job1", "Qubico/hug-video", dict(params or {}), inputs, dict(prepared or {}))


def response(status: int, body: object, url: str = f"{API}/api/v1/task") -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", url))


# --- spec ----------------------------------------------------------------------------------------------------


def test_spec_declares_the_model_slot_and_service_mode() -> None:
    model = GoAPIProvider.spec.model("Qubico/hug-video")
    slot = model.slot("image")
    assert slot is not None and slot.field == "input.image_url"
    mode = model.param("service_mode")
    assert mode is not None and mode.choices == ("public", "private") and mode.default is None
    assert mode.body_path == "config.service_mode"
    assert GoAPIProvider.can_cancel is True
    with pytest.raises(InputError, match="image"):
        validate(model, {}, {})
    with pytest.raises(InputError, match="service_mode must be one of public, private"):
        validate(model, {"service_mode": "shared"}, {"image": ["https://x.test/a.png"]})


# --- create --------------------------------------------------------------------------------------------------


def test_create_with_a_url_is_exactly_the_documented_body() -> None:
    request = build_create(make(), job({"image": ["https://i.test/people.jpg"]}))
    assert (request.method, request.path, request.idempotent) == ("POST", "/api/v1/task", False)
    assert request.json == {
        "model": "Qubico/hug-video",
        "task_type": "image_to_video",
        "input": {"image_url": "https://i.test/people.jpg"},
    }


def test_create_uses_the_uploaded_url_and_nests_service_mode_under_config() -> None:
    request = build_create(make(), job({"image": ["/data/inputs/job1/image-0.png"]}, {"service_mode": "private"},
                                      {"image_url": "https://cdn.test/up.png"}))
    assert request.json == {
        "model": "Qubico/hug-video",
        "task_type": "image_to_video",
        "input": {"image_url": "https://cdn.test/up.png"},
        "config": {"service_mode": "private"},
    }


def test_create_refuses_a_local_file_that_was_not_uploaded() -> None:
    with pytest.raises(ProtocolError, match="not uploaded"):
        build_create(make(), job({"image": ["/tmp/a.png"]}))


def test_parse_create_reads_the_envelope() -> None:
    body = {"code": 200, "message": "success", "data": {"task_id": "t-1", "status": "pending"}}
    assert make().parse_create(body) == "t-1"
    with pytest.raises(ProtocolError):
        make().parse_create({"code": 200, "data": {}})


def test_an_error_code_inside_a_200_envelope_is_an_error() -> None:
    with pytest.raises(BadRequestError, match="bad input"):
        make().parse_create({"code": 400, "message": "bad input", "data": None})
    with pytest.raises(BadRequestError, match="odd failure"):  # a GoAPI-specific code, not an HTTP status
        make().parse_poll({"code": 10000, "message": "odd failure", "data": None}, httpx.Headers())


# --- poll ----------------------------------------------------------------------------------------------------


def envelope(status: str, output: object = None, error: dict[str, object] | None = None) -> dict[str, object]:
    return {"code": 200, "message": "success", "data": {
        "task_id": "t-1", "model": "Qubico/hug-video", "task_type": "image_to_video", "status": status,
        "input": {}, "output": output if output is not None else {}, "meta": {}, "logs": [],
        "error": error or {"code": 0, "raw_message": "", "message": "", "detail": None}}}


@pytest.mark.parametrize(("raw", "phase"), [
    ("pending", Phase.PENDING), ("staged", Phase.PENDING), ("Staged", Phase.PENDING),
    ("processing", Phase.RUNNING), ("PROCESSING", Phase.RUNNING), ("completed", Phase.SUCCEEDED),
    ("Completed", Phase.SUCCEEDED), ("failed", Phase.FAILED), ("Failed", Phase.FAILED),
    ("retrying", Phase.UNKNOWN), ("", Phase.UNKNOWN),
])
def test_statuses_are_case_insensitive_and_unknown_is_unknown(raw: str, phase: Phase) -> None:
    status = make().parse_poll(envelope(raw), httpx.Headers())
    assert status.phase == phase and status.raw == raw
    assert status.progress is None and status.error is None


@pytest.mark.parametrize("output", [
    {"video_url": "https://cdn.test/v.mp4"},
    {"video": "https://cdn.test/v.mp4"},
    {"video": {"url": "https://cdn.test/v.mp4"}},
    {"video_url": "", "video": {"url": "https://cdn.test/v.mp4"}},
])
def test_result_url_from_video_url_or_video(output: dict[str, object]) -> None:
    provider = make()
    status = provider.parse_poll(envelope("completed", output), httpx.Headers())
    assert status.video_url == "https://cdn.test/v.mp4"
    source = provider.download_source("t-1", status)
    assert source.url == "https://cdn.test/v.mp4" and source.with_auth is False


def test_failed_task_reports_data_error_message_or_raw_message() -> None:
    provider = make()
    failed = provider.parse_poll(envelope("failed", error={"code": 10000, "message": "no two people"}),
                                 httpx.Headers())
    assert failed.phase == Phase.FAILED and failed.error == "no two people"
    raw_only = provider.parse_poll(envelope("failed", error={"code": 1, "message": "", "raw_message": "gpu oom"}),
                                   httpx.Headers())
    assert raw_only.error == "gpu oom"


def test_download_without_a_url_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no address"):
        make().download_source("t-1", RemoteStatus(Phase.SUCCEEDED, "completed"))


def test_poll_and_cancel_requests() -> None:
    provider = make()
    poll = provider.build_poll("t-1")
    assert (poll.method, poll.path, poll.params) == ("GET", "/api/v1/task/t-1", None)
    cancel = provider.build_cancel("t-1")
    assert (cancel.method, cancel.path) == ("DELETE", "/api/v1/task/t-1")


# --- errors --------------------------------------------------------------------------------------------------


def test_error_shapes_become_plain_typed_errors() -> None:
    spec = make().spec
    auth = classify_error(spec, ErrorAnswer(401, {"code": 401, "message": "Invalid API key"}))
    assert isinstance(auth, AuthError) and "keys set goapi" in auth.message and "Invalid API key" in auth.message
    missing = classify_error(spec, ErrorAnswer(404, {"code": 404, "message": "task not found"}))
    assert isinstance(missing, NotFoundError)
    flagged = classify_error(spec, ErrorAnswer(400, {"code": 400, "message": "image failed moderation"}))
    assert isinstance(flagged, ModerationError)


def test_upload_plan_error_tells_the_user_to_paste_a_url() -> None:
    spec = make().spec
    body = {"code": 403, "message": "Insufficient plan level"}
    error = classify_error(spec, ErrorAnswer(403, body, creating=True, upload=True))
    assert isinstance(error, NoCreditsError)
    assert "Insufficient plan level" in error.message and "public image URL" in error.message
    # The same 403 from the task API is not about uploads.
    other = classify_error(spec, ErrorAnswer(403, {"code": 403, "message": "forbidden"}, creating=True))
    assert "public image URL" not in other.message


# --- uploads -------------------------------------------------------------------------------------------------


def _png(path: Path) -> Path:
    Image.new("RGB", (64, 48), (200, 10, 10)).save(path)
    return path


async def test_prepare_inputs_uploads_a_local_file_with_the_key(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"code": 200, "data": {"url": "https://cdn.test/f.png"}, "message": "ok"})

    image = _png(tmp_path / "image-0.png")
    prepared = await prepare_inputs(make(handler), job({"image": [str(image)]}))
    assert prepared == {"image_url": "https://cdn.test/f.png"}
    (request,) = seen
    assert request.method == "POST" and str(request.url) == UPLOAD
    assert request.headers["x-api-key"] == "sandbox-key" and "authorization" not in request.headers
    body = json.loads(request.content)
    assert set(body) == {"file_name", "file_data"}
    assert body["file_name"].endswith(".png") and len(body["file_name"]) <= 128
    assert base64.b64decode(body["file_data"]) == image.read_bytes()


async def test_prepare_inputs_passes_urls_through() -> None:
    assert await prepare_inputs(make(), job({"image": ["https://i.test/a.jpg"]})) == {}


async def test_prepare_inputs_plan_error_is_plain(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"code": 403, "message": "Insufficient plan level"})

    with pytest.raises(NoCreditsError, match="Paste a public image URL"):
        await prepare_inputs(make(handler), job({"image": [str(_png(tmp_path / "a.png"))]}))


def test_image_rules_keep_the_upload_under_ten_megabytes() -> None:
    rules = GoAPIProvider.image_rules({}, "image")
    assert rules.byte_limit is not None and len(base64.b64encode(b"x" * rules.byte_limit)) < 10_000_000
