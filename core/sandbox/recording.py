"""Turning requests into key-free records: header names, auth presence/hash and summarised bodies.

Bodies keep their structure, but any data URI or long base64 string is replaced by a summary
(type, byte size, image dimensions), file parts by ``{filename, content_type, size, width, height}``,
and fields whose names look secret are redacted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .media import is_data_uri, looks_like_base64, summarize_bytes, summarize_inline

#: Headers that carry credentials, in lower case.
AUTH_HEADERS = ("authorization", "x-api-key", "api-key", "proxy-authorization")
_SECRET_FIELDS = frozenset({"secret", "api_key", "apikey", "password", "authorization", "access_token"})
REDACTED = "<redacted>"


@dataclass(frozen=True)
class FilePart:
    """A file part of a multipart body, held in memory."""

    filename: str | None
    content_type: str | None
    data: bytes

    def summary(self) -> dict[str, object]:
        """Record-safe description of the part."""
        summary = summarize_bytes(self.data, self.content_type)
        summary["filename"] = self.filename
        return summary


@dataclass(frozen=True)
class RawBody:
    """A non-JSON request body (Novita asset uploads)."""

    data: bytes
    content_type: str | None


class BadJson:
    """Marker body: the request's JSON did not parse."""

    def __init__(self, size: int) -> None:
        self.size = size


def auth_header_value(request: web.Request, header: str | None) -> str | None:
    """The value of ``header``, or for origins without auth the first credential-like header."""
    names = (header,) if header else AUTH_HEADERS
    for name in names:
        value = request.headers.get(name)
        if value is not None:
            return value
    return None


def any_auth_present(request: web.Request) -> bool:
    """True when any credential-like header arrived."""
    return any(name in request.headers for name in AUTH_HEADERS)


def sha256_text(value: str) -> str:
    """Hex SHA-256 of a string (used for auth header values; the value itself is never stored)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def summarize(value: Any, key: str | None = None) -> Any:
    """A record-safe copy of a parsed body."""
    if key is not None and key.lower() in _SECRET_FIELDS and value not in (None, ""):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): summarize(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [summarize(item) for item in value]
    if isinstance(value, str) and (is_data_uri(value) or looks_like_base64(value)):
        return summarize_inline(value)
    if isinstance(value, FilePart):
        return value.summary()
    if isinstance(value, RawBody):
        return summarize_bytes(value.data, value.content_type)
    if isinstance(value, BadJson):
        return {"invalid_json": True, "size": value.size}
    return value
