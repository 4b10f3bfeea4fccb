"""Image preparation with real files made here: every awkward input is either fitted into each provider's rules
(checked independently: decoded format, pixel size, aspect ratio, byte size, and the emulator's own checks) or
refused with an InputError — never handed out of spec."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from core.errors import InputError
from core.imaging import ImageRules, PreparedImage, data_uri, image_mime, prepare_image
from core.providers.aihubmix import AIHubMixProvider
from core.providers.aimlapi import AIMLAPIProvider
from core.providers.gateway import GatewayProvider
from core.providers.goapi import GoAPIProvider
from core.providers.novita import NovitaProvider
from core.sandbox import aimlapi as sb_aimlapi
from core.sandbox import gateway as sb_gateway
from core.sandbox import goapi_upload as sb_goapi_upload
from core.sandbox import novita_assets as sb_novita_assets
from core.sandbox.media import probe_image

RULES: dict[str, ImageRules] = {
    "goapi": GoAPIProvider.image_rules({}, "image"),
    "aimlapi": AIMLAPIProvider.image_rules({}, "image"),
    "aimlapi-crop": AIMLAPIProvider.image_rules({"image_fit": "crop"}, "image"),
    "gateway": GatewayProvider.image_rules({}, "image"),
    "gateway-scale": GatewayProvider.image_rules({"image_fit": "scale"}, "image"),
    "novita": NovitaProvider.image_rules({}, "image"),
    "aihubmix": AIHubMixProvider.image_rules({"size": "1280x720"}, "image"),
}


# --- files made in the test ----------------------------------------------------------------------------------


def _exif_rotated_jpeg(path: Path) -> Path:
    """Stored 400×300 with a red top-left corner; EXIF orientation 6 means "rotate 90° clockwise to view"."""
    image = Image.new("RGB", (400, 300), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    return path


def _alpha_png(path: Path) -> Path:
    image = Image.new("RGBA", (500, 400), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (100, 100, 400, 300))
    image.save(path, "PNG")
    return path


def _strip(path: Path) -> Path:
    Image.new("RGB", (8000, 500), (30, 60, 90)).save(path, "PNG")
    return path


def _tall_strip(path: Path) -> Path:
    Image.new("RGB", (150, 2400), (90, 60, 30)).save(path, "PNG")
    return path


def _thumbnail(path: Path) -> Path:
    Image.new("RGB", (200, 200), (200, 200, 0)).save(path, "JPEG")
    return path


def _tiny(path: Path) -> Path:
    Image.new("RGB", (40, 30), (10, 10, 10)).save(path, "PNG")
    return path


def _cmyk_jpeg(path: Path) -> Path:
    Image.new("CMYK", (640, 480), (0, 255, 255, 0)).save(path, "JPEG")
    return path


def _animated_gif(path: Path) -> Path:
    frames = [Image.new("P", (320, 240), color) for color in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12))
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


@pytest.fixture(scope="module")
def noise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An incompressible 2600×2600 photo-sized PNG (~20 MB): over the goapi and gateway limits as PNG."""
    path = tmp_path_factory.mktemp("noise") / "noise.png"
    Image.frombytes("RGB", (2600, 2600), os.urandom(2600 * 2600 * 3)).save(path, "PNG", compress_level=1)
    return path


GOOD: dict[str, Callable[[Path], Path]] = {
    "exif_rotated.jpg": _exif_rotated_jpeg,
    "alpha.png": _alpha_png,
    "strip.png": _strip,
    "tall_strip.png": _tall_strip,
    "thumbnail.jpg": _thumbnail,
    "tiny.png": _tiny,
    "cmyk.jpg": _cmyk_jpeg,
    "animated.gif": _animated_gif,
}


def _not_an_image(path: Path) -> Path:
    path.write_text("this is a text file, not a picture\n" * 20)
    return path


def _zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _truncated_png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "notes.png": (_not_an_image, "not an image"),
    "empty.png": (_zero_bytes, "empty"),
    "truncated.png": (_truncated_png, "damaged or truncated"),
}


# --- the independent check -----------------------------------------------------------------------------------


