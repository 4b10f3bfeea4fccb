"""Run every benchmark: ``python bench/run.py [--quick] [--only NAME,...] [--json FILE]``.

Each benchmark runs in its own process (so memory figures are its own) from the repository root, prints its
figures, its baseline and PASS/MISS per target, and ends with one JSON line; this script collects those lines,
prints a summary, and ends with one JSON line of them all. ``--quick`` fits the whole run in under five minutes on
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

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ("polling", "imaging", "download", "startup", "library", "load")
TIMEOUT_S = 600


def run_one(name: str, quick: bool) -> dict[str, object]:
    command = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if quick else [])
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
    result["seconds"] = round(seconds, 1)
    print(f"   ({name}: {seconds:.1f} s)\n", flush=True)
    return result


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
