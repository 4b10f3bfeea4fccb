"""Image preparation with real files made here: every awkward input is either fitted into each provider's rules
(checked independently: decoded format, pixel size, aspect ratio, byte size, and the emulator's own checks) or
refused with an InputError — never handed out of spec."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from core.errors import InputError
from core.imaging import (
    ImageRules,
    PreparedImage,
    data_uri,
    frame_mismatch,
    image_mime,
    open_image,
    prepare_image,
)
from core.params import SlotKind
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
from core.settings import Settings
from core.submission import JobRequest, build_job

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


# --- photos: kept JPEG, decoded at the size the model can use, sent as is when nothing needs changing -----------


def _photo(path: Path, size: tuple[int, int] = (2400, 1600), orientation: int | None = None,
           gps: bool = False) -> Path:
    """A photo-like JPEG (noise over a gradient, so it compresses like a photograph)."""
    noise = Image.effect_noise(size, 30)
    gradient = Image.linear_gradient("L").resize(size)
    photo = Image.merge("RGB", (Image.blend(noise, gradient, 0.6), gradient, noise))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x010F] = "PhoneMaker"  # camera make, in the EXIF block with the position
        exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPSLatitude
    photo.save(path, "JPEG", quality=85, **({"exif": exif.tobytes()} if orientation or gps else {}))
    return path


def _capped(provider: str, cap: int) -> ImageRules:
    return replace(RULES[provider], max_short_side=cap)


def test_open_image_keeps_the_source_format(tmp_path: Path) -> None:
    assert open_image(_photo(tmp_path / "p.jpg", (300, 200))).format == "JPEG"
    assert open_image(_alpha_png(tmp_path / "a.png")).format == "PNG"


@pytest.mark.parametrize("provider", sorted(RULES))
def test_a_photo_stays_jpeg_for_every_provider(tmp_path: Path, provider: str) -> None:
    prepared = prepare_image(_photo(tmp_path / "p.jpg", (1600, 1200), orientation=6), RULES[provider])
    assert_in_spec(prepared, RULES[provider])
    assert prepared.format == "JPEG"


def test_a_small_jpeg_that_needs_nothing_is_sent_byte_for_byte(tmp_path: Path) -> None:
    path = _photo(tmp_path / "small.jpg", (512, 512))
    prepared = prepare_image(path, _capped("gateway", 1280))
    assert prepared.as_is and prepared.changes == [] and prepared.warnings == []
    assert prepared.data == path.read_bytes()
    kilobytes = round(len(prepared.data) / 1024)
    assert prepared.note_lines() == [f"512×512 JPEG, {kilobytes} KB to send", "the file as it is"]


def test_a_jpeg_sent_as_is_leaves_its_camera_data_behind(tmp_path: Path) -> None:
    path = _photo(tmp_path / "gps.jpg", (640, 480), gps=True)
    assert b"PhoneMaker" in path.read_bytes()
    prepared = prepare_image(path, _capped("goapi", 1920))
    assert prepared.as_is and b"PhoneMaker" not in prepared.data and b"Exif" not in prepared.data
    with Image.open(path) as original, Image.open(io.BytesIO(prepared.data)) as sent:
        assert sent.tobytes() == original.tobytes()  # the very same picture, not re-encoded
    assert "camera data removed" in prepared.note()


def test_a_large_photo_is_scaled_to_what_the_model_uses(tmp_path: Path) -> None:
    path = _photo(tmp_path / "big.jpg", (2400, 1600))
    prepared = prepare_image(path, _capped("gateway", 720))
    decoded = assert_in_spec(prepared, RULES["gateway"])
    assert decoded.size == (1080, 720) and prepared.format == "JPEG"
    assert "scaled down to 1080×720 (the model uses at most 720 px on the shorter side)" in prepared.changes
    lines = prepared.note_lines()
    assert lines[0] == f"1080×720 JPEG, {round(len(prepared.data) / 1024)} KB to send"
    assert lines[1].startswith(f"from 2400×1600 JPEG, {round(path.stat().st_size / 1024)} KB; scaled down")


def test_a_turned_photo_is_scaled_upright(tmp_path: Path) -> None:
    prepared = prepare_image(_photo(tmp_path / "turned.jpg", (2400, 1600), orientation=6), _capped("aimlapi", 720))
    assert (prepared.width, prepared.height) == (720, 1080)
    assert prepared.changes[0] == "rotated as the camera recorded"
    assert "from 1600×2400 JPEG" in prepared.note()


def test_an_upside_down_photo_says_it_was_turned(tmp_path: Path) -> None:
    prepared = prepare_image(_photo(tmp_path / "upside.jpg", (400, 300), orientation=3), RULES["goapi"])
    assert (prepared.width, prepared.height) == (400, 300)
    assert "rotated as the camera recorded" in prepared.changes and not prepared.as_is


def test_each_image_slot_declares_the_size_its_model_can_use() -> None:
    for cls in (GoAPIProvider, AIMLAPIProvider, AIHubMixProvider, GatewayProvider, NovitaProvider):
        for model in cls.spec.models:
            for slot in (s for s in model.slots if s.kind == SlotKind.IMAGE):
                rules = cls.slot_image_rules(slot, {}, send_originals=False)
                assert rules.max_short_side == slot.max_image_short_side
                assert rules.exact_size is not None or slot.max_image_short_side, (model.id, slot.name)
                resolution = next((r for r in ("540p", "720p", "1080p") if r in model.id), None)
                if cls is GatewayProvider and resolution:
                    long_side = {"540p": 960, "720p": 1280, "1080p": 1920}[resolution]
                    assert slot.max_image_short_side == long_side, (model.id, slot.name)


def test_sending_originals_keeps_the_full_size(tmp_path: Path) -> None:
    path = _photo(tmp_path / "big.jpg", (2400, 1600))
    slot = GatewayProvider.spec.model("viduq3p-540p").slot("image")
    assert slot is not None
    capped = prepare_image(path, GatewayProvider.slot_image_rules(slot, {}))
    original = prepare_image(path, GatewayProvider.slot_image_rules(slot, {}, send_originals=True))
    assert (capped.width, capped.height) == (1440, 960)
    assert (original.width, original.height) == (2400, 1600) and original.as_is


def test_the_setting_to_send_originals(tmp_path: Path) -> None:
    settings_file = tmp_path / "settings.json"
    assert Settings.load(settings_file).send_original_images() is False
    settings_file.write_text('{"send_original_images": true}')
    assert Settings.load(settings_file).send_original_images() is True
    settings_file.write_text('{"send_original_images": "yes please"}')
    loaded = Settings.load(settings_file)
    assert loaded.send_original_images() is False and "send_original_images" in loaded.problems[0]


def test_a_job_prepares_its_images_at_the_model_size_unless_originals_are_sent(tmp_path: Path) -> None:
    path = _photo(tmp_path / "big.jpg", (2400, 1600))
    request = JobRequest("gateway", "viduq3p-540p", {"prompt": "waves"}, {"image": [str(path)]})
    capped = build_job(request, tmp_path / "inputs")
    original = build_job(request, tmp_path / "inputs", send_originals=True)
    with Image.open(capped.inputs["image"][0]) as small, Image.open(original.inputs["image"][0]) as full:
        assert small.size == (1440, 960) and full.size == (2400, 1600)
    assert capped.input_notes["image"][0].startswith("1440×960 JPEG")


# --- what is lost or enlarged is said -------------------------------------------------------------------------


def _panorama(path: Path) -> Path:
    Image.new("RGB", (8000, 1000), (30, 60, 90)).save(path, "PNG")
    return path


@pytest.mark.parametrize(("fit", "words"), [("crop", "Cropped: only {} of the picture is kept"),
                                             ("pad", "Padded: the picture fills only {} of the frame")])
def test_a_panorama_fitted_to_a_portrait_video_is_warned_about(tmp_path: Path, fit: str, words: str) -> None:
    rules = AIHubMixProvider.image_rules({"size": "720x1280", "image_fit": fit}, "image")
    prepared = prepare_image(_panorama(tmp_path / "pano.png"), rules)
    share = round(100 * (720 / 1280) / (8000 / 1000))  # of the picture kept / of the frame filled
    assert share == 7
    assert any(w.startswith(words.format(f"{share} %")) for w in prepared.warnings), prepared.warnings
    assert f"⚠ {prepared.warnings[0]}" in prepared.note_lines()


def test_stretching_far_is_warned_about(tmp_path: Path) -> None:
    rules = AIHubMixProvider.image_rules({"size": "1280x720", "image_fit": "scale"}, "image")
    prepared = prepare_image(_thumbnail(tmp_path / "square.jpg"), rules)
    assert any(w.startswith("Stretched: shapes are distorted 1.8×") for w in prepared.warnings)


def test_a_small_image_enlarged_three_times_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "icon.png"
    Image.new("RGB", (100, 100), (200, 30, 30)).save(path, "PNG")
    prepared = prepare_image(path, RULES["aimlapi"])
    assert (prepared.width, prepared.height) == (301, 301)
    assert any(w.startswith("Enlarged 3.0× from 100×100") for w in prepared.warnings)


def test_a_slight_enlargement_or_crop_is_not_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "almost.png"
    Image.new("RGB", (290, 290), (200, 30, 30)).save(path, "PNG")
    assert prepare_image(path, RULES["aimlapi"]).warnings == []
    photo = _photo(tmp_path / "p.jpg", (1600, 1000))
    assert prepare_image(photo, AIHubMixProvider.image_rules({"size": "1280x720"}, "image")).warnings == []


def test_first_and_last_frames_of_different_shapes() -> None:
    assert frame_mismatch((1280, 720), (1920, 1080)) is None
    message = frame_mismatch((1280, 720), (720, 1280))
    assert message is not None and "1280×720" in message and "720×1280" in message and "different shapes" in message


def test_a_job_with_frames_of_different_shapes_says_so(tmp_path: Path) -> None:
    wide, tall = tmp_path / "wide.png", tmp_path / "tall.png"
    Image.new("RGB", (640, 360), "teal").save(wide)
    Image.new("RGB", (360, 640), "teal").save(tall)
    request = JobRequest("gateway", "viduq3p-720p", {"prompt": "from here to there"},
                         {"image": [str(wide)], "last_image": [str(tall)]})
    job = build_job(request, tmp_path / "inputs")
    assert "⚠ The first frame (640×360) and the last frame (360×640) have different shapes" in \
        job.input_notes["last_image"][0]
    same = build_job(replace(request, inputs={"image": [str(wide)], "last_image": [str(wide)]}), tmp_path / "inputs")
    assert "⚠" not in same.input_notes["last_image"][0]


# --- errors in plain words ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD))
def test_image_errors_name_no_python_exception(tmp_path: Path, name: str) -> None:
    make, _ = BAD[name]
    with pytest.raises(InputError) as caught:
        prepare_image(make(tmp_path / name), RULES["gateway"])
    assert not re.search(r"\w+(Error|Exception)\b", caught.value.message), caught.value.message


def test_a_heic_photo_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    with pytest.raises(InputError, match=r"HEIC/AVIF photo.*export it as JPEG"):
        prepare_image(path, RULES["goapi"])
