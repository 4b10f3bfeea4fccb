"""Sequences: finished clips put in order, each trimmed to an in and out point, played and exported as one piece.

A ``Sequence`` is plain data (kept in the job store): its clips (job id, video file, in and out point in seconds),
an optional crossfade of N frames, a quality choice for re-encoding, and the continuations it waits for (a job
made from a clip's last frame, appended after that clip when it finishes).

``export_sequence`` writes one MP4 with PyAV. When every clip shares codec (and its settings), size and frame rate,
no crossfade is asked and every cut falls on a keyframe, the packets are copied as they are (no quality lost,
fast); otherwise every frame is decoded and re-encoded at the first clip's size and frame rate (other clips are
fitted inside it, black bars where the shape differs). The output is written to a ``.part`` file that is renamed
only when complete: a cancelled or failed export leaves nothing behind. ``sequence_frames`` yields the very frames
a re-encode writes, so the window's preview plays what the export makes.

Synchronous and CPU-bound: run it in a worker thread, with a ``CancelToken`` and a progress callback. PyAV and
Pillow are imported by the first call, not with this module (the store imports it).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InputError, ReeldeckError
from core.jobs import Job, JobState

if TYPE_CHECKING:
    from PIL import Image

#: Quality choices for a re-encode: name → (label, x264 constant rate factor; lower is better and larger).
QUALITIES: dict[str, tuple[str, int]] = {
    "high": ("High (larger file)", 18),
    "standard": ("Standard", 23),
    "small": ("Small file", 28),
}
DEFAULT_QUALITY = "high"
MAX_CROSSFADE_FRAMES = 120
#: Two times closer than this (seconds) are the same frame time.
TIME_EPSILON = 0.001


class ExportCancelled(ReeldeckError):
    """The person cancelled the export; nothing was written."""


class CancelToken:
    """Set from any thread to stop an export or a preview at the next frame."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise ExportCancelled once cancelled."""
        if self._event.is_set():
            raise ExportCancelled("The export was cancelled; nothing was written.")


Progress = Callable[[int, int], None]  # frames (or packets) done, total


# --- the sequence (plain data) ---------------------------------------------------------------------------------

@dataclass
class Clip:
    """One clip of a sequence: a finished job's video, trimmed to ``start`` (in) and ``end`` (out; None = its end)."""

    job_id: str
    path: str
    start: float = 0.0
    end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "path": self.path, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Clip:
        end = data.get("end")
        return cls(str(data["job_id"]), str(data["path"]), float(data.get("start") or 0.0),
                   None if end is None else float(end))


