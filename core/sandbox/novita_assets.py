"""Novita's asset host: ``PUT /image`` and ``PUT /video`` with the raw file as body, no auth.

Answers ``{"assets_id": ...}`` (ids shaped like the page's: base64 of ``r2/novita-ai-asset/<kind>/<random>``).
Images must decode with Pillow; videos must start with an MP4 ``ftyp`` box. Any auth header that arrives is
recorded (presence and hash only), since none should.
"""

from __future__ import annotations

import base64
import secrets
import string

from aiohttp import web

from .engine import Engine
from .errors import bad_request
from .media import probe_image
from .novita import error_response
from .pipeline import Call, OriginSpec, Route, json_response
from .recording import RawBody

MAX_BYTES = 50 * 1024 * 1024


def new_asset_id(kind: str) -> str:
    """An asset id in Novita's format."""
    suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return base64.b64encode(f"r2/novita-ai-asset/{kind}/{suffix}".encode()).decode()


def _data(call: Call) -> bytes:
    body = call.body
    data = body.data if isinstance(body, RawBody) else b""
    if not data:
        raise bad_request("body", "the request body must be the file's bytes", "INVALID_REQUEST_BODY")
    if len(data) > MAX_BYTES:
        raise bad_request("body", f"file is larger than {MAX_BYTES} bytes", "INVALID_REQUEST_BODY")
    return data


async def put_image(engine: Engine, call: Call) -> web.StreamResponse:
    """Store an image asset."""
    data = _data(call)
    info = probe_image(data)
    if info is None:
        raise bad_request("body", "is not a readable image", "INVALID_REQUEST_BODY")
    asset = engine.store_asset(new_asset_id("image"), "image", data, info.mime)
    return json_response({"assets_id": asset.id})


async def put_video(engine: Engine, call: Call) -> web.StreamResponse:
    """Store a motion video asset."""
    data = _data(call)
    if data[4:8] != b"ftyp":
        raise bad_request("body", "is not an MP4 file (no ftyp box)", "INVALID_REQUEST_BODY")
    asset = engine.store_asset(new_asset_id("video"), "video", data, "video/mp4")
    return json_response({"assets_id": asset.id})


SPEC = OriginSpec(
    name="novita_assets",
    provider="novita",
    auth=None,
    errors=error_response,
    routes=(
        Route("PUT", "/image", "asset_upload", put_image, body="raw"),
        Route("PUT", "/video", "asset_upload", put_video, body="raw"),
    ),
)
