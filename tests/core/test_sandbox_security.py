"""Sandbox emulator: no key value is ever written under the state dir; auth is recorded as presence + hash."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from pathlib import Path

import httpx
import pytest

from core.sandbox import Fault, ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes

#: The hand-written Sora emulation and Sora's own rules and prices, with a user catalog that still serves Sora
#: (it is retired; tests/core/test_catalog.py proves a new Sora job is refused).
pytestmark = pytest.mark.usefixtures("sora_served")


PRESET = "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL3BYTjRDTXpwNzNqa2U2Wm1Na0FiRmVpcGtXRHMyajM4"


def unique_key(provider: str) -> str:
    return f"sk-LEAKCHECK-{provider}-{uuid.uuid4().hex}"


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {needle!r}" for needle in needles if needle in data]
    return hits


async def full_run(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock, keys: dict[str, str]) -> None:
    bearer = {p: {"Authorization": f"Bearer {k}"} for p, k in keys.items()}
    goapi = {"X-API-Key": keys["goapi"]}
    upload = await http.post(
        sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"],
        headers={"x-api-key": keys["goapi"]},
        json={"file_name": "a.png", "file_data": data_uri(image_bytes())},
    )
    body = {
        "model": "Qubico/hug-video",
        "task_type": "image_to_video",
        "input": {"image_url": upload.json()["data"]["url"]},
        "config": {"webhook_config": {"endpoint": "https://hook.example", "secret": "whsec-LEAKCHECK"}},
    }
    goapi_task = (await http.post(sandbox.origins["goapi"] + "/api/v1/task", headers=goapi, json=body)).json()
    aiml = await http.post(
        sandbox.origins["aimlapi"] + "/v2/generate/video/minimax/generation",
        headers=bearer["aimlapi"],
        json={"model": "video-01-live2d", "prompt": "p", "first_frame_image": data_uri(image_bytes())},
    )
    sora = await http.post(
        sandbox.origins["aihubmix"] + "/v1/videos",
        headers=bearer["aihubmix"],
        data={"prompt": "p"},
        files={"input_reference": ("r.png", image_bytes(720, 1280), "image/png")},
    )
    gateway = await http.post(
        sandbox.origins["gateway"] + "/v1/video/generations",
        headers=bearer["gateway"],
        json={"model": "viduq3p-540p", "prompt": "p", "duration": 1},
    )
    asset = (await http.put(sandbox.origins["novita_assets"] + "/image", content=image_bytes())).json()["assets_id"]
    novita = await http.post(
        sandbox.origins["novita"] + "/v3/async/img2video-motion",
        headers=bearer["novita"],
        json={"image_assets_id": asset, "motion_video_assets_id": PRESET, "seed": 1},
    )
    assert all(r.status_code == 200 for r in (aiml, sora, gateway, novita))
    # wrong keys and a dropped connection must not leak either
    wrong = {"Authorization": "Bearer sk-LEAKCHECK-wrong"}
    assert (
        await http.post(sandbox.origins["gateway"] + "/v1/video/generations", headers=wrong, json={})
    ).status_code == 401
    sandbox.faults.add(Fault("reset", provider="novita"))
    with contextlib.suppress(httpx.TransportError):
        await http.get(sandbox.origins["novita"] + "/v3/async/task-result", headers=bearer["novita"])
    clock.advance(sandbox.job_seconds)
    task_id = goapi_task["data"]["task_id"]
    data = (await http.get(f"{sandbox.origins['goapi']}/api/v1/task/{task_id}", headers=goapi)).json()["data"]
    assert (await http.get(data["output"]["video_url"])).status_code == 200
    content = await http.get(
        f"{sandbox.origins['aihubmix']}/v1/videos/{sora.json()['id']}/content", headers=bearer["aihubmix"]
    )
    assert content.status_code == 200


async def test_no_key_in_state_dir(tmp_path: Path, clock: ManualClock, http: httpx.AsyncClient) -> None:
    keys = {p: unique_key(p) for p in ("goapi", "aimlapi", "aihubmix", "gateway", "novita")}
    state = tmp_path / "state"
    sandbox = Sandbox(state, job_seconds=2.0, clock=clock, valid_keys=keys)
    await sandbox.start()
    try:
        await full_run(sandbox, http, clock, keys)
        assert files_containing(state, [b"LEAKCHECK"]) == []  # also checked while the DB is open (WAL)
    finally:
        await sandbox.stop()
    assert files_containing(state, [b"LEAKCHECK"]) == []
    assert all("LEAKCHECK" not in repr(r) for r in sandbox.requests)


async def test_auth_recorded_as_hash_and_per_origin(
    sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    keys = {p: unique_key(p) for p in ("goapi", "aimlapi", "aihubmix", "gateway", "novita")}
    sandbox.valid_keys = keys
    await full_run(sandbox, http, clock, keys)
    hashes = {
        "goapi": hashlib.sha256(keys["goapi"].encode()).hexdigest(),
        "goapi_upload": hashlib.sha256(keys["goapi"].encode()).hexdigest(),
        **{
            p: hashlib.sha256(f"Bearer {keys[p]}".encode()).hexdigest()
            for p in ("aimlapi", "aihubmix", "gateway", "novita")
        },
    }
    for record in sandbox.requests:
        assert "authorization" not in {n.lower() for n in record.header_names} or record.auth_present
        if record.origin in ("cdn", "novita_assets"):
            assert not record.auth_present and record.auth_sha256 is None, record
        elif record.status != 401:
            assert record.auth_present and record.auth_sha256 == hashes[record.origin], record
    goapi_create = next(r for r in sandbox.requests if r.provider == "goapi" and r.kind == "create")
    assert goapi_create.body["config"]["webhook_config"]["secret"] == "<redacted>"
    upload = next(r for r in sandbox.requests if r.kind == "upload")
    assert upload.body["file_data"]["inline"] == "data_uri" and upload.body["file_data"]["width"] == 640
    sora = next(r for r in sandbox.requests if r.provider == "aihubmix" and r.kind == "create")
    assert sora.body["input_reference"] == {
        "size": len(image_bytes(720, 1280)),
        "content_type": "image/png",
        "format": "PNG",
        "width": 720,
        "height": 1280,
        "filename": "r.png",
    }


async def test_cross_origin_download_records_stray_auth(
    sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    upload = await http.post(
        sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"],
        headers={"x-api-key": "k"},
        json={"file_name": "a.png", "file_data": data_uri(image_bytes())},
    )
    await http.get(upload.json()["data"]["url"], headers={"X-API-Key": "oops"})
    record = sandbox.requests[-1]
    assert record.origin == "cdn" and record.kind == "download" and record.provider == "goapi"
    assert record.auth_present and record.auth_sha256 == hashlib.sha256(b"oops").hexdigest()
