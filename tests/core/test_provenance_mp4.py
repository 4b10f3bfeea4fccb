"""The recipe travels with the file: provenance inside the MP4's own metadata (stream copy, atomic), read back from a
video moved anywhere without its sidecar."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from harness import REAL_KEYS, Harness

from core.errors import InputError
from core.jobs import JobState
from core.media import read_tags, verify_complete, write_tags
from core.provenance import MP4_TAG, carries_provenance, read_sidecar, request_from_sidecar


def make_video(path: Path, *, seconds: float = 1.0, fps: int = 12) -> Path:
    """A real, small H.264 MP4 made with PyAV."""
    import av
    from PIL import Image

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        frames = int(seconds * fps)
        for index in range(frames):
            picture = Image.new("RGB", (160, 96), (int(255 * index / frames), 80, 160))
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_video_moved_alone_still_carries_its_settings(harness: Harness, tmp_path: Path) -> None:
    h = harness
    image = h.image("start.png", (800, 600))
    job = await h.run("gateway", "viduq3p-720p", {"prompt": "a kite", "seed": "7", "duration": "2"}, image=[image])
    assert job.state == JobState.COMPLETED, job.error
    video = Path(job.video_path or "")
    inside = json.loads(read_tags(video)[MP4_TAG])
    assert inside["remote_id"] == job.remote_id and inside["seed"] == 7 and inside["prompt"] == "a kite"
    assert inside["inputs"]["image"][0]["sha256"] and "video" not in inside
    sidecar = json.loads(video.with_suffix(".json").read_text())
    assert sidecar["video"]["sha256"] == sha256(video)  # the sidecar describes the file as it is now
    assert verify_complete(video).frames_decoded > 0

    moved = tmp_path / "elsewhere" / "kite.mp4"
    moved.parent.mkdir()
    shutil.move(video, moved)
    assert not moved.with_suffix(".json").exists() and carries_provenance(moved)
    request = request_from_sidecar(read_sidecar(moved))
    assert (request.provider, request.model) == ("gateway", "viduq3p-720p")
    assert request.params["prompt"] == "a kite" and request.params["seed"] == 7 and request.params["duration"] == 2
    assert request.inputs["image"] == job.inputs["image"]


async def test_no_key_goes_into_the_video(real_harness: Harness) -> None:
    job = await real_harness.run("aihubmix", "veo-3.1-generate-preview", {"prompt": "a red fox", "seconds": "4"})
    assert job.state == JobState.COMPLETED, job.error
    raw = Path(job.video_path or "").read_bytes()
    assert b"a red fox" in raw  # the recipe is in there...
    assert not any(key.encode() in raw for key in REAL_KEYS.values())  # ...and no key


def test_writing_tags_is_a_stream_copy_that_keeps_every_frame(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=2.0)
    before = verify_complete(video)
    write_tags(video, {MP4_TAG: json.dumps({"prompt": "é 🦊" * 500}), "title": "kite"})
    after = verify_complete(video)
    assert (after.frames_decoded, after.width, after.height) == (before.frames_decoded, before.width, before.height)
    tags = read_tags(video)
    assert json.loads(tags[MP4_TAG]) == {"prompt": "é 🦊" * 500} and tags["title"] == "kite"
    write_tags(video, {MP4_TAG: "{}"})  # written again: replaced, the other tags stay
    assert read_tags(video)[MP4_TAG] == "{}" and read_tags(video)["title"] == "kite"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temporary file left behind


def test_a_file_that_is_not_a_video_is_left_untouched(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    before = fake.read_bytes()
    with pytest.raises(ValueError, match="metadata could not be written"):
        write_tags(fake, {MP4_TAG: "{}"})
    assert fake.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["fake.mp4"]
    assert not carries_provenance(fake)
    with pytest.raises(InputError, match="No Reeldeck sidecar"):
        read_sidecar(fake)


def test_a_video_without_the_tag_carries_nothing(tmp_path: Path) -> None:
    plain = make_video(tmp_path / "plain.mp4")
    assert not carries_provenance(plain)
    write_tags(plain, {MP4_TAG: json.dumps({"schema": "something/else"})})
    assert not carries_provenance(plain)
