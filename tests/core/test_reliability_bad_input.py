"""Bad input changes nothing: a clear message, no job stored, no request sent, no file written in the data dir —
through core.submission.build_job (what the GUI calls) and through the command line. Odd-but-valid input (an
image with the wrong extension, a path with spaces and non-ASCII characters, emoji in a prompt) just works."""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clikit import jobs_stored, requests_received, run_cli
from harness import Harness
from PIL import Image

from core.cli import EXIT_BAD_INPUT, EXIT_OK
from core.errors import InputError
from core.jobs import JobState
from core.submission import JobRequest, build_job

GIB = 1024 * 1024 * 1024


def png(path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    Image.new("RGB", size, "teal").save(path, "PNG")
    return path


def jpeg_bytes(size: tuple[int, int] = (640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def bomb_png(path: Path) -> Path:
    """A tiny PNG whose header claims 20,000 × 20,000 pixels (400 megapixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + chunk(b"IEND", b""))
    return path


def make_zero(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def make_truncated_png(p: Path) -> Path:
    data = png(p).read_bytes()
    p.write_bytes(data[: len(data) * 6 // 10])
    return p


def make_truncated_jpeg(p: Path) -> Path:
    data = jpeg_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def make_text_as_png(p: Path) -> Path:
    p.write_text("this is a shopping list, not a picture\n" * 20)
    return p


def make_huge(p: Path) -> Path:
    with p.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(GIB // 2)
    return p


def make_loop(p: Path) -> Path:
    other = p.with_name("other-" + p.name)
    os.symlink(other, p)
    os.symlink(p, other)
    return p


def make_folder(p: Path) -> Path:
    p.mkdir()
    return p


#: name -> (file maker, words the message must contain)
BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty.png": (make_zero, "empty (0 bytes)"),
    "cut.png": (make_truncated_png, "damaged or truncated"),
    "cut.jpg": (make_truncated_jpeg, "damaged or truncated"),
    "list.png": (make_text_as_png, "not an image Reeldeck can read"),
    "bomb.png": (bomb_png, "too large to process safely"),
    "huge.png": (make_huge, "512 MB; images over 200 MB are not accepted"),
    "loop.png": (make_loop, "symbolic link that leads nowhere"),
    "folder.png": (make_folder, "not a file"),
}

#: One image job per provider; the image goes in the ``image`` slot.
IMAGE_JOBS: dict[str, tuple[str, dict[str, Any], dict[str, list[str]]]] = {
    "goapi": ("Qubico/hug-video", {}, {}),
    "aimlapi": ("video-01-live2d", {"prompt": "wave"}, {}),
    "aihubmix": ("veo-3.1-generate-preview", {"prompt": "a fox"}, {}),
    "gateway": ("viduq3p-720p", {"prompt": "a fox"}, {}),
    "novita": ("img2video-motion", {}, {"motion_video": ["demo1"]}),
}


def image_request(provider: str, image: str) -> JobRequest:
    model, params, inputs = IMAGE_JOBS[provider]
    return JobRequest(provider, model, dict(params), {**inputs, "image": [image]})


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# --- build_job ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(IMAGE_JOBS))
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_image_files_are_refused_by_build_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str,
                                                  name: str) -> None:
    make, needle = BAD_FILES[name]
    path = make(tmp_path / name)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # build_job stages inputs under the temp dir
    with pytest.raises(InputError) as caught:
        build_job(image_request(provider, str(path)), tmp_path / "inputs")
    assert needle in caught.value.message and name in caught.value.message, caught.value.message
    assert files_under(tmp_path / "inputs") == []
    assert list(scratch.iterdir()) == []  # the staging folder is gone too


@pytest.mark.parametrize("name", ["empty.mp4", "huge.mp4", "loop.mp4", "notes.mp4"])
def test_bad_motion_videos_are_refused_by_build_job(tmp_path: Path, name: str) -> None:
    makers = {"empty.mp4": make_zero, "huge.mp4": make_huge, "loop.mp4": make_loop, "notes.mp4": make_text_as_png}
    needles = {"empty.mp4": "is empty", "huge.mp4": "over 200 MB", "loop.mp4": "symbolic link that leads nowhere",
               "notes.mp4": "not an MP4 video"}
    path = makers[name](tmp_path / name)
    request = JobRequest("novita", "img2video-motion", {}, {"image": [str(png(tmp_path / "me.png"))],
                                                           "motion_video": [str(path)]})
    with pytest.raises(InputError, match=needles[name]):
        build_job(request, tmp_path / "inputs")
    assert files_under(tmp_path / "inputs") == []


@pytest.mark.parametrize("provider", sorted(IMAGE_JOBS))
def test_content_decides_not_the_extension_and_odd_paths_work(tmp_path: Path, provider: str) -> None:
    folder = tmp_path / "Ferien 2026 — Zürich" / "日本 photos"
    folder.mkdir(parents=True)
    disguised = folder / "really a jpeg ✓.png"
    disguised.write_bytes(jpeg_bytes())
    job = build_job(image_request(provider, str(disguised)), tmp_path / "inputs")
    (prepared,) = job.inputs["image"]
    assert Path(prepared).is_file() and Path(prepared).parent == tmp_path / "inputs" / job.id
    with Image.open(prepared) as image:
        assert image.format in ("PNG", "JPEG", "WEBP")


@pytest.mark.parametrize(("provider", "model", "params", "needle"), [
    ("gateway", "viduq3p-720p", {"prompt": "x", "duration": "17"}, "duration must be at most 16"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "duration": "3.5"}, "duration must be a whole number"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "duration": 3.5}, "duration must be a whole number"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "duration": True}, "not true/false"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "duration": [5]}, "duration must be a whole number"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "seed": "-1"}, "seed must be at least 0"),
    ("gateway", "viduq3p-720p", {"prompt": "x", "audio": "loud"}, "audio must be true or false"),
    ("gateway", "viduq3p-720p", {"prompt": 123}, "prompt must be text"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "x", "seconds": 5}, "seconds must be one of 4, 6, 8"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "x", "size": "1024x1792"}, "size must be one of"),
    ("aihubmix", "sora-2", {"prompt": "x", "seconds": 5}, "seconds must be one of 4, 8, 12"),
    ("aihubmix", "sora-2", {"prompt": "x", "size": "1920x1080"}, "size must be one of"),
    ("aihubmix", "sora-2", {"prompt": "x" * 32001}, "32001 characters long; the limit is 32000"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": ""}, "prompt is required"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "a fox\x00"}, "control characters"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "\x1b[31mred\x1b[0m"}, "control characters"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "del\x7f"}, "control characters"),
    ("aihubmix", "veo-3.1-generate-preview", {"prompt": "next line\x85"}, "control characters"),
    ("aimlapi", "video-01-live2d", {"prompt": "x" * 2001}, "2001 characters long; the limit is 2000"),
    ("novita", "img2video-motion", {"seed": "-2"}, "seed must be at least -1"),
    ("novita", "img2video-motion", {"seed": "1e3"}, "seed must be a whole number"),
])
def test_bad_parameters_are_refused_by_build_job(tmp_path: Path, provider: str, model: str,
                                                 params: dict[str, Any], needle: str, sora_served: Path) -> None:
    """Sora's own limits with a user catalog that still serves it (it is retired: see test_catalog)."""
    inputs = {"image": ["https://images.example/a.png"], "motion_video": ["demo1"]} if provider == "novita" else {}
    if provider == "aimlapi":
        inputs = {"image": ["https://images.example/a.png"]}
    with pytest.raises(InputError) as caught:
        build_job(JobRequest(provider, model, params, inputs), tmp_path / "inputs")
    assert needle in caught.value.message, caught.value.message
    assert not (tmp_path / "inputs").exists()


async def test_emoji_newlines_and_tabs_in_prompts_are_sent_exactly(harness: Harness) -> None:
    prompt = "a 🦊 in the 🌧️ —\n\tslowly, «très» lent, 雨の中"
    job = await harness.run("aihubmix", "veo-3.1-generate-preview", {"prompt": prompt})
    assert job.state == JobState.COMPLETED, job.error
    assert harness.only("aihubmix", "create").body["prompt"] == prompt


# --- the command line ----------------------------------------------------------------------------------------------


AIML = ("--provider", "aimlapi", "--model", "video-01-live2d", "--prompt", "wave")


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_on_the_command_line(isolated_env: Path, tmp_path: Path, name: str) -> None:
    make, needle = BAD_FILES[name]
    path = make(tmp_path / name)
    code, out, err = run_cli("--sandbox", "submit", *AIML, "--image", str(path), "--json")
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.startswith("error: ") and needle in err and "Traceback" not in err, err
    assert requests_received(isolated_env) == 0 and jobs_stored(isolated_env) == 0
    assert files_under(isolated_env / "inputs") == [] and files_under(isolated_env / "library") == []


@pytest.mark.parametrize(("extra", "needle"), [
    (("--param", "prompt_optimizer=2"), "prompt_optimizer must be true or false"),
    (("--param", "image_fit=stretchy"), "image_fit must be one of pad, crop, scale"),
    (("--prompt", "bell\x07"), "control characters"),
    (("--prompt", "y" * 2001), "limit is 2000"),
])
def test_bad_parameters_on_the_command_line(isolated_env: Path, extra: tuple[str, ...], needle: str) -> None:
    code, out, err = run_cli("--sandbox", "submit", *AIML, "--image", "https://images.example/a.png", *extra)
    assert (code, out) == (EXIT_BAD_INPUT, "") and needle in err, err
    assert requests_received(isolated_env) == 0 and jobs_stored(isolated_env) == 0


def test_odd_but_valid_input_works_on_the_command_line(isolated_env: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my pictures" / "été 🌞"
    folder.mkdir(parents=True)
    disguised = folder / "portrait (1).png"
    disguised.write_bytes(jpeg_bytes((480, 640)))
    code, out, err = run_cli("--sandbox", "submit", "--provider", "aimlapi", "--model", "video-01-live2d",
                         "--prompt", "she smiles 😊", "--image", str(disguised), "--json")
    assert code == EXIT_OK, err
    assert json.loads(out)["remote_id"] and json.loads(out)["prompt"] == "she smiles 😊"
    assert jobs_stored(isolated_env) == 1 and requests_received(isolated_env) >= 1
