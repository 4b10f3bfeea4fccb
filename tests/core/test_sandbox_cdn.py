"""Sandbox emulator: the CDN origin (signed expiring URLs, S3-like errors, Range requests)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from core.sandbox import ManualClock, Sandbox

KEY = {"X-API-Key": "goapi-key"}


async def finished_video_url(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> tuple[str, str]:
    base = sandbox.origins["goapi"]
    body = {
        "model": "Qubico/hug-video",
        "task_type": "image_to_video",
        "input": {"image_url": "https://example.com/a.jpg"},
    }
    task_id = (await http.post(f"{base}/api/v1/task", headers=KEY, json=body)).json()["data"]["task_id"]
    clock.advance(sandbox.job_seconds)
    data = (await http.get(f"{base}/api/v1/task/{task_id}", headers=KEY)).json()["data"]
    return task_id, data["output"]["video_url"]


async def test_url_expires_with_the_clock(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    _, url = await finished_video_url(sandbox, http, clock)
    expires = int(parse_qs(urlparse(url).query)["expires"][0])
    assert expires == int(clock() + sandbox.url_ttl_seconds)
    assert (await http.get(url)).status_code == 200
    clock.now = expires + 1
    expired = await http.get(url)
    assert expired.status_code == 403
    assert expired.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text


async def test_each_poll_signs_a_fresh_url(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    task_id, first = await finished_video_url(sandbox, http, clock)
    clock.advance(sandbox.url_ttl_seconds + 5)
    assert (await http.get(first)).status_code == 403
    data = (await http.get(f"{sandbox.origins['goapi']}/api/v1/task/{task_id}", headers=KEY)).json()["data"]
    fresh = data["output"]["video_url"]
    assert fresh != first and (await http.get(fresh)).status_code == 200


async def test_bad_signature_and_unknown_file(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    _, url = await finished_video_url(sandbox, http, clock)
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    tampered = parsed._replace(query=urlencode({"expires": int(query["expires"][0]) + 999, "sig": query["sig"][0]}))
    response = await http.get(tampered.geturl())
    assert response.status_code == 403 and "SignatureDoesNotMatch" in response.text
    unsigned = await http.get(parsed._replace(query="").geturl())
    assert unsigned.status_code == 403
    missing = await http.get(f"{sandbox.origins['cdn']}/files/0000.mp4?expires=1&sig=x")
    assert missing.status_code == 404 and "NoSuchKey" in missing.text
    assert sandbox.count("cdn", "download") == 1  # unknown file: owner unknown -> provider "cdn"


@pytest.mark.parametrize(
    ("header", "status", "expected"),
    [
        ("bytes=0-99", 206, (0, 99)),
        ("bytes=100-", 206, (100, None)),
        ("bytes=-50", 206, (-50, None)),
        ("bytes=0-99999999", 206, (0, None)),
        ("bytes=5-2", 200, None),
        ("bytes=0-1,5-6", 200, None),
        ("items=0-5", 200, None),
    ],
)
async def test_range_requests(
    sandbox: Sandbox,
    http: httpx.AsyncClient,
    clock: ManualClock,
    header: str,
    status: int,
    expected: tuple[int, int | None] | None,
) -> None:
    _, url = await finished_video_url(sandbox, http, clock)
    full = (await http.get(url)).content
    response = await http.get(url, headers={"Range": header})
    assert response.status_code == status
    assert response.headers["accept-ranges"] == "bytes"
    if expected is None:
        assert response.content == full
        return
    start, end = expected
    if start < 0:
        piece = full[start:]
        first = len(full) + start
    else:
        piece = full[start : None if end is None else end + 1]
        first = start
    assert response.content == piece
    assert response.headers["content-range"] == f"bytes {first}-{first + len(piece) - 1}/{len(full)}"


async def test_unsatisfiable_range_and_head(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    _, url = await finished_video_url(sandbox, http, clock)
    size = len((await http.get(url)).content)
    response = await http.get(url, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416 and response.headers["content-range"] == f"bytes */{size}"
    head = await http.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == size and head.content == b""


async def test_resume_with_if_range(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    _, url = await finished_video_url(sandbox, http, clock)
    full = await http.get(url)
    etag = full.headers["etag"]
    same = await http.get(url, headers={"Range": "bytes=10-", "If-Range": etag})
    assert same.status_code == 206 and same.content == full.content[10:]
    changed = await http.get(url, headers={"Range": "bytes=10-", "If-Range": '"other"'})
    assert changed.status_code == 200 and changed.content == full.content


async def test_not_finished_task_files_are_hidden(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    base = sandbox.origins["goapi"]
    body = {"model": "Qubico/hug-video", "task_type": "image_to_video", "input": {"image_url": "https://e.com/a.jpg"}}
    task_id = (await http.post(f"{base}/api/v1/task", headers=KEY, json=body)).json()["data"]["task_id"]
    task = sandbox.tasks[task_id]
    url = sandbox.result_url(task)  # guessable only by the emulator itself
    assert (await http.get(url)).status_code == 404
