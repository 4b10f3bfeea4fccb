"""Frames out of videos with PyAV, for chaining clips: the frame shown at a time, or the very last frame.

Synchronous and CPU-bound: call from a thread.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
import av.video.stream
from PIL import Image

from core.errors import InputError


def frame_at(video: Path, seconds: float) -> tuple[Image.Image, float]:
    """The frame on screen at ``seconds`` (the last frame whose start time is <= seconds) and its exact time."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            target = max(0.0, seconds)
            container.seek(int(target / _time_base(stream)), stream=stream, backward=True, any_frame=False)
            chosen: av.VideoFrame | None = None
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if frame.time > target + 1e-6 and chosen is not None:
                    break
                chosen = frame
            if chosen is None:
                raise InputError(f"{video.name} has no frame at {seconds:.3f} s.")
            return chosen.to_image(), float(chosen.time or 0.0)
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(f"Cannot read frames from {video.name}: {exc}") from None


def last_frame(video: Path) -> tuple[Image.Image, float]:
    """The final frame of a video and its time."""
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            base = _time_base(stream)
            duration = float(stream.duration * base) if stream.duration else None
            if duration:
                container.seek(int(max(0.0, duration - 2.0) / base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
            if chosen is None:
                raise InputError(f"{video.name} has no frames.")
            return chosen.to_image(), float(chosen.time or 0.0)
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(f"Cannot read frames from {video.name}: {exc}") from None


def _time_base(stream: av.video.stream.VideoStream) -> Fraction:
    return stream.time_base or Fraction(1, 1_000_000)


def save_frame(image: Image.Image, folder: Path, stem: str) -> Path:
    """Save a frame as PNG (lossless) so it can fill a slot of the form."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.png"
    image.save(path, "PNG")
    return path
