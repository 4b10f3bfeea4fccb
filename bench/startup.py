"""Start-up to the first painted window (offscreen), Reeldeck with 10,000 jobs against a bare PySide6 window.

Each start is a fresh process (``bench/startup_child.py``): Reeldeck starts exactly as ``python main.py`` does
(imports, QApplication, theme, keys, settings, store, engine, main window, resume) on a data dir holding 10,000
jobs; the baseline is a bare PySide6 window with one label. The time runs from just before the process is
spawned to the end of the window's first paint (the target); for Reeldeck also to the moment its library lists
every job (it reads them in pages after the first paint). Starts alternate; the median counts.

Both run with bytecode caching on, in a cache folder of their own (``PYTHONPYCACHEPREFIX``; an inherited
``PYTHONDONTWRITEBYTECODE`` is dropped): the warm-up start writes it, as any second start of an installed app
finds its ``.pyc`` files. Without it every start would compile Reeldeck's ~60 modules again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, emit, header, rounded, verdict
from bench.dataset import make_home

PHASES = ("python", "imports", "qapplication", "window_imports", "window_built", "shown", "painted",
          "runtime_started", "attached", "listed")


def start(kind: str, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Seconds from spawn to first paint, and the seconds each start-up step took (Reeldeck only; ``listed``, the
    last, runs from the first paint to the moment every job is listed)."""
    began = time.time()
    result = subprocess.run([sys.executable, "-m", "bench.startup_child", kind], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    marks: dict[str, float] = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "PHASE":
            marks.setdefault(words[1], float(words[2]))
        elif len(words) == 2 and words[0] in ("PAINTED", "LISTED"):
            marks[words[0].lower()] = float(words[1])
    if "painted" not in marks:
        raise RuntimeError(f"{kind} did not paint: {result.stdout[-500:]} {result.stderr[-1500:]}")
    steps, previous = {}, began
    for name in PHASES:
        if name in marks:
            steps[name] = max(0.0, marks[name] - previous)  # older code lists everything before it paints
            previous = max(previous, marks[name])
    if "listed" in marks:
        steps["until_listed"] = max(marks["listed"], marks["painted"]) - began
    if "attached" in marks:
        steps["until_ready"] = marks["attached"] - began  # the window's content built over the started core
    return marks["painted"] - began, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 starts each instead of 9")
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()
    runs = 5 if args.quick else 9
    header(f"start-up to first paint, {args.jobs} jobs in the database, {runs} starts each")
    if not (ROOT / "gui" / "main_window.py").exists():
        print("   PENDING: gui/main_window.py does not exist yet")
        emit("startup", {"ok": None, "pending": True})
        return 0
    with tempfile.TemporaryDirectory(prefix="reeldeck-bench-startup-") as folder:
        home = Path(folder) / "home"
        made = time.perf_counter()
        make_home(home, args.jobs)
        print(f"   data dir with {args.jobs} jobs made in {time.perf_counter() - made:.1f} s")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REELDECK_") and k != "PYTHONDONTWRITEBYTECODE"}
        env.update(REELDECK_HOME=str(home), QT_QPA_PLATFORM="offscreen", QT_LOGGING_RULES="qt.multimedia*=false",
                   PYTHONPYCACHEPREFIX=str(Path(folder) / "pycache"))
        start("reeldeck", env)  # warm the OS file cache and the thumbnail folder like a second start
        start("bare", env)
        times: dict[str, list[float]] = {"bare": [], "reeldeck": []}
        steps: dict[str, list[float]] = {}
        for _ in range(runs):
            for kind in ("bare", "reeldeck"):
                seconds, parts = start(kind, env)
                times[kind].append(seconds)
                if kind == "reeldeck":
                    for name, value in parts.items():
                        steps.setdefault(name, []).append(value)
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["reeldeck"] / median["bare"]
    print(f"   bare PySide6 window, one label: median {median['bare'] * 1000:.0f} ms "
          f"(min {min(times['bare']) * 1000:.0f}, max {max(times['bare']) * 1000:.0f})")
    print(f"   Reeldeck, {args.jobs} jobs:        median {median['reeldeck'] * 1000:.0f} ms "
          f"(min {min(times['reeldeck']) * 1000:.0f}, max {max(times['reeldeck']) * 1000:.0f})")
    breakdown = {name: statistics.median(values) * 1000 for name, values in steps.items()}
    listed = breakdown.pop("until_listed", None)
    ready = breakdown.pop("until_ready", None)
    print("   Reeldeck's steps (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in breakdown.items()))
    if ready is not None:
        print(f"   Reeldeck, content built over the started core (the form usable): median {ready:.0f} ms")
    if listed is not None:
        print(f"   Reeldeck, every one of the {args.jobs} jobs listed after: median {listed:.0f} ms")
    ok = verdict("start-up <= 2 x bare window", ratio <= 2.0, f"{ratio:.2f} x")
    verdict("moonshot: start-up <= 1.5 x bare window", ratio <= 1.5, f"{ratio:.2f} x")
    emit("startup", {"ok": ok, "jobs": args.jobs, "runs": runs, "ratio": rounded(ratio, 3),
                     "steps_ms": {k: rounded(v, 1) for k, v in breakdown.items()},
                     "listed_ms": rounded(listed, 1) if listed is not None else None,
                     "ready_ms": rounded(ready, 1) if ready is not None else None,
                     "median_ms": {k: rounded(v * 1000, 1) for k, v in median.items()},
                     "all_ms": {k: [rounded(x * 1000, 1) for x in v] for k, v in times.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
