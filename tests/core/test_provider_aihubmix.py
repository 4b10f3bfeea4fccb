"""AIHubMix (OpenAI Videos API, Sora): the exact requests on the wire, sizes per model, the key check and the plain
messages for a retired model — no network (a mock transport records what httpx really sends)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from wire import BASE, content_type, multipart, wire

from core.errors import InputError, NoCreditsError
from core.http import ErrorAnswer
from core.params import validate
from core.plans import build_create
from core.providers.aihubmix import AIHubMixProvider
from core.providers.base import JobInput
from core.providers.errors import classify_error

VIDEO = {"id": "video_1", "object": "video", "model": "sora-2", "status": "queued", "progress": 0}


async def test_text_only_create_is_multipart_like_the_official_sdk() -> None:
    w = wire("aihubmix", VIDEO)
    job = JobInput("j", "sora-2", {"prompt": "a fox", "seconds": "8", "size": "1280x720", "image_fit": "crop"}, {})
    await w.provider.api.send(build_create(w.provider, job))
    request = w.last
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/v1/videos")
    assert content_type(request) == "multipart/form-data"  # openai-python src/openai/resources/videos.py
    parts = multipart(request)
    assert [(p.name, p.text, p.filename) for p in parts] == [
        ("model", "sora-2", None), ("prompt", "a fox", None), ("seconds", "8", None), ("size", "1280x720", None)]
    assert request.headers["authorization"] == "Bearer sandbox-key"


async def test_create_with_a_reference_image_sends_the_file_part(tmp_path: Path) -> None:
    image = tmp_path / "image-0.png"
    Image.new("RGB", (720, 1280), "red").save(image)
    w = wire("aihubmix", VIDEO)
    job = JobInput("j", "sora-2-pro", {"prompt": "sea", "seconds": "4", "size": "720x1280"}, {"image": [str(image)]})
    await w.provider.api.send(build_create(w.provider, job))
    parts = {p.name: p for p in multipart(w.last)}
    assert set(parts) == {"model", "prompt", "seconds", "size", "input_reference"}
    reference = parts["input_reference"]
    assert (reference.filename, reference.content_type) == ("image-0.png", "image/png")
    assert reference.data == image.read_bytes()
    assert parts["model"].text == "sora-2-pro" and parts["seconds"].filename is None


@pytest.mark.parametrize("size", ["1024x1792", "1792x1024"])
def test_sora_2_refuses_the_pro_only_sizes(size: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(AIHubMixProvider.spec.model("sora-2"), {"prompt": "p", "size": size}, {})
    assert "size must be one of 720x1280, 1280x720" in caught.value.message


@pytest.mark.parametrize("size", ["720x1280", "1280x720", "1024x1792", "1792x1024"])
def test_sora_2_pro_takes_all_four_sizes(size: str) -> None:
    assert validate(AIHubMixProvider.spec.model("sora-2-pro"), {"prompt": "p", "size": size}, {}).params["size"] == size


def test_the_list_endpoint_is_tried_not_relied_on() -> None:
    # OpenAI documents GET /v1/videos, AIHubMix does not (FIELD-NOTES): the engine reads it over a window after a
    # lost create and, on a 404/405, leaves the job to the person (tests/core/test_money.py).
    assert AIHubMixProvider.can_reconcile is True


async def test_key_check_asks_for_a_made_up_video() -> None:
    w = wire("aihubmix", {"error": {"message": "Video not found", "type": "invalid_request_error", "param": None,
                                    "code": "not_found"}}, status=404)
    request = w.provider.build_key_check()
    assert request.method == "GET" and request.path.startswith("/v1/videos/") and request.path != "/v1/videos"


@pytest.mark.parametrize(("status", "body", "ok"), [
    (404, {"error": {"message": "Video not found", "type": "invalid_request_error", "code": "not_found"}}, True),
    (404, {"detail": "Not Found"}, None),  # a 404 from a path the service does not have proves nothing
    (401, {"error": {"message": "Invalid token", "type": "invalid_request_error", "code": "invalid_api_key"}}, False),
])
async def test_key_check_verdicts(status: int, body: dict[str, object], ok: bool | None) -> None:
    w = wire("aihubmix", body, status=status)
    assert (await w.hub.check_key("aihubmix")).ok is ok
    assert w.last.method == "GET" and w.last.url.path.startswith("/v1/videos/")


@pytest.mark.parametrize(("status", "body"), [
    (500, {"error": {"message": "no valid channel for model sora-2", "type": "Aihubmix_api_error",
                     "code": "no_valid_channel_error"}}),
    (404, {"error": {"message": "The model `sora-2` does not exist", "type": "invalid_request_error",
                     "code": "model_not_found"}}),
])
def test_a_retired_model_is_said_plainly(status: int, body: dict[str, object]) -> None:
    provider = wire("aihubmix").provider
    error = classify_error(provider.spec, ErrorAnswer(status, body, creating=True))
    assert not error.retryable
    assert "no longer serves sora-2" in error.message and "2026-09-24" in error.message
    assert "pick" in error.message.lower()


def test_payment_required_is_about_credits() -> None:
    provider = wire("aihubmix").provider
    body = {"error": {"message": "Payment Required", "type": "invalid_request_error", "code": None}}
    error = classify_error(provider.spec, ErrorAnswer(402, body, creating=True))
    assert isinstance(error, NoCreditsError) and "credits" in error.message
    assert "invalid" not in error.message


