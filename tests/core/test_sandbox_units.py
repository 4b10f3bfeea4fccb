"""Sandbox emulator internals without HTTP: lifecycle, ranges, rules, inline data, signing, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sandbox import schemas as s
from core.sandbox.errors import ApiError
from core.sandbox.files import ByteRange, parse_range
from core.sandbox.gateway import LIFECYCLE_A
from core.sandbox.goapi import LIFECYCLE as GOAPI
from core.sandbox.lifecycle import snapshot
from core.sandbox.media import ImageLimits, decode_inline
from core.sandbox.recording import FilePart, summarize
from core.sandbox.records import RenderPlan, TaskRecord
from core.sandbox.render import RenderJob, Source, render
from core.sandbox.signing import UrlSigner
from core.sandbox.testing import data_uri, image_bytes, mp4_info


def task(job_seconds: float = 10.0, fate: str = "succeed", canceled_at: float | None = None) -> TaskRecord:
    return TaskRecord("t", "goapi", "m", 100.0, job_seconds, fate, RenderPlan(0, 0, 1, "c"), canceled_at=canceled_at)


@pytest.mark.parametrize(
    ("now", "status", "progress", "terminal"),
    [
        (99.0, "pending", 0, False),  # a clock before creation is still pending
        (100.0, "pending", 0, False),
        (101.5, "staged", 0, False),
        (102.0, "processing", 0, False),
        (106.0, "processing", 50, False),
        (109.99, "processing", 99, False),
        (110.0, "completed", 100, True),
        (1e9, "completed", 100, True),
    ],
)
def test_lifecycle_is_a_pure_function_of_time(now: float, status: str, progress: int, terminal: bool) -> None:
    snap = snapshot(task(), GOAPI, now)
    assert (snap.status, snap.progress, snap.terminal) == (status, progress, terminal)
    assert snap.remaining == pytest.approx(max(110.0 - now, 0.0))


def test_lifecycle_failure_cancel_and_zero_length() -> None:
    failed = snapshot(task(fate="fail"), GOAPI, 110.0)
    assert failed.status == "failed" and failed.failed and not failed.succeeded
    assert snapshot(task(fate="fail"), GOAPI, 105.0).status == "processing"
    canceled = snapshot(task(canceled_at=100.5), GOAPI, 100.6)
    assert canceled.status == "failed" and canceled.terminal
    assert snapshot(task(job_seconds=0.0), LIFECYCLE_A, 100.0).status == "SUCCESS"
    statuses = [snapshot(task(), LIFECYCLE_A, 100.0 + t / 10).status for t in range(0, 101, 5)]
    assert list(dict.fromkeys(statuses)) == ["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=10-", ByteRange(10, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-1000", ByteRange(0, 99)),
        ("bytes=50-5000", ByteRange(50, 99)),
        ("bytes=9-3", None),
        ("bytes=1-2,4-5", None),
        ("lines=1-2", None),
        ("bytes=-", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=500-600"])
def test_parse_range_unsatisfiable(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_range(header, 100)
    assert caught.value.status == 416 and caught.value.headers["Content-Range"] == "bytes */100"


def test_rules_name_the_first_broken_field() -> None:
    rules = (s.required("a"), s.integer("a"), s.int_range("a", 1, 3), s.obj("b"), s.string("b.c"))
    s.check({"a": 2, "b": {"c": "x"}}, rules)
    s.check({"a": 2}, rules)
    for body, field in [
        ({}, "a"),
        ({"a": True}, "a"),
        ({"a": 9}, "a"),
        ({"a": 1, "b": 3}, "b"),
        ({"a": 1, "b": {"c": 1}}, "b.c"),
    ]:
        with pytest.raises(ApiError) as caught:
            s.check(body, rules)
        assert caught.value.status == 400 and caught.value.field == field
    with pytest.raises(ApiError):
        s.check(["not", "an", "object"], rules)


def test_inline_data_and_image_limits() -> None:
    png = image_bytes(400, 400)
    assert decode_inline(data_uri(png)).data == png and decode_inline(data_uri(png)).mime == "image/png"
    assert decode_inline(data_uri(png).split(",", 1)[1]).mime is None
    with pytest.raises(ValueError):
        decode_inline("data:text/plain,hello")
    with pytest.raises(ValueError):
        decode_inline("%%%")
    strict = ImageLimits(formats=frozenset({"PNG"}), aspect_min=1.0, aspect_max=2.0, aspect_strict=True)
    assert strict.check_bytes(png) is not None  # ratio 1.0 is not strictly inside
    assert ImageLimits(aspect_min=1.0, aspect_max=2.0).check_bytes(png) is None
    assert ImageLimits(min_side=500).check_bytes(png) is not None
    assert ImageLimits(max_bytes=10).check_bytes(png) is not None
    assert ImageLimits(max_payload_chars=10).check_inline(data_uri(png)) is not None


def test_signer() -> None:
    signer = UrlSigner(b"secret")
    sig = signer.sign("a.mp4", 100)
    assert signer.verify("a.mp4", 100, sig)
    assert not signer.verify("a.mp4", 101, sig) and not signer.verify("b.mp4", 100, sig)
    assert not UrlSigner(b"other").verify("a.mp4", 100, sig)


@pytest.mark.parametrize(
    ("mode", "sources", "size", "expected"),
    [
        ("title", (), (320, 240), (320, 240)),
        ("pan", ("file",), (0, 0), (360, 640)),  # portrait input -> portrait output
        ("crossfade", ("file", "url"), (256, 144), (256, 144)),
        ("pan", ("url",), (0, 0), (640, 360)),  # external URL -> placeholder card
        ("pan", ("file",), (301, 201), (300, 200)),  # odd sizes are made even
    ],
)
def test_render(
    tmp_path: Path, mode: str, sources: tuple[str, ...], size: tuple[int, int], expected: tuple[int, int]
) -> None:
    image = tmp_path / "in.jpg"
    image.write_bytes(image_bytes(300, 500, "JPEG"))
    chosen = tuple(
        Source(path=image) if kind == "file" else Source(url="https://example.com/x.png") for kind in sources
    )
    out = render(RenderJob(size[0], size[1], 1.0, "caption text", mode, "label", chosen, tmp_path / "out", fps=4))
    assert mp4_info(out.video.read_bytes()) == ("h264", *expected)
    assert out.thumbnail.exists() and out.spritesheet.exists()
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_summarize_keeps_prose_and_hides_data() -> None:
    prose = "a long prompt without any punctuation " * 20
    png = image_bytes(50, 40)
    bare = data_uri(png).split(",", 1)[1] * 4
    body = {
        "prompt": prose,
        "image": data_uri(png),
        "nested": {"list": [bare], "secret": "hunter2", "api_key": "k"},
        "file": FilePart("a.png", "image/png", png),
    }
    summary = summarize(body)
    assert summary["prompt"] == prose
    assert summary["image"] == {
        "size": len(png),
        "content_type": "image/png",
        "format": "PNG",
        "width": 50,
        "height": 40,
        "inline": "data_uri",
    }
    assert summary["nested"]["list"][0]["inline"] == "base64"
    assert summary["nested"]["secret"] == summary["nested"]["api_key"] == "<redacted>"
    assert summary["file"]["filename"] == "a.png" and summary["file"]["width"] == 50
    assert "hunter2" not in repr(summary) and bare not in repr(summary)