@dataclass
class Sequence:
    """Clips in order, the crossfade between them (frames, 0 = a cut), the re-encode quality, and continuations."""

    id: str
    name: str
    clips: list[Clip] = field(default_factory=list)
    crossfade: int = 0
    quality: str = DEFAULT_QUALITY
    #: Jobs that continue a clip (made from its last frame) → the job id of that clip; appended when they finish.
    waiting: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def new(cls, name: str) -> Sequence:
        return cls(id=uuid.uuid4().hex[:12], name=name.strip() or "Untitled sequence")

    def body(self) -> dict[str, Any]:
        """What is stored beside id, name and times."""
        return {"clips": [c.to_json() for c in self.clips], "crossfade": self.crossfade, "quality": self.quality,
                "waiting": dict(self.waiting)}

    @classmethod
    def from_body(cls, sequence_id: str, name: str, body: dict[str, Any], created_at: float,
                  updated_at: float) -> Sequence:
        quality = str(body.get("quality") or DEFAULT_QUALITY)
        return cls(sequence_id, name, [Clip.from_json(c) for c in body.get("clips", [])],
                   int(body.get("crossfade") or 0), quality if quality in QUALITIES else DEFAULT_QUALITY,
                   {str(k): str(v) for k, v in (body.get("waiting") or {}).items()}, created_at, updated_at)

    # --- editing ---------------------------------------------------------------------------------------------

    def add(self, job: Job, at: int | None = None) -> Clip:
        """Append (or insert at ``at``) a finished job's whole video. Raises InputError for an unfinished job."""
        if job.state != JobState.COMPLETED or not job.video_path:
            raise InputError(f"Job {job.id} has no finished video to put in a sequence.")
        clip = Clip(job.id, job.video_path)
        self.clips.insert(len(self.clips) if at is None else max(0, min(at, len(self.clips))), clip)
        return clip

    def move(self, source: int, target: int) -> None:
        """Move the clip at ``source`` so that it ends up at index ``target``."""
        self._check_index(source)
        clip = self.clips.pop(source)
        self.clips.insert(max(0, min(target, len(self.clips))), clip)

    def remove(self, index: int) -> Clip:
        self._check_index(index)
        return self.clips.pop(index)

    def trim(self, index: int, start: float, end: float | None, duration: float) -> Clip:
        """Set a clip's in and out point (seconds, within ``duration``); InputError when they make no clip."""
        self._check_index(index)
        if start < 0 or start >= duration - TIME_EPSILON:
            raise InputError(f"The in point must be between 0 and {duration:.3f} s (got {start:.3f} s).")
        if end is not None and end >= duration - TIME_EPSILON:
            end = None  # the clip's own end
        if end is not None and end <= start + TIME_EPSILON:
            raise InputError(f"The out point ({end:.3f} s) must come after the in point ({start:.3f} s).")
        self.clips[index] = replace(self.clips[index], start=start, end=end)
        return self.clips[index]

    def set_crossfade(self, frames: int) -> None:
        if not 0 <= frames <= MAX_CROSSFADE_FRAMES:
            raise InputError(f"A crossfade is 0 to {MAX_CROSSFADE_FRAMES} frames (got {frames}).")
        self.crossfade = frames

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.clips):
            raise InputError(f"The sequence has no clip {index + 1}.")

    # --- continuations ---------------------------------------------------------------------------------------

    def continue_with(self, job_id: str, after_job_id: str) -> None:
        """Remember that ``job_id`` continues the clip of ``after_job_id``: it is appended there when it finishes."""
        self.waiting[job_id] = after_job_id

    def settle(self, job: Job) -> Clip | None:
        """A job this sequence waits for has changed: place it after its clip when it finished (after the last clip
        when that one was removed meanwhile), forget it when it failed. Returns the clip placed, if any."""
        after = self.waiting.get(job.id)
        if after is None or not job.terminal:
            return None
        del self.waiting[job.id]
        if job.state != JobState.COMPLETED or not job.video_path:
            return None
        positions = [i for i, c in enumerate(self.clips) if c.job_id == after]
        return self.add(job, positions[0] + 1 if positions else None)


# --- probing -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipInfo:
    """What a clip's video stream is, read from its packets (nothing is decoded)."""

    path: str
    codec: str
    width: int
    height: int
    rate: Fraction
    extradata: bytes
    #: Presentation time of every frame, in order, and of the keyframes.
    times: tuple[float, ...]
    keyframes: tuple[float, ...]
    time_base: Fraction

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return self.times[-1] + float(1 / self.rate) if self.times else 0.0

    def snap(self, seconds: float) -> float:
        """The time of the first frame at or after ``seconds`` (the clip's end when there is none)."""
        return next((t for t in self.times if t >= seconds - TIME_EPSILON), self.duration)

    def span(self, clip: Clip) -> tuple[float, float]:
        """The clip's in and out point snapped to frames: its first frame's time, and the time it ends."""
        start = self.snap(clip.start)
        end = self.duration if clip.end is None else self.snap(clip.end)
        return start, max(start, end)

    def is_keyframe(self, seconds: float) -> bool:
        return any(abs(k - seconds) < TIME_EPSILON for k in self.keyframes)


def probe(path: str | Path) -> ClipInfo:
    """Read a video's stream facts and frame times from its packets. Raises InputError when it is no video."""
    import av
    import av.error

    name = Path(path).name
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{name} has no video stream.")
            stream = container.streams.video[0]
            base = stream.time_base or Fraction(1, 1_000_000)
            times, keys = [], []
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                at = float(packet.pts * base)
                times.append(at)
                if packet.is_keyframe:
                    keys.append(at)
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            context = stream.codec_context
            info = ClipInfo(str(path), context.name, context.width, context.height, Fraction(rate),
                            bytes(context.extradata or b""), tuple(sorted(times)), tuple(sorted(keys)), base)
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"Cannot read {name}: {exc}") from None
    if not info.frames:
        raise InputError(f"{name} has no frames.")
    return info


# --- the plan ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportPlan:
    """How a sequence becomes one MP4: stream copy or re-encode, at what size and rate, and how many frames."""

    copy: bool
    width: int
    height: int
    rate: Fraction
    #: Output frames of each clip (before crossfades overlap them) and in all.
    clip_frames: tuple[int, ...]
    total_frames: int
    #: Why the frames are re-encoded (empty when they are copied).
    reason: str

    @property
    def duration(self) -> float:
        return float(self.total_frames / self.rate)

    def describe(self) -> str:
        rate = f"{float(self.rate):g} fps"
        if self.copy:
            return f"Stream copy (no re-encode): {self.width}×{self.height} at {rate}."
        return f"Re-encoded to {self.width}×{self.height} at {rate}: {self.reason}."


