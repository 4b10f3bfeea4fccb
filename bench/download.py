"""Downloads: a 1 GiB result from a loopback server, ``download_video`` against a bare httpx loop and curl.

The file is sparse (takes no disk to serve): a real tiny MP4 (ftyp, moov, mdat, made by the sandbox's renderer)
followed by one ISO-BMFF ``free`` box that pads it to 1 GiB. So ``download_video``'s final check (ftyp signature,
PyAV opening the file and decoding its first frame) passes, as for a real result, and costs milliseconds: the
transfer phase (until the last progress report) and the verify-and-rename phase are timed separately.

The server (aiohttp, sendfile) runs in its own process. The client side runs where the app downloads: on the
engine's plain asyncio loop (``--where engine``, the default: the app's engine works in a process of its own, so
the window's loop never runs a download and its stalls are measured by bench/load.py, whose jobs download too), or
as before on the window's qasync loop with the window open (``--where window``). All three clients use the shared
HTTP client settings (``core.hub.make_http_client``), write to the same disk, and take turns; the best of the
repeats counts.
The bare loop writes each chunk synchronously, as a short script would; ``download_video`` batches writes in a
worker thread. RSS is sampled every 10 ms; stalls are the lateness of a 10 ms timer.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import gui_loop, whatif
from bench.common import ROOT, StallProbe, emit, header, rounded, rss_mb, verdict
from bench.emulator import tiny_renders
from core.download import download_video
from core.http import Transport
from core.hub import make_http_client

GIB = 1 << 30


def make_sparse_mp4(folder: Path, size: int = GIB) -> Path:
    video = tiny_renders(folder / "render").video.read_bytes()
    path = folder / "result.mp4"
    with path.open("wb") as handle:
        handle.write(video)
        handle.write((size - len(video)).to_bytes(4, "big") + b"free")
        handle.truncate(size)
    return path


async def bare_httpx(client: Any, url: str, dest: Path) -> float:
    started = time.perf_counter()
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        with dest.open("wb") as handle:
            async for chunk in response.aiter_raw():
                handle.write(chunk)
    return time.perf_counter() - started


async def curl(url: str, dest: Path) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec("curl", "-sS", "-o", str(dest), url)
    if await process.wait() != 0:
        raise RuntimeError("curl failed")
    return time.perf_counter() - started


async def reeldeck(client: Any, url: str, dest: Path) -> tuple[float, float]:
    """download_video as the engine calls it; (total seconds, seconds until the last progress report)."""
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int | None) -> None:
        last[0] = time.perf_counter()

    result = await download_video(Transport(client), url, dest, progress=progress)
    assert result.size == GIB
    return time.perf_counter() - started, last[0] - started


async def measure(args: argparse.Namespace, folder: Path, url: str) -> dict[str, Any]:
    from core.paths import DataDir
    from core.runtime import Runtime
    from core.secrets import KeyStore

    runtime = Runtime(DataDir(folder / "home"), keys=KeyStore(environ={}))
    await runtime.start()
    window, kind = gui_loop.open_window(runtime) if args.where == "window" else (None, "none (the engine's loop)")
    client = make_http_client()
    probe = StallProbe(rss_every=1).start()
    await asyncio.sleep(1.0)
    times: dict[str, list[float]] = {"bare_httpx": [], "download_video": [], "transfer": [], "curl": []}
    stalls: dict[str, float] = {"bare_httpx": 0.0, "download_video": 0.0, "curl": 0.0}
    rss_growth = 0.0
    for _ in range(args.repeats):
        for name in ("bare_httpx", "download_video", "curl"):
            dest = folder / f"{name}.mp4"
            await asyncio.sleep(0.3)
            probe.reset()
            rss_before = rss_mb()
            if name == "bare_httpx":
                times[name].append(await bare_httpx(client, url, dest))
            elif name == "curl":
                times[name].append(await curl(url, dest))
            else:
                total, transfer = await reeldeck(client, url, dest)
                times[name].append(total)
                times["transfer"].append(transfer)
                rss_growth = max(rss_growth, probe.peak_rss - rss_before)
            stalls[name] = max(stalls[name], probe.max)
            assert dest.stat().st_size == GIB, name
            dest.unlink()
    await probe.stop()
    await client.aclose()
    if window is not None:
        window.close()
    await runtime.close()
    best = {name: min(values) for name, values in times.items()}
    mb_s = {name: GIB / 1e6 / seconds for name, seconds in best.items()}
    return {
        "window": kind,
        "repeats": args.repeats,
        "seconds": {k: rounded(v, 3) for k, v in best.items()},
        "mb_per_s": {k: rounded(v, 1) for k, v in mb_s.items()},
        "ratio_to_bare_httpx": rounded(best["bare_httpx"] / best["download_video"], 3),
        "transfer_ratio_to_bare_httpx": rounded(best["bare_httpx"] / best["transfer"], 3),
        "ratio_to_curl": rounded(best["curl"] / best["download_video"], 3),
        "verify_and_rename_s": rounded(best["download_video"] - best["transfer"], 3),
        "rss_growth_mb": rounded(rss_growth, 1),
        "stall_max_ms": {k: rounded(v, 2) for k, v in stalls.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two repeats instead of three")
    parser.add_argument("--what-if", default="", help="experiments (bench/whatif.py): " + ", ".join(whatif.PATCHES))
    parser.add_argument("--repeats", type=int, default=0)
    parser.add_argument("--where", choices=("engine", "window"), default="engine",
                        help="the engine's plain asyncio loop, as the app downloads (default), or the window's loop")
    args = parser.parse_args()
    args.repeats = args.repeats or (2 if args.quick else 3)
    header("downloads: 1 GiB from a loopback server (separate process), on the "
           + ("window's loop, window open" if args.where == "window" else "engine's loop"))
    applied = whatif.apply(args.what_if)
    if shutil.which("curl") is None:
        print("   curl is not installed; install it to compare")
        return 1
    with tempfile.TemporaryDirectory(prefix="reeldeck-bench-download-") as name:
        folder = Path(name)
        source = make_sparse_mp4(folder)
        server = subprocess.Popen([sys.executable, "-m", "bench.fileserver", str(source)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            f = (gui_loop.run(lambda: measure(args, folder, url)) if args.where == "window" else
                 asyncio.run(measure(args, folder, url)))
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(10)
    s, r = f["seconds"], f["mb_per_s"]
    print(f"   window: {f['window']}; best of {f['repeats']}")
    print(f"   bare httpx loop   {s['bare_httpx']:7.2f} s  {r['bare_httpx']:7.0f} MB/s   (baseline)")
    print(f"   download_video    {s['download_video']:7.2f} s  {r['download_video']:7.0f} MB/s   "
          f"(transfer {s['transfer']:.2f} s, verify + rename {f['verify_and_rename_s']:.3f} s)")
    print(f"   curl              {s['curl']:7.2f} s  {r['curl']:7.0f} MB/s   (reference)")
    print(f"   download_video / bare httpx: {f['ratio_to_bare_httpx']:.3f} (transfer phase "
          f"{f['transfer_ratio_to_bare_httpx']:.3f}); / curl: {f['ratio_to_curl']:.3f}")
    st = f["stall_max_ms"]
    loop = "the window's loop" if args.where == "window" else "the engine's loop (not the window's)"
    print(f"   stall max of {loop}: download_video {st['download_video']} ms, bare loop {st['bare_httpx']} ms, "
          f"during curl {st['curl']} ms; RSS growth during download_video {f['rss_growth_mb']} MB")
    ok = verdict("throughput >= 0.9 x bare httpx", f["ratio_to_bare_httpx"] >= 0.9, f"{f['ratio_to_bare_httpx']:.3f}")
    ok &= verdict("RSS growth <= 64 MB", f["rss_growth_mb"] <= 64, f"{f['rss_growth_mb']} MB")
    if args.where == "window":
        ok &= verdict("stall max <= 50 ms", st["download_video"] <= 50, f"{st['download_video']} ms")
    emit("download", {"ok": ok, "what_if": applied, "where": args.where, **f})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
