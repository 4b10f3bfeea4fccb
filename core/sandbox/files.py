"""Serving stored files with single-range ``Range`` support (206, ``Content-Range``) and ``truncate`` faults.

``cut_chunked`` and ``drip`` faults serve a file cut short without a length, or a few bytes at a time.
``sb.range_support = False`` makes every file origin ignore ``Range`` (always 200, whole file,
``Accept-Ranges: none``), like servers that cannot resume.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .engine import Engine
from .errors import ApiError
from .faults import BODY_HOOK
from .pipeline import Call, drop_connection

CHUNK = 64 * 1024
DRIP_BYTES = 16
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a file."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range asked for, None to send the whole file; raises ApiError 416 when unsatisfiable.

    Malformed or multi-range headers are ignored (the whole file is sent), as RFC 9110 allows.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise _unsatisfiable(size)
    if end < start:
        return None
    return ByteRange(start, end)


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        "The requested range is not satisfiable",
        code="InvalidRange",
        headers={"Content-Range": f"bytes */{size}"},
    )


def etag_of(path: Path) -> str:
    """A strong validator from size and modification time."""
    stat = path.stat()
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


async def serve_file(engine: Engine, call: Call, path: Path, content_type: str) -> web.StreamResponse:
    """Send ``path`` (or the requested range of it), honouring a ``truncate`` fault."""
    request = call.request
    size = path.stat().st_size
    etag = etag_of(path)
    if_range = request.headers.get("If-Range")
    ranges_ok = engine.range_support and if_range in (None, etag)
    byte_range = parse_range(request.headers.get("Range"), size) if ranges_ok else None
    response = web.StreamResponse(status=206 if byte_range else 200)
    accept = "bytes" if engine.range_support else "none"
    response.headers.update({"Content-Type": content_type, "Accept-Ranges": accept, "ETag": etag})
    if call.fault is not None and call.fault.kind == "body":  # misbehaving headers/status on a file answer
        response.headers.update(call.fault.headers or {})
        if call.fault.status is not None:
            response.set_status(call.fault.status)
    start, length = (byte_range.start, byte_range.length) if byte_range else (0, size)
    if byte_range:
        response.headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    fault = None
    if request.method != "HEAD":
        fault = engine.faults.take(BODY_HOOK, call.record.provider, call.record.kind, call.origin.name)
    kind = fault.kind if fault is not None else None
    if kind == "cut_chunked":
        response.enable_chunked_encoding()  # no Content-Length: the client cannot tell the end is early
    else:
        response.content_length = length
    send = int(length * fault.fraction) if fault is not None and kind != "drip" else length
    if fault is not None:
        call.record.fault = fault.kind
        call.record.status = response.status
    await response.prepare(request)
    if request.method != "HEAD":
        if kind == "drip" and fault is not None:
            await _send(response, path, start, send, chunk=DRIP_BYTES, delay=fault.delay)
        else:
            await _send(response, path, start, send)
    if kind == "truncate":
        drop_connection(request)
    elif kind == "cut_chunked":
        await response.write_eof()
    return response


async def _send(response: web.StreamResponse, path: Path, start: int, count: int, *, chunk: int = CHUNK,
                delay: float = 0.0) -> None:
    """Send ``count`` bytes of ``path`` from ``start``; with ``delay``, ``chunk`` bytes at a time that far apart
    (a dripping host), stopping quietly when the client hangs up."""
    with path.open("rb") as handle:
        handle.seek(start)
        while count > 0:
            data = handle.read(min(chunk, count))
            if not data:
                break
            try:
                await response.write(data)
            except ConnectionError:
                if delay:
                    return
                raise
            count -= len(data)
            if delay:
                await asyncio.sleep(delay)
