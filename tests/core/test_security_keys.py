"""Keys: used only from the environment (or the keyring), never written anywhere, sent only to their own API's
origin. A full workload on all five providers with real (unique) keys, then every file in the data dir and every
byte the command line printed is searched for each key; the emulator's records show who received which key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import keyring.backend
import pytest
from clikit import cli_in_subprocess as cli
from harness import Harness
from PIL import Image

from core.engine import EngineConfig
from core.http import ApiClient, HttpRequest
from core.jobs import JobState
from core.media import content_digest
from core.paths import DataDir
from core.providers.aimlapi import SPEC as AIML
from core.providers.errors import classify_error
from core.runtime import Runtime
from core.sandbox import Fault, Sandbox
from core.sandbox.testing import image_bytes
from core.secrets import KeyStore
from core.submission import JobRequest

PROVIDERS = ("goapi", "aimlapi", "aihubmix", "gateway", "novita")
API_ORIGIN = {p: p for p in PROVIDERS} | {"goapi_upload": "goapi"}
AUTH_HEADER = {"goapi": "X-API-Key", "goapi_upload": "x-api-key"}




@pytest.fixture
async def keyed_sandbox(isolated_env: Path, quick_renders: None) -> AsyncIterator[tuple[Sandbox, dict[str, str]]]:
    """The emulator with one unique key per provider, its state inside the data dir (so it is searched too)."""
    keys = {p: f"sk-LEAK-{p}-{uuid.uuid4().hex}" for p in PROVIDERS}
    sandbox = Sandbox(isolated_env / "sandbox", job_seconds=0, valid_keys=keys)
    await sandbox.start()
    try:
        yield sandbox, keys
    finally:
        await sandbox.stop()


def submissions(images: Path) -> dict[str, list[str]]:
    Image.new("RGB", (800, 600), "orange").save(images / "two people.png")
    Image.new("RGB", (480, 640), "teal").save(images / "face.jpg", "JPEG")
    return {
        "goapi": ["--model", "Qubico/hug-video", "--image", str(images / "two people.png")],
        "aimlapi": ["--model", "video-01-live2d", "--prompt", "wave", "--image", str(images / "face.jpg")],
        "aihubmix": ["--model", "veo-3.1-generate-preview", "--prompt", "a fox", "--image", str(images / "face.jpg")],
        "gateway": ["--model", "viduq3t-540p", "--prompt", "a fox", "--image", str(images / "face.jpg"),
                    "--param", "duration=1"],
        "novita": ["--model", "img2video-motion", "--image", str(images / "face.jpg"), "--motion-video", "demo2"],
    }


async def test_a_full_workload_leaves_no_key_anywhere(keyed_sandbox: tuple[Sandbox, dict[str, str]],
                                                      isolated_env: Path, tmp_path: Path) -> None:
    sandbox, keys = keyed_sandbox
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= {"REELDECK_HOME": str(isolated_env)} | sandbox.endpoints()
    env |= {f"REELDECK_{p.upper()}_API_KEY": key for p, key in keys.items()}
    images = tmp_path / "my images"
    images.mkdir()
    runs = await asyncio.gather(*(cli(env, "submit", "--provider", p, *args, "--wait", "--json")
                                  for p, args in submissions(images).items()))
    for code, _out, err in runs:
        assert code == 0, err
    runs.append(await cli(env, "jobs", "--json"))
    runs.append(await cli(env, "keys", "list"))
    jobs = json.loads(runs[-2][1])
    assert sorted(j["provider"] for j in jobs) == sorted(PROVIDERS)
    assert all(j["state"] == JobState.COMPLETED for j in jobs)

    needles = {p: [key.encode(), base64.b64encode(key.encode())] for p, key in keys.items()}
    printed = "".join(out + err for _code, out, err in runs)
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert any(p.suffix == ".mp4" for p in files) and any("sandbox" in p.parts for p in files)
    assert any(p.name.endswith("-wal") or p.suffix == ".sqlite" for p in files)
    hits = [f"{path}: {provider}" for path in files for provider, found in needles.items()
            if any(needle in path.read_bytes() for needle in found)]
    hits += [f"output: {provider}" for provider, key in keys.items() if key in printed]
    assert hits == []

    # who received which key: each API origin its own provider's, the CDN and Novita's asset host none at all
    digest = {p: hashlib.sha256(f"Bearer {key}".encode()).hexdigest() for p, key in keys.items()}
    digest["goapi"] = hashlib.sha256(keys["goapi"].encode()).hexdigest()  # X-API-Key carries the bare key
    for request in sandbox.requests:
        if request.origin in API_ORIGIN:
            assert request.auth_sha256 == digest[API_ORIGIN[request.origin]], (request.origin, request.path)
        else:
            assert request.origin in ("cdn", "novita_assets")
            assert not request.auth_present and request.auth_sha256 is None, (request.origin, request.path)
    origins = {r.origin for r in sandbox.requests}
    assert origins == {*PROVIDERS, "goapi_upload", "novita_assets", "cdn"}


async def host_file(h: Harness, http: httpx.AsyncClient) -> str:
    """Put a small file on the emulator's CDN (through GoAPI's upload) and return its signed URL."""
    answer = await http.post(h.sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"], headers={"x-api-key": "k"},
                             json={"file_name": "x.png", "file_data": base64.b64encode(image_bytes(64, 64)).decode()})
    return str(answer.json()["data"]["url"])


@pytest.mark.parametrize(("provider", "model", "params", "header"), [
    ("goapi", "Qubico/hug-video", {}, "x-api-key"),
    ("aimlapi", "video-01-live2d", {"prompt": "wave"}, "authorization"),
])
async def test_an_api_redirect_to_another_origin_carries_no_key(harness: Harness, http: httpx.AsyncClient,
                                                                provider: str, model: str, params: dict[str, str],
                                                                header: str) -> None:
    h = harness
    elsewhere = await host_file(h, http)
    h.sandbox.faults.add(Fault("body", provider=provider, request_kind="poll", status=307, body=b"",
                               headers={"Location": elsewhere}))
    job = await h.run(provider, model, params, image=["https://images.example/p.jpg"])
    assert job.state == JobState.COMPLETED, job.error  # the odd answer was one hiccup
    redirected = [r for r in h.received(provider, "poll") if r.status == 307]
    assert len(redirected) == 1 and header in {n.lower() for n in redirected[0].header_names}
    followed = next(r for r in h.sandbox.requests if r.origin == "cdn" and r.seq > redirected[0].seq)
    assert followed.path == httpx.URL(elsewhere).path
    assert not followed.auth_present and not {"authorization", "x-api-key"} & {n.lower() for n in
                                                                              followed.header_names}


async def test_sora_content_redirected_to_a_cdn_is_fetched_without_the_key(harness: Harness) -> None:
    h = harness
    job = await h.engine.submit(JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a fox"}))
    while h.engine.store.get(job.id).remote_id is None:
        await h.engine._sleep(0.1)  # advance the simulated clock until the create was answered
    remote_id = h.engine.store.get(job.id).remote_id or ""
    cdn_url = h.sandbox.result_url(h.sandbox.tasks[remote_id])
    h.sandbox.faults.add(Fault("body", provider="aihubmix", request_kind="content", status=302, body=b"",
                               headers={"Location": cdn_url}))
    (final,) = await h.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    (content,) = [r for r in h.received("aihubmix", "content") if r.query.get("variant", "video") == "video"]
    assert content.status == 302 and content.auth_present  # the API origin itself gets the key
    (download,) = [r for r in h.sandbox.requests if r.origin == "cdn"]
    assert download.status == 200 and not download.auth_present
    assert content_digest(Path(final.video_path or "")) == content_digest(h.sandbox.tasks.video_path(remote_id))


# --- redirects, unit level --------------------------------------------------------------------------------------


def api_with(handler: Any) -> ApiClient:
    return ApiClient(name="AI/ML API", base_url="https://api.test", auth_headers={"Authorization": "Bearer sk-1"},
                     classify=partial(classify_error, AIML),
                     client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


async def test_a_redirect_keeps_its_own_query_and_gets_no_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            return httpx.Response(307, headers={"Location": "https://cdn.test/r.json?expires=9&sig=abc"})
        return httpx.Response(200, json={"status": "queued"})

    answer = await api_with(handler).send(HttpRequest("GET", "/poll", params={"generation_id": "g1"}))
    assert answer.body == {"status": "queued"}
    first, second = seen
    assert first.url.params["generation_id"] == "g1" and first.headers["authorization"] == "Bearer sk-1"
    assert dict(second.url.params) == {"expires": "9", "sig": "abc"}  # the signed URL as given
    assert "authorization" not in second.headers and "x-api-key" not in second.headers


@pytest.mark.parametrize(("status", "method", "has_body"), [(303, "GET", False), (302, "GET", False),
                                                            (307, "POST", True), (308, "POST", True)])
async def test_redirected_posts_follow_the_usual_rules(status: int, method: str, has_body: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(status, headers={"Location": "/v2/other"})
        return httpx.Response(200, json={"ok": True})

    await api_with(handler).send(HttpRequest("POST", "/v2/create", json={"prompt": "x"}, idempotent=False))
    assert seen[1].method == method and bool(seen[1].content) == has_body
    assert seen[1].headers["authorization"] == "Bearer sk-1"  # same origin: the key is still meant for it


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keyring stand-in: keys live in this object only."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


async def test_keys_from_the_keyring_are_used_and_written_nowhere(keyed_sandbox: tuple[Sandbox, dict[str, str]],
                                                                 isolated_env: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox, keys = keyed_sandbox
    for name, url in sandbox.endpoints().items():
        monkeypatch.setenv(name, url)
    store = KeyStore(environ=dict(os.environ), backend=MemoryKeyring())
    for provider, key in keys.items():
        store.set(provider, key)
    assert store.source("aimlapi") == "keyring"
    runtime = Runtime(DataDir(isolated_env), keys=store, engine_config=EngineConfig(poll_interval=0.2))
    engine = await runtime.start()
    try:
        image = tmp_path / "face.png"
        Image.new("RGB", (480, 640), "teal").save(image)
        jobs = [await engine.submit(JobRequest("aimlapi", "video-01-live2d", {"prompt": "wave"},
                                               {"image": [str(image)]})),
                await engine.submit(JobRequest("goapi", "Qubico/hug-video", {}, {"image": [str(image)]}))]
        finished = await engine.wait([j.id for j in jobs], timeout=60)
    finally:
        await runtime.close()
    assert [j.state for j in finished] == [JobState.COMPLETED] * 2
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert [str(p) for p in files for key in keys.values() if key.encode() in p.read_bytes()] == []
