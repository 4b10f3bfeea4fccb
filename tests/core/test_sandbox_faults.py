"""Sandbox emulator: every fault kind, as an httpx client sees it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from core.sandbox import Fault, ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes

#: The hand-written Sora emulation and Sora's own rules and prices, with a user catalog that still serves Sora
#: (it is retired; tests/core/test_catalog.py proves a new Sora job is refused).
pytestmark = pytest.mark.usefixtures("sora_served")


AIML = {"Authorization": "Bearer aiml"}
AIML_PATH = "/v2/generate/video/minimax/generation"
SORA = {"Authorization": "Bearer sora"}


def aiml_body() -> dict[str, Any]:
    return {"model": "video-01-live2d", "prompt": "p", "first_frame_image": data_uri(image_bytes())}


async def aiml_create(sandbox: Sandbox, http: httpx.AsyncClient) -> httpx.Response:
    return await http.post(sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML, json=aiml_body())


async def test_status_fault_with_retry_after(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    fault = sandbox.faults.add(Fault("status", provider="aimlapi", request_kind="create", status=429, retry_after=2.5))
    limited = await aiml_create(sandbox, http)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3" and limited.headers["retry-after-ms"] == "2500"
    assert limited.json()["statusCode"] == 429 and "path" in limited.json()  # AI/ML API's error shape
    assert len(sandbox.tasks) == 0 and fault.fired == 1
    assert (await aiml_create(sandbox, http)).status_code == 200  # times=1: used up
    assert sandbox.requests[-2].fault == "status" and sandbox.requests[-2].status == 429


@pytest.mark.parametrize(
    ("origin", "path", "check"),
    [
        ("goapi", "/api/v1/task/x", lambda b: b == {"code": 503, "message": b["message"]}),
        ("aihubmix", "/v1/videos/x", lambda b: b["error"]["type"] == "server_error"),
        ("gateway", "/v1/video/generations/x", lambda b: b["data"] is None and isinstance(b["code"], str)),
        ("novita", "/v3/async/task-result", lambda b: b["reason"] == "SERVICE_UNAVAILABLE"),
    ],
)
async def test_status_fault_uses_provider_shape(
    sandbox: Sandbox, http: httpx.AsyncClient, origin: str, path: str, check: Any
) -> None:
    sandbox.faults.add(Fault("status", origin=origin, status=503))
    response = await http.get(sandbox.origins[origin] + path, headers={"Authorization": "Bearer k", "X-API-Key": "k"})
    assert response.status_code == 503 and check(response.json())
    assert "retry-after" not in response.headers


async def test_reset_drops_connection_before_processing(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault("reset", provider="aimlapi", request_kind="create"))
    with pytest.raises(httpx.TransportError) as caught:
        await aiml_create(sandbox, http)
    assert isinstance(caught.value, httpx.RemoteProtocolError | httpx.ReadError)
    assert len(sandbox.tasks) == 0
    record = sandbox.requests[-1]
    assert record.fault == "reset" and record.status is None
    assert (await aiml_create(sandbox, http)).status_code == 200


async def test_reset_after_creates_the_task_but_loses_the_answer(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault("reset_after", provider="aimlapi", request_kind="create"))
    with pytest.raises(httpx.TransportError):
        await aiml_create(sandbox, http)
    assert len(sandbox.tasks) == 1
    record = sandbox.requests[-1]
    assert record.fault == "reset_after" and record.status == 200 and record.task_id == sandbox.tasks.list()[0].id


async def test_truncate_sends_a_short_body(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    created = (await http.post(sandbox.origins["aihubmix"] + "/v1/videos", headers=SORA, json={"prompt": "p"})).json()
    clock.advance(sandbox.job_seconds)
    url = f"{sandbox.origins['aihubmix']}/v1/videos/{created['id']}/content"
    full = await http.get(url, headers=SORA)
    sandbox.faults.add(Fault("truncate", provider="aihubmix", fraction=0.25))
    received = b""
    with pytest.raises(httpx.TransportError):
        async with http.stream("GET", url, headers=SORA) as response:
            assert int(response.headers["content-length"]) == len(full.content)
            async for chunk in response.aiter_raw():
                received += chunk
    assert 0 < len(received) < len(full.content) and full.content.startswith(received)
    assert sandbox.requests[-1].fault == "truncate"


async def test_truncate_on_cdn_download(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    created = (await aiml_create(sandbox, http)).json()
    clock.advance(sandbox.job_seconds)
    polled = await http.get(
        sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML, params={"generation_id": created["generation_id"]}
    )
    sandbox.faults.add(Fault("truncate", origin="cdn", fraction=0.5))
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get(polled.json()["video"]["url"])
    assert (await http.get(polled.json()["video"]["url"])).status_code == 200


async def test_fail_job(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    sandbox.faults.add(Fault("fail_job", provider="aimlapi", message="GPU on fire"))
    first = (await aiml_create(sandbox, http)).json()["generation_id"]
    second = (await aiml_create(sandbox, http)).json()["generation_id"]
    clock.advance(sandbox.job_seconds)
    url = sandbox.origins["aimlapi"] + AIML_PATH
    failed = (await http.get(url, headers=AIML, params={"generation_id": first})).json()
    assert failed["status"] == "error" and failed["video"] is None
    assert failed["error"] == {"name": "GenerationError", "message": "GPU on fire"}
    ok = (await http.get(url, headers=AIML, params={"generation_id": second})).json()
    assert ok["status"] == "completed"


async def test_fail_job_sora(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    sandbox.faults.add(Fault("fail_job"))
    created = (await http.post(sandbox.origins["aihubmix"] + "/v1/videos", headers=SORA, json={"prompt": "p"})).json()
    clock.advance(sandbox.job_seconds)
    video = (await http.get(f"{sandbox.origins['aihubmix']}/v1/videos/{created['id']}", headers=SORA)).json()
    assert video["status"] == "failed" and video["error"]["message"] and video["expires_at"] is None
    content = await http.get(f"{sandbox.origins['aihubmix']}/v1/videos/{created['id']}/content", headers=SORA)
    assert content.status_code == 404


async def test_expire_url(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    created = (await aiml_create(sandbox, http)).json()
    clock.advance(sandbox.job_seconds)
    polled = await http.get(
        sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML, params={"generation_id": created["generation_id"]}
    )
    url = polled.json()["video"]["url"]
    sandbox.faults.add(Fault("expire_url"))
    expired = await http.get(url)
    assert expired.status_code == 403 and "expired" in expired.text
    assert sandbox.requests[-1].fault == "expire_url" and sandbox.requests[-1].provider == "aimlapi"
    assert (await http.get(url)).status_code == 200


async def test_slow(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault("slow", origin="gateway", delay=0.3))
    started = time.monotonic()
    response = await http.get(
        sandbox.origins["gateway"] + "/v1/video/generations/task_x", headers={"Authorization": "Bearer k"}
    )
    assert time.monotonic() - started >= 0.29
    assert response.status_code == 400  # answered normally after the delay
    with pytest.raises(httpx.ReadTimeout):
        sandbox.faults.add(Fault("slow", origin="gateway", delay=0.5))
        await http.get(
            sandbox.origins["gateway"] + "/v1/video/generations/task_x",
            headers={"Authorization": "Bearer k"},
            timeout=0.1,
        )


async def test_matching_and_times(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    poll_only = sandbox.faults.add(Fault("status", provider="aimlapi", request_kind="poll", status=500, times=2))
    other_provider = sandbox.faults.add(Fault("status", provider="novita", status=502, times=None))
    assert (await aiml_create(sandbox, http)).status_code == 200
    url = sandbox.origins["aimlapi"] + AIML_PATH
    statuses = [(await http.get(url, headers=AIML, params={"generation_id": "1"})).status_code for _ in range(3)]
    assert statuses == [500, 500, 404]
    assert poll_only.fired == 2 and poll_only not in sandbox.faults.faults
    assert other_provider.fired == 0 and other_provider in sandbox.faults.faults
    for _ in range(3):
        response = await http.get(sandbox.origins["novita"] + "/v3/async/task-result", headers=AIML)
        assert response.status_code == 502
    assert other_provider.fired == 3
    sandbox.faults.clear()
    assert (await http.get(sandbox.origins["novita"] + "/v3/async/task-result", headers=AIML)).status_code == 400
    assert sandbox.faults.fired_count("status") == 5


async def test_random_mode_is_seeded(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    url = sandbox.origins["gateway"] + "/v1/video/generations/task_x"

    async def run() -> list[str]:
        outcomes = []
        for _ in range(30):
            try:
                response = await http.get(url, headers={"Authorization": "Bearer k"})
                outcomes.append(str(response.status_code))
            except httpx.TransportError:
                outcomes.append("dropped")
        return outcomes

    sandbox.faults.random(rate=0.4, seed=7, kinds=["status", "reset", "slow"], delay=0.01)
    first = await run()
    sandbox.faults.random(rate=0.4, seed=7, kinds=["status", "reset", "slow"], delay=0.01)
    second = await run()
    assert first == second
    assert "dropped" in first and any(o in first for o in ("429", "500", "502", "503")) and "400" in first
    sandbox.faults.clear()
    assert set(await run()) == {"400"}


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault("explode")
    with pytest.raises(ValueError):
        Fault("status", request_kind="nonsense")
    with pytest.raises(ValueError):
        Fault("truncate", fraction=2.0)
