"""Draw Reeldeck's app icon (a film reel with a play triangle) with Pillow at several sizes into resources/icons/.

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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw_icon(size).save(OUT / f"reeldeck-{size}.png")
    print(f"wrote {len(SIZES)} icons to {OUT}")


if __name__ == "__main__":
    main()
