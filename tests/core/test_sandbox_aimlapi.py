"""Sandbox emulator: AI/ML API MiniMax video-01-live2d."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from core.sandbox import Sandbox
from core.sandbox.testing import data_uri, image_bytes, mp4_info

KEY = {"Authorization": "Bearer aiml-test-key"}
PATH = "/v2/generate/video/minimax/generation"


def body(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "model": "video-01-live2d",
        "prompt": "Mona Lisa puts on glasses",
        "first_frame_image": data_uri(image_bytes(640, 480)),
    }
    value.update(overrides)
    return value


async def test_happy_path(sandbox: Sandbox, http: httpx.AsyncClient, advance_until: Any) -> None:
    url = sandbox.endpoints()["REELDECK_AIMLAPI_BASE_URL"] + PATH
    created = await http.post(url, headers=KEY, json=body(prompt_optimizer=False))
    assert created.status_code == 200
    generation_id = created.json()["generation_id"]
    assert created.json() == {"generation_id": generation_id, "status": "queued"}

    async def poll() -> dict[str, Any]:
        response = await http.get(url, headers=KEY, params={"generation_id": generation_id})
        assert response.status_code == 200
        return dict(response.json())

    seen = await advance_until(poll, lambda d: d["status"] not in ("queued", "generating"))
    assert list(dict.fromkeys(d["status"] for d in seen)) == ["queued", "generating", "completed"]
    assert seen[0]["video"] is None and seen[0]["error"] is None
    final = seen[-1]
    assert set(final) == {"id", "status", "video", "duration", "error", "meta"}
    assert final["id"] == generation_id and final["video"]["duration"] == final["duration"]
    video = await http.get(final["video"]["url"])
    assert video.status_code == 200
    codec, width, height = mp4_info(video.content)
    assert codec == "h264" and (width, height) == (640, 360)
    assert sandbox.tasks.inputs(generation_id)[0].source == "inline"


async def test_bare_base64_and_url_are_accepted(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = sandbox.origins["aimlapi"] + PATH
    bare = base64.b64encode(image_bytes(400, 600, "JPEG")).decode()
    assert (await http.post(url, headers=KEY, json=body(first_frame_image=bare))).status_code == 200
    remote = body(first_frame_image="https://example.com/mona.jpg")
    assert (await http.post(url, headers=KEY, json=remote)).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model": None}, "model"),
        ({"model": "video-01"}, "model"),
        ({"model": 5}, "model"),
        ({"prompt": None}, "prompt"),
        ({"prompt": 12}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt_optimizer": "yes"}, "prompt_optimizer"),
        ({"first_frame_image": None}, "first_frame_image"),
        ({"first_frame_image": 7}, "first_frame_image"),
        ({"first_frame_image": ""}, "first_frame_image"),
        ({"first_frame_image": "definitely not an image"}, "first_frame_image"),
        ({"first_frame_image": data_uri(image_bytes(640, 480, "WEBP"), "image/webp")}, "first_frame_image"),
        ({"first_frame_image": data_uri(image_bytes(640, 300))}, "first_frame_image"),  # short side 300
        ({"first_frame_image": data_uri(image_bytes(1000, 400))}, "first_frame_image"),  # exactly 5:2
        ({"first_frame_image": data_uri(image_bytes(320, 800))}, "first_frame_image"),  # exactly 2:5
        ({"first_frame_image": data_uri(image_bytes(), "image/jpeg")}, "first_frame_image"),  # type mismatch
    ],
)
async def test_schema_violations(
    sandbox: Sandbox, http: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    request = body(**overrides)
    request = {k: v for k, v in request.items() if v is not None}
    response = await http.post(sandbox.origins["aimlapi"] + PATH, headers=KEY, json=request)
    assert response.status_code == 400
    error = response.json()
    assert error["message"] == "Body validation error!" and error["statusCode"] == 400
    assert error["path"] == PATH and error["requestId"] and error["timestamp"]
    assert error["meta"][0]["path"] == field.split(".")


async def test_image_over_20mb_is_rejected(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    big = image_bytes(640, 480) + b"\0" * (20 * 1024 * 1024)
    response = await http.post(
        sandbox.origins["aimlapi"] + PATH, headers=KEY, json=body(first_frame_image=data_uri(big))
    )
    assert response.status_code == 400 and "bytes" in response.json()["meta"][0]["message"]


async def test_poll_errors(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = sandbox.origins["aimlapi"] + PATH
    missing = await http.get(url, headers=KEY)
    assert missing.status_code == 400 and missing.json()["meta"][0]["path"] == ["generation_id"]
    unknown = await http.get(url, headers=KEY, params={"generation_id": "123"})
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "aiml-test-key"}, {"Authorization": "Basic aiml-test-key"}, {"X-API-Key": "aiml"}]
)
async def test_auth(sandbox: Sandbox, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.post(sandbox.origins["aimlapi"] + PATH, headers=headers, json=body())
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401 and response.json()["path"] == PATH
