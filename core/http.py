"""The one HTTP layer every provider uses: an httpx.AsyncClient with typed errors, retries and safe redirects.

- Idempotent requests (polls, downloads, lists) are retried on 408/409/429/5xx and connection failures with
  exponential backoff and full jitter, honouring ``retry-after-ms`` and ``Retry-After`` (capped). Other 4xx are
  never retried.
- A create (not idempotent) is retried only when it surely did no work: a 429 (rate limits are checked before
  anything is made) or a connection that never opened. Anything else once it may have left (5xx — proxies answer
  502/503/504 after the vendor took the task —, 408, 409, a reset, a timeout) is raised for the engine, which
  treats the outcome as unknown (see docs/ARCHITECTURE.md, "A create is sent once").
- Every request has an overall deadline (an answer dripping a byte at a time cannot hold a job forever).
- Redirects are followed by hand: auth headers go only to the origin they were meant for.
- Response bodies are capped, and non-JSON answers become a plain-language ``ProtocolError``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import (
    CertificateError,
    NetworkError,
    ProtocolError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from core.redact import redact, redact_error

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
#: The longest an API answer may take from sending to its last byte; uploads get more time per byte sent.
ANSWER_DEADLINE_SECONDS = 60.0
UPLOAD_BYTES_PER_SECOND = 100_000
MAX_REDIRECTS = 5
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
Sleep = Callable[[float], Awaitable[None]]
ErrorParser = Callable[[httpx.Response, Any], ProviderError]


@dataclass(frozen=True)
class HttpRequest:
    """A request built by a provider, not yet sent. ``path`` is appended to the provider's base URL."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: True when sending it twice is harmless (GET, DELETE, polls). Creates are not.
    idempotent: bool = True
    #: An absolute URL to use instead of base URL + path (upload hosts).
    url: str | None = None
    #: Send the provider's auth headers. False for asset hosts and CDNs.
    with_auth: bool = True

    def body_size(self) -> int:
        """Roughly how many bytes the body carries (for the deadline)."""
        size = sum(len(part[1][1]) for part in self.files or []) + len(self.content or b"")
        if self.json is not None:
            size += len(json.dumps(self.json))
        return size


@dataclass
class RetryPolicy:
    """How often and how long to retry."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the given attempt (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(cap / 2, cap)


@dataclass
class ApiResponse:
    """A successful answer: status, headers and the decoded JSON body."""

    status_code: int
    headers: httpx.Headers
    body: Any


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def retry_after_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    """The server's requested delay from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - (time.time() if now is None else now))


