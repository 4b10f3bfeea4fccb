"""The library with 10,000 videos: open it and scroll top to bottom; event-loop stalls and RSS.

Reeldeck's main window on the qasync loop (offscreen), on a data dir with 10,000 jobs (about 9,000 completed,
each with its own small MP4; thumbnails are made lazily as rows come into view, in worker threads, and cached
on disk). The Library tab is opened, then its grid is scrolled to the bottom a page per frame (16 ms; two pages
with ``--quick``, so the whole run fits in five minutes), and the benchmark waits until no thumbnail is pending.
Baseline: the same window idle on the Studio tab. Stalls are the lateness of a 10 ms timer.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import gui_loop, whatif
from bench.common import StackSampler, StallProbe, emit, header, peak_rss_mb, rounded, rss_mb, verdict
from bench.dataset import make_home


async def measure(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from PySide6.QtWidgets import QListView

    from core.paths import DataDir
    from core.runtime import Runtime
    from core.secrets import KeyStore

    runtime = Runtime(DataDir(home), keys=KeyStore(environ={}))
    await runtime.start()
    window, kind = gui_loop.open_window(runtime)
    library = getattr(window, "library", None)
    tabs = getattr(window, "tabs", None)
    if library is None or tabs is None:
        window.close()
        await runtime.close()
        return {"pending": True, "window": kind}
    deadline = time.perf_counter() + 60
    while not getattr(library.model, "loaded", True) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)  # start-up work (the library's disk check) is not the idle baseline
    await asyncio.sleep(1.0)
    sampler = StackSampler() if args.why else None
    probe = StallProbe(sampler=sampler).start()
    await asyncio.sleep(args.idle)
    idle = {"stall_p99_ms": rounded(probe.p99, 2), "stall_max_ms": rounded(probe.max, 2),
            "rss_mb": rounded(rss_mb(), 1)}
    probe.reset()
    opened = time.perf_counter()
    tabs.setCurrentWidget(library)
    grid = library.findChild(QListView, "LibraryGrid") or library.findChild(QListView)
    await asyncio.sleep(0.1)
    open_s = time.perf_counter() - opened
    bar = grid.verticalScrollBar()
    scrolled = time.perf_counter()
    steps = 0
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + bar.pageStep() * args.pages_per_frame)
        steps += 1
        await asyncio.sleep(0.016)
    scroll_s = time.perf_counter() - scrolled
    thumbs = getattr(window, "thumbs", None)
    settle = time.perf_counter()
    while thumbs is not None and getattr(thumbs, "_pending", None) and time.perf_counter() - settle < 120:
        await asyncio.sleep(0.05)
    settle_s = time.perf_counter() - settle
    await probe.stop()
    if sampler is not None:
        sampler.report()
    made = len(getattr(thumbs, "_pixmaps", {})) if thumbs is not None else 0
    figures = {
        "window": kind,
        "rows": library.proxy.rowCount() if hasattr(library, "proxy") else None,
        "open_s": rounded(open_s, 2),
        "scroll_s": rounded(scroll_s, 2),
        "scroll_steps": steps,
        "pages_per_frame": args.pages_per_frame,
        "thumbnails_settle_s": rounded(settle_s, 2),
        "thumbnails_in_memory": made,
        "stall_p99_ms": rounded(probe.p99, 2),
        "stall_max_ms": rounded(probe.max, 2),
        "peak_rss_mb": rounded(max(probe.peak_rss, peak_rss_mb()), 1),
        "idle": idle,
    }
    window.close()
    await runtime.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--why", action="store_true", help="sample the loop thread's stack while the loop is late")
    parser.add_argument("--what-if", default="", help="experiments (bench/whatif.py): " + ", ".join(whatif.PATCHES))
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=2.0)
    parser.add_argument("--pages-per-frame", type=int, default=0, help="scroll speed (default 1; 2 with --quick)")
    args = parser.parse_args()
    args.pages_per_frame = args.pages_per_frame or (2 if args.quick else 1)
    header(f"library: {args.jobs} jobs, open the tab and scroll top to bottom (thumbnails cold)")
    applied = whatif.apply(args.what_if)
    if not (gui_loop.reeldeck_window_available() and Path(gui_loop.__file__).resolve().parents[1].joinpath(
            "gui", "library.py").exists()):
        print("   PENDING: gui/library.py does not exist yet")
        emit("library", {"ok": None, "pending": True})
        return 0
    with tempfile.TemporaryDirectory(prefix="reeldeck-bench-library-") as folder:
        home = Path(folder) / "home"
        make_home(home, args.jobs)
        f = gui_loop.run(lambda: measure(args, home))
    if f.get("pending"):
        print("   PENDING: the main window has no library tab yet")
        emit("library", {"ok": None, **f})
        return 0
    print(f"   window: {f['window']}; {f['rows']} rows; tab opened (+0.1 s) in {f['open_s']} s; scrolled in "
          f"{f['scroll_steps']} steps of {f['pages_per_frame']} page(s), {f['scroll_s']} s; thumbnails settled "
          f"{f['thumbnails_settle_s']} s later ({f['thumbnails_in_memory']} in memory)")
    print(f"   stalls while opening and scrolling: p99 {f['stall_p99_ms']} ms, max {f['stall_max_ms']} ms; "
          f"peak RSS {f['peak_rss_mb']} MB")
    print(f"   baseline, same window idle: p99 {f['idle']['stall_p99_ms']} ms, max {f['idle']['stall_max_ms']} ms, "
          f"RSS {f['idle']['rss_mb']} MB")
    ok = verdict("stall max <= 50 ms", f["stall_max_ms"] <= 50, f"{f['stall_max_ms']} ms")
    ok &= verdict("RSS <= 500 MB", f["peak_rss_mb"] <= 500, f"{f['peak_rss_mb']} MB")
    emit("library", {"ok": ok, "what_if": applied, **f})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