def plan_export(sequence: Sequence, infos: list[ClipInfo]) -> ExportPlan:
    """Decide copy or re-encode, and check the sequence can be made at all (InputError with the reason)."""
    if not sequence.clips:
        raise InputError("The sequence has no clips; add finished videos to it first.")
    first = infos[0]
    rate = first.rate
    counts = tuple(_output_frames(info.span(clip), rate) for clip, info in zip(sequence.clips, infos, strict=True))
    for number, frames in enumerate(counts, start=1):
        if frames < 1:
            raise InputError(f"Clip {number} is trimmed to nothing; move its in or out point.")
    fade = sequence.crossfade if len(counts) > 1 else 0
    short = next((n for n, frames in enumerate(counts, start=1) if frames < 2 * fade), None)
    if short is not None:
        raise InputError(f"A crossfade of {fade} frames needs every clip to be at least {2 * fade} frames long; "
                         f"clip {short} has {counts[short - 1]}. Shorten the crossfade.")
    total = sum(counts) - fade * (len(counts) - 1)
    reason = _copy_blocker(sequence, infos, fade)
    return ExportPlan(not reason, first.width, first.height, rate, counts, total, reason)


def _output_frames(span: tuple[float, float], rate: Fraction) -> int:
    start, end = span
    return int((end - start) * float(rate) + 0.5)


def _copy_blocker(sequence: Sequence, infos: list[ClipInfo], fade: int) -> str:
    """Why packets cannot simply be copied ('' when they can)."""
    first = infos[0]
    for number, (clip, info) in enumerate(zip(sequence.clips, infos, strict=True), start=1):
        if (info.width, info.height) != (first.width, first.height):
            return f"clip {number} is {info.width}×{info.height}, clip 1 is {first.width}×{first.height}"
        if info.rate != first.rate:
            return f"clip {number} runs at {float(info.rate):g} fps, clip 1 at {float(first.rate):g} fps"
        if info.codec != first.codec:
            return f"clip {number} is {info.codec}, clip 1 is {first.codec}"
        if info.extradata != first.extradata:
            return f"clip {number} was encoded with other {info.codec} settings than clip 1"
        start, end = info.span(clip)
        if not info.is_keyframe(start) or (end < info.duration - TIME_EPSILON and not info.is_keyframe(end)):
            return f"clip {number} is cut between keyframes"
    if fade:
        return f"a crossfade of {fade} frames blends clips"
    return ""


# --- frames (re-encode and preview) ----------------------------------------------------------------------------

def sequence_frames(sequence: Sequence, infos: list[ClipInfo], plan: ExportPlan, size: tuple[int, int] | None = None,
                    cancel: CancelToken | None = None) -> Iterator[Image.Image]:
    """Every output frame of the sequence, in order, as RGB images of ``size`` (the plan's size by default)."""
    width, height = size or (plan.width, plan.height)
    fade = sequence.crossfade if len(sequence.clips) > 1 else 0
    held: list[Image.Image] = []  # the previous clip's last frames, waiting to be blended into this clip's first
    for index, (clip, info) in enumerate(zip(sequence.clips, infos, strict=True)):
        source = _clip_frames(info, info.span(clip), plan.rate, plan.clip_frames[index], (width, height), cancel)
        for step, previous in enumerate(held):
            yield _blend(previous, next(source), (step + 1) / (fade + 1))
        tail: deque[Image.Image] = deque()
        keep = fade if index < len(sequence.clips) - 1 else 0
        for image in source:
            tail.append(image)
            if len(tail) > keep:
                yield tail.popleft()
        held = list(tail)


def _blend(first: Image.Image, second: Image.Image, weight: float) -> Image.Image:
    from PIL import Image

    return Image.blend(first, second, weight)


