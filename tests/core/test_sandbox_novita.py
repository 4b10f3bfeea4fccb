"""Sandbox emulator: Novita img2video-motion and its asset host."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from core.sandbox import Sandbox
from core.sandbox.novita import PRESET_MOTIONS
from core.sandbox.testing import image_bytes, mp4_info

KEY = {"Authorization": "Bearer novita-test-key"}
PRESET = next(iter(PRESET_MOTIONS))


async def put_asset(sandbox: Sandbox, http: httpx.AsyncClient, kind: str, data: bytes) -> httpx.Response:
    return await http.put(f"{sandbox.endpoints()['REELDECK_NOVITA_ASSETS_URL']}/{kind}", content=data)


async def image_asset(sandbox: Sandbox, http: httpx.AsyncClient) -> str:
    response = await put_asset(sandbox, http, "image", image_bytes(480, 640, "JPEG"))
    assert response.status_code == 200
    asset_id: str = response.json()["assets_id"]
    assert base64.b64decode(asset_id).startswith(b"r2/novita-ai-asset/image/")
    return asset_id


async def test_happy_path_with_preset(sandbox: Sandbox, http: httpx.AsyncClient, advance_until: Any) -> None:
    image_id = await image_asset(sandbox, http)
    api = sandbox.endpoints()["REELDECK_NOVITA_BASE_URL"]
    created = await http.post(
        f"{api}/v3/async/img2video-motion",
        headers=KEY,
        json={"image_assets_id": image_id, "motion_video_assets_id": PRESET, "seed": -1},
    )
    assert created.status_code == 200
    task_id = created.json()["task_id"]
    assert list(created.json()) == ["task_id"]

    async def poll() -> dict[str, Any]:
        response = await http.get(f"{api}/v3/async/task-result", headers=KEY, params={"task_id": task_id})
        assert response.status_code == 200
        return dict(response.json())

    seen = await advance_until(poll, lambda r: r["task"]["status"] in ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED"))
    assert list(dict.fromkeys(r["task"]["status"] for r in seen)) == [
        "TASK_STATUS_QUEUED",
        "TASK_STATUS_PROCESSING",
        "TASK_STATUS_SUCCEED",
    ]
    etas = [r["task"]["eta"] for r in seen]
    assert etas[0] > 0 and etas[-1] == 0 and etas == sorted(etas, reverse=True)
    assert all(r["videos"] == [] for r in seen[:-1])
    final = seen[-1]
    assert final["task"]["task_type"] == "IMG_TO_VIDEO_MOTION" and final["task"]["progress_percent"] == 100
    assert final["images"] == [] and final["extra"] == {}
    (video,) = final["videos"]
    assert video["video_type"] == "mp4" and video["video_url_ttl"] == str(int(sandbox.url_ttl_seconds))
    download = await http.get(video["video_url"])
    assert mp4_info(download.content) == ("h264", 360, 640)


async def test_uploaded_motion_video(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    image_id = await image_asset(sandbox, http)
    mp4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64
    uploaded = await put_asset(sandbox, http, "video", mp4)
    assert uploaded.status_code == 200
    motion_id = uploaded.json()["assets_id"]
    assert base64.b64decode(motion_id).startswith(b"r2/novita-ai-asset/video/")
    created = await http.post(
        f"{sandbox.origins['novita']}/v3/async/img2video-motion",
        headers=KEY,
        json={"image_assets_id": image_id, "motion_video_assets_id": motion_id, "seed": 20231127, "extra": {}},
    )
    assert created.status_code == 200
    roles = [(i.role, i.source) for i in sandbox.tasks.inputs(created.json()["task_id"])]
    assert roles == [("image", "asset"), ("motion", "asset")]


async def test_asset_host_rules_and_no_auth(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    assert (await put_asset(sandbox, http, "image", b"")).status_code == 400
    bad_image = await put_asset(sandbox, http, "image", b"not an image at all")
    assert bad_image.status_code == 400 and bad_image.json()["reason"] == "INVALID_REQUEST_BODY"
    assert (await put_asset(sandbox, http, "video", image_bytes())).status_code == 400
    assert (await put_asset(sandbox, http, "image", image_bytes())).status_code == 200
    records = [r for r in sandbox.requests if r.origin == "novita_assets"]
    assert len(records) == 4 and all(r.kind == "asset_upload" and not r.auth_present for r in records)
    assert records[-1].body["width"] == 640 and "data" not in records[-1].body
    await http.put(f"{sandbox.origins['novita_assets']}/image", content=image_bytes(), headers=KEY)
    assert sandbox.requests[-1].auth_present is True


def body(image_id: str, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"image_assets_id": image_id, "motion_video_assets_id": PRESET, "seed": 1}
    value.update(overrides)
    return {k: v for k, v in value.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"image_assets_id": None}, "image_assets_id"),
        ({"image_assets_id": 5}, "image_assets_id"),
        ({"image_assets_id": ""}, "image_assets_id"),
        ({"image_assets_id": "cjIvbm92aXRhLWFpLWFzc2V0L2ltYWdlL3Vua25vd24"}, "image_assets_id"),
        ({"image_assets_id": PRESET}, "image_assets_id"),  # a video id is not an image asset
        ({"motion_video_assets_id": None}, "motion_video_assets_id"),
        ({"motion_video_assets_id": ["x"]}, "motion_video_assets_id"),
        ({"motion_video_assets_id": ""}, "motion_video_assets_id"),
        ({"motion_video_assets_id": "unknown-motion"}, "motion_video_assets_id"),
        ({"seed": None}, "seed"),
        ({"seed": "42"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": -2}, "seed"),
        ({"extra": []}, "extra"),
    ],
)
async def test_schema_violations(
    sandbox: Sandbox, http: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    image_id = await image_asset(sandbox, http)
    request = body(image_id, **overrides)
    if "image_assets_id" in overrides and overrides["image_assets_id"] is None:
        request.pop("image_assets_id", None)
    response = await http.post(f"{sandbox.origins['novita']}/v3/async/img2video-motion", headers=KEY, json=request)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"code", "reason", "message", "metadata"}
    assert error["code"] == 400 and error["metadata"]["field"] == field


async def test_poll_errors_and_auth(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = f"{sandbox.origins['novita']}/v3/async/task-result"
    assert (await http.get(url, headers=KEY)).status_code == 400
    missing = await http.get(url, headers=KEY, params={"task_id": "nope"})
    assert missing.status_code == 404 and missing.json()["reason"] == "TASK_NOT_FOUND"
    unauthorized = await http.get(url, params={"task_id": "nope"})
    assert unauthorized.status_code == 401 and unauthorized.json()["reason"] == "INVALID_API_KEY"
