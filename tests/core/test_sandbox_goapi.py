"""Sandbox emulator: GoAPI task API (Qubico/hug-video) and the ephemeral upload origin."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from core.sandbox import ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes, mp4_info

KEY = {"X-API-Key": "goapi-test-key"}
IMAGE_URL = "https://example.com/two-people.jpg"


def task_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "Qubico/hug-video",
        "task_type": "image_to_video",
        "input": {"image_url": IMAGE_URL},
    }
    body.update(overrides)
    return body


async def upload(sandbox: Sandbox, http: httpx.AsyncClient, data: bytes, name: str = "people.png") -> str:
    response = await http.post(
        sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"],
        headers={"x-api-key": "goapi-test-key"},
        json={"file_name": name, "file_data": data_uri(data)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    url: str = body["data"]["url"]
    return url


async def test_happy_path_upload_create_poll_download(
    sandbox: Sandbox, http: httpx.AsyncClient, advance_until: Any
) -> None:
    url = await upload(sandbox, http, image_bytes(800, 600))
    assert url.startswith(sandbox.origins["cdn"] + "/files/")
    base = sandbox.endpoints()["REELDECK_GOAPI_BASE_URL"]
    created = await http.post(f"{base}/api/v1/task", headers=KEY, json=task_body(input={"image_url": url}))
    assert created.status_code == 200
    data = created.json()["data"]
    assert created.json()["code"] == 200
    assert data["status"] == "pending" and data["model"] == "Qubico/hug-video" and data["output"] == {}
    assert set(data["meta"]) >= {"created_at", "started_at", "ended_at", "usage"}
    assert set(data["error"]) == {"code", "raw_message", "message", "detail"}

    async def poll() -> dict[str, Any]:
        response = await http.get(f"{base}/api/v1/task/{data['task_id']}", headers=KEY)
        assert response.status_code == 200
        return dict(response.json()["data"])

    seen = await advance_until(poll, lambda d: d["status"] in ("completed", "failed"))
    statuses = list(dict.fromkeys(d["status"] for d in seen))
    assert statuses == ["pending", "staged", "processing", "completed"]
    video_url = seen[-1]["output"]["video_url"]
    assert video_url.startswith(sandbox.origins["cdn"] + "/files/")
    video = await http.get(video_url)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert mp4_info(video.content) == ("h264", 640, 360)
    stored = sandbox.tasks.input_paths(data["task_id"])
    assert len(stored) == 1 and stored[0].read_bytes() == image_bytes(800, 600)


async def test_external_image_url_is_never_fetched(
    sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    base = sandbox.origins["goapi"]
    created = (await http.post(f"{base}/api/v1/task", headers=KEY, json=task_body())).json()["data"]
    inputs = sandbox.tasks.inputs(created["task_id"])
    assert inputs[0].source == "external" and inputs[0].url == IMAGE_URL and inputs[0].path is None
    clock.advance(5)
    done = (await http.get(f"{base}/api/v1/task/{created['task_id']}", headers=KEY)).json()["data"]
    video = await http.get(done["output"]["video_url"])
    assert mp4_info(video.content)[0] == "h264"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task_type": "image_to_video", "input": {"image_url": IMAGE_URL}}, "model"),
        (task_body(model="Qubico/other"), "model"),
        (task_body(model=5), "model"),
        ({"model": "Qubico/hug-video", "input": {"image_url": IMAGE_URL}}, "task_type"),
        (task_body(task_type="text_to_video"), "task_type"),
        (task_body(task_type=1), "task_type"),
        ({"model": "Qubico/hug-video", "task_type": "image_to_video"}, "input"),
        (task_body(input="https://example.com/x.jpg"), "input"),
        (task_body(input={}), "input.image_url"),
        (task_body(input={"image_url": 42}), "input.image_url"),
        (task_body(input={"image_url": "ftp://example.com/x.jpg"}), "input.image_url"),
        (task_body(input={"image_url": data_uri(image_bytes())}), "input.image_url"),
        (task_body(config="public"), "config"),
        (task_body(config={"service_mode": "fast"}), "config.service_mode"),
        (task_body(config={"service_mode": 1}), "config.service_mode"),
        (task_body(config={"webhook_config": "x"}), "config.webhook_config"),
        (task_body(config={"webhook_config": {"endpoint": "not a url"}}), "config.webhook_config.endpoint"),
        (task_body(config={"webhook_config": {"endpoint": 8080}}), "config.webhook_config.endpoint"),
        (task_body(config={"webhook_config": {"endpoint": "", "secret": 5}}), "config.webhook_config.secret"),
    ],
)
async def test_schema_violations(sandbox: Sandbox, http: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await http.post(f"{sandbox.origins['goapi']}/api/v1/task", headers=KEY, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == 400 and field in error["message"]
    assert sandbox.count("goapi", "create") == 1 and len(sandbox.tasks) == 0


async def test_valid_config_variants(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    for config in (
        {"service_mode": "public"},
        {"service_mode": ""},
        {"service_mode": "private", "webhook_config": {"endpoint": "https://hook.example", "secret": "s"}},
    ):
        response = await http.post(
            f"{sandbox.origins['goapi']}/api/v1/task", headers=KEY, json=task_body(config=config)
        )
        assert response.status_code == 200, response.text


async def test_invalid_json_is_400(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.post(f"{sandbox.origins['goapi']}/api/v1/task", headers=KEY, content=b"{not json")
    assert response.status_code == 400 and response.json()["code"] == 400


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer goapi-test-key"}, {"X-API-Key": ""}])
async def test_auth_header_required(sandbox: Sandbox, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.post(f"{sandbox.origins['goapi']}/api/v1/task", headers=headers, json=task_body())
    assert response.status_code == 401
    assert response.json()["code"] == 401 and "message" in response.json()


async def test_valid_keys_must_match(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.valid_keys = {"goapi": "right"}
    url = f"{sandbox.origins['goapi']}/api/v1/task"
    assert (await http.post(url, headers={"X-API-Key": "wrong"}, json=task_body())).status_code == 401
    assert (await http.post(url, headers={"X-API-Key": "right"}, json=task_body())).status_code == 200
    sandbox.valid_keys = {"aimlapi": "right"}  # no goapi entry: nothing is accepted
    assert (await http.post(url, headers={"X-API-Key": "right"}, json=task_body())).status_code == 401


async def test_unknown_task_is_404(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{sandbox.origins['goapi']}/api/v1/task/nope", headers=KEY)
    assert response.status_code == 404 and response.json()["code"] == 404
    response = await http.delete(f"{sandbox.origins['goapi']}/api/v1/task/nope", headers=KEY)
    assert response.status_code == 404


async def test_cancel_only_while_pending(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    base = sandbox.origins["goapi"]
    first = (await http.post(f"{base}/api/v1/task", headers=KEY, json=task_body())).json()["data"]["task_id"]
    canceled = await http.delete(f"{base}/api/v1/task/{first}", headers=KEY)
    assert canceled.status_code == 200
    assert canceled.json() == {"code": 200, "message": f"task {first} canceled"}
    after = (await http.get(f"{base}/api/v1/task/{first}", headers=KEY)).json()["data"]
    assert after["status"] == "failed" and after["error"]["message"]
    assert sandbox.count("goapi", "cancel") == 1

    second = (await http.post(f"{base}/api/v1/task", headers=KEY, json=task_body())).json()["data"]["task_id"]
    clock.advance(1.0)  # now processing
    refused = await http.delete(f"{base}/api/v1/task/{second}", headers=KEY)
    assert refused.status_code == 400 and "pending" in refused.json()["message"]


async def test_upload_rules(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"]
    good = base64.b64encode(image_bytes()).decode()
    cases = [
        {"file_data": good},
        {"file_name": "x.png"},
        {"file_name": "noextension", "file_data": good},
        {"file_name": "a" * 126 + ".png", "file_data": good},
        {"file_name": 5, "file_data": good},
        {"file_name": "", "file_data": good},
        {"file_name": "x.png", "file_data": 5},
        {"file_name": "x.png", "file_data": ""},
        {"file_name": "x.png", "file_data": "!!!not base64!!!"},
        {"file_name": "x.png", "file_data": data_uri(image_bytes(fmt="JPEG"), "image/jpeg")},
        {"file_name": "x.bin", "file_data": base64.b64encode(b"\0" * (10 * 1024 * 1024 + 1)).decode()},
    ]
    for body in cases:
        response = await http.post(url, headers={"x-api-key": "k"}, json=body)
        assert response.status_code == 400, body.keys()
        assert response.json()["message"] == "Invalid request parameters"
        assert response.json()["code"] == 400
    ok = await http.post(url, headers={"x-api-key": "k"}, json={"file_name": "x.png", "file_data": good})
    assert ok.status_code == 200
    fetched = await http.get(ok.json()["data"]["url"])
    assert fetched.status_code == 200 and fetched.content == image_bytes()
    assert fetched.headers["content-type"] == "image/png"


async def test_upload_auth_and_plan(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"]
    body = {"file_name": "x.png", "file_data": data_uri(image_bytes())}
    assert (await http.post(url, json=body)).status_code == 401
    sandbox.goapi_upload_plan_ok = False
    response = await http.post(url, headers={"x-api-key": "k"}, json=body)
    assert response.status_code == 403
    assert response.json() == {"code": 403, "message": "Insufficient plan level"}
    assert sandbox.count("goapi", "upload") == 2
