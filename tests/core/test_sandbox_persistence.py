"""Sandbox emulator: state survives restarts (tasks, uploads, assets, request log) on new ports."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from core.sandbox import ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes, mp4_info

GOAPI = {"X-API-Key": "goapi-key"}
NOVITA = {"Authorization": "Bearer novita-key"}
PRESET = "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL3BYTjRDTXpwNzNqa2U2Wm1Na0FiRmVpcGtXRHMyajM4"


async def test_restart_keeps_everything(tmp_path: Path, clock: ManualClock, http: httpx.AsyncClient) -> None:
    state = tmp_path / "state"
    first = Sandbox(state, job_seconds=2.0, clock=clock)
    first.render_on_create = False
    await first.start()
    upload = await http.post(
        first.endpoints()["REELDECK_GOAPI_UPLOAD_URL"],
        headers={"x-api-key": "k"},
        json={"file_name": "p.png", "file_data": data_uri(image_bytes(900, 600))},
    )
    upload_url = upload.json()["data"]["url"]
    body = {"model": "Qubico/hug-video", "task_type": "image_to_video", "input": {"image_url": upload_url}}
    task_id = (await http.post(first.origins["goapi"] + "/api/v1/task", headers=GOAPI, json=body)).json()["data"][
        "task_id"
    ]
    asset = (await http.put(first.origins["novita_assets"] + "/image", content=image_bytes())).json()["assets_id"]
    old_origins = dict(first.origins)
    requests_before = len(first.requests)
    await first.stop()
    assert first.count() == requests_before == 3

    second = Sandbox(state, job_seconds=2.0, clock=clock)
    await second.start()
    try:
        assert second.origins["goapi"] != old_origins["goapi"] or second.origins["cdn"] != old_origins["cdn"]
        assert second.count() == 3 and second.count("goapi", "create") == 1 and second.count("novita") == 1
        assert [r.seq for r in second.requests] == [1, 2, 3]
        assert task_id in second.tasks and second.tasks.status(task_id) == "pending"

        clock.advance(2.0)
        polled = await http.get(f"{second.origins['goapi']}/api/v1/task/{task_id}", headers=GOAPI)
        assert polled.json()["data"]["status"] == "completed"
        video_url = polled.json()["data"]["output"]["video_url"]
        assert video_url.startswith(second.origins["cdn"])
        shutil.rmtree(state / "renders", ignore_errors=True)  # nothing cached: rendered on demand
        video = await http.get(video_url)
        assert mp4_info(video.content) == ("h264", 640, 360)

        # the upload URL from the earlier run (old CDN port) still resolves to the stored file
        again = await http.post(second.origins["goapi"] + "/api/v1/task", headers=GOAPI, json=body)
        new_inputs = second.tasks.inputs(again.json()["data"]["task_id"])
        assert new_inputs[0].source == "cdn"
        # and the Novita asset from the earlier run is still known
        created = await http.post(
            second.origins["novita"] + "/v3/async/img2video-motion",
            headers=NOVITA,
            json={
                "image_assets_id": asset,
                "motion_video_assets_id": PRESET,
                "seed": 3,
            },
        )
        assert created.status_code == 200
        assert second.count() == 3 + 4
    finally:
        await second.stop()


async def test_stop_and_start_again(tmp_path: Path, clock: ManualClock, http: httpx.AsyncClient) -> None:
    sandbox = Sandbox(tmp_path / "s", clock=clock)
    await sandbox.start()
    await sandbox.start()  # idempotent
    await sandbox.stop()
    assert not sandbox.started
    assert len(sandbox.tasks) == 0  # the store reopens on demand after stop
    await sandbox.start()
    try:
        response = await http.get(
            sandbox.origins["gateway"] + "/v1/video/generations/task_x", headers={"Authorization": "Bearer k"}
        )
        assert response.status_code == 400
        assert sandbox.count() == 1
    finally:
        await sandbox.stop()
    await sandbox.stop()  # stopping twice is harmless


async def test_async_context_manager(tmp_path: Path, http: httpx.AsyncClient) -> None:
    async with Sandbox(tmp_path / "ctx") as sandbox:
        response = await http.get(
            sandbox.origins["novita"] + "/v3/async/task-result", headers=NOVITA, params={"task_id": "x"}
        )
        assert response.status_code == 404
    assert not sandbox.started
    assert (tmp_path / "ctx" / "sandbox.sqlite").exists()
