"""Small helpers for tests that drive the sandbox: sample images, data URIs, MP4 checks, clock stepping."""

from __future__ import annotations

import base64
import io
from collections.abc import Awaitable, Callable
from typing import Any

import av
from PIL import Image

from .clock import ManualClock


def image_bytes(
    width: int = 640, height: int = 480, fmt: str = "PNG", color: tuple[int, int, int] = (200, 90, 40)
) -> bytes:
    """An in-memory image with a little structure (so result videos are not a flat colour)."""
    img = Image.new("RGB", (width, height), color)
    img.paste((30, 60, 200), (width // 4, height // 4, width // 2, height // 2))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """A base64 data URI of ``data``."""
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def mp4_info(data: bytes) -> tuple[str, int, int]:
    """Decode the first video frame of MP4 bytes with PyAV: ``(codec, width, height)``."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        return stream.codec_context.name, frame.width, frame.height


async def advance_until(
    clock: ManualClock,
    poll: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    *,
    step: float = 0.2,
    max_steps: int = 500,
) -> list[Any]:
    """Poll, advance the clock by ``step``, repeat until ``done(result)``; returns every result seen."""
    seen = []
    for _ in range(max_steps):
        result = await poll()
        seen.append(result)
        if done(result):
            return seen
        clock.advance(step)
    raise AssertionError(f"not done after {max_steps} steps; last result: {seen[-1]!r}")