def assert_in_spec(prepared: PreparedImage, rules: ImageRules) -> Image.Image:
    """Decode the bytes and check every rule directly."""
    decoded = Image.open(io.BytesIO(prepared.data))
    decoded.load()
    assert decoded.format == prepared.format and decoded.format in rules.formats
    assert decoded.size == (prepared.width, prepared.height)
    assert decoded.mode == "RGB"
    assert image_mime(prepared.data) == prepared.mime
    width, height = decoded.size
    if rules.exact_size is not None:
        assert decoded.size == rules.exact_size
    if rules.min_short_side is not None:
        assert min(width, height) > rules.min_short_side if rules.short_side_exclusive else \
            min(width, height) >= rules.min_short_side
    if rules.min_side is not None:
        assert min(width, height) >= rules.min_side
    ratio = width / height
    if rules.aspect_min is not None:
        assert ratio > rules.aspect_min if rules.aspect_exclusive else ratio >= rules.aspect_min
    if rules.aspect_max is not None:
        assert ratio < rules.aspect_max if rules.aspect_exclusive else ratio <= rules.aspect_max
    if rules.max_bytes is not None:
        assert len(prepared.data) <= rules.max_bytes
    if rules.max_base64_chars is not None:
        assert len(data_uri(prepared.data).split(",", 1)[1]) < rules.max_base64_chars
    return decoded


def assert_emulator_accepts(provider: str, prepared: PreparedImage) -> None:
    """The sandbox emulator's own (separately written) checks agree."""
    if provider.startswith("aimlapi"):
        assert sb_aimlapi.FIRST_FRAME.check_inline(data_uri(prepared.data)) is None
    elif provider.startswith("gateway"):
        assert sb_gateway.IMAGE.check_inline(data_uri(prepared.data)) is None
    elif provider == "goapi":
        assert len(prepared.data) <= sb_goapi_upload.MAX_BYTES
    elif provider == "novita":
        assert probe_image(prepared.data) is not None and len(prepared.data) <= sb_novita_assets.MAX_BYTES


@pytest.mark.parametrize("provider", sorted(RULES))
@pytest.mark.parametrize("name", sorted(GOOD))
def test_awkward_images_are_prepared_into_spec(tmp_path: Path, provider: str, name: str) -> None:
    path = GOOD[name](tmp_path / name)
    rules = RULES[provider]
    try:
        prepared = prepare_image(path, rules)
    except InputError as exc:  # refusing is allowed; handing out of spec is not
        assert exc.message
        pytest.fail(f"{name} was refused for {provider}: {exc.message}")  # none of these needs refusing
    assert_in_spec(prepared, rules)
    assert_emulator_accepts(provider, prepared)


@pytest.mark.parametrize("provider", sorted(RULES))
@pytest.mark.parametrize("name", sorted(BAD))
def test_unreadable_files_are_refused(tmp_path: Path, provider: str, name: str) -> None:
    make, needle = BAD[name]
    path = make(tmp_path / name)
    with pytest.raises(InputError, match=needle) as caught:
        prepare_image(path, RULES[provider])
    assert name in caught.value.message


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        prepare_image(tmp_path / "nowhere.png", ImageRules())


# --- specific outcomes ---------------------------------------------------------------------------------------


def test_exif_rotation_is_applied(tmp_path: Path) -> None:
    prepared = prepare_image(_exif_rotated_jpeg(tmp_path / "r.jpg"), RULES["goapi"])
    decoded = assert_in_spec(prepared, RULES["goapi"])
    assert decoded.size == (300, 400)
    red, blue = decoded.getpixel((285, 15)), decoded.getpixel((15, 15))
    assert red[0] > 200 and red[2] < 60, "the stored top-left corner must end up top-right"
    assert blue[2] > 200 and blue[0] < 60
    assert "rotated as the camera recorded" in prepared.changes


def test_exif_rotated_portrait_is_enlarged_for_minimax(tmp_path: Path) -> None:
    prepared = prepare_image(_exif_rotated_jpeg(tmp_path / "r.jpg"), RULES["aimlapi"])
    decoded = assert_in_spec(prepared, RULES["aimlapi"])
    assert decoded.width == 301 and decoded.height > decoded.width  # still portrait, shorter side over 300


def test_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    prepared = prepare_image(_alpha_png(tmp_path / "a.png"), RULES["gateway"])
    decoded = assert_in_spec(prepared, RULES["gateway"])
    assert decoded.getpixel((5, 5)) == (255, 255, 255) and decoded.getpixel((250, 200)) == (0, 128, 0)
    assert "transparency flattened onto white" in prepared.changes


