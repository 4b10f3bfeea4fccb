"""Frames out of videos with PyAV, for chaining clips: the frame shown at a time, or the very last frame.

Synchronous and CPU-bound: call from a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.video.stream
from PIL import Image

from core.errors import InputError


def frame_at(video: Path, seconds: float) -> tuple[Image.Image, float]:
    """The frame on screen at ``seconds`` (the last frame whose start time is <= seconds) and its exact time."""
    target = max(0.0, seconds)

    def choose(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> av.VideoFrame | None:
        container.seek(int(target / _time_base(stream)), stream=stream, backward=True, any_frame=False)
        chosen: av.VideoFrame | None = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if frame.time > target + 1e-6 and chosen is not None:
                break
            chosen = frame
        return chosen

    return _read_frame(video, choose, f"has no frame at {seconds:.3f} s.")


def last_frame(video: Path) -> tuple[Image.Image, float]:
    """The final frame of a video and its time."""

    def choose(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> av.VideoFrame | None:
        base = _time_base(stream)
        duration = float(stream.duration * base) if stream.duration else None
        if duration:
            container.seek(int(max(0.0, duration - 2.0) / base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
        return chosen

    return _read_frame(video, choose, "has no frames.")


FrameChooser = Callable[[av.container.InputContainer, av.video.stream.VideoStream], "av.VideoFrame | None"]


def _read_frame(video: Path, choose: FrameChooser, missing: str) -> tuple[Image.Image, float]:
    """Open the video's first video stream, decode the frame ``choose`` picks, and give it with its time; ``missing``
    ends the message when it picks none."""
    try:
        with av.open(str(video)) as container:
            chosen = choose(container, container.streams.video[0])
            if chosen is None:
                raise InputError(f"{video.name} {missing}")
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
