"""Image preparation with Pillow: open safely, apply EXIF rotation, and fit to what an API demands.

Everything here is synchronous and CPU-bound: callers run it in a thread (never on the GUI or event loop thread).
Every refusal is an ``InputError`` with a message a person can act on.
"""

from __future__ import annotations

import base64
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
    #: A limit on the base64 text of the image (APIs that take data URIs or base64 fields), in characters.
    max_base64_chars: int | None = None
    formats: tuple[str, ...] = ("PNG", "JPEG")
    fit: str = "pad"  # pad | crop | scale

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
            animated = getattr(probe, "n_frames", 1) > 1
            probe.load()  # the first frame of an animation
            image = probe.copy()
            if animated:
                image.info["_reeldeck_animated"] = True
            return image
    except InputError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses before we can even read the size
        raise InputError(f"{name} claims to be a huge image, too large to process safely (limit "
                         f"{MAX_PIXELS // 1_000_000} megapixels).") from None
    except UnidentifiedImageError as exc:
        raise InputError(f"{name} is not an image Reeldeck can read ({type(exc).__name__}).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name} looks damaged or truncated and cannot be read ({exc}).") from None


def prepare_image(path: Path, rules: ImageRules) -> PreparedImage:
    """Open, rotate per EXIF, normalise colour, fit to the rules and encode. Raises InputError."""
    image = open_image(path)
    photo = image.format == "JPEG"  # photographs stay JPEG: a lossless PNG of a photo is large and slow to make
    changes: list[str] = []
    if getattr(image, "n_frames", 1) > 1 or image.info.get("_reeldeck_animated"):
        changes.append("first frame of the animation used")
    rotated = ImageOps.exif_transpose(image)
    if rotated is not None and rotated.size != image.size:
        changes.append("rotated as the camera recorded")
    image = rotated if rotated is not None else image
    image = _to_rgb(image, changes)
    image = _fit_aspect(image, rules, changes)
    image = _fit_size(image, rules, changes)
    _check_minimums(image, rules, path.name)
    prepared = _encode(image, rules, changes, photo=photo)
    problem = rules.problem(prepared.width, prepared.height, prepared.format, len(prepared.data))
    if problem is not None:  # never hand out an image the API would refuse
        raise InputError(f"{path.name} could not be prepared to the provider's image rules: {problem}.")
    return prepared


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
    return _fit_into(image, size, rules.fit, changes, what)


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


def _encode(image: Image.Image, rules: ImageRules, changes: list[str], *, photo: bool = False) -> PreparedImage:
    fmt = _first_format(rules.formats, photo)
    data = _save(image, fmt)
    limit = rules.byte_limit
    if limit and len(data) > limit and "JPEG" in rules.formats:
        data, fmt, image = _shrink_jpeg(image, limit, changes, rules)
    if limit and len(data) > limit:
        raise InputError(
            f"The prepared image is {len(data) // 1024} KB, over the {limit // 1024} KB limit."
        )
    return PreparedImage(data, fmt, image.width, image.height, changes)


def _first_format(formats: tuple[str, ...], photo: bool) -> str:
    if photo and "JPEG" in formats:
        return "JPEG"
    return "PNG" if "PNG" in formats else formats[0]


def _save(image: Image.Image, fmt: str, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        # No optimize=True: it holds the GIL through the whole encode (hundreds of ms on a 24 MP photo), which
        # stalls the event loop even from a worker thread, for 3-7 % smaller files.
        image.save(buffer, "JPEG", quality=quality)
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
