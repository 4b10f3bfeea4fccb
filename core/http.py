"""The one HTTP layer: every request Reeldeck makes goes through a ``Transport`` (the only user of httpx's client).

``Transport.exchange`` carries API requests (``ApiClient.send`` adds a provider's base URL, auth and error
classification: the provider's declared rules, read by ``core.providers.errors.classify_error``);
``Transport.stream`` and ``Transport.fetch`` carry downloads, thumbnails and user-given URLs.
All of them share one retry policy, one redirect rule, one deadline rule and one error tree:

- Idempotent requests (polls, downloads, lists) are retried on 408/409/429/5xx and connection failures with
  exponential backoff and full jitter, honouring ``retry-after-ms`` and ``Retry-After`` (capped). Other 4xx are
  never retried.
- A create (not idempotent) is retried only when it surely did no work: a 429 (rate limits are checked before
  anything is made) or a connection that never opened. Anything else once it may have left (5xx — proxies answer
  502/503/504 after the vendor took the task —, 408, 409, a reset, a timeout) is raised for the engine, which
  treats the outcome as unknown (see docs/ARCHITECTURE.md, "A create is sent once").
- Every request has an overall deadline (an answer dripping a byte at a time cannot hold a job forever).
- Redirects are followed by hand (only to http/https): auth headers go only to the API's own origin, on every hop.
- Streams have a pace deadline instead (``PaceRule``): a host must keep sending at a useful rate.
- Response bodies are capped, and non-JSON answers become a plain-language ``ProtocolError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import (
    CertificateError,
    InputError,
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
T = TypeVar("T")


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
    #: An input upload sent ahead of the create (``Upload.request`` marks it): error rules for uploads read its
    #: error answers.
    upload: bool = False

    def body_size(self) -> int:
        """Roughly how many bytes the body carries (for the deadline)."""
        size = sum(len(part[1][1]) for part in self.files or []) + len(self.content or b"")
        if self.json is not None:
            size += len(json.dumps(self.json))
        return size


@dataclass(frozen=True)
class ErrorAnswer:
    """An error answer as a provider's declared error rules see it: its status, headers and decoded body (None when
    empty or not JSON), and what the request was for."""

    status: int
    body: Any = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    #: The answer to a create (every provider's create is a POST; polls, lists and cancels are not).
    creating: bool = False
    #: The answer to an input upload (``HttpRequest.upload``), from an upload host.
    upload: bool = False

    @classmethod
    def to(cls, request: HttpRequest, status: int, headers: httpx.Headers, body: Any) -> ErrorAnswer:
        """The error answer to ``request``."""
        return cls(status, body, headers, creating=request.method.upper() == "POST", upload=request.upload)


#: Turns an error answer into a typed error: a provider's declaration bound to ``classify_error``.
ErrorClassifier = Callable[[ErrorAnswer], ProviderError]


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


@dataclass(frozen=True)
class PaceRule:
    """The deadline of a stream: it must keep a useful pace, however short each wait between two bytes is.

    Every ``window`` seconds at least ``min_rate * window`` bytes must arrive, and a stream of known size must end
    within ``grace + size / min_rate`` seconds. A host that drips bytes forever therefore cannot hang a job (the
    per-read timeout never fires on such a host).
    """

    window: float = 60.0
    min_rate: float = 8 * 1024
    grace: float = 120.0


class PaceWatch:
    """Tracks one stream's progress against its :class:`PaceRule` (a monotonic clock, real time)."""

    def __init__(self, rule: PaceRule, remaining: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule, self._clock = rule, clock
        now = clock()
        self.deadline = now + rule.grace + remaining / rule.min_rate if remaining is not None else None
        self.window_start, self.window_bytes = now, 0

    def time_left(self) -> float:
        """Seconds the next read may take before the stream counts as stalled."""
        now = self._clock()
        left = [self.deadline - now] if self.deadline is not None else []
        if self.window_bytes < self.rule.min_rate * self.rule.window:
            left.append(self.window_start + self.rule.window - now)
        return max(0.0, min(left)) if left else self.rule.window

    def saw(self, count: int) -> None:
        """Count bytes received; raise NetworkError when the stream is too slow to go on."""
        now = self._clock()
        self.window_bytes += count
        if self.deadline is not None and now > self.deadline:
            raise stalled("it is taking far longer than its size allows")
        if now - self.window_start >= self.rule.window:
            if self.window_bytes < self.rule.min_rate * self.rule.window:
                raise stalled(f"{self.window_bytes} bytes in {now - self.window_start:.0f} s")
            self.window_start, self.window_bytes = now, 0


def stalled(detail: str) -> NetworkError:
    """The error of a stream that stopped keeping its pace."""
    return NetworkError("The host stopped sending at a useful pace; the transfer was abandoned.",
                        detail=f"stalled: {detail}")


async def paced(chunks: AsyncIterator[bytes], watch: PaceWatch) -> AsyncIterator[bytes]:
    """The chunks, as long as they keep coming at the pace the watch asks for.

    One watchdog timer per stream, not one per chunk: when it fires it asks the watch, and if the stream is behind
    its pace while waiting for the host, the read is cancelled and the stream counts as stalled; otherwise it sets
    itself again. (``asyncio.wait_for`` per chunk made a task per 32 KB: on a fast link that cost a third of the
    transfer — bench/RESULTS.md, downloads.) The consumer is never cancelled: only a read is.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    reading = stalled_now = False
    handle: asyncio.TimerHandle

    def check() -> None:
        nonlocal handle, stalled_now
        left = watch.time_left()
        if left <= 0 and reading:
            stalled_now = True
            task.cancel()
            return
        handle = loop.call_at(loop.time() + max(left, RECHECK_SECONDS), check)

    handle = loop.call_at(loop.time() + watch.time_left(), check)
    iterator = aiter(chunks)
    try:
        while True:
            reading = True
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if stalled_now and task.uncancel() == 0:
                    raise stalled("no data before the deadline") from None
                raise
            finally:
                reading = False
            watch.saw(len(chunk))
            yield chunk
    finally:
        handle.cancel()


#: How soon the watchdog looks again when the stream is due but the consumer, not the host, has the chunk.
RECHECK_SECONDS = 0.05


def check_web_url(url: str) -> None:
    """Refuse anything but http(s) addresses (file://, data:, ftp:, ...) before anything is opened."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ProtocolError(f"An address with an unsupported scheme ({scheme or 'none'}:) was not opened.")


def short_url(url: str, limit: int = 60) -> str:
    """A URL short enough for a message (its query, which may hold a signature, dropped)."""
    parts = urlsplit(url)
    text = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else url
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Transport:
    """The one door to the network: owns the httpx client and applies the shared rules to every exchange.

    ``auth`` given to a call goes only to ``auth_origin``'s origin (where the caller meant it to go), on every
    redirect hop; a redirect elsewhere gets no auth.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self._client = client
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        #: At most this many API requests in flight, below the connection pool's size, so httpcore never queues
        #: hundreds of waiters (its queue scan is quadratic). Streams are not gated: they are few and long.
        self._gate = gate
        self.requests_sent = 0

    def on_request(self, hook: Callable[[httpx.Request], Awaitable[None]]) -> None:
        """Call ``hook`` for every request sent (benchmarks count requests with it)."""
        self._client.event_hooks["request"].append(hook)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def retrying(self, attempt_once: Callable[[], Awaitable[T]], *, name: str, idempotent: bool = True,
                       max_attempts: int | None = None) -> T:
        """Run ``attempt_once`` under the retry policy: retryable errors are tried again after a backoff (a create
        only when it surely did no work), honouring the server's Retry-After up to a cap."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await attempt_once()
            except ProviderError as exc:
                if not self._should_retry(exc, idempotent, attempt, max_attempts or self.retry.max_attempts):
                    raise
                delay = self._delay_for(exc, attempt)
                log.info("%s: %s; retrying in %.1fs (attempt %d)", name, exc.message, delay, attempt)
                await self.sleep(delay)

    def _should_retry(self, exc: ProviderError, idempotent: bool, attempt: int, max_attempts: int) -> bool:
        if attempt >= max_attempts or not exc.retryable:
            return False
        if not idempotent and not surely_not_processed(exc):
            return False
        return not (isinstance(exc, RateLimitedError | ServerError) and exc.retry_after is not None
                    and exc.retry_after > self.retry.max_retry_after)

    def _delay_for(self, exc: ProviderError, attempt: int) -> float:
        if exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_retry_after) + self.rng.uniform(0, 0.25)
        return self.retry.backoff(attempt, self.rng)

    async def exchange(self, request: HttpRequest, url: str, *, name: str, auth: Mapping[str, str],
                       auth_origin: str) -> tuple[httpx.Response, bytes]:
        """One API exchange within its deadline: the (closed) response and its capped body."""
        deadline = ANSWER_DEADLINE_SECONDS + request.body_size() / UPLOAD_BYTES_PER_SECOND
        try:
            async with asyncio.timeout(deadline):
                if self._gate is None:
                    return await self._exchange(request, url, name, auth, auth_origin)
                async with self._gate:
                    return await self._exchange(request, url, name, auth, auth_origin)
        except TimeoutError:
            raise NetworkError(f"{name} did not answer in time.", maybe_sent=True,
                               detail=f"no complete answer within {deadline:.0f} s") from None

    async def _exchange(self, request: HttpRequest, url: str, name: str, auth: Mapping[str, str],
                        auth_origin: str) -> tuple[httpx.Response, bytes]:
        response = await self._follow(request, url, name, auth, auth_origin)
        try:
            return response, await read_capped(response)
        finally:
            await response.aclose()

    @contextlib.asynccontextmanager
    async def stream(self, url: str, *, name: str, headers: Mapping[str, str] | None = None,
                     auth: Mapping[str, str] | None = None, auth_origin: str = "") -> AsyncIterator[httpx.Response]:
        """GET ``url`` as a stream (any status): the caller reads the body at the pace it checks with a PaceRule."""
        check_web_url(url)
        request = HttpRequest("GET", "", headers=dict(headers or {}), url=url)
        response = await self._follow(request, url, name, auth or {}, auth_origin)
        try:
            yield response
        except httpx.TransportError as exc:
            raise certificate_error(exc, url) or NetworkError(
                f"The connection to {name} was interrupted.", detail=repr(exc), maybe_sent=True) from exc
        finally:
            await response.aclose()

    async def fetch(self, url: str, *, name: str, limit: int, auth: Mapping[str, str] | None = None,
                    auth_origin: str = "", pace: PaceRule | None = None) -> tuple[int, bytes]:
        """A small GET (a thumbnail, a user's image): status and body, retried under the policy, capped at
        ``limit`` bytes and kept to the pace rule. 5xx and 429 are retried like any idempotent request."""
        async def once() -> tuple[int, bytes]:
            async with self.stream(url, name=name, auth=auth, auth_origin=auth_origin) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise (RateLimitedError if status == 429 else ServerError)(
                        f"{name} answered HTTP {status}.", status_code=status,
                        retry_after=retry_after_seconds(response.headers))
                if status >= 300:
                    return status, b""
                return status, await read_capped(response, limit, pace=pace or PaceRule())
        return await self.retrying(once, name=name)

    async def _follow(self, request: HttpRequest, url: str, name: str, auth: Mapping[str, str],
                      auth_origin: str) -> httpx.Response:
        """Send, following redirects by hand: auth only to its own origin, the query only on the first hop, the
        body only while the method stays what it was (303, and 301/302 after a POST, turn it into a GET)."""
        method = request.method
        first_hop = True
        for _ in range(MAX_REDIRECTS + 1):
            headers = dict(request.headers)
            if auth and auth_origin and origin_of(url) == origin_of(auth_origin):
                headers.update(auth)
            with_body = method == request.method
            response = await self._send(method, url, request, headers, name, params=first_hop, body=with_body)
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            await response.aclose()
            url = urljoin(url, location)
            check_web_url(url)
            first_hop = False
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method = "GET"
        raise ProtocolError(f"{name} redirected too many times.")

    async def _send(
        self, method: str, url: str, request: HttpRequest, headers: dict[str, str], name: str, *,
        params: bool = True, body: bool = True,
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
            return await self._client.send(built, stream=True, follow_redirects=False)
        except httpx.ConnectError as exc:
            raise certificate_error(exc, url) or NetworkError(
                f"Could not reach {name}. Check your internet connection.", detail=repr(exc)
            ) from exc
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NetworkError(
                f"Could not reach {name}. Check your internet connection.", detail=repr(exc)
            ) from exc
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{name} did not answer in time.", detail=repr(exc), maybe_sent=True) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise NetworkError(
                f"The connection to {name} was interrupted.", detail=repr(exc), maybe_sent=True
            ) from exc


class ApiClient:
    """One provider's API: its base URL, auth headers and error classification (``classify``: the provider's
    declared error rules), over the shared Transport."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        auth_headers: dict[str, str],
        classify: ErrorClassifier,
        transport: Transport | None = None,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        if transport is None:
            if client is None:
                raise TypeError("ApiClient needs a transport (or an httpx client to make one)")
            transport = Transport(client, retry=retry, sleep=sleep, rng=rng, gate=gate)
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._auth = dict(auth_headers)
        self._classify = classify
        self.transport = transport

    @property
    def retry(self) -> RetryPolicy:
        return self.transport.retry

    @property
    def requests_sent(self) -> int:
        return self.transport.requests_sent

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
        return await self.transport.retrying(lambda: self._send_once(request), name=self.name,
                                             idempotent=request.idempotent)

    async def fetch_public(self, url: str, *, limit: int, what: str) -> bytes:
        """Fetch a user-given URL (never with the key): the body, or a plain InputError saying what went wrong."""
        try:
            status, data = await self.transport.fetch(url, name=f"the host of the {what}", limit=limit)
        except TooLargeError:
            raise InputError(f"The {what} at {short_url(url)} is over {limit // (1024 * 1024)} MB.") from None
        except ProtocolError as exc:
            raise InputError(f"The {what} at {short_url(url)} could not be used: {exc.message}") from None
        except ProviderError as exc:
            raise NetworkError(f"Could not download the {what} from {short_url(url)}; check the link and your "
                               "connection.", detail=exc.detail or exc.message) from None
        if status >= 300:
            raise InputError(f"The {what} at {short_url(url)} could not be downloaded (HTTP {status}). Check the "
                             "link, or use a local file.")
        if not data:
            raise InputError(f"The {what} at {short_url(url)} is empty.")
        return data

    async def _send_once(self, request: HttpRequest) -> ApiResponse:
        url = self.url_for(request)
        auth = self._auth if request.with_auth else {}  # to the origin the request was meant for (an upload host)
        response, body = await self.transport.exchange(request, url, name=self.name, auth=auth, auth_origin=url)
        decoded = _decode_json(body, response)
        if response.status_code >= 400:
            answer = ErrorAnswer.to(request, response.status_code, response.headers,
                                    None if decoded is _NOT_JSON else decoded)
            error = redact_error(self._classify(answer))
            error.retry_after = retry_after_seconds(response.headers)
            raise error
        if decoded is _NOT_JSON:
            raise ProtocolError(
                f"{self.name} answered with something that is not data (HTTP {response.status_code}, "
                f"{response.headers.get('content-type', 'no content type')}). The service may be having trouble.",
                detail=redact(body[:300].decode("utf-8", "replace")),
            )
        return ApiResponse(response.status_code, response.headers, decoded)


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


class TooLargeError(ProtocolError):
    """A body over its byte limit; it was not read further."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


_NOT_JSON = object()


def _decode_json(body: bytes, response: httpx.Response) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


async def read_capped(response: httpx.Response, limit: int = MAX_BODY_BYTES, *, pace: PaceRule | None = None) -> bytes:
    """Read a streamed response body, refusing more than ``limit`` bytes (and, with ``pace``, a dripping host)."""
    chunks: list[bytes] = []
    size = 0
    source = response.aiter_bytes()
    if pace is not None:
        source = paced(source, PaceWatch(pace, None))
    try:
        async for chunk in source:
            size += len(chunk)
            if size > limit:
                raise TooLargeError(
                    f"The answer was larger than {limit // (1024 * 1024)} MB, which no API answer should be; "
                    "it was not read.", limit=limit)
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
