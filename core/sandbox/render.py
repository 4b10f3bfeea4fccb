"""Result videos: real H.264 MP4 files made with PyAV from a task's inputs (blocking; run in an executor).

A slow pan/zoom over the first image (or a crossfade from the first to the last image, or a title card for
text-only jobs), with the prompt drawn as a caption. External URLs are never fetched: they become a
placeholder card showing the URL. Encoding is cheap on purpose: low fps, libx264 ``ultrafast``.
"""

from __future__ import annotations

import os
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont, ImageOps

FPS = 8
PAN_ZOOM = 1.25


@dataclass(frozen=True)
class Source:
    """One input image: a stored file, or an external URL shown as a placeholder card."""

    path: Path | None = None
    url: str | None = None


@dataclass(frozen=True)
class RenderJob:
    """Everything needed to render one task's result files."""

    width: int
    height: int
    seconds: float
    caption: str
    mode: str
    label: str
    sources: tuple[Source, ...]
    out_dir: Path
    fps: int = FPS


@dataclass(frozen=True)
class RenderOutput:
    """Paths of the rendered files."""

    video: Path
    thumbnail: Path
    spritesheet: Path


def output_paths(out_dir: Path) -> RenderOutput:
    """Where a render job writes its files."""
    return RenderOutput(out_dir / "video.mp4", out_dir / "thumbnail.webp", out_dir / "spritesheet.jpg")


def orientation_size(image_size: tuple[int, int] | None) -> tuple[int, int]:
    """A small output size matching an image's orientation (640x360, 360x640 or 480x480)."""
    if image_size is None:
        return 640, 360
    ratio = image_size[0] / max(image_size[1], 1)
    if ratio > 1.1:
        return 640, 360
    if ratio < 0.9:
        return 360, 640
    return 480, 480


def even(value: float) -> int:
    """Round to the nearest even integer of at least 2 (yuv420p needs even sides)."""
    return max(2, round(value / 2.0) * 2)


def render(job: RenderJob) -> RenderOutput:
    """Render the video, thumbnail and spritesheet; files appear atomically."""
    out = output_paths(job.out_dir)
    job.out_dir.mkdir(parents=True, exist_ok=True)
    images = [_load(source) for source in job.sources]
    width, height = job.width, job.height
    if not width or not height:
        width, height = orientation_size(images[0].size if images else None)
    width, height = even(width), even(height)
    if job.mode == "title" or not images:
        images = [_title_card(job.caption, job.label, width, height)]
    count = max(2, round(job.seconds * job.fps))
    sprites = _Sprites(count, width, height)
    middle: list[Image.Image] = []

    def keep(index: int, frame: Image.Image) -> None:
        sprites.offer(index, frame)
        if index == count // 2:
            middle.append(frame)

    _encode(_frames(job, images, width, height, count), job.fps, out.video, keep)
    _save_image(middle[0], out.thumbnail, "WEBP")
    _save_image(sprites.sheet, out.spritesheet, "JPEG")
    return out


def _load(source: Source) -> Image.Image:
    if source.path is not None:
        try:
            with Image.open(source.path) as img:
                return ImageOps.exif_transpose(img).convert("RGB")
        except OSError:
            return _card(["(unreadable input image)", source.path.name], (800, 450), (80, 30, 30))
    return _card(
        ["external image (not fetched by the sandbox)", *textwrap.wrap(source.url or "", 48)], (800, 450), (40, 40, 70)
    )


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ValueError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _size_of(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, fallback: int) -> int:
    return int(getattr(font, "size", fallback))


