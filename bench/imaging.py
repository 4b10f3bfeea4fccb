"""Image preparation of a 24-megapixel photo for each provider, off the GUI thread, with the window open.

The photo is a 6000×4000 JPEG with camera-like detail (noise over gradients, so it compresses like a photo, not
like a flat test card) and an EXIF orientation tag (rotate 90°), so every provider's path rotates it first.
For each provider, ``core.imaging.prepare_image`` runs with ``provider_class(id).image_rules(defaults, "image")``
the way the app runs it: in a worker thread (``asyncio.to_thread``, as ``Engine.submit`` runs ``build_job``; the
GUI's previews use its ``gui.background`` thread pool), while a 10 ms timer measures stalls of the qasync loop.
Baseline in the same run: Pillow decoding the same file (``Image.open(...).load()``), the floor for any
preparation.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bench import gui_loop, whatif
from bench.common import StallProbe, emit, header, rounded, verdict
from core.imaging import prepare_image
from core.providers import PROVIDER_IDS, provider_class


def make_photo(path: Path, size: tuple[int, int] = (6000, 4000)) -> Path:
    noise = Image.effect_noise(size, 40)
    gradient = Image.linear_gradient("L").resize(size)
    red = Image.blend(noise, gradient, 0.6)
    green = Image.blend(noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.5)
    blue = Image.blend(noise, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), 0.7)
    photo = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    photo.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return path


def defaults(provider_id: str) -> dict[str, Any]:
    model = provider_class(provider_id).spec.models[0]
    return {p.name: p.default for p in model.params if p.default is not None}


async def measure(photo: Path, repeats: int) -> dict[str, Any]:
    window, kind = gui_loop.open_window(None, plain=True)
    probe = StallProbe().start()
    await asyncio.sleep(0.5)
    decode = []
    for _ in range(repeats):
        started = time.perf_counter()
        await asyncio.to_thread(lambda: Image.open(photo).load())
        decode.append(time.perf_counter() - started)
    results: dict[str, Any] = {}
    for provider_id in PROVIDER_IDS:
        rules = provider_class(provider_id).image_rules(defaults(provider_id), "image")
        times = []
        probe.reset()
        for _ in range(repeats):
            started = time.perf_counter()
            prepared = await asyncio.to_thread(prepare_image, photo, rules)
            times.append(time.perf_counter() - started)
        results[provider_id] = {
            "seconds": rounded(min(times), 3),
            "output": f"{prepared.width}x{prepared.height} {prepared.format} {len(prepared.data) // 1024} KB",
            "changes": prepared.changes,
            "stall_max_ms": rounded(probe.max, 2),
        }
    await probe.stop()
    window.close()
    return {"window": kind, "decode_s": rounded(min(decode), 3), "providers": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each instead of the best of three")
    parser.add_argument("--what-if", default="", help="experiments (bench/whatif.py): " + ", ".join(whatif.PATCHES))
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    header("image preparation: a 24-megapixel photo for each provider, in a worker thread")
    applied = whatif.apply(args.what_if)
    with tempfile.TemporaryDirectory(prefix="reeldeck-bench-imaging-") as folder:
        photo = make_photo(Path(folder) / "photo.jpg")
        size_mb = photo.stat().st_size / 1e6
        f = gui_loop.run(lambda: measure(photo, repeats))
    print(f"   photo: 6000x4000 JPEG, {size_mb:.1f} MB, EXIF orientation 6; best of {repeats}")
    print(f"   baseline: Pillow decode alone {f['decode_s']:.2f} s")
    ok = True
    for provider_id, r in f["providers"].items():
        print(f"   {provider_id:<9} {r['seconds']:6.2f} s ({r['seconds'] / f['decode_s']:.1f}x decode) -> "
              f"{r['output']}; "
              f"loop stall max {r['stall_max_ms']} ms; {', '.join(r['changes']) or 'sent as is'}")
        ok &= r["stall_max_ms"] <= 50
    verdict("off the GUI thread: loop stall max <= 50 ms while preparing", ok,
            f"{max(r['stall_max_ms'] for r in f['providers'].values())} ms")
    emit("imaging", {"ok": ok, "what_if": applied, "photo_mb": rounded(size_mb, 1), **f})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
