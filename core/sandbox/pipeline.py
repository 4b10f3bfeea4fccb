"""The request pipeline every emulated origin shares.

For each request: record it (key-free), read and summarise the body, apply request-level faults, check the
auth header, run the provider handler, render :class:`ApiError` in the provider's error shape, and persist
the record. Connection drops (``reset``, ``reset_after``, ``truncate``) close the transport without an
answer so clients really see a connection error.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .engine import Engine
from .errors import ApiError
from .faults import REQUEST_HOOK, Fault
from .recording import (
    BadJson,
    FilePart,
    RawBody,
    any_auth_present,
    auth_header_value,
    sha256_text,
    summarize,
)
from .records import RecordedRequest, RenderPlan, TaskInput, TaskRecord

MAX_BODY_BYTES = 64 * 1024 * 1024
STATUS_MESSAGES = {
    429: ("Rate limit reached, please retry later", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request", "server_error"),
    502: ("Bad gateway", "bad_gateway"),
    503: ("The service is temporarily unavailable", "service_unavailable"),
    504: ("Gateway timeout", "gateway_timeout"),
}


@dataclass
class Call:
    """One request as a handler sees it."""

    request: web.Request
    body: Any
    record: RecordedRequest
    origin: OriginSpec
    #: The request-level fault firing on this request, if any (file answers apply ``body`` faults' headers).
    fault: Fault | None = None

    def json_body(self) -> Any:
        """The parsed JSON body; 400 when it did not parse or is missing."""
        if isinstance(self.body, BadJson) or self.body is None:
            raise ApiError(400, "request body must be valid JSON", field="body", code="invalid_json")
        return self.body

    def start_task(self, engine: Engine, task_id: str, *, model: str, plan: RenderPlan, params: dict[str, Any],
                   inputs: list[TaskInput], remixed_from: str | None = None) -> TaskRecord:
        """Start a task of this origin's provider (failed, when a fault says so, in the origin's words) and record
        its id on this request."""
        task = engine.create_task(task_id=task_id, provider=self.origin.provider, model=model, plan=plan,
                                  params=params, inputs=inputs, fail_message=self.origin.fail_message,
                                  remixed_from=remixed_from)
        self.record.task_id = task.id
        return task


Handler = Callable[[Engine, Call], Awaitable[web.StreamResponse]]
ErrorRenderer = Callable[[ApiError, web.Request], web.Response]


@dataclass(frozen=True)
class Auth:
    """Where an origin expects its key: a header, with or without the ``Bearer`` scheme."""

    header: str
    bearer: bool

    def key(self, request: web.Request) -> str | None:
        """The key sent with the request, or None."""
        value = request.headers.get(self.header)
        if value is None:
            return None
        if not self.bearer:
            return value.strip() or None
        scheme, _, key = value.strip().partition(" ")
        return key.strip() or None if scheme.lower() == "bearer" else None


#: ``Authorization: Bearer <key>``, the scheme of every provider API but GoAPI's.
BEARER = Auth("Authorization", bearer=True)


@dataclass(frozen=True)
class Route:
    """One endpoint: method, aiohttp path, request kind, handler and how to read the body.

    ``body`` is ``none``, ``json``, ``raw`` (bytes) or ``auto`` (multipart/urlencoded form or JSON).
    """

    method: str
    path: str
    kind: str
    handler: Handler
    body: str = "none"


@dataclass(frozen=True)
class OriginSpec:
    """An emulated origin: its name, provider, auth, error shape and routes, and the message its provider gives a
    task it failed (origins that make tasks)."""

    name: str
    provider: str
    auth: Auth | None
    errors: ErrorRenderer
    routes: tuple[Route, ...]
    resolve_provider: Callable[[Engine, web.Request], str] | None = None
    fail_message: str = "task failed"

    @classmethod
    def api(cls, provider: str, *, auth: Auth, errors: ErrorRenderer, fail_message: str,
            routes: tuple[Route, ...]) -> OriginSpec:
        """A provider's API origin (named after the provider)."""
        return cls(provider, provider, auth, errors, routes, fail_message=fail_message)


