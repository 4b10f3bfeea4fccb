"""Shared helpers for the benchmarks: statistics, the machine, RSS and CPU, event-loop stall probes, reporting.

Every benchmark prints its figures and a baseline measured in the same run, a PASS/MISS line per target, and
ends with exactly one JSON line of its figures (``emit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import resource
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process (every thread), seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def verdict(name: str, ok: bool, detail: str) -> bool:
    print(f"  {'PASS' if ok else 'MISS'}  {name}: {detail}")
    return ok


def emit(bench: str, figures: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object."""
    print(json.dumps({"bench": bench, **figures}, sort_keys=True, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits) if math.isfinite(value) else value


class StackSampler:
    """Why the loop is late: a thread that records the loop thread's Python stack whenever the probe has not
    ticked for ``threshold`` seconds (``--why`` in the benchmarks that have it). Samples taken while the loop
    thread runs C++ (Qt) or waits for the GIL show Qt's event dispatch as the innermost Python frame."""

    def __init__(self, threshold: float = 0.03, depth: int = 10) -> None:
        self.threshold = threshold
        self.depth = depth
        self.samples: Counter[str] = Counter()
        self._last = time.perf_counter()
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        threading.Thread(target=self._watch, name="stack-sampler", daemon=True).start()

    def tick(self) -> None:
        self._last = time.perf_counter()

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            if time.perf_counter() - self._last > self.threshold:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-self.depth:]
                    self.samples[" <- ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}"
                                             for f in reversed(stack))] += 1

    def report(self, top: int = 12) -> None:
        self._stop.set()
        total = sum(self.samples.values())
        print(f"   where the loop thread was while the loop was late ({total} samples, 5 ms apart):")
        for stack, count in self.samples.most_common(top):
            print(f"   {count:6d}  {stack[:400]}")


class StallProbe:
    """Measures how late a 10 ms timer fires on the running event loop (asyncio or qasync), and samples RSS.

    ``start()`` inside a running loop, ``await stop()`` afterwards; ``delays_ms`` holds each tick's lateness.
    """

    def __init__(self, period: float = 0.010, rss_every: int = 10, sampler: StackSampler | None = None) -> None:
        self.period = period
        self.rss_every = rss_every
        self.sampler = sampler
        self.delays_ms: list[float] = []
        self.rss_samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> StallProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        tick = 0
        while True:
            if self.sampler is not None:
                self.sampler.tick()
            before = time.perf_counter()
            await asyncio.sleep(self.period)
            self.delays_ms.append(max(0.0, (time.perf_counter() - before - self.period) * 1000))
            tick += 1
            if tick % self.rss_every == 0:
                self.rss_samples.append(rss_mb())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reset(self) -> None:
        self.delays_ms.clear()
        self.rss_samples.clear()

    @property
    def p99(self) -> float:
        return percentile(self.delays_ms, 99)

    @property
    def max(self) -> float:
        return max(self.delays_ms) if self.delays_ms else math.nan

    @property
    def peak_rss(self) -> float:
        return max(self.rss_samples) if self.rss_samples else math.nan


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews wall-clock figures; it is printed with them."""
    return round(os.getloadavg()[0], 2)


def header(title: str) -> None:
    print(f"== {title}")
    info = machine()
    print(f"   machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, {info['os']}, "
          f"Python {info['python']}; load average {load_average()}")