class ApiClient:
    """Sends ``HttpRequest``s to one provider's API origin with its auth headers."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        auth_headers: dict[str, str],
        error_parser: ErrorParser,
        client: httpx.AsyncClient,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._auth = dict(auth_headers)
        self._parse_error = error_parser
        self._client = client
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        #: Shared by every provider of a hub: at most this many API requests in flight, below the connection
        #: pool's size, so httpcore never queues hundreds of waiters (its queue scan is quadratic).
        self._gate = gate
        self.requests_sent = 0

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The shared httpx client, for fetching user-given URLs (callers send no auth with it)."""
        return self._client

    @property
    def secrets(self) -> list[str]:
        """Header values that must never be logged or shown."""
        return [v for v in self._auth.values() if v]

    def auth_for(self, url: str) -> dict[str, str]:
        """The auth headers, but only for a URL on this API's own origin."""
        return dict(self._auth) if origin_of(url) == origin_of(self.base_url) else {}

    def url_for(self, request: HttpRequest) -> str:
        return request.url or f"{self.base_url}{request.path}"

    async def send(self, request: HttpRequest) -> ApiResponse:
        """Send with retries; return the decoded JSON answer or raise a typed ProviderError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._send_once(request)
            except ProviderError as exc:
                if not self._should_retry(exc, request, attempt):
                    raise
                delay = self._delay_for(exc, attempt)
                log.info("%s: %s; retrying in %.1fs (attempt %d)", self.name, exc.message, delay, attempt)
                await self._sleep(delay)

    def _should_retry(self, exc: ProviderError, request: HttpRequest, attempt: int) -> bool:
        if attempt >= self.retry.max_attempts or not exc.retryable:
            return False
        if not request.idempotent and not surely_not_processed(exc):
            return False
        return not (isinstance(exc, RateLimitedError | ServerError) and exc.retry_after is not None
                    and exc.retry_after > self.retry.max_retry_after)

    def _delay_for(self, exc: ProviderError, attempt: int) -> float:
        if exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_retry_after) + self._rng.uniform(0, 0.25)
        return self.retry.backoff(attempt, self._rng)

    def deadline_for(self, request: HttpRequest) -> float:
        """Seconds the whole exchange may take: the answer deadline plus time to send the body."""
        return ANSWER_DEADLINE_SECONDS + request.body_size() / UPLOAD_BYTES_PER_SECOND

    async def _send_once(self, request: HttpRequest) -> ApiResponse:
        try:
            async with asyncio.timeout(self.deadline_for(request)):
                if self._gate is None:
                    response, body = await self._exchange(request)
                else:
                    async with self._gate:
                        response, body = await self._exchange(request)
        except TimeoutError:
            raise NetworkError(f"{self.name} did not answer in time.", maybe_sent=True,
                               detail=f"no complete answer within {self.deadline_for(request):.0f} s") from None
        decoded = _decode_json(body, response)
        if response.status_code >= 400:
            error = redact_error(self._parse_error(response, None if decoded is _NOT_JSON else decoded))
            error.retry_after = retry_after_seconds(response.headers)
            raise error
        if decoded is _NOT_JSON:
            raise ProtocolError(
                f"{self.name} answered with something that is not data (HTTP {response.status_code}, "
                f"{response.headers.get('content-type', 'no content type')}). The service may be having trouble.",
                detail=redact(body[:300].decode("utf-8", "replace")),
            )
        return ApiResponse(response.status_code, response.headers, decoded)

    async def _exchange(self, request: HttpRequest) -> tuple[httpx.Response, bytes]:
        response = await self._request_following_redirects(request)
        try:
            return response, await read_capped(response)
        finally:
            await response.aclose()

    async def _request_following_redirects(self, request: HttpRequest) -> httpx.Response:
        url = self.url_for(request)
        first_origin = origin_of(url)
        method = request.method
        first_hop = True
        for _ in range(MAX_REDIRECTS + 1):
            same_origin = origin_of(url) == first_origin
            headers = dict(request.headers)
            if request.with_auth and same_origin:
                headers.update(self._auth)
            # A Location is a complete URL: our query goes only to the first hop; the body only while the method
            # stays what it was (303, and 301/302 after a POST, turn it into a GET, as browsers and httpx do).
            with_body = method == request.method
            response = await self._stream(method, url, request, headers, params=first_hop, body=with_body)
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response
            await response.aclose()
            url = urljoin(url, response.headers["location"])
            first_hop = False
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method = "GET"
        raise ProtocolError(f"{self.name} redirected too many times.")

    async def _stream(
        self, method: str, url: str, request: HttpRequest, headers: dict[str, str], *, params: bool = True,
        body: bool = True,
    ) -> httpx.Response:
        built = self._client.build_request(
            method,
            url,
            params=request.params if params else None,
            json=request.json if body else None,
            data=request.data if body else None,
            files=request.files if body else None,
            content=request.content if body else None,
            headers=headers,
        )
        self.requests_sent += 1
        try:
            return await self._client.send(built, stream=True)
        except httpx.ConnectError as exc:
            raise certificate_error(exc, url) or NetworkError(
                f"Could not reach {self.name}. Check your internet connection.", detail=repr(exc)
            ) from exc
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NetworkError(
                f"Could not reach {self.name}. Check your internet connection.", detail=repr(exc)
            ) from exc
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"{self.name} did not answer in time.", detail=repr(exc), maybe_sent=True
            ) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise NetworkError(
                f"The connection to {self.name} was interrupted.", detail=repr(exc), maybe_sent=True
            ) from exc


def surely_not_processed(exc: ProviderError) -> bool:
    """True when the failed request surely did no work at the server: a 429, or a connection that never opened."""
    if isinstance(exc, RateLimitedError):
        return True
    return isinstance(exc, NetworkError) and not exc.maybe_sent


def certificate_error(exc: BaseException, url: str) -> CertificateError | None:
    """A plain-language CertificateError when ``exc`` (or what caused it) is a failed TLS verification."""
    node: BaseException | None = exc
    reason = ""
    while node is not None:
        if isinstance(node, ssl.SSLCertVerificationError):
            reason = node.verify_message or node.reason or ""
            break
        if "CERTIFICATE_VERIFY_FAILED" in str(node):
            reason = "certificate verify failed"
            break
        node = node.__cause__ or node.__context__
    if node is None:
        return None
    host = urlsplit(url).hostname or url
    return CertificateError(
        f"The certificate of {host} is not trusted ({reason}), so Reeldeck did not connect. If this server uses "
        "your organisation's own certificate authority, set REELDECK_CA_BUNDLE to that CA's PEM file.",
        detail=repr(exc),
    )


_NOT_JSON = object()


def _decode_json(body: bytes, response: httpx.Response) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


async def read_capped(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read a streamed response body, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ProtocolError(
                    f"The answer was larger than {limit // (1024 * 1024)} MB, which no API answer should be; "
                    "it was not read."
                )
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise NetworkError(
            "The connection was interrupted while reading the answer.", detail=repr(exc), maybe_sent=True
        ) from exc
    return b"".join(chunks)


def error_message_from(body: Any, *paths: str) -> str:
    """The first non-empty string found at one of the dotted ``paths`` in a decoded JSON body."""
    for path in paths:
        node: Any = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip():
            return node.strip()
    return ""
