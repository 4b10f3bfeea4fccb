"""Run every benchmark: ``python bench/run.py [--quick] [--only NAME,...] [--json FILE]``.

Each benchmark runs in its own process (so memory figures are its own) from the repository root, prints its
figures, its baseline and PASS/MISS per target, and ends with one JSON line; this script collects those lines,
prints one JSON line per benchmark with its headline figures and each one's ratio to the baseline measured in the
same run (``{"figures": ..., "baseline": ..., "ratio": ..., "targets": ...}``), a summary, and one JSON line of
everything. ``--quick`` fits the whole run in under five minutes on
a 2-core machine. Benchmarks are not tests: nothing here fails the build.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ("polling", "imaging", "download", "startup", "library", "load200", "load")
#: Benchmarks that are another one with other arguments.
VARIANTS = {"load200": ("load", ["--jobs", "200"])}
TIMEOUT_S = 600


def run_one(name: str, quick: bool) -> dict[str, object]:
    module, extra = VARIANTS.get(name, (name, []))
    command = [sys.executable, "-m", f"bench.{module}", *extra] + (["--quick"] if quick else [])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_LOGGING_RULES="qt.multimedia*=false;qt.qpa*=false",
               PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    last: dict[str, object] | None = None
    for line in process.stdout:
        text = line.rstrip("\n")
        if text.startswith("{") and '"bench"' in text:
            try:
                last = json.loads(text)
                continue
            except ValueError:
                pass
        if text and not text.startswith(("PulseAudioService", "This plugin does not support")):
            print(text, flush=True)
    try:
        code = process.wait(TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        code = -9
    seconds = time.perf_counter() - started
    result = last or {"bench": name, "ok": False, "error": f"no result (exit status {code})"}
    result["bench"] = name
    if isinstance(result.get("seconds"), dict):  # a benchmark's own timings keep their figures
        result["seconds_by_client"] = result.pop("seconds")
    result["seconds"] = round(seconds, 1)
    print(json.dumps(headline(result), sort_keys=True), flush=True)
    print(f"   ({name}: {seconds:.1f} s)\n", flush=True)
    return result


def _ratio(value: object, base: object) -> float | None:
    if isinstance(value, int | float) and isinstance(base, int | float) and base:
        return round(value / base, 3)
    return None


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's headline figures, the baseline measured in the same run, and their ratios."""
    name, figures, baseline = str(result["bench"]), dict[str, Any](), dict[str, Any]()
    targets: dict[str, str] = {}
    if name.startswith("load") and "stall_p99_ms" in result:
        idle = result.get("idle", {})
        figures = {k: result.get(k) for k in ("stall_p99_ms", "stall_max_ms", "peak_rss_mb", "wall_s", "jobs")}
        figures["completed"] = result.get("states", {}).get("completed", 0)
        baseline = {"stall_p99_ms": idle.get("stall_p99_ms"), "stall_max_ms": idle.get("stall_max_ms"),
                    "peak_rss_mb": idle.get("rss_mb")}
        targets = {"stall_p99_ms": "<= 16", "stall_max_ms": "<= 50", "peak_rss_mb": "<= 400",
                   "completed": "= jobs"}
    elif name == "startup" and "median_ms" in result:
        median = result["median_ms"]
        figures = {"first_paint_ms": median.get("reeldeck"), "listed_ms": result.get("listed_ms")}
        baseline = {"first_paint_ms": median.get("bare")}
        targets = {"first_paint_ms": "<= 2 x baseline (moonshot 1.5 x)"}
    elif name == "download" and "ratio_to_bare_httpx" in result:
        seconds = result.get("seconds_by_client") or result.get("seconds")
        figures = {"download_s": seconds.get("download_video") if isinstance(seconds, dict) else None,
                   "rss_growth_mb": result.get("rss_growth_mb"),
                   "stall_max_ms": result.get("stall_max_ms", {}).get("download_video")}
        baseline = {"download_s": seconds.get("bare_httpx") if isinstance(seconds, dict) else None,
                    "stall_max_ms": result.get("stall_max_ms", {}).get("bare_httpx")}
        targets = {"throughput": ">= 0.9 x bare httpx (download_s ratio <= 1.11)"}
    elif name == "library" and "stall_max_ms" in result:
        idle = result.get("idle", {})
        figures = {k: result.get(k) for k in ("stall_p99_ms", "stall_max_ms", "peak_rss_mb")}
        baseline = {"stall_p99_ms": idle.get("stall_p99_ms"), "stall_max_ms": idle.get("stall_max_ms"),
                    "peak_rss_mb": idle.get("rss_mb")}
        targets = {"stall_max_ms": "<= 50", "peak_rss_mb": "<= 500"}
    ratio = {k: r for k, v in figures.items() if (r := _ratio(v, baseline.get(k))) is not None}
    return {"bench": name, "headline": True, "ok": result.get("ok"), "figures": figures, "baseline": baseline,
            "ratio": ratio, "targets": targets}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short variant of each (whole run < 5 minutes)")
    parser.add_argument("--only", default="", help="comma-separated names: " + ", ".join(BENCHMARKS))
    parser.add_argument("--json", type=Path, help="also write every benchmark's figures to this file")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    results = [run_one(name, args.quick) for name in names]
    total = time.perf_counter() - started
    print(f"== summary ({total:.0f} s{', quick' if args.quick else ''})")
    for result in results:
        ok = result.get("ok")
        word = "PENDING" if ok is None else "PASS" if ok else "MISS"
        print(f"   {word:<8}{result['bench']:<10}{result['seconds']:>7.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))
    print(json.dumps({"bench": "all", "quick": args.quick, "seconds": round(total, 1), "results": results},
                     sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
