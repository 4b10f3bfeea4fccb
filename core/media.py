"""Video checks with PyAV: is a file a complete, decodable MP4? Synchronous: run in a thread.

``probe_video`` decodes the first frame (a quick "is this a video" check); ``verify_complete`` decodes the whole
stream and checks it reaches the duration and frame count its index states (a download cut short fails it).

PyAV is imported by the first check, not with this module (the window starts without it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def verify_complete(path: Path) -> VideoInfo:
    """Decode the whole video stream; ValueError unless the index is there and every frame it lists decodes.

    A download cut short keeps an MP4's index (written first by "faststart" encoders) but loses frames at the end:
    decoding then fails or stops before the stated duration. Without its index the file does not open at all.
    """
    import av
    import av.error

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("the file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames, end = _decode_all(container, stream)
            stated = _stated_duration(container, stream)
            _check_whole(frames, end, stated, stream.frames, _frame_seconds(stream))
            return VideoInfo(stream.codec_context.width, stream.codec_context.height, stated or end, frames)
    except av.error.FFmpegError as exc:
        raise ValueError(f"the video cannot be decoded to its end ({exc})") from None


def _decode_all(container: Any, stream: Any) -> tuple[int, float]:
    frames, end = 0, 0.0
    for frame in container.decode(stream):
        frames += 1
        if frame.time is not None:
            end = max(end, float(frame.time))
    return frames, end


def _stated_duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return float(container.duration / 1_000_000) if container.duration else 0.0


def _frame_seconds(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return float(1 / rate) if rate else 0.0


def _check_whole(frames: int, end: float, stated: float, listed: int, frame_seconds: float) -> None:
    if frames == 0:
        raise ValueError("no frame could be decoded")
    if listed and frames < listed:
        raise ValueError(f"only {frames} of its {listed} frames could be decoded")
    if stated and end + frame_seconds * 1.5 + 0.05 < stated:
        raise ValueError(f"it stops at {end:.1f} s of {stated:.1f} s")


#: Container-level tags FFmpeg writes itself; they are not carried over by ``write_tags``.
_MUXER_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})


def read_tags(path: Path) -> dict[str, str]:
    """The container's metadata tags (reads the header only); ValueError when the file is not a readable video."""
    import av
    import av.error

    try:
        with av.open(str(path)) as container:
            return {str(k): str(v) for k, v in container.metadata.items()}
    except av.error.FFmpegError as exc:
        raise ValueError(f"the video cannot be read ({exc})") from None


def write_tags(path: Path, tags: dict[str, str]) -> None:
    """Put ``tags`` into an MP4's own metadata: a stream copy (no re-encode) into a temporary file beside it, checked
    and renamed over the original, so the file is never half-written. The existing tags stay unless replaced.

    Custom keys are kept with ``movflags=use_metadata_tags`` (an ``mdta`` box). ValueError when it cannot be done;
    the original is then untouched.
    """
    tmp = path.with_name(f".{path.name}.tags.tmp")
    try:
        packets = _remux(path, tmp, tags)
        _check_remux(tmp, packets)
        os.replace(tmp, path)
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"the video's metadata could not be written ({exc})") from None


def _remux(source: Path, target: Path, tags: dict[str, str]) -> int:
    import av
    import av.error

    try:
        with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4",
                                                  options={"movflags": "use_metadata_tags+faststart"}) as out:
            for key, value in inp.metadata.items():
                if key not in _MUXER_TAGS:
                    out.metadata[key] = value
            out.metadata.update(tags)
            copied = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
            packets = 0
            for packet in inp.demux(*[s for s in inp.streams if s.index in copied]):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = copied[packet.stream.index]
                out.mux(packet)
                packets += 1
            return packets
    except av.error.FFmpegError as exc:
        raise ValueError(str(exc)) from None


def _check_remux(path: Path, packets: int) -> None:
    """The copy holds every packet that was read: the rename may go ahead."""
    import av
    import av.error

    try:
        with av.open(str(path)) as container:
            found = sum(1 for p in container.demux() if p.dts is not None)
    except av.error.FFmpegError as exc:
        raise ValueError(f"the copy does not read back ({exc})") from None
    if packets == 0 or found != packets:
        raise ValueError(f"the copy holds {found} of {packets} packets")


def content_digest(path: Path) -> str:
    """A SHA-256 of every packet of the video and audio streams, in order: the same for a file and its stream copy
    with other tags (``write_tags``), different as soon as one byte of the media differs."""
    import hashlib

    import av
    import av.error

    digest = hashlib.sha256()
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            for packet in container.demux(*streams):
                if packet.dts is not None:
                    digest.update(packet.stream.type.encode())
                    digest.update(bytes(packet))
    except av.error.FFmpegError as exc:
        raise ValueError(f"the video cannot be read ({exc})") from None
    return digest.hexdigest()