def _clip_frames(info: ClipInfo, span: tuple[float, float], rate: Fraction, count: int, size: tuple[int, int],
                 cancel: CancelToken | None) -> Iterator[Image.Image]:
    """``count`` frames of one clip from its in point at ``rate``: each shows the source frame on screen then."""
    import av

    start, _end = span
    with av.open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        container.seek(int(start / info.time_base), stream=stream, backward=True, any_frame=False)
        decoded = (f for f in container.decode(stream) if f.time is not None)
        current: Any = None
        upcoming: Any = next(decoded, None)
        for step in range(count):
            if cancel is not None:
                cancel.check()
            moment = start + step / float(rate)
            while upcoming is not None and upcoming.time <= moment + TIME_EPSILON:
                current, upcoming = upcoming, next(decoded, None)
            shown = current if current is not None else upcoming
            if shown is None:
                raise InputError(f"{Path(info.path).name} has no frame at {moment:.3f} s.")
            yield _fit(shown.to_image(), size)


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image scaled to fit inside ``size`` (keeping its shape), centred on black."""
    from PIL import Image

    image = image.convert("RGB")
    if image.size == size:
        return image
    scale = min(size[0] / image.width, size[1] / image.height)
    scaled = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                          Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", size, (0, 0, 0))
    canvas.paste(scaled, ((size[0] - scaled.width) // 2, (size[1] - scaled.height) // 2))
    return canvas


# --- export --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    """The MP4 made, and how."""

    path: Path
    plan: ExportPlan


def export_sequence(sequence: Sequence, target: Path, *, cancel: CancelToken | None = None,
                    progress: Progress | None = None) -> ExportResult:
    """Write the sequence to ``target`` as one MP4 (replacing it only once complete). Raises InputError,
    ExportCancelled; a cancelled or failed export leaves no file behind."""
    import av.error

    cancel = cancel or CancelToken()
    missing = next((c for c in sequence.clips if not Path(c.path).is_file()), None)
    if missing is not None:
        raise InputError(f"The video of job {missing.job_id} is missing: {missing.path}")
    infos = [probe(c.path) for c in sequence.clips]
    plan = plan_export(sequence, infos)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        if plan.copy:
            _copy_packets(sequence, infos, partial, cancel, progress)
        else:
            _reencode(sequence, infos, plan, partial, cancel, progress)
        cancel.check()
        os.replace(partial, target)
    except av.error.FFmpegError as exc:
        raise InputError(f"The sequence could not be written to {target.name}: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return ExportResult(target, plan)


class _Reporter:
    """Calls ``progress`` about every percent (and at the end), not for every frame."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, max(1, total), 0
        self.step = max(1, self.total // 100)

    def advance(self) -> None:
        self.done += 1
        if self.progress is not None and (self.done % self.step == 0 or self.done == self.total):
            self.progress(self.done, self.total)


def _reencode(sequence: Sequence, infos: list[ClipInfo], plan: ExportPlan, target: Path, cancel: CancelToken,
              progress: Progress | None) -> None:
    import av

    reporter = _Reporter(progress, plan.total_frames)
    crf = QUALITIES.get(sequence.quality, QUALITIES[DEFAULT_QUALITY])[1]
    with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=plan.rate, options={"crf": str(crf), "preset": "veryfast"})
        stream.width, stream.height = _even(plan.width), _even(plan.height)
        stream.pix_fmt = "yuv420p"
        size = (stream.width, stream.height)
        for index, image in enumerate(sequence_frames(sequence, infos, plan, size, cancel)):
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = index, 1 / plan.rate
            container.mux(stream.encode(frame))
            reporter.advance()
        cancel.check()
        container.mux(stream.encode(None))


def _even(value: int) -> int:
    return max(2, value - value % 2)


def _copy_packets(sequence: Sequence, infos: list[ClipInfo], target: Path, cancel: CancelToken,
                  progress: Progress | None) -> None:
    """Copy each clip's packets between its (keyframe) cuts, shifting their times so the clips follow on."""
    import av

    reporter = _Reporter(progress, sum(_packets_in(info, info.span(c)) for c, info in zip(sequence.clips, infos,
                                                                                         strict=True)))
    base = infos[0].time_base
    offset = Fraction(0)  # where the next clip starts, in seconds
    with av.open(infos[0].path) as template_source, \
            av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        out_stream = output.add_stream_from_template(template_source.streams.video[0])
        for clip, info in zip(sequence.clips, infos, strict=True):
            start, end = info.span(clip)
            with av.open(info.path) as source:
                stream = source.streams.video[0]
                for packet in source.demux(stream):
                    cancel.check()
                    if packet.pts is None or packet.dts is None:
                        continue
                    at = packet.pts * info.time_base
                    if at < Fraction(start) - Fraction(TIME_EPSILON) or at >= Fraction(end) - Fraction(TIME_EPSILON):
                        continue
                    shift = offset - Fraction(start)
                    packet.pts = round((at + shift) / base)
                    packet.dts = round((packet.dts * info.time_base + shift) / base)
                    packet.time_base = base
                    packet.stream = out_stream
                    output.mux(packet)
                    reporter.advance()
            offset += Fraction(end) - Fraction(start)


def _packets_in(info: ClipInfo, span: tuple[float, float]) -> int:
    start, end = span
    return sum(1 for t in info.times if start - TIME_EPSILON <= t < end - TIME_EPSILON)