def build_app(engine: Engine, spec: OriginSpec) -> web.Application:
    """The aiohttp application of one origin (unknown paths answer 404 in the provider's shape)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    for route in spec.routes:
        app.router.add_route(route.method, route.path, _wrap(engine, spec, route))
    fallback = Route("*", "/{tail:.*}", "unknown", _unknown_path)
    app.router.add_route("*", fallback.path, _wrap(engine, spec, fallback))
    return app


async def _unknown_path(engine: Engine, call: Call) -> web.StreamResponse:
    raise ApiError(404, f"no such endpoint: {call.request.method} {call.request.path}", code="not_found")


def _wrap(engine: Engine, spec: OriginSpec, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        provider = spec.resolve_provider(engine, request) if spec.resolve_provider else spec.provider
        record = _open_record(engine, spec, route, request, provider)
        try:
            return await _process(engine, spec, route, request, record)
        finally:
            engine.save_request(record)

    return handle


async def _process(
    engine: Engine, spec: OriginSpec, route: Route, request: web.Request, record: RecordedRequest
) -> web.StreamResponse:
    try:
        body = await read_body(request, route.body)
    except web.HTTPException as exc:  # e.g. 413 for bodies over MAX_BODY_BYTES
        too_big = error_response(spec, ApiError(exc.status, exc.reason, code="request_too_large"), request)
        record.status = too_big.status
        return too_big
    record.body = summarize(body)
    fault = engine.faults.take(REQUEST_HOOK, record.provider, route.kind, spec.name)
    if fault is not None:
        record.fault = fault.kind
        if fault.kind == "reset":
            return drop_connection(request)
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault.kind == "body" and fault.body is not None and not fault.processed:
            replaced = await replacement_answer(request, fault)
            record.status = replaced.status
            return replaced
    response = await _answer(engine, route, Call(request, body, record, spec, fault), fault)
    if fault is not None and fault.kind == "body" and fault.body is not None and fault.processed:
        replaced = await replacement_answer(request, fault)  # the work is done; the answer is lost on the way
        record.status = replaced.status
        return replaced
    if fault is not None and fault.kind == "body" and isinstance(response, web.Response) and not response.prepared:
        response = altered_answer(response, fault)
    record.status = response.status
    if fault is not None and fault.kind == "after":
        lost = await replacement_answer(request, after_answer(fault))
        record.status = lost.status
        return lost
    if fault is not None and fault.kind == "reset_after":
        return drop_connection(request)
    return response


async def _answer(engine: Engine, route: Route, call: Call, fault: Fault | None) -> web.StreamResponse:
    """Run the handler (after a ``status`` fault and the auth check); errors in the provider's shape."""
    try:
        if fault is not None and fault.kind == "status":
            raise status_error(fault)
        if fault is not None and fault.kind == "echo_key":  # the record stays key-free: it never holds the text
            call.record.error = "an answer quoting the request's key (echo_key fault)"
            return error_response(call.origin, echo_key_error(fault, call), call.request)
        check_auth(engine, call.origin, call.request)
        return await route.handler(engine, call)
    except ApiError as err:
        call.record.error = err.message
        return error_response(call.origin, err, call.request)


def _open_record(
    engine: Engine, spec: OriginSpec, route: Route, request: web.Request, provider: str
) -> RecordedRequest:
    header = spec.auth.header if spec.auth else None
    value = auth_header_value(request, header) or auth_header_value(request, None)
    record = RecordedRequest(
        seq=engine.next_seq(),
        time=engine.clock(),
        method=request.method,
        path=request.path,
        query=dict(request.query),
        origin=spec.name,
        provider=provider,
        kind=route.kind,
        header_names=list(request.headers.keys()),
        auth_present=any_auth_present(request),
        auth_sha256=sha256_text(value) if value is not None else None,
        content_type=request.content_type if request.body_exists else None,
    )
    engine.log_request(record)
    return record


async def read_body(request: web.Request, mode: str) -> Any:
    """Read the body as the route wants it (JSON, form fields with in-memory file parts, or raw bytes)."""
    if mode == "none":
        return None
    if mode == "raw":
        return RawBody(await request.read(), request.headers.get("Content-Type"))
    if mode == "auto" and request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await _read_form(request)
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return BadJson(len(raw))


async def _read_form(request: web.Request) -> dict[str, Any]:
    form: dict[str, Any] = {}
    try:
        data = await request.post()
    except ValueError:
        return form
    for name, value in data.items():
        if name in form:
            continue
        if isinstance(value, web.FileField):
            form[name] = FilePart(value.filename, value.content_type, value.file.read())
        else:
            form[name] = value
    return form