@pytest.mark.parametrize(("provider", "expected"), [
    ("goapi", (8000, 500)),       # no aspect rule: untouched
    ("gateway", (8000, 2000)),    # padded to exactly 4:1
    ("aihubmix", (1280, 720)),    # fitted to the exact output size
])
def test_wide_strip_sizes(tmp_path: Path, provider: str, expected: tuple[int, int]) -> None:
    prepared = prepare_image(_strip(tmp_path / "s.png"), RULES[provider])
    assert (prepared.width, prepared.height) == expected


@pytest.mark.parametrize("provider", ["aimlapi", "aimlapi-crop"])
def test_wide_strip_for_minimax_is_strictly_inside_five_to_two(tmp_path: Path, provider: str) -> None:
    prepared = prepare_image(_strip(tmp_path / "s.png"), RULES[provider])
    assert 2 / 5 < prepared.width / prepared.height < 5 / 2
    assert min(prepared.width, prepared.height) > 300
    word = "cropped" if provider.endswith("crop") else "padded"
    assert any(change.startswith(word) for change in prepared.changes)


def test_thumbnail(tmp_path: Path) -> None:
    path = _thumbnail(tmp_path / "t.jpg")
    assert (prepare_image(path, RULES["gateway"]).width, prepare_image(path, RULES["gateway"]).height) == (200, 200)
    minimax = prepare_image(path, RULES["aimlapi"])
    assert (minimax.width, minimax.height) == (301, 301)
    assert any("enlarged" in change for change in minimax.changes)


def test_tiny_image_is_enlarged_to_vidus_minimum(tmp_path: Path) -> None:
    prepared = prepare_image(_tiny(tmp_path / "t.png"), RULES["gateway"])
    assert min(prepared.width, prepared.height) == 128


def test_cmyk_becomes_rgb(tmp_path: Path) -> None:
    prepared = prepare_image(_cmyk_jpeg(tmp_path / "c.jpg"), RULES["aimlapi"])
    decoded = assert_in_spec(prepared, RULES["aimlapi"])
    r, g, b = decoded.getpixel((10, 10))
    assert r > 200 and g < 60 and b < 60  # C=0 M=255 Y=255 K=0 is red
    assert "converted from CMYK to RGB" in prepared.changes


def test_animated_gif_uses_the_first_frame_and_says_so(tmp_path: Path) -> None:
    prepared = prepare_image(_animated_gif(tmp_path / "a.gif"), RULES["gateway"])
    decoded = assert_in_spec(prepared, RULES["gateway"])
    assert decoded.format == "PNG" and decoded.getpixel((10, 10)) == (255, 0, 0)
    assert "first frame of the animation used" in prepared.changes


@pytest.mark.parametrize("provider", ["goapi", "gateway", "aimlapi"])
def test_large_photo_is_shrunk_under_the_byte_limit(noise: Path, provider: str) -> None:
    rules = RULES[provider]
    prepared = prepare_image(noise, rules)
    assert_in_spec(prepared, rules)
    assert_emulator_accepts(provider, prepared)
    if rules.byte_limit and rules.byte_limit < 20 * 1024 * 1024:
        assert prepared.format == "JPEG"


def test_an_exact_size_that_cannot_fit_the_byte_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.png"
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(path, "PNG")
    rules = ImageRules(exact_size=(600, 600), formats=("PNG",), max_bytes=100 * 1024)
    with pytest.raises(InputError, match="over the"):
        prepare_image(path, rules)


def test_rules_problem_reports_each_rule() -> None:
    rules = ImageRules(min_short_side=300, short_side_exclusive=True, aspect_min=0.4, aspect_max=2.5,
                       aspect_exclusive=True, max_bytes=100, formats=("PNG",))
    assert rules.problem(400, 400, "PNG", 50) is None
    assert "format" in (rules.problem(400, 400, "JPEG", 50) or "")
    assert "shorter side" in (rules.problem(300, 400, "PNG", 50) or "")
    assert "aspect" in (rules.problem(1000, 400, "PNG", 50) or "")
    assert "KB" in (rules.problem(400, 400, "PNG", 5000) or "")


def test_byte_limit_combines_bytes_and_base64() -> None:
    assert ImageRules().byte_limit is None
    assert ImageRules(max_bytes=1000).byte_limit == 1000
    limit = ImageRules(max_base64_chars=10_000_000).byte_limit
    assert limit is not None
    assert len(data_uri(b"\x89PNG\r\n\x1a\n" + b"x" * (limit - 8)).split(",", 1)[1]) < 10_000_000
    assert len(data_uri(b"x" * (limit + 3)).split(",", 1)[1]) >= 10_000_000
