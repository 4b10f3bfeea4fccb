"""GoAPI's ephemeral upload origin: ``POST /api/ephemeral_resource`` (REFERENCE.md section 1).

Body ``{file_name (<=128 chars, with an extension), file_data (base64 or data URI of the same type,
decoded <= 10 MB)}``, auth ``x-api-key``. Answers ``{"code":200,"data":{"url":...},"message":"success"}`` with
a CDN URL valid for 24 h; 400 ``Invalid request parameters``; 403 ``Insufficient plan level`` when
``sb.goapi_upload_plan_ok`` is False.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from aiohttp import web

from . import schemas as s
from .engine import UPLOAD_TTL_SECONDS, Engine
from .errors import ApiError, bad_request
from .media import MIME_ALIASES, decode_inline
from .pipeline import Auth, Call, OriginSpec, Route, json_response

MAX_BYTES = 10 * 1024 * 1024


def _has_extension(name: str, _body: object) -> bool:
    suffix = PurePosixPath(name).suffix
    return len(suffix) > 1 and not name.endswith(".")


RULES = (
    s.required("file_name"),
    s.string("file_name"),
    s.length("file_name", 1, 128),
    s.rule("file_name", _has_extension, "must have a file extension"),
    s.required("file_data"),
    s.string("file_data"),
    s.length("file_data", 1),
)


def error_response(err: ApiError, request: web.Request) -> web.Response:
    """``{code, message}``; every 400 says ``Invalid request parameters`` (the field goes in ``detail``)."""
    if err.status == 400:
        body = {"code": 400, "message": "Invalid request parameters", "detail": err.message}
    else:
        body = {"code": err.status, "message": err.message}
    return json_response(body, status=err.status)


def _decode(file_name: str, file_data: str) -> bytes:
    try:
        inline = decode_inline(file_data)
    except ValueError as exc:
        raise bad_request("file_data", str(exc)) from None
    expected = mimetypes.guess_type(file_name)[0]
    expected = MIME_ALIASES.get(expected or "", expected)
    if inline.mime is not None and expected is not None and inline.mime != expected:
        raise bad_request("file_data", f"data URI type {inline.mime} does not match file_name ({expected})")
    if len(inline.data) > MAX_BYTES:
        raise bad_request("file_data", f"decoded file is larger than {MAX_BYTES} bytes")
    return inline.data


async def upload(engine: Engine, call: Call) -> web.StreamResponse:
    """Store the file and answer its CDN URL."""
    if not engine.goapi_upload_plan_ok:
        raise ApiError(403, "Insufficient plan level")
    body = call.json_body()
    s.check(body, RULES)
    data = _decode(body["file_name"], body["file_data"])
    record = engine.store_upload(data, body["file_name"], "goapi")
    url = engine.signed_url(record, ttl=UPLOAD_TTL_SECONDS)
    return json_response({"code": 200, "data": {"url": url}, "message": "success"})


SPEC = OriginSpec(
    name="goapi_upload",
    provider="goapi",
    auth=Auth("x-api-key", bearer=False),
    errors=error_response,
    routes=(Route("POST", "/api/ephemeral_resource", "upload", upload, body="json"),),
)
