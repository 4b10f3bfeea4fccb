"""Thumbnails: a provider's own still beside a video wins over decoding the first frame."""

from __future__ import annotations

from pathlib import Path

from guikit import make_video
from PIL import Image
from pytestqt.qtbot import QtBot

from gui.thumbs import ThumbnailCache


def test_provider_still_is_preferred(qtbot: QtBot, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4")
    Image.new("RGB", (320, 180), (10, 200, 30)).save(video.with_suffix(".thumbnail.webp"), "WEBP", lossless=True)
    cache = ThumbnailCache(tmp_path / "cache")
    with qtbot.waitSignal(cache.ready, timeout=20_000):
        assert cache.get(str(video)) is None  # made in the background
    image = cache.get(str(video)).toImage()  # type: ignore[union-attr]
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    assert (colour.red(), colour.green(), colour.blue()) == (10, 200, 30)


def test_image_thumbnails_are_read_small_and_upright(qtbot: QtBot, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown turned 90° clockwise
    Image.new("RGB", (1600, 1000), (200, 40, 40)).save(photo, "JPEG", exif=exif)
    cache = ThumbnailCache(tmp_path / "cache")
    with qtbot.waitSignal(cache.ready, timeout=20_000):
        assert cache.get(str(photo)) is None
    pixmap = cache.get(str(photo))
    assert pixmap is not None and (pixmap.width(), pixmap.height()) == (200, 320)  # portrait, within 320 px
