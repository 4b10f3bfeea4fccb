"""Image preparation with Pillow: open safely, apply EXIF rotation, and fit to what an API demands.

Everything here is synchronous and CPU-bound: callers run it in a thread (never on the GUI or event loop thread).
Every refusal is an ``InputError`` with a message a person can act on.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InputError

#: Refuse images above this many pixels (decompression bombs); 24 MP photos are fine.
MAX_PIXELS = 100_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ImageRules:
    """What an API accepts. Any field left as None is not constrained."""

    exact_size: tuple[int, int] | None = None
    min_short_side: int | None = None  # strictly greater than this many pixels when ``short_side_exclusive``
    short_side_exclusive: bool = False
    min_side: int | None = None
    aspect_min: float | None = None  # width / height
    aspect_max: float | None = None
    aspect_exclusive: bool = False
    max_bytes: int | None = None
    #: A limit on the base64 text of the image (APIs that take data URIs or base64 fields), in characters.
    max_base64_chars: int | None = None
    formats: tuple[str, ...] = ("PNG", "JPEG")
    fit: str = "pad"  # pad | crop | scale
    #: Scale down (never up) so the shorter side is at most this many pixels: the most the model can use.
    max_short_side: int | None = None

    @property
    def byte_limit(self) -> int | None:
        """The largest encoded file allowed, combining ``max_bytes`` and ``max_base64_chars``."""
        limits = [self.max_bytes] if self.max_bytes else []
        if self.max_base64_chars:
            # base64 of n bytes is 4 * ceil(n / 3) characters; keep it strictly below the limit.
            limits.append(3 * ((self.max_base64_chars - 1) // 4))
        return min(limits) if limits else None

    def problem(self, width: int, height: int, fmt: str, size: int) -> str | None:
        """The first rule an encoded image breaks, in plain words, or None when it is within every rule."""
        if fmt not in self.formats:
            return f"format {fmt} is not accepted (use {', '.join(self.formats)})"
        if self.exact_size is not None and (width, height) != self.exact_size:
            return f"it must be exactly {self.exact_size[0]}×{self.exact_size[1]} pixels"
        short = min(width, height)
        if self.min_short_side is not None:
            too_small = short <= self.min_short_side if self.short_side_exclusive else short < self.min_short_side
            if too_small:
                return f"the shorter side must be over {self.min_short_side} px"
        if self.min_side is not None and short < self.min_side:
            return f"both sides must be at least {self.min_side} px"
        ratio = width / height
        low, high = self.aspect_min, self.aspect_max
        if self.aspect_exclusive:
            bad = (low is not None and ratio <= low) or (high is not None and ratio >= high)
        else:
            bad = (low is not None and ratio < low) or (high is not None and ratio > high)
        if bad:
            return f"its aspect ratio {ratio:.3f} is outside the allowed range"
        limit = self.byte_limit
        if limit is not None and size > limit:
            return f"it is {size // 1024} KB, over the {limit // 1024} KB limit"
        return None


#: A crop that keeps less than this share of the picture, or a pad that fills less of the frame, is warned about.
LOSS_WARNING = 0.6
#: Enlarging by this factor or more is warned about (the video will look soft).
ENLARGE_WARNING = 1.5
#: Stretching that changes the shape by this factor or more is warned about.
STRETCH_WARNING = 1.2
#: Formats that hold photographs: such a source is sent as JPEG when it cannot keep its own format.
PHOTO_FORMATS = ("JPEG", "MPO", "WEBP")
#: Passed through unchanged when nothing needs changing (MPO, GIF, BMP, TIFF... are always re-encoded).
PASS_THROUGH_FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass(frozen=True)
class SourceImage:
    """The file as the person gave it: upright size, format and bytes."""

    name: str
    width: int
    height: int
    format: str
    bytes: int
    mode: str = "RGB"
    orientation: int = 1  # EXIF orientation tag; 1 = stored upright
    animated: bool = False


@dataclass
class PreparedImage:
    """The bytes to send, what was changed to get them, and what the person should be warned about."""

    data: bytes
    format: str  # PNG | JPEG | WEBP
    width: int
    height: int
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: SourceImage | None = None
    #: True when ``data`` is the file itself (metadata such as EXIF/GPS aside): nothing was re-encoded.
    as_is: bool = False

    @property
    def mime(self) -> str:
        return {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[self.format]

    @property
    def extension(self) -> str:
        return {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}[self.format]

    def note_lines(self) -> list[str]:
        """What will be sent and how it was made, in plain words, warnings last (each starting with ⚠)."""
        lines = [f"{self.width}×{self.height} {self.format}, {human_bytes(len(self.data))} to send"]
        if self.as_is:
            lines.append("the file as it is" + (" (camera data removed)" if self.source and
                                                 self.source.bytes != len(self.data) else ""))
        else:
            origin = ""
            if self.source is not None:
                origin = (f"from {self.source.width}×{self.source.height} {self.source.format}, "
                          f"{human_bytes(self.source.bytes)}")
            lines.append("; ".join(filter(None, [origin, *self.changes])) or "re-encoded")
        lines += [f"⚠ {warning}" for warning in self.warnings]
        return lines

    def note(self) -> str:
        """``note_lines`` on one line (for the command line and the job's details)."""
        return "; ".join(self.note_lines())


def human_bytes(count: int) -> str:
    """A byte count as people read it: 812 bytes, 13 KB, 1.2 MB."""
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def frame_mismatch(first: tuple[int, int], last: tuple[int, int]) -> str | None:
    """A warning when a first and a last frame have different shapes (aspect ratios), else None."""
    first_ratio, last_ratio = first[0] / first[1], last[0] / last[1]
    if max(first_ratio, last_ratio) / min(first_ratio, last_ratio) < 1.02:
        return None
    return (f"The first frame ({first[0]}×{first[1]}) and the last frame ({last[0]}×{last[1]}) have different "
            "shapes: the provider has to crop or stretch one of them. Use frames of one shape.")


def image_size(path: Path) -> tuple[int, int] | None:
    """The pixel size of an image file (from its header), or None when it cannot be read."""
    try:
        with Image.open(path) as probe:
            return probe.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def open_image(path: Path) -> Image.Image:
    """Open a local image fully and safely (its ``format`` kept), or raise InputError saying why not."""
    image, source = _open(path, None)
    image.format = source.format
    return image


def _open(path: Path, short_side: int | None) -> tuple[Image.Image, SourceImage]:
    """Open, decoding a JPEG at a reduced scale (``Image.draft``) when only ``short_side`` pixels are needed."""
    name = path.name
    size = _file_size(path)
    try:
        with Image.open(path) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise InputError(
                    f"{name} is {probe.width}×{probe.height} pixels, too large to process safely "
                    f"(limit {MAX_PIXELS // 1_000_000} megapixels)."
                )
            source = _describe(probe, name, size)
            if probe.format in ("JPEG", "MPO") and short_side and min(probe.size) > short_side:
                scale = short_side / min(probe.size)
                probe.draft(None, (math.ceil(probe.width * scale), math.ceil(probe.height * scale)))
            probe.load()  # the first frame of an animation
            return probe.copy(), source  # copy() drops .format: the source keeps it
    except InputError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses before we can even read the size
        raise InputError(f"{name} claims to be a huge image, too large to process safely (limit "
                         f"{MAX_PIXELS // 1_000_000} megapixels).") from None
    except UnidentifiedImageError:
        raise InputError(_unreadable(path)) from None
    except (OSError, SyntaxError, ValueError):
        raise InputError(f"{name} looks damaged or truncated: its picture cannot be read. Open it in an image "
                         "editor and save it again, or use another file.") from None


def _file_size(path: Path) -> int:
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    if not path.is_file():
        raise InputError(f"{name} is not a file.")
    if size == 0:
        raise InputError(f"{name} is empty (0 bytes).")
    if size > MAX_FILE_BYTES:
        raise InputError(f"{name} is {size // (1024 * 1024)} MB; images over 200 MB are not accepted.")
    return size


def _describe(probe: Image.Image, name: str, size: int) -> SourceImage:
    try:
        orientation = int(probe.getexif().get(EXIF_ORIENTATION, 1) or 1)
    except (ValueError, TypeError, SyntaxError, OSError):  # an unreadable EXIF block: treat as upright
        orientation = 1
    width, height = probe.size
    if orientation in (5, 6, 7, 8):  # turned by 90°: shown the other way round
        width, height = height, width
    return SourceImage(name, width, height, str(probe.format or "unknown"), size, probe.mode, orientation,
                       getattr(probe, "n_frames", 1) > 1)


def _unreadable(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"):
        return (f"{path.name} is a HEIC/AVIF photo, which Reeldeck cannot read; export it as JPEG or PNG "
                "(most phones and photo apps can) and use that.")
    return f"{path.name} is not an image Reeldeck can read (use a PNG, JPEG, WebP, GIF, BMP or TIFF file)."


def prepare_image(path: Path, rules: ImageRules) -> PreparedImage:
    """Open, rotate per EXIF, normalise colour, fit to the rules and encode. Raises InputError."""
    image, source = _open(path, _needed_short_side(rules))
    changes: list[str] = []
    warnings: list[str] = []
    if source.animated:
        changes.append("first frame of the animation used")
    image = _upright(image, source, changes)
    image = _to_rgb(image, changes)
    image = _fit_aspect(image, rules, changes, warnings)
    image = _cap_size(image, rules, source, changes)
    image = _fit_size(image, rules, changes, warnings)
    _check_minimums(image, rules, path.name)
    prepared = _encode(image, rules, changes, source, path)
    prepared.warnings = warnings
    problem = rules.problem(prepared.width, prepared.height, prepared.format, len(prepared.data))
    if problem is not None:  # never hand out an image the API would refuse
        raise InputError(f"{path.name} could not be prepared to the provider's image rules: {problem}.")
    return prepared


def _needed_short_side(rules: ImageRules) -> int | None:
    """How many pixels on the shorter side the preparation can use at most (None: all of them)."""
    if rules.exact_size is not None:
        return max(rules.exact_size)  # covers the exact size in either orientation
    if rules.max_short_side is None:
        return None
    return max(rules.max_short_side, _required_short_side(rules))


def _upright(image: Image.Image, source: SourceImage, changes: list[str]) -> Image.Image:
    if source.orientation in (1, 0) or source.orientation > 8:
        return image
    turned = ImageOps.exif_transpose(image)
    changes.append("mirrored and rotated as the camera recorded" if source.orientation in (2, 4, 5, 7)
                   else "rotated as the camera recorded")
    return turned if turned is not None else image


def _to_rgb(image: Image.Image, changes: list[str]) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "P", "PA") and _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        changes.append("transparency flattened onto white")
        return background
    if image.mode == "CMYK":
        changes.append("converted from CMYK to RGB")
    return image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _fit_aspect(image: Image.Image, rules: ImageRules, changes: list[str], warnings: list[str]) -> Image.Image:
    if rules.exact_size is not None:
        return image
    ratio = image.width / image.height
    target = bound = None
    margin = 1.01 if rules.aspect_exclusive else 1.0
    if rules.aspect_min is not None and ratio < rules.aspect_min * (margin if rules.aspect_exclusive else 1):
        target, bound = rules.aspect_min * margin, rules.aspect_min
    elif rules.aspect_max is not None and ratio > rules.aspect_max / (margin if rules.aspect_exclusive else 1):
        target, bound = rules.aspect_max / margin, rules.aspect_max
    if target is None or bound is None:
        return image
    what = f"aspect ratio just inside {_ratio(bound)}" if rules.aspect_exclusive else f"aspect ratio {_ratio(bound)}"
    if target >= ratio:  # too tall: widen
        size = (round(image.height * target), image.height)
    else:  # too wide: heighten
        size = (image.width, round(image.width / target))
    return _fit_into(image, size, rules.fit, changes, warnings, what)


def _cap_size(image: Image.Image, rules: ImageRules, source: SourceImage, changes: list[str]) -> Image.Image:
    """Scale down to the most the model can use (``max_short_side``); never up."""
    cap = rules.max_short_side
    if cap is None or rules.exact_size is not None or min(source.width, source.height) <= cap:
        return image
    if min(image.size) > cap:
        scale = cap / min(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    changes.append(f"scaled down to {image.width}×{image.height} (the model uses at most {cap} px on the "
                   "shorter side)")
    return image


def _fit_size(image: Image.Image, rules: ImageRules, changes: list[str], warnings: list[str]) -> Image.Image:
    if rules.exact_size is not None and image.size != rules.exact_size:
        size = rules.exact_size
        return _fit_into(image, size, rules.fit, changes, warnings, f"{size[0]}×{size[1]}")
    short = min(image.size)
    need = _required_short_side(rules)
    if need and short < need:
        scale = need / short
        size = (max(need, round(image.width * scale)), max(need, round(image.height * scale)))
        changes.append(f"enlarged to {size[0]}×{size[1]} (shorter side must be at least {need} px)")
        _warn_enlarged(scale, image.size, warnings)
        return image.resize(size, Image.Resampling.LANCZOS)
    return image


def _required_short_side(rules: ImageRules) -> int:
    need = 0
    if rules.min_short_side:
        need = rules.min_short_side + (1 if rules.short_side_exclusive else 0)
    if rules.min_side:
        need = max(need, rules.min_side)
    return need


def _fit_into(image: Image.Image, size: tuple[int, int], fit: str, changes: list[str], warnings: list[str],
              what: str) -> Image.Image:
    source_ratio, target_ratio = image.width / image.height, size[0] / size[1]
    share = min(source_ratio / target_ratio, target_ratio / source_ratio)  # of the picture kept / frame filled
    if fit == "crop":
        changes.append(f"cropped to {what}")
        if share < LOSS_WARNING:
            warnings.append(f"Cropped: only {_percent(share)} of the picture is kept. Choose “pad” to keep all "
                            "of it, or crop the image yourself.")
        _warn_enlarged(max(size[0] / image.width, size[1] / image.height), image.size, warnings)
        return ImageOps.fit(image, size, Image.Resampling.LANCZOS)
    if fit == "scale":
        changes.append(f"stretched to {what}")
        if 1 / share >= STRETCH_WARNING:
            warnings.append(f"Stretched: shapes are distorted {1 / share:.1f}× (circles become ovals).")
        _warn_enlarged(max(size[0] / image.width, size[1] / image.height), image.size, warnings)
        return image.resize(size, Image.Resampling.LANCZOS)
    changes.append(f"padded to {what}")
    if share < LOSS_WARNING:
        warnings.append(f"Padded: the picture fills only {_percent(share)} of the frame; the rest is black bars.")
    _warn_enlarged(min(size[0] / image.width, size[1] / image.height), image.size, warnings)
    return ImageOps.pad(image, size, Image.Resampling.LANCZOS, color=(0, 0, 0))


def _warn_enlarged(scale: float, size: tuple[int, int], warnings: list[str]) -> None:
    if scale >= ENLARGE_WARNING:
        warnings.append(f"Enlarged {scale:.1f}× from {size[0]}×{size[1]}: the video will look soft. A larger "
                        "image gives a sharper result.")


def _percent(share: float) -> str:
    return f"{max(1, round(share * 100))} %"


def _ratio(value: float) -> str:
    for a in range(1, 21):
        b = a / value
        if abs(b - round(b)) < 0.02 and round(b) > 0:
            return f"{a}:{round(b)}"
    return f"{value:.2f}:1"


def _check_minimums(image: Image.Image, rules: ImageRules, name: str) -> None:
    need = _required_short_side(rules)
    if need and min(image.size) < need:
        raise InputError(f"{name} is too small ({image.width}×{image.height}); at least {need} px needed.")


def _encode(image: Image.Image, rules: ImageRules, changes: list[str], source: SourceImage,
            path: Path) -> PreparedImage:
    limit = rules.byte_limit
    original = _as_is(image, rules, changes, source, path)
    if original is not None and not (limit and len(original) > limit):
        return PreparedImage(original, source.format, image.width, image.height, changes, source=source,
                             as_is=True)
    fmt = _output_format(rules.formats, source.format)
    data = _save(image, fmt)
    if limit and len(data) > limit and "JPEG" in rules.formats:
        data, fmt, image = _shrink_jpeg(image, limit, changes, rules)
    if limit and len(data) > limit:
        raise InputError(
            f"The prepared image is {len(data) // 1024} KB, over the {limit // 1024} KB limit."
        )
    return PreparedImage(data, fmt, image.width, image.height, changes, source=source)


def _as_is(image: Image.Image, rules: ImageRules, changes: list[str], source: SourceImage,
           path: Path) -> bytes | None:
    """The file's own bytes (a JPEG without its EXIF/XMP block) when nothing about it needs changing."""
    untouched = (not changes and source.format in PASS_THROUGH_FORMATS and source.format in rules.formats
                 and source.mode == "RGB" and image.size == (source.width, source.height))
    if not untouched:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if source.format == "JPEG":
        return without_jpeg_metadata(data)
    return data


#: JPEG segments left out of a file sent as is: APP1 (EXIF, with GPS position and camera serial; XMP) and APP13
#: (IPTC). APP0 (JFIF), APP2 (the colour profile) and APP14 (Adobe colour transform) are kept.
_PRIVATE_SEGMENTS = (0xE1, 0xED)


def without_jpeg_metadata(data: bytes) -> bytes | None:
    """A JPEG's bytes without its EXIF/XMP/IPTC segments, the picture data untouched; None when it cannot be
    parsed safely (then the image is re-encoded instead)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = bytearray(b"\xff\xd8")
    index = 2
    while index + 4 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xDA:  # start of scan: the rest is picture data
            out += data[index:]
            return bytes(out)
        length = int.from_bytes(data[index + 2:index + 4], "big")
        end = index + 2 + length
        if length < 2 or end > len(data):
            return None
        if marker not in _PRIVATE_SEGMENTS:
            out += data[index:end]
        index = end
    return None


def _output_format(formats: tuple[str, ...], source_format: str) -> str:
    """The source's own format when the API takes it; photographs as JPEG; anything else as lossless PNG."""
    if source_format in formats and source_format in PASS_THROUGH_FORMATS:
        return source_format
    if source_format in PHOTO_FORMATS and "JPEG" in formats:
        return "JPEG"
    return "PNG" if "PNG" in formats else formats[0]


def _save(image: Image.Image, fmt: str, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        # No optimize=True: it holds the GIL through the whole encode (hundreds of ms on a 24 MP photo), which
        # stalls the event loop even from a worker thread, for 3-7 % smaller files.
        image.save(buffer, "JPEG", quality=quality)
    elif fmt == "WEBP":
        image.save(buffer, "WEBP", quality=quality)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def _shrink_jpeg(
    image: Image.Image, limit: int, changes: list[str], rules: ImageRules | None = None
) -> tuple[bytes, str, Image.Image]:
    for quality in (90, 82, 74, 66, 58, 50):
        data = _save(image, "JPEG", quality)
        if len(data) <= limit:
            changes.append(f"saved as JPEG (quality {quality}) to stay under {_megabytes(limit)}")
            return data, "JPEG", image
    scaled = image
    floor = max(64, _required_short_side(rules) if rules else 0)
    while len(data) > limit and rules is not None and rules.exact_size is None:
        size = (scaled.width * 3 // 4, scaled.height * 3 // 4)
        if min(size) < floor:
            break
        scaled = image.resize(size, Image.Resampling.LANCZOS)
        data = _save(scaled, "JPEG", 80)
    changes.append(f"scaled down to {scaled.width}×{scaled.height} JPEG to stay under the size limit")
    return data, "JPEG", scaled


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def image_mime(data: bytes) -> str:
    """The MIME type of encoded image bytes, from their signature (PNG, JPEG, WebP, GIF)."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def data_uri(data: bytes) -> str:
    """A base64 data URI (``data:image/png;base64,...``) for encoded image bytes."""
    return f"data:{image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"
