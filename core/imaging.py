"""Image preparation with Pillow: open safely, apply EXIF rotation, and fit to what an API demands.

Everything here is synchronous and CPU-bound: callers run it in a thread (never on the GUI or event loop thread).
Every refusal is an ``InputError`` with a message a person can act on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InputError

#: Refuse images above this many pixels (decompression bombs); 24 MP photos are fine.
MAX_PIXELS = 100_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024


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
    formats: tuple[str, ...] = ("PNG", "JPEG")
    fit: str = "pad"  # pad | crop | scale


@dataclass
class PreparedImage:
    """The bytes to send and what was changed to get them."""

    data: bytes
    format: str  # PNG | JPEG | WEBP
    width: int
    height: int
    changes: list[str] = field(default_factory=list)

    @property
    def mime(self) -> str:
        return {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[self.format]

    @property
    def extension(self) -> str:
        return {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}[self.format]


def open_image(path: Path) -> Image.Image:
    """Open a local image fully and safely, or raise InputError saying why not."""
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
    try:
        with Image.open(path) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise InputError(
                    f"{name} is {probe.width}×{probe.height} pixels, too large to process safely "
                    f"(limit {MAX_PIXELS // 1_000_000} megapixels)."
                )
            probe.load()  # the first frame of an animation
            return probe.copy()
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InputError(f"{name} is not an image Reeldeck can read ({type(exc).__name__}).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name} looks damaged or truncated and cannot be read ({exc}).") from None


def prepare_image(path: Path, rules: ImageRules) -> PreparedImage:
    """Open, rotate per EXIF, normalise colour, fit to the rules and encode. Raises InputError."""
    image = open_image(path)
    changes: list[str] = []
    rotated = ImageOps.exif_transpose(image)
    if rotated is not None and rotated.size != image.size:
        changes.append("rotated as the camera recorded")
    image = rotated if rotated is not None else image
    image = _to_rgb(image, changes)
    image = _fit_aspect(image, rules, changes)
    image = _fit_size(image, rules, changes)
    _check_minimums(image, rules, path.name)
    return _encode(image, rules, changes)


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


def _fit_aspect(image: Image.Image, rules: ImageRules, changes: list[str]) -> Image.Image:
    if rules.exact_size is not None:
        return image
    ratio = image.width / image.height
    target = None
    margin = 1.01 if rules.aspect_exclusive else 1.0
    if rules.aspect_min is not None and ratio < rules.aspect_min * (margin if rules.aspect_exclusive else 1):
        target = rules.aspect_min * margin
    elif rules.aspect_max is not None and ratio > rules.aspect_max / (margin if rules.aspect_exclusive else 1):
        target = rules.aspect_max / margin
    if target is None:
        return image
    if target >= ratio:  # too tall: widen
        size = (round(image.height * target), image.height)
    else:  # too wide: heighten
        size = (image.width, round(image.width / target))
    return _fit_into(image, size, rules.fit, changes, f"aspect ratio {_ratio(target)}")


def _fit_size(image: Image.Image, rules: ImageRules, changes: list[str]) -> Image.Image:
    if rules.exact_size is not None and image.size != rules.exact_size:
        return _fit_into(image, rules.exact_size, rules.fit, changes, f"{rules.exact_size[0]}×{rules.exact_size[1]}")
    short = min(image.size)
    need = _required_short_side(rules)
    if need and short < need:
        scale = need / short
        size = (max(need, round(image.width * scale)), max(need, round(image.height * scale)))
        changes.append(f"enlarged to {size[0]}×{size[1]} (shorter side must be at least {need} px)")
        return image.resize(size, Image.Resampling.LANCZOS)
    return image


def _required_short_side(rules: ImageRules) -> int:
    need = 0
    if rules.min_short_side:
        need = rules.min_short_side + (1 if rules.short_side_exclusive else 0)
    if rules.min_side:
        need = max(need, rules.min_side)
    return need


def _fit_into(image: Image.Image, size: tuple[int, int], fit: str, changes: list[str], what: str) -> Image.Image:
    if fit == "crop":
        changes.append(f"cropped to {what}")
        return ImageOps.fit(image, size, Image.Resampling.LANCZOS)
    if fit == "scale":
        changes.append(f"stretched to {what}")
        return image.resize(size, Image.Resampling.LANCZOS)
    changes.append(f"padded to {what}")
    return ImageOps.pad(image, size, Image.Resampling.LANCZOS, color=(0, 0, 0))


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


def _encode(image: Image.Image, rules: ImageRules, changes: list[str]) -> PreparedImage:
    fmt = "PNG" if "PNG" in rules.formats else rules.formats[0]
    data = _save(image, fmt)
    if rules.max_bytes and len(data) > rules.max_bytes and "JPEG" in rules.formats:
        data, fmt = _shrink_jpeg(image, rules.max_bytes, changes)
    if rules.max_bytes and len(data) > rules.max_bytes:
        raise InputError(
            f"The prepared image is {len(data) // 1024} KB, over the {rules.max_bytes // 1024} KB limit."
        )
    return PreparedImage(data, fmt, image.width, image.height, changes)


def _save(image: Image.Image, fmt: str, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality, optimize=True)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def _shrink_jpeg(image: Image.Image, limit: int, changes: list[str]) -> tuple[bytes, str]:
    for quality in (90, 82, 74, 66, 58, 50):
        data = _save(image, "JPEG", quality)
        if len(data) <= limit:
            changes.append(f"saved as JPEG (quality {quality}) to stay under {limit // (1024 * 1024)} MB")
            return data, "JPEG"
    scaled = image
    while len(data) > limit and min(scaled.size) > 64:
        scaled = scaled.resize((scaled.width * 3 // 4, scaled.height * 3 // 4), Image.Resampling.LANCZOS)
        data = _save(scaled, "JPEG", 80)
    changes.append(f"scaled down to {scaled.width}×{scaled.height} JPEG to stay under the size limit")
    return data, "JPEG"
