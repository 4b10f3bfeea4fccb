"""Sequences: clips in order, trimmed, exported as one MP4 (stream copy or re-encode), checked by decoding it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from core.errors import InputError
from core.jobs import Job, JobState
from core.sequence import (
    CancelToken,
    ExportCancelled,
    Sequence,
    export_sequence,
    plan_export,
    probe,
)
from core.store import JobStore

RED, BLUE, GREEN = (230, 20, 20), (20, 20, 230), (20, 200, 20)


def write_clip(path: Path, colours: list[tuple[int, int, int]], *, size: tuple[int, int] = (96, 64), fps: int = 12,
               gop: int | None = None, lossless: bool = False) -> Path:
    """A real H.264 MP4 whose frame i is a flat ``colours[i]`` (with a marker square so frames differ)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"preset": "ultrafast"}
    if gop is not None:
        options |= {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
    if lossless:
        options |= {"qp": "0"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv444p" if lossless else "yuv420p"
        for index, colour in enumerate(colours):
            picture = Image.new("RGB", size, colour)
            picture.paste((255, 255, 255), (index % size[0], 0, index % size[0] + 4, 4))
            container.mux(stream.encode(av.VideoFrame.from_image(picture)))
        container.mux(stream.encode(None))
    return path


def finished(job_id: str, video: Path) -> Job:
    return Job(id=job_id, provider="aihubmix", model="sora-2", params={"prompt": job_id}, inputs={},
               state=JobState.COMPLETED, video_path=str(video))


def decoded(path: Path) -> tuple[list[Image.Image], float, tuple[int, int]]:
    """Every frame of a video, its stated duration and its size."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_image() for f in container.decode(stream)]
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        return frames, duration, (stream.codec_context.width, stream.codec_context.height)


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def centre(image: Image.Image) -> tuple[int, int, int]:
    return image.convert("RGB").getpixel((image.width // 2, image.height // 2))  # type: ignore[return-value]


def near(pixel: tuple[int, ...], colour: tuple[float, float, float], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def sequence_of(*videos: Path) -> Sequence:
    sequence = Sequence.new("Test")
    for number, video in enumerate(videos):
        sequence.add(finished(f"job{number}", video))
    return sequence


def test_same_codec_size_and_rate_is_stream_copied(tmp_path: Path) -> None:
    first = write_clip(tmp_path / "a.mp4", [RED] * 12)
    second = write_clip(tmp_path / "b.mp4", [BLUE] * 18)
    sequence = sequence_of(first, second)

    result = export_sequence(sequence, tmp_path / "out" / "piece.mp4")

    assert result.plan.copy and result.plan.total_frames == 30
    assert packets(result.path) == packets(first) + packets(second)  # the very bytes: nothing re-encoded
    frames, duration, size = decoded(result.path)
    assert (len(frames), size) == (30, (96, 64))
    assert duration == pytest.approx(2.5, abs=0.01)
    assert near(centre(frames[11]), RED) and near(centre(frames[12]), BLUE)


def test_stream_copy_of_clips_with_b_frames_decodes_whole(tmp_path: Path) -> None:
    """libx264's default (medium, B-frames): times shifted per clip keep every frame in order."""
    def bframes(path: Path, colour: tuple[int, int, int]) -> Path:
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
            for index in range(24):
                picture = Image.new("RGB", (96, 64), colour)
                picture.paste((255, 255, 255), (index * 3, 20, index * 3 + 6, 40))
                container.mux(stream.encode(av.VideoFrame.from_image(picture)))
            container.mux(stream.encode(None))
        return path

    sequence = sequence_of(bframes(tmp_path / "a.mp4", RED), bframes(tmp_path / "b.mp4", GREEN))
    result = export_sequence(sequence, tmp_path / "piece.mp4")

    assert result.plan.copy
    frames, duration, _size = decoded(result.path)
    assert len(frames) == 48 and duration == pytest.approx(4.0, abs=0.01)
    assert near(centre(frames[23]), RED) and near(centre(frames[24]), GREEN)


def test_different_sizes_are_re_encoded_to_the_first_clips_size_and_rate(tmp_path: Path) -> None:
    first = write_clip(tmp_path / "a.mp4", [RED] * 12, size=(96, 64))
    second = write_clip(tmp_path / "b.mp4", [BLUE] * 12, size=(64, 64))  # square: black bars left and right
    sequence = sequence_of(first, second)

    result = export_sequence(sequence, tmp_path / "piece.mp4")

    assert not result.plan.copy and "clip 2 is 64×64" in result.plan.reason
    frames, duration, size = decoded(result.path)
    assert (len(frames), size) == (24, (96, 64))
    assert duration == pytest.approx(2.0, abs=0.01)
    assert near(centre(frames[20]), BLUE) and near(frames[20].getpixel((2, 32)), (0, 0, 0))


def test_different_frame_rates_are_resampled_to_the_first_clips_rate(tmp_path: Path) -> None:
    first = write_clip(tmp_path / "a.mp4", [RED] * 24, fps=24)
    second = write_clip(tmp_path / "b.mp4", [RED] * 6 + [BLUE] * 6, fps=12)  # 1 s: blue from 0.5 s
    sequence = sequence_of(first, second)

    result = export_sequence(sequence, tmp_path / "piece.mp4")

    assert not result.plan.copy and "12 fps" in result.plan.reason
    assert result.plan.rate == Fraction(24)
    frames, duration, _size = decoded(result.path)
    assert len(frames) == 48 and duration == pytest.approx(2.0, abs=0.01)
    assert near(centre(frames[24 + 11]), RED) and near(centre(frames[24 + 12]), BLUE)  # 0.5 s into clip 2


def test_trims_at_keyframes_copy_and_between_keyframes_re_encode_exactly(tmp_path: Path) -> None:
    colours = [RED] * 4 + [GREEN] * 4 + [BLUE] * 4  # keyframes every 4 frames: 0, 1/3 s, 2/3 s
    first = write_clip(tmp_path / "a.mp4", colours, gop=4)
    second = write_clip(tmp_path / "b.mp4", colours, gop=4)
    on_keys = sequence_of(first, second)
    info = probe(first)
    on_keys.trim(0, 4 / 12, 8 / 12, info.duration)  # the green frames only
    assert plan_export(on_keys, [info, probe(second)]).copy

    copied = export_sequence(on_keys, tmp_path / "copied.mp4")
    frames, _duration, _size = decoded(copied.path)
    assert copied.plan.copy and len(frames) == 4 + 12
    assert all(near(centre(f), GREEN) for f in frames[:4]) and near(centre(frames[4]), RED)

    between = sequence_of(first, second)
    between.trim(1, 5 / 12, 11 / 12, info.duration)  # frames 5..10
    encoded = export_sequence(between, tmp_path / "encoded.mp4")
    frames, duration, _size = decoded(encoded.path)
    assert not encoded.plan.copy and "between keyframes" in encoded.plan.reason
    assert len(frames) == 12 + 6 and duration == pytest.approx(1.5, abs=0.01)
    assert near(centre(frames[12]), GREEN) and near(centre(frames[15]), BLUE) and near(centre(frames[-1]), BLUE)


def test_crossfade_blends_both_clips_and_overlaps_them(tmp_path: Path) -> None:
    first = write_clip(tmp_path / "a.mp4", [RED] * 12, lossless=True)
    second = write_clip(tmp_path / "b.mp4", [BLUE] * 12, lossless=True)
    sequence = sequence_of(first, second)
    sequence.set_crossfade(3)
    sequence.quality = "high"

    result = export_sequence(sequence, tmp_path / "piece.mp4")

    assert not result.plan.copy and "crossfade" in result.plan.reason
    frames, duration, _size = decoded(result.path)
    assert len(frames) == 12 + 12 - 3 and duration == pytest.approx(21 / 12, abs=0.01)
    assert near(centre(frames[8]), RED) and near(centre(frames[12]), BLUE)
    for step, frame in enumerate(frames[9:12], start=1):  # weights 1/4, 2/4, 3/4 of the second clip
        weight = step / 4
        expected = tuple(r * (1 - weight) + b * weight for r, b in zip(RED, BLUE, strict=True))
        assert near(centre(frame), expected), (step, centre(frame), expected)


def test_quality_choice_changes_the_re_encode(tmp_path: Path) -> None:
    noisy = [(i * 40 % 255, i * 90 % 255, i * 13 % 255) for i in range(24)]
    first = write_clip(tmp_path / "a.mp4", noisy, size=(160, 96))
    second = write_clip(tmp_path / "b.mp4", noisy, size=(96, 64))
    sizes = {}
    for quality in ("high", "small"):
        sequence = sequence_of(first, second)
        sequence.quality = quality
        sizes[quality] = export_sequence(sequence, tmp_path / f"{quality}.mp4").path.stat().st_size
    assert sizes["high"] > sizes["small"]


def test_cancel_leaves_no_half_written_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    first = write_clip(tmp_path / "a.mp4", [RED] * 48, size=(160, 96))
    second = write_clip(tmp_path / "b.mp4", [BLUE] * 48, size=(96, 64))
    out = tmp_path / "out"
    target = out / "piece.mp4"
    out.mkdir()
    target.write_bytes(b"the earlier export")
    token = CancelToken()
    reports: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        reports.append((done, total))
        if done >= 10:
            token.cancel()

    with pytest.raises(ExportCancelled):
        export_sequence(sequence_of(first, second), target, cancel=token, progress=progress)

    assert reports and reports[-1][1] == 96 and reports[-1][0] < 96
    assert sorted(p.name for p in out.iterdir()) == ["piece.mp4"]
    assert target.read_bytes() == b"the earlier export"


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    sequence = sequence_of(write_clip(tmp_path / "a.mp4", [RED] * 12), write_clip(tmp_path / "b.mp4", [BLUE] * 12))
    reports: list[tuple[int, int]] = []
    export_sequence(sequence, tmp_path / "piece.mp4", progress=lambda done, total: reports.append((done, total)))
    assert reports[-1] == (24, 24) and [d for d, _t in reports] == sorted(d for d, _t in reports)


def test_bad_sequences_are_refused_with_a_reason_and_write_nothing(tmp_path: Path) -> None:
    short = write_clip(tmp_path / "a.mp4", [RED] * 4)
    sequence = sequence_of(short, short)
    sequence.set_crossfade(3)
    with pytest.raises(InputError, match="at least 6 frames"):
        export_sequence(sequence, tmp_path / "piece.mp4")
    with pytest.raises(InputError, match="no clips"):
        export_sequence(Sequence.new("Empty"), tmp_path / "piece.mp4")
    gone = sequence_of(short)
    gone.clips[0].path = str(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="missing"):
        export_sequence(gone, tmp_path / "piece.mp4")
    with pytest.raises(InputError):
        sequence.set_crossfade(-1)
    with pytest.raises(InputError, match="after the in point"):
        sequence.trim(0, 0.2, 0.1, 1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


def test_editing_moves_trims_and_removes_clips(tmp_path: Path) -> None:
    video = write_clip(tmp_path / "a.mp4", [RED] * 12)
    sequence = sequence_of(video, video, video)
    sequence.move(0, 2)
    assert [c.job_id for c in sequence.clips] == ["job1", "job2", "job0"]
    sequence.move(2, 0)
    assert [c.job_id for c in sequence.clips] == ["job0", "job1", "job2"]
    clip = sequence.trim(1, 0.25, 5.0, 1.0)
    assert (clip.start, clip.end) == (0.25, None)  # past the end: the clip's own end
    assert sequence.remove(0).job_id == "job0"
    with pytest.raises(InputError, match="Job pending"):
        sequence.add(Job(id="pending", provider="aihubmix", model="sora-2", params={}, inputs={}))


def test_a_continuation_is_placed_after_its_clip_when_it_finishes(tmp_path: Path) -> None:
    video = write_clip(tmp_path / "a.mp4", [RED] * 12)
    sequence = sequence_of(video, video)  # job0, job1
    sequence.continue_with("next", "job0")
    running = finished("next", video)
    running.state = JobState.RUNNING
    assert sequence.settle(running) is None and "next" in sequence.waiting
    assert sequence.settle(finished("next", video)) is not None
    assert [c.job_id for c in sequence.clips] == ["job0", "next", "job1"] and not sequence.waiting

    sequence.continue_with("failed", "job1")
    failing = finished("failed", video)
    failing.state = JobState.FAILED
    assert sequence.settle(failing) is None and not sequence.waiting
    assert len(sequence.clips) == 3


def test_sequences_survive_a_restart_and_stay_in_their_world(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    video = write_clip(tmp_path / "a.mp4", [RED] * 12)
    store = JobStore(path, world="sandbox")
    sequence = sequence_of(video, video)
    sequence.trim(1, 0.25, 0.75, 1.0)
    sequence.set_crossfade(2)
    sequence.quality = "small"
    sequence.continue_with("later", "job0")
    store.save_sequence(sequence)
    store.close()

    again = JobStore(path, world="sandbox")
    [loaded] = again.sequences()
    assert loaded.body() == sequence.body() and (loaded.id, loaded.name) == (sequence.id, "Test")
    assert JobStore(path, world="real").sequences() == []
    loaded.name = "Renamed"
    again.save_sequence(loaded)
    assert [s.name for s in again.sequences()] == ["Renamed"]
    again.delete_sequence(loaded.id)
    assert again.sequences() == []
