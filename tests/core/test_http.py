"""The shared HTTP layer: retry policy, Retry-After, unknown outcomes, redirects that drop keys, capped bodies."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import (
    AuthError,
    InputError,
    NetworkError,
    ProtocolError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from core.http import ApiClient, ErrorAnswer, HttpRequest, RetryPolicy, Transport, retry_after_seconds


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _parser(answer: ErrorAnswer) -> ProviderError:
    status = answer.status
    if status == 429:
        return RateLimitedError("rate limited", status_code=status)
    if status >= 500:
        return ServerError("server", status_code=status)
    if status == 401:
        return AuthError("auth", status_code=status)
    return ProviderError("bad", status_code=status)


def _client(handler: Callable[[httpx.Request], httpx.Response], sleeps: Sleeps, **retry: Any) -> ApiClient:
    transport = httpx.MockTransport(handler)
    return ApiClient(
        name="Test API",
        base_url="https://api.test",
        auth_headers={"X-API-Key": "secret-key"},
        classify=_parser,
        client=httpx.AsyncClient(transport=transport),
        retry=RetryPolicy(**retry),
        sleep=sleeps,
        rng=random.Random(1),
    )


async def test_retries_5xx_then_succeeds_with_backoff() -> None:
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True})])
    sleeps = Sleeps()
    api = _client(lambda request: next(answers), sleeps)
    response = await api.send(HttpRequest("GET", "/x"))
    assert response.body == {"ok": True}
    assert len(sleeps.delays) == 2
    assert 0.5 <= sleeps.delays[0] <= 1.0 and 1.0 <= sleeps.delays[1] <= 2.0


async def test_retry_after_is_honoured_and_capped() -> None:
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"retry-after-ms": "1500"}),
        httpx.Response(200, json={}),
    ])
    sleeps = Sleeps()
    api = _client(lambda request: next(answers), sleeps)
    await api.send(HttpRequest("GET", "/x"))
    assert 7 <= sleeps.delays[0] <= 7.25
    assert 1.5 <= sleeps.delays[1] <= 1.75


async def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    sleeps = Sleeps()
    api = _client(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}), sleeps)
    with pytest.raises(RateLimitedError) as caught:
        await api.send(HttpRequest("GET", "/x"))
    assert caught.value.retry_after == 3600
    assert sleeps.delays == []


async def test_other_4xx_are_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(401, json={"message": "bad key"})

    with pytest.raises(AuthError):
        await _client(handler, Sleeps()).send(HttpRequest("GET", "/x"))
    assert len(calls) == 1


async def test_requests_per_call_are_bounded() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500)

    with pytest.raises(ServerError):
        await _client(handler, Sleeps(), max_attempts=4).send(HttpRequest("GET", "/x"))
    assert len(calls) == 4


async def test_a_create_whose_answer_was_lost_is_not_resent() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    with pytest.raises(NetworkError) as caught:
        await _client(handler, Sleeps()).send(HttpRequest("POST", "/create", json={}, idempotent=False))
    assert caught.value.maybe_sent
    assert len(calls) == 1


async def test_a_connect_failure_is_retried_even_for_creates() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"id": "t1"})

    response = await _client(handler, Sleeps()).send(HttpRequest("POST", "/create", json={}, idempotent=False))
    assert response.body == {"id": "t1"} and len(calls) == 2


async def test_cross_origin_redirect_drops_custom_auth_header() -> None:
    seen: dict[str, dict[str, str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = dict(request.headers)
        if request.url.host == "api.test":
            return httpx.Response(302, headers={"Location": "https://elsewhere.test/data"})
        return httpx.Response(200, json={"ok": 1})

    await _client(handler, Sleeps()).send(HttpRequest("GET", "/x"))
    assert seen["api.test"]["x-api-key"] == "secret-key"
    assert "x-api-key" not in seen["elsewhere.test"]
    assert "authorization" not in seen["elsewhere.test"]


async def test_html_error_page_becomes_a_plain_message() -> None:
    api = _client(lambda r: httpx.Response(200, html="<html>Bad gateway</html>"), Sleeps())
    with pytest.raises(ProtocolError, match="not data"):
        await api.send(HttpRequest("GET", "/x"))


async def test_huge_bodies_are_capped() -> None:
    api = _client(lambda r: httpx.Response(200, content=b"[" + b"1," * 5_000_000 + b"1]"), Sleeps())
    with pytest.raises(ProtocolError, match="larger than"):
        await api.send(HttpRequest("GET", "/x"))


def test_retry_after_http_date() -> None:
    headers = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_seconds(headers, now=1445412470.0) == pytest.approx(10.0)


# --- one transport: thumbnails, user URLs and downloads follow the same rules as API calls -----------------------

def _transport(handler: Callable[[httpx.Request], httpx.Response], sleeps: Sleeps) -> Transport:
    return Transport(httpx.AsyncClient(transport=httpx.MockTransport(handler)), sleep=sleeps, rng=random.Random(1))


async def test_a_fetch_follows_a_redirect_but_its_auth_stays_on_its_own_origin() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("x-api-key")))
        if request.url.host == "api.test":
            return httpx.Response(302, headers={"location": "https://cdn.test/thumb.webp"})
        return httpx.Response(200, content=b"RIFF....WEBP")

    status, data = await _transport(handler, Sleeps()).fetch(
        "https://api.test/v1/thumb", name="Test API", limit=1024, auth={"X-API-Key": "secret-key"},
        auth_origin="https://api.test/v1/thumb")
    assert (status, data) == (200, b"RIFF....WEBP")
    assert seen == [("api.test", "secret-key"), ("cdn.test", None)]


async def test_a_fetch_is_retried_under_the_shared_policy() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"Retry-After": "2"}),
                    httpx.Response(200, content=b"ok")])
    sleeps = Sleeps()
    status, data = await _transport(lambda request: next(answers), sleeps).fetch("https://cdn.test/a.png",
                                                                                name="CDN", limit=10)
    assert (status, data) == (200, b"ok")
    assert len(sleeps.delays) == 2 and 2 <= sleeps.delays[1] <= 2.25


async def test_a_user_url_that_redirects_to_a_local_file_is_refused_in_words() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "file:///etc/passwd"})

    api = ApiClient(name="Novita", base_url="https://api.test", auth_headers={"Authorization": "Bearer sk-1"},
                    classify=_parser, transport=_transport(handler, Sleeps()))
    with pytest.raises(InputError, match="could not be used"):
        await api.fetch_public("https://images.test/cat.png", limit=1024, what="image")


async def test_a_user_url_gets_no_key_and_a_too_large_one_is_refused() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, content=b"x" * 2048)

    api = ApiClient(name="Novita", base_url="https://api.test", auth_headers={"Authorization": "Bearer sk-1"},
                    classify=_parser, transport=_transport(handler, Sleeps()))
    with pytest.raises(InputError, match="is over"):
        await api.fetch_public("https://api.test/elsewhere.png", limit=1024, what="image")
    assert seen == [None]  # even on the API's own origin: a user-given URL never carries the key


def test_nothing_but_the_transport_sends_through_httpx() -> None:
    """The raw client is made in core/hub.py and used only in core/http.py: no other module sends or streams."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in sorted([*root.joinpath("core").rglob("*.py"), *root.joinpath("gui").rglob("*.py")]):
        if path.parts[-2] == "sandbox" or path.name == "http.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (".stream(\"GET\"", "follow_redirects=True", "client.send(", "client.get(", "httpx.get(",
                       ".http_client"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


# --- the pace of a stream ---------------------------------------------------------------------------------------


async def test_a_silent_host_is_abandoned_but_a_slow_consumer_is_never_cancelled() -> None:
    import asyncio

    from core.errors import NetworkError
    from core.http import PaceRule, PaceWatch, paced

    silent = asyncio.Event()

    async def host() -> Any:
        yield b"x" * 1000
        yield b"y" * 1000
        await silent.wait()  # then nothing, ever
        yield b""

    rule = PaceRule(window=0.3, min_rate=1000, grace=10)  # 300 bytes per 0.3 s window
    got: list[bytes] = []
    with pytest.raises(NetworkError, match="useful pace") as raised:
        async for chunk in paced(host(), PaceWatch(rule, None)):
            got.append(chunk)
            if len(got) == 1:
                # The consumer (a slow disk) keeps the chunk past the window: it is not cancelled for it.
                await asyncio.sleep(0.5)
    assert got == [b"x" * 1000, b"y" * 1000]  # then the silent host was given up at its window
    assert "no data before the deadline" in raised.value.detail
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]  # no cancel leaks out
