"""Video checks with PyAV: is a file a complete, decodable MP4? Synchronous: run in a thread.

PyAV is imported by the first check, not with this module (the window starts without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MP4_BRANDS = (b"ftyp",)


@dataclass(frozen=True)
class VideoInfo:
    """What a verified video contains."""

    width: int
    height: int
    duration: float
    frames_decoded: int


def has_mp4_signature(head: bytes) -> bool:
    """True when the bytes start like an ISO-BMFF (MP4/MOV) file: a box whose type is ``ftyp``."""
    return len(head) >= 12 and head[4:8] in MP4_BRANDS


def probe_video(path: Path) -> VideoInfo:
    """Open a video and decode its first frame; raises ValueError with a readable reason when it can't."""
    import av
    import av.error

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("the file has no video stream")
            stream = container.streams.video[0]
            frames = 0
            for _frame in container.decode(stream):
                frames += 1
                break
            if frames == 0:
                raise ValueError("no frame could be decoded")
            duration = float(container.duration / av.time_base) if container.duration else 0.0
            return VideoInfo(stream.codec_context.width, stream.codec_context.height, duration, frames)
    except av.error.FFmpegError as exc:
        raise ValueError(f"the video cannot be decoded ({exc})") from None
