"""AI/ML API (MiniMax video-01-live2d): request building, poll parsing and errors — no network."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.errors import AuthError, BadRequestError, InputError, NoCreditsError, NotFoundError, ProtocolError
from core.http import ErrorAnswer, RetryPolicy
from core.hub import ProviderHub
from core.params import validate
from core.plans import build_create
from core.providers.aimlapi import AIMLAPIProvider
from core.providers.base import JobInput, Phase, RemoteStatus
from core.providers.errors import classify_error
from core.secrets import KeyStore
from core.settings import Settings

API = "https://api.aimlapi.test"


def make() -> AIMLAPIProvider:
    transport = httpx.MockTransport(lambda request: httpx.Response(599))
    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints={"REELDECK_AIMLAPI_BASE_URL": API},
                      client=httpx.AsyncClient(transport=transport), retry=RetryPolicy(max_attempts=1))
    provider = hub.get("aimlapi")
    assert isinstance(provider, AIMLAPIProvider)
    return provider


def job(params: dict[str, object], image: str) -> JobInput:
    return JobInput("job1", "video-01-live2d", params, {"image": [image]})


def test_spec_declares_prompt_optimizer_fit_and_first_frame() -> None:
    model = AIMLAPIProvider.spec.model("video-01-live2d")
    prompt = model.param("prompt")
    assert prompt is not None and prompt.required and prompt.max_length == 2000
    optimizer = model.param("prompt_optimizer")
    assert optimizer is not None and optimizer.default is True
    fit = model.param("image_fit")
    assert fit is not None and fit.local and fit.default == "pad" and fit.choices == ("pad", "crop", "scale")
    slot = model.slot("image")
    assert slot is not None and slot.field == "first_frame_image"


@pytest.mark.parametrize(("params", "inputs", "needle"), [
    ({}, {"image": ["https://x.test/a.png"]}, "prompt is required"),
    ({"prompt": "x" * 2001}, {"image": ["https://x.test/a.png"]}, "limit is 2000"),
    ({"prompt": "hi"}, {}, "--image"),
    ({"prompt": "hi", "prompt_optimizer": "maybe"}, {"image": ["https://x.test/a.png"]}, "true or false"),
    ({"prompt": "hi", "image_fit": "zoom"}, {"image": ["https://x.test/a.png"]}, "image_fit must be one of"),
])
def test_validation_refuses_bad_input(params: dict[str, object], inputs: dict[str, list[str]], needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        validate(AIMLAPIProvider.spec.model("video-01-live2d"), params, inputs)


def test_create_with_url_is_exactly_the_documented_body() -> None:
    request = build_create(make(), job({"prompt": "Mona Lisa puts on glasses", "prompt_optimizer": True},
                                      "https://example.com/mona.jpg"))
    assert (request.method, request.path, request.idempotent) == (
        "POST", "/v2/generate/video/minimax/generation", False)
    assert request.json == {
        "model": "video-01-live2d",
        "prompt": "Mona Lisa puts on glasses",
        "prompt_optimizer": True,
        "first_frame_image": "https://example.com/mona.jpg",
    }


def test_create_with_local_file_sends_a_data_uri_and_never_the_local_param(tmp_path: Path) -> None:
    path = tmp_path / "image-0.jpg"
    Image.new("RGB", (640, 480), (0, 90, 200)).save(path, "JPEG")
    body = build_create(make(), job({"prompt": "wave", "prompt_optimizer": False, "image_fit": "crop"},
                                   str(path))).json
    assert set(body) == {"model", "prompt", "prompt_optimizer", "first_frame_image"}
    assert body["prompt_optimizer"] is False
    prefix, payload = body["first_frame_image"].split(",", 1)
    assert prefix == "data:image/jpeg;base64"
    assert Image.open(io.BytesIO(base64.b64decode(payload))).size == (640, 480)


def test_parse_create_and_poll_request() -> None:
    provider = make()
    assert provider.parse_create({"generation_id": "222226666699999", "status": "queued"}) == "222226666699999"
    with pytest.raises(ProtocolError):
        provider.parse_create({"status": "queued"})
    poll = provider.build_poll("222226666699999")
    assert (poll.method, poll.path, poll.params) == (
        "GET", "/v2/generate/video/minimax/generation", {"generation_id": "222226666699999"})
    assert provider.build_cancel("x") is None and AIMLAPIProvider.can_cancel is False


@pytest.mark.parametrize(("raw", "phase"), [
    ("queued", Phase.PENDING), ("waiting", Phase.PENDING), ("Queued", Phase.PENDING),
    ("generating", Phase.RUNNING), ("active", Phase.RUNNING), ("GENERATING", Phase.RUNNING),
    ("completed", Phase.SUCCEEDED), ("error", Phase.FAILED), ("ERROR", Phase.FAILED),
    ("paused", Phase.UNKNOWN),
])
def test_statuses(raw: str, phase: Phase) -> None:
    status = make().parse_poll({"id": "1", "status": raw, "video": None}, httpx.Headers())
    assert status.phase == phase and status.raw == raw and status.video_url is None


def test_completed_poll_gives_the_cdn_url_without_auth() -> None:
    provider = make()
    body = {"id": "1", "status": "completed", "video": {"url": "https://cdn.test/v.mp4?Expires=1", "duration": 6},
            "duration": 6, "error": None, "meta": {"usage": {}}}
    status = provider.parse_poll(body, httpx.Headers())
    assert status.video_url == "https://cdn.test/v.mp4?Expires=1" and status.error is None
    source = provider.download_source("1", status)
    assert source.url == status.video_url and source.with_auth is False
    with pytest.raises(ProtocolError):
        provider.download_source("1", RemoteStatus(Phase.SUCCEEDED, "completed"))


def test_failed_poll_carries_the_error_message() -> None:
    body = {"id": "1", "status": "error", "video": None,
            "error": {"name": "GenerationError", "message": "the image was rejected"}}
    status = make().parse_poll(body, httpx.Headers())
    assert status.phase == Phase.FAILED and status.error == "the image was rejected"


def _error(status: int, message: object) -> ErrorAnswer:
    body = {"message": message, "path": "/v2/generate/video/minimax/generation", "requestId": "r",
            "statusCode": status, "timestamp": "2026-01-01T00:00:00.000Z"}
    return ErrorAnswer(status, body)


@pytest.mark.parametrize(("status", "message", "kind", "needle"), [
    (400, "Body validation error!", BadRequestError, "Body validation error!"),
    (400, ["prompt must be shorter", "first_frame_image is required"], BadRequestError, "first_frame_image"),
    (401, "Unauthorized", AuthError, "keys set aimlapi"),
    (403, "Insufficient credits", NoCreditsError, "run out of credits"),
    (404, "Generation 1 not found", NotFoundError, "not found"),
])
def test_error_shape(status: int, message: object, kind: type, needle: str) -> None:
    error = classify_error(make().spec, _error(status, message))
    assert isinstance(error, kind) and needle in error.message
