"""Inline data and image checks: data URIs, bare base64, URLs, and per-provider image limits."""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from urllib.parse import urlparse

from PIL import Image, UnidentifiedImageError

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?)(?P<b64>;base64)?,", re.I)
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")

#: PIL format name -> MIME type, for the formats the providers mention.
FORMAT_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


@dataclass(frozen=True)
class InlineData:
    """Decoded inline bytes; ``mime`` is the data URI's declared type (None for bare base64)."""

    data: bytes
    mime: str | None
    is_data_uri: bool
    payload_chars: int


@dataclass(frozen=True)
class ImageInfo:
    """What Pillow says about image bytes."""

    format: str
    width: int
    height: int
    size: int

    @property
    def mime(self) -> str:
        """MIME type of the format."""
        return FORMAT_MIME.get(self.format, f"image/{self.format.lower()}")


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def is_data_uri(value: str) -> bool:
    """True when ``value`` starts like a data URI."""
    return value[:5].lower() == "data:"


def decode_inline(value: str) -> InlineData:
    """Decode a base64 data URI or bare base64 string; raises ValueError when it is neither."""
    if is_data_uri(value):
        match = _DATA_URI.match(value)
        if match is None or not match.group("b64"):
            raise ValueError("data URI must be base64-encoded (data:<mime>;base64,...)")
        payload = value[match.end() :]
        mime = (match.group("mime") or "").lower() or None
        return InlineData(_b64decode(payload), MIME_ALIASES.get(mime or "", mime), True, len(payload))
    return InlineData(_b64decode(value), None, False, len(value))


def looks_like_base64(value: str, min_chars: int = 256) -> bool:
    """Heuristic for recording: a long string made only of base64 characters (no spaces, so prose is kept)."""
    return len(value) >= min_chars and _BASE64_CHARS.match(value[:4096]) is not None


def _b64decode(payload: str) -> bytes:
    cleaned = re.sub(r"\s+", "", payload)
    if not cleaned:
        raise ValueError("empty base64 payload")
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64 data") from exc


def probe_image(data: bytes) -> ImageInfo | None:
    """Format and pixel size of image bytes, or None when Pillow cannot read them."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format or "", img.size
            img.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    return ImageInfo(fmt, width, height, len(data))


@dataclass(frozen=True)
class ImageLimits:
    """A provider's rules for an inline image (all optional)."""

    formats: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP"})
    max_bytes: int | None = None
    max_payload_chars: int | None = None
    min_side: int = 0
    short_side_over: int = 0
    aspect_min: float | None = None
    aspect_max: float | None = None
    aspect_strict: bool = False
    data_uri_only: bool = False

    def check_bytes(self, data: bytes) -> str | None:
        """The first rule the image bytes break, or None."""
        if self.max_bytes is not None and len(data) > self.max_bytes:
            return f"image is {len(data)} bytes; the limit is {self.max_bytes}"
        info = probe_image(data)
        if info is None:
            return "is not a readable image"
        if info.format not in self.formats:
            return f"image format {info.format} is not supported (use {', '.join(sorted(self.formats))})"
        return self._check_geometry(info)

    def _check_geometry(self, info: ImageInfo) -> str | None:
        short = min(info.width, info.height)
        if short < self.min_side:
            return f"image is {info.width}x{info.height}; both sides must be at least {self.min_side} px"
        if self.short_side_over and short <= self.short_side_over:
            return f"image is {info.width}x{info.height}; the shorter side must exceed {self.short_side_over} px"
        ratio = info.width / info.height
        low, high = self.aspect_min, self.aspect_max
        if self.aspect_strict:
            bad = (low is not None and ratio <= low) or (high is not None and ratio >= high)
        else:
            bad = (low is not None and ratio < low) or (high is not None and ratio > high)
        if bad:
            return f"image aspect ratio {ratio:.3f} is outside the allowed range"
        return None

    def check_inline(self, value: str) -> str | None:
        """Check an inline (data URI or base64) image string; the first problem or None."""
        if self.data_uri_only and not is_data_uri(value):
            return "must be a URL or a data URI like data:image/png;base64,..."
        try:
            inline = decode_inline(value)
        except ValueError as exc:
            return str(exc)
        if self.max_payload_chars is not None and inline.payload_chars >= self.max_payload_chars:
            return f"base64 payload must be smaller than {self.max_payload_chars} characters"
        problem = self.check_bytes(inline.data)
        if problem is None and inline.mime is not None:
            info = probe_image(inline.data)
            if info is not None and inline.mime != info.mime:
                return f"data URI says {inline.mime} but the data is {info.mime}"
        return problem


def summarize_bytes(data: bytes, content_type: str | None = None) -> dict[str, object]:
    """A record-safe description of binary data: size, type and image dimensions when it is an image."""
    summary: dict[str, object] = {"size": len(data), "content_type": content_type}
    info = probe_image(data)
    if info is not None:
        summary.update(format=info.format, width=info.width, height=info.height)
    elif data[4:8] == b"ftyp":
        summary["mp4"] = True
    return summary


def summarize_inline(value: str) -> dict[str, object]:
    """A record-safe description of a data URI or base64 string (never the data itself)."""
    try:
        inline = decode_inline(value)
    except ValueError:
        return {"inline": "undecodable", "chars": len(value)}
    summary = summarize_bytes(inline.data, inline.mime)
    summary["inline"] = "data_uri" if inline.is_data_uri else "base64"
    return summary
