"""Image preparation of a 24-megapixel photo for each provider, off the GUI thread, with the window open.

The photo is a 6000×4000 JPEG with camera-like detail (noise over gradients, so it compresses like a photo, not
like a flat test card) and an EXIF orientation tag (rotate 90°), so every provider's path rotates it first.
For each provider, ``core.imaging.prepare_image`` runs with the rules of its model's image slot
(``provider_class(id).slot_image_rules``: the API's rules and the size the model uses), the way the app runs it:
in a worker thread (``asyncio.to_thread``, as ``Engine.submit`` runs ``build_job``; the GUI's previews use its
``gui.work`` thread pool), while a 10 ms timer measures stalls of the qasync loop. The gateway is measured
with its 1080p model (the largest images it uses).

Baselines in the same run: Pillow decoding the same file (``Image.open(...).load()``), the floor for a full-size
preparation; and the same preparation with "send original images" on (full size, only the API's own rules).
Targets (issue 15): at most 0.5 s and 2.5 MB per provider for a <= 1080p model.
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
from core.imaging import ImageRules, PreparedImage, prepare_image
from core.providers import PROVIDER_IDS, provider_class

#: The model measured per provider (the first declared unless named here).
BENCH_MODELS = {"gateway": "viduq3p-1080p"}
TARGET_SECONDS = 0.5
TARGET_BYTES = 2.5 * 1024 * 1024


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


def image_rules(provider_id: str, *, send_originals: bool) -> ImageRules:
    """The rules the app prepares this provider's first image slot by (``Slot.max_image_short_side`` applied)."""
    cls = provider_class(provider_id)
    model = cls.spec.model(BENCH_MODELS[provider_id]) if provider_id in BENCH_MODELS else cls.spec.models[0]
    slot = model.slot("image")
    assert slot is not None
    params = {p.name: p.default for p in model.params if p.default is not None}
    return cls.slot_image_rules(slot, params, send_originals=send_originals)


async def best_of(photo: Path, rules: ImageRules, repeats: int) -> tuple[float, PreparedImage]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        prepared = await asyncio.to_thread(prepare_image, photo, rules)
        times.append(time.perf_counter() - started)
    return min(times), prepared


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
        probe.reset()
        seconds, prepared = await best_of(photo, image_rules(provider_id, send_originals=False), repeats)
        stall = probe.max
        original_seconds, original = await best_of(photo, image_rules(provider_id, send_originals=True), 1)
        results[provider_id] = {
            "seconds": rounded(seconds, 3),
            "bytes": len(prepared.data),
            "output": f"{prepared.width}x{prepared.height} {prepared.format}",
            "changes": prepared.changes,
            "stall_max_ms": rounded(stall, 2),
            "originals": {"seconds": rounded(original_seconds, 3), "bytes": len(original.data),
                          "output": f"{original.width}x{original.height} {original.format}"},
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
    print(f"   baseline: Pillow decode alone {f['decode_s']:.2f} s; 'send original images' per provider below")
    fast = small = calm = True
    for provider_id, r in f["providers"].items():
        o = r["originals"]
        print(f"   {provider_id:<9} {r['seconds']:5.2f} s, {r['bytes'] / 1e6:5.2f} MB -> {r['output']}; "
              f"originals {o['seconds']:5.2f} s, {o['bytes'] / 1e6:5.2f} MB -> {o['output']}; "
              f"loop stall max {r['stall_max_ms']} ms")
        print(f"             {', '.join(r['changes']) or 'sent as is'}")
        fast &= r["seconds"] <= TARGET_SECONDS
        small &= r["bytes"] <= TARGET_BYTES
        calm &= r["stall_max_ms"] <= 50
    providers = f["providers"].values()
    verdict(f"prepared in <= {TARGET_SECONDS} s per provider", fast, f"{max(r['seconds'] for r in providers)} s")
    verdict("at most 2.5 MB to send per provider", small, f"{max(r['bytes'] for r in providers) / 1e6:.2f} MB")
    verdict("off the GUI thread: loop stall max <= 50 ms while preparing", calm,
            f"{max(r['stall_max_ms'] for r in providers)} ms")
    emit("imaging", {"ok": fast and small and calm, "what_if": applied, "photo_mb": rounded(size_mb, 1), **f})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