def check_auth(engine: Engine, spec: OriginSpec, request: web.Request) -> None:
    """Raise 401 unless the origin's auth header carries an acceptable key."""
    if spec.auth is None:
        return
    key = spec.auth.key(request)
    if not key:
        raise ApiError(401, f"missing API key: send it in the {spec.auth.header} header", code="missing_api_key")
    if engine.valid_keys is None:
        return
    expected = engine.valid_keys.get(spec.provider)
    if expected is None or not hmac.compare_digest(key.encode(), expected.encode()):
        raise ApiError(401, "invalid API key", code="invalid_api_key")


def status_error(fault: Fault) -> ApiError:
    """The error a ``status`` fault answers with."""
    status = fault.status if fault.status is not None else 503
    message, code = STATUS_MESSAGES.get(status, (f"injected HTTP {status}", "server_error"))
    return ApiError(status, fault.message or message, code=code, retry_after=fault.retry_after)


def echo_key_error(fault: Fault, call: Call) -> ApiError:
    """The error an ``echo_key`` fault answers with: its message quotes the key the request carried."""
    key = (call.origin.auth.key(call.request) if call.origin.auth else None) or ""
    middle = max(0, len(key) // 2 - 6)
    template = fault.message or "Invalid API key: {key}"
    message = template.format(key=key, key_part=key[middle:middle + 12])
    status = fault.status if fault.status is not None else 401
    return ApiError(status, message, code="invalid_api_key")


def _encode_body(body: Any) -> tuple[bytes, str]:
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return _dumps(body).encode("utf-8"), "application/json"


async def replacement_answer(request: web.Request, fault: Fault) -> web.StreamResponse:
    """A ``body`` fault's own answer: its body (``repeat`` times, streamed), status and headers."""
    data, content_type = _encode_body(fault.body)
    response = web.StreamResponse(status=fault.status if fault.status is not None else 200)
    response.headers["Content-Type"] = content_type
    response.headers.update(fault.headers or {})
    response.content_length = len(data) * fault.repeat
    await response.prepare(request)
    try:
        for _ in range(fault.repeat if data else 0):
            await response.write(data)
        await response.write_eof()
    except ConnectionError:  # the client stopped reading (e.g. it caps answer sizes)
        pass
    return response


PROXY_PAGE = "<html><head><title>{status} Bad Gateway</title></head><body><center>{status}</center></body></html>"


def after_answer(fault: Fault) -> Fault:
    """The answer an ``after`` fault sends once the request was processed: a proxy's HTML error page."""
    status = fault.status if fault.status is not None and fault.status >= 500 else 502
    return Fault("body", status=status, body=PROXY_PAGE.format(status=status),
                 headers={"Content-Type": "text/html"})


def altered_answer(response: web.Response, fault: Fault) -> web.Response:
    """A processed answer altered by a ``body`` fault: JSON fields patched, headers added, status replaced."""
    data = response.body if isinstance(response.body, bytes) else b""
    if fault.patch:
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            for path, value in fault.patch.items():
                set_path(decoded, path, value)
            data = _dumps(decoded).encode("utf-8")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers.update(fault.headers or {})
    status = fault.status if fault.status is not None else response.status
    return web.Response(status=status, body=data, headers=headers)


def set_path(node: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path of a JSON object, creating objects on the way."""
    *parents, leaf = path.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value


def error_response(spec: OriginSpec, err: ApiError, request: web.Request) -> web.Response:
    """Render an error in the origin's shape, with Retry-After headers when set."""
    response = spec.errors(err, request)
    response.headers.update(err.headers)
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(max(0, math.ceil(err.retry_after)))
        response.headers["retry-after-ms"] = str(max(0, int(err.retry_after * 1000)))
    return response


def drop_connection(request: web.Request) -> web.Response:
    """Close the client's connection without an answer; the returned response is never sent."""
    protocol = request.protocol
    if protocol is not None:
        protocol.force_close()
    elif request.transport is not None:
        request.transport.close()
    return web.Response(status=599, text="connection dropped by a sandbox fault")


def named_task(engine: Engine, call: Call, task_id: str, provider: str, missing: ApiError) -> TaskRecord:
    """The live task of ``provider`` that a call names (the id is recorded on the call), or ``missing`` raised."""
    call.record.task_id = task_id
    task = engine.get_task(task_id, provider)
    if task is None:
        raise missing
    return task


def required_query(call: Call, name: str, code: str) -> str:
    """A query parameter the call must carry (a 400 with the origin's ``code`` when it is missing or empty)."""
    value = call.request.query.get(name, "")
    if not value:
        raise ApiError(400, f"{name}: is required", field=name, code=code)
    return value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A compact JSON answer."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))