def _card(lines: list[str], size: tuple[int, int], color: tuple[int, int, int]) -> Image.Image:
    card = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(card)
    font = _font(max(14, size[1] // 18))
    y = size[1] // 3
    for line in lines:
        draw.text((size[0] // 2, y), line, fill=(235, 235, 235), font=font, anchor="mm")
        y += int(size[1] / 12)
    return card


def _title_card(caption: str, label: str, width: int, height: int) -> Image.Image:
    size = (int(width * PAN_ZOOM), int(height * PAN_ZOOM))
    gradient = Image.linear_gradient("L").resize(size)
    card = ImageOps.colorize(gradient, (25, 30, 70), (160, 60, 90))
    draw = ImageDraw.Draw(card)
    points = max(14, min(size) // 14)
    font = _font(points)
    points = _size_of(font, points)
    lines = textwrap.wrap(caption or "(no prompt)", max(12, int(size[0] / (points * 0.55))))[:6]
    y = size[1] // 2 - len(lines) * points // 2
    for line in lines:
        draw.text((size[0] // 2, y), line, fill=(255, 255, 255), font=font, anchor="mm")
        y += int(points * 1.2)
    if label:
        draw.text((size[0] // 2, size[1] - points), label, fill=(220, 220, 220), font=_font(points // 2), anchor="mm")
    return card


def _cover(img: Image.Image, width: int, height: int) -> Image.Image:
    return ImageOps.fit(img, (int(width * PAN_ZOOM), int(height * PAN_ZOOM)), Image.Resampling.BILINEAR)


def _pan_zoom(big: Image.Image, t: float, width: int, height: int) -> Image.Image:
    zoom = 1.0 + (PAN_ZOOM - 1.0) * t
    win_w, win_h = big.width / zoom, big.height / zoom
    cx = big.width / 2 + (2 * t - 1) * 0.9 * (big.width - win_w) / 2
    cy = big.height / 2 + (2 * t - 1) * 0.5 * (big.height - win_h) / 2
    box = (cx - win_w / 2, cy - win_h / 2, cx + win_w / 2, cy + win_h / 2)
    return big.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _caption_bar(text: str, width: int, height: int) -> tuple[Image.Image, Image.Image, int] | None:
    if not text:
        return None
    points = max(12, height // 22)
    font = _font(points)
    points = _size_of(font, points)
    lines = textwrap.wrap(text, max(16, int(width / (points * 0.55))))[:2]
    bar_h = int(points * (1.4 * len(lines) + 0.8))
    bar = Image.new("RGB", (width, bar_h), (0, 0, 0))
    draw = ImageDraw.Draw(bar)
    for i, line in enumerate(lines):
        draw.text((width // 2, int(points * (0.9 + 1.4 * i))), line, fill=(255, 255, 255), font=font, anchor="mm")
    mask = Image.new("L", (width, bar_h), 150)
    mask.paste(255, mask=bar.convert("L").point(lambda p: 255 if p > 40 else 0))
    return bar, mask, height - bar_h


def _frames(job: RenderJob, images: list[Image.Image], width: int, height: int, count: int) -> Iterator[Image.Image]:
    first = _cover(images[0], width, height)
    last = _cover(images[-1], width, height) if job.mode == "crossfade" and len(images) > 1 else None
    caption = None if job.mode == "title" else _caption_bar(job.caption, width, height)
    for index in range(count):
        t = index / (count - 1)
        frame = _pan_zoom(first, t, width, height)
        if last is not None:
            frame = Image.blend(frame, _pan_zoom(last, t, width, height), t)
        if caption is not None:
            bar, mask, top = caption
            frame.paste(bar, (0, top), mask)
        yield frame


def _encode(frames: Iterator[Image.Image], fps: int, target: Path, keep: Callable[[int, Image.Image], None]) -> None:
    tmp = _tmp_path(target)
    try:
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container:
            stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
            stream.pix_fmt = "yuv420p"
            for index, image in enumerate(frames):
                if index == 0:
                    stream.width, stream.height = image.size
                keep(index, image)
                container.mux(stream.encode(av.VideoFrame.from_image(image)))
            container.mux(stream.encode(None))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _Sprites:
    """Collects a grid of small frames while encoding (``spritesheet`` variant)."""

    def __init__(self, count: int, width: int, height: int, columns: int = 5, rows: int = 2) -> None:
        self.columns, self.picks = columns, columns * rows
        self.thumb = (160, even(160 * height / width))
        self.wanted = {min(count - 1, i * count // self.picks): i for i in range(self.picks)}
        self.sheet = Image.new("RGB", (self.thumb[0] * columns, self.thumb[1] * rows))

    def offer(self, index: int, frame: Image.Image) -> None:
        slot = self.wanted.get(index)
        if slot is not None:
            x, y = (slot % self.columns) * self.thumb[0], (slot // self.columns) * self.thumb[1]
            self.sheet.paste(frame.resize(self.thumb), (x, y))


def _tmp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _save_image(image: Image.Image, target: Path, fmt: str) -> None:
    tmp = _tmp_path(target)
    image.save(tmp, fmt, quality=80)
    os.replace(tmp, target)
