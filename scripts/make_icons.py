"""Draw Reeldeck's icons with Pillow into resources/icons/: the app icon (a film reel with a play triangle) at several
sizes, the player's frame-step controls (a film frame with a small triangle pointing back or forward), and the
check box marks (a tick and a bar, white: the style sheet draws them on the accent colour in either theme).

The control icons are black shapes on transparency: the window tints them with the theme's text colour, so one
file serves the light and the dark theme. Standard seek icons (double triangles) mean "jump"; these mean "one frame".

Run once after changing the design: ``.venv/bin/python scripts/make_icons.py``. The PNGs are committed.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
BACKGROUND = (33, 37, 56, 255)
REEL = (235, 92, 70, 255)
HOLE = (33, 37, 56, 255)
PLAY = (255, 255, 255, 255)
CONTROL_SIZES = (16, 24, 32, 48, 64)
INK = (0, 0, 0, 255)
#: A check box's mark, in pixels (the box is 14 px: a 1 px frame around it).
MARK_SIZE = 12


def draw_icon(size: int) -> Image.Image:
    """The icon at ``size`` pixels, drawn at 4× and scaled down for smooth edges."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = big * 0.22
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=BACKGROUND)
    centre = big / 2
    reel_r = big * 0.36
    draw.ellipse((centre - reel_r, centre - reel_r, centre + reel_r, centre + reel_r), fill=REEL)
    hole_r = big * 0.075
    orbit = big * 0.22
    for index in range(6):
        angle = math.radians(index * 60 - 90)
        x, y = centre + orbit * math.cos(angle), centre + orbit * math.sin(angle)
        draw.ellipse((x - hole_r, y - hole_r, x + hole_r, y + hole_r), fill=HOLE)
    tri = big * 0.11
    draw.polygon([(centre - tri * 0.7, centre - tri), (centre - tri * 0.7, centre + tri), (centre + tri, centre)],
                 fill=PLAY)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_frame_step(size: int, forward: bool) -> Image.Image:
    """One film frame (an outlined box with sprocket holes above and below) and a triangle beside it.

    Drawn pointing forward; the back icon is its mirror image, so both read alike.
    """
    big = size * 8
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = big / 16
    line = round(unit * 1.5)
    left, top, right, bottom = unit * 1, unit * 2, unit * 10, unit * 14
    draw.rectangle((left, top, right, bottom), outline=INK, width=line)
    for row_y in (top + unit * 1.6, bottom - unit * 3.0):  # sprocket holes: two rows of three
        for index in range(3):
            x = left + unit * (2.0 + index * 2.6)
            draw.rectangle((x, row_y, x + unit * 1.4, row_y + unit * 1.4), fill=INK)
    tri_left, tri_right, middle = unit * 11.2, unit * 15.6, big / 2
    draw.polygon([(tri_left, middle - unit * 4), (tri_left, middle + unit * 4), (tri_right, middle)], fill=INK)
    if not forward:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_mark(size: int, partial: bool) -> Image.Image:
    """A check box's mark, white on transparency (the style sheet puts it on the accent colour): a tick, or a bar
    for a partly checked group."""
    big = size * 8
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width = round(big * 0.16)
    if partial:
        draw.line([(big * 0.22, big * 0.5), (big * 0.78, big * 0.5)], fill=PLAY, width=width)
    else:
        draw.line([(big * 0.18, big * 0.52), (big * 0.42, big * 0.76), (big * 0.84, big * 0.26)], fill=PLAY,
                  width=width, joint="curve")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw_icon(size).save(OUT / f"reeldeck-{size}.png")
    for size in CONTROL_SIZES:
        draw_frame_step(size, forward=False).save(OUT / f"frame-back-{size}.png")
        draw_frame_step(size, forward=True).save(OUT / f"frame-forward-{size}.png")
    for name, partial in (("check", False), ("partial", True)):
        draw_mark(MARK_SIZE, partial).save(OUT / f"{name}.png")
        draw_mark(MARK_SIZE * 2, partial).save(OUT / f"{name}@2x.png")  # Qt picks it on a high-density screen
    print(f"wrote {len(SIZES) + 2 * len(CONTROL_SIZES) + 4} icons to {OUT}")


if __name__ == "__main__":
    main()
