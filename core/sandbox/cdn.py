"""The CDN origin: signed, expiring result and upload URLs, answered like S3 (XML errors, Range support).

``GET /files/{token}.{ext}?expires=<unix>&sig=<hmac>``: 403 ``AccessDenied`` once expired (or when an
``expire_url`` fault fires), 403 ``SignatureDoesNotMatch`` for a bad signature, 404 ``NoSuchKey`` for unknown
files. No auth is expected; any credential header that arrives is recorded (never its value).
"""

from __future__ import annotations

import secrets
from xml.sax.saxutils import escape

from aiohttp import web

from .engine import Engine
from .errors import ApiError
from .faults import CDN_HOOK
from .files import serve_file
from .pipeline import Call, OriginSpec, Route

S3_CODES = {403: "AccessDenied", 404: "NoSuchKey", 416: "InvalidRange", 429: "SlowDown", 503: "SlowDown"}


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """An S3-style XML error."""
    code = err.code if err.code and err.code[0].isupper() else S3_CODES.get(err.status, "InternalError")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(err.message)}</Message>"
        f"<Resource>{escape(request.path)}</Resource><RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>"
    )
    return web.Response(status=err.status, text=body, content_type="application/xml")


def _split_name(name: str) -> tuple[str, str]:
    token, _, ext = name.partition(".")
    return token, ext


def resolve_provider(engine: Engine, request: web.Request) -> str:
    """The provider owning the requested file (``cdn`` when unknown)."""
    token, _ = _split_name(request.match_info.get("name", ""))
    record = engine.store.get_file(token) if token else None
    return record.provider if record else "cdn"


def _check_signature(engine: Engine, call: Call, name: str) -> None:
    query = call.request.query
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        raise ApiError(403, "Query-string authentication requires expires and sig", code="AccessDenied") from None
    if not engine.signer.verify(name, expires, query.get("sig", "")):
        raise ApiError(403, "The request signature we calculated does not match", code="SignatureDoesNotMatch")
    fault = engine.faults.take(CDN_HOOK, call.record.provider, call.record.kind, call.origin.name)
    if fault is not None:
        call.record.fault = fault.kind
    if fault is not None or engine.clock() > expires:
        raise ApiError(403, "Request has expired", code="AccessDenied")


async def download(engine: Engine, call: Call) -> web.StreamResponse:
    """Serve a result variant or an uploaded file."""
    name = call.request.match_info["name"]
    token, ext = _split_name(name)
    record = engine.store.get_file(token)
    if record is None or record.ext != ext:
        raise ApiError(404, "The specified key does not exist.", code="NoSuchKey")
    _check_signature(engine, call, name)
    call.record.task_id = record.task_id
    path = engine.state_dir / record.rel_path
    if record.task_id is not None:
        task = engine.store.get_task(record.task_id)
        if task is None or task.deleted_at is not None or task.will_fail or not engine.status(task).succeeded:
            raise ApiError(404, "The specified key does not exist.", code="NoSuchKey")
        await engine.renders.ensure(task)
    if not path.exists():
        raise ApiError(404, "The specified key does not exist.", code="NoSuchKey")
    return await serve_file(engine, call, path, record.content_type)


SPEC = OriginSpec(
    name="cdn",
    provider="cdn",
    auth=None,
    errors=error_response,
    routes=(
        Route("GET", "/files/{name}", "download", download),
        Route("HEAD", "/files/{name}", "download", download),
    ),
    resolve_provider=resolve_provider,
)
