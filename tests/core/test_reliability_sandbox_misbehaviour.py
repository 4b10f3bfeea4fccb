"""The emulator misbehaves on demand: ``body`` faults (odd answers) and ``range_support = False`` (no resume)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from core.sandbox import Fault, ManualClock, Sandbox

AIML = {"Authorization": "Bearer k"}
AIML_PATH = "/v2/generate/video/minimax/generation"


async def _aiml_task(sandbox: Sandbox, http: httpx.AsyncClient) -> str:
    created = await http.post(sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML,
                              json={"model": "video-01-live2d", "prompt": "p",
                                    "first_frame_image": "https://images.example/a.jpg"})
    return str(created.json()["generation_id"])


async def _poll(sandbox: Sandbox, http: httpx.AsyncClient, task_id: str) -> httpx.Response:
    return await http.get(sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML, params={"generation_id": task_id})


async def test_a_replacement_body_is_answered_without_processing(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="create", status=502,
                             body="<html><body>502 Bad Gateway</body></html>",
                             headers={"Content-Type": "text/html"}))
    answer = await http.post(sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML, json={"prompt": "p"})
    assert answer.status_code == 502 and answer.headers["content-type"].startswith("text/html")
    assert answer.text.startswith("<html>")
    assert len(sandbox.tasks) == 0  # not processed
    record = sandbox.requests[-1]
    assert (record.fault, record.status, record.kind) == ("body", 502, "create")


@pytest.mark.parametrize(("body", "expected"), [
    ({"id": 5, "status": None}, {"id": 5, "status": None}),
    ([1, 2, 3], [1, 2, 3]),
    (b"\x00\xff", None),
])
async def test_replacement_bodies_of_any_type(sandbox: Sandbox, http: httpx.AsyncClient, body: Any,
                                              expected: Any) -> None:
    sandbox.faults.add(Fault("body", origin="aimlapi", body=body))
    answer = await _poll(sandbox, http, "x")
    assert answer.status_code == 200
    if expected is None:
        assert answer.content == body
    else:
        assert answer.json() == expected


async def test_a_patch_alters_the_processed_answer(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    task_id = await _aiml_task(sandbox, http)
    fault = sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=2,
                                     patch={"status": "thinking", "video.url": "file:///etc/passwd"}))
    first, second, third = [(await _poll(sandbox, http, task_id)).json() for _ in range(3)]
    assert first["status"] == second["status"] == "thinking" and first["id"] == task_id
    assert first["video"] == {"url": "file:///etc/passwd"}
    assert third["status"] in ("queued", "waiting", "generating") and fault.fired == 2


async def test_headers_and_status_on_a_file_answer(sandbox: Sandbox, http: httpx.AsyncClient,
                                                   clock: ManualClock) -> None:
    task_id = await _aiml_task(sandbox, http)
    clock.advance(sandbox.job_seconds)
    url = (await _poll(sandbox, http, task_id)).json()["video"]["url"]
    sandbox.faults.add(Fault("body", origin="cdn", headers={"Content-Disposition": 'attachment; filename="../x.mp4"'}))
    answer = await http.get(url)
    assert answer.status_code == 200 and answer.content[4:8] == b"ftyp"
    assert answer.headers["content-disposition"] == 'attachment; filename="../x.mp4"'
    sandbox.faults.add(Fault("body", origin="cdn", status=302, body=b"", headers={"Location": "file:///etc/passwd"}))
    redirected = await http.get(url)
    assert redirected.status_code == 302 and redirected.headers["location"] == "file:///etc/passwd"


async def test_a_huge_body_is_streamed_and_stops_when_the_client_leaves(sandbox: Sandbox,
                                                                         http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault("body", origin="aimlapi", body=b"x" * (1024 * 1024), repeat=100))
    received = 0
    async with http.stream("GET", sandbox.origins["aimlapi"] + AIML_PATH, headers=AIML) as answer:
        assert int(answer.headers["content-length"]) == 100 * 1024 * 1024
        async for chunk in answer.aiter_raw():
            received += len(chunk)
            if received > 3 * 1024 * 1024:
                break
    assert received > 3 * 1024 * 1024
    assert (await _poll(sandbox, http, "x")).status_code == 404  # the server is fine afterwards


async def test_without_range_support_the_whole_file_is_sent(sandbox: Sandbox, http: httpx.AsyncClient,
                                                            clock: ManualClock) -> None:
    task_id = await _aiml_task(sandbox, http)
    clock.advance(sandbox.job_seconds)
    url = (await _poll(sandbox, http, task_id)).json()["video"]["url"]
    full = await http.get(url)
    ranged = await http.get(url, headers={"Range": "bytes=10-"})
    assert ranged.status_code == 206 and ranged.content == full.content[10:]
    sandbox.range_support = False
    ignored = await http.get(url, headers={"Range": "bytes=10-"})
    assert ignored.status_code == 200 and ignored.content == full.content
    assert ignored.headers["accept-ranges"] == "none" and "content-range" not in ignored.headers


def test_body_faults_are_plain_data() -> None:
    spec = json.loads('{"kind": "body", "provider": "goapi", "request_kind": "poll", "patch": {"data.status": "x"}}')
    fault = Fault(**spec)
    assert fault.patch == {"data.status": "x"} and fault.status is None
    with pytest.raises(ValueError):
        Fault("body", repeat=0)
    with pytest.raises(ValueError):
        Fault("body", status=42)
