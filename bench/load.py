"""Real load: 1,000 concurrent jobs across the five providers, wall clock, against the emulator on loopback.

Reeldeck runs as the GUI runs it: offscreen Qt, the qasync loop, the main window (``gui.main_window`` when it
exists, else a plain QMainWindow), the real ``Runtime``, engine, store and providers. The emulator runs in a
separate process (``bench/emulator.py``) with tiny pre-rendered results, so CPU and memory figures are
Reeldeck's own. Per-provider concurrency is raised through Settings data (``settings.json``). Inputs are a local
PNG (prepared, uploaded or inlined as each API wants) except Sora (text only) and Novita's motion (a preset).

Reports CPU seconds, peak RSS, requests/s and event-loop stalls (lateness of a 10 ms timer), with the same
window idle beforehand as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

from bench import whatif
from bench.common import (
    ROOT,
    StackSampler,
    StallProbe,
    cpu_seconds,
    emit,
    header,
    peak_rss_mb,
    rounded,
    rss_mb,
    verdict,
)
from core.engine import EngineConfig
from core.jobs import JobState
from core.paths import DataDir
from core.providers import PROVIDER_IDS
from core.runtime import SANDBOX_POLL_INTERVAL, Runtime
from core.secrets import KeyStore
from core.submission import JobRequest


class GcPauses:
    """How long each garbage collection held the interpreter (every thread waits for it, the window's too)."""

    def __init__(self) -> None:
        self.pauses_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.spans: list[tuple[float, float]] = []
        self._started = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            ended = time.perf_counter()
            self.pauses_ms[info["generation"]].append((ended - self._started) * 1000)
            self.spans.append((self._started, ended))

    def overlapping(self, spans: list[tuple[float, float]]) -> int:
        """How many of ``spans`` (late ticks of the loop) a collection ran in."""
        return sum(any(start < end and gc_start < end and start < gc_end for gc_start, gc_end in self.spans)
                   for start, end in spans)

    def figures(self) -> dict[str, Any]:
        every = [p for pauses in self.pauses_ms.values() for p in pauses]
        return {"max_ms": rounded(max(every, default=0.0), 1), "total_ms": rounded(sum(every), 1),
                "full_collections": len(self.pauses_ms[2]),
                "full_max_ms": rounded(max(self.pauses_ms[2], default=0.0), 1)}


class LateTicks:
    """When the loop was late by more than ``threshold`` ms (the span between the tick's start and its firing)."""

    def __init__(self, threshold_ms: float = 30.0, period: float = 0.010) -> None:
        self.threshold_ms, self.period = threshold_ms, period
        self.spans: list[tuple[float, float]] = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.period)
            after = time.perf_counter()
            if (after - before - self.period) * 1000 > self.threshold_ms:
                self.spans.append((before, after))

    def stop(self) -> None:
        self._task.cancel()


def requests_for(index: int, image: str) -> JobRequest:
    provider = PROVIDER_IDS[index % len(PROVIDER_IDS)]
    prompt = f"benchmark job {index}"
    return {
        "goapi": JobRequest("goapi", "Qubico/hug-video", {}, {"image": [image]}),
        "aimlapi": JobRequest("aimlapi", "video-01-live2d", {"prompt": prompt}, {"image": [image]}),
        "aihubmix": JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": prompt, "seconds": "4"}),
        "gateway": JobRequest("gateway", "viduq3p-720p", {"prompt": prompt}, {"image": [image]}),
        "novita": JobRequest("novita", "img2video-motion", {}, {"image": [image], "motion_video": ["demo1"]}),
    }[provider]


def start_emulator(state: Path, job_seconds: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator", str(state), "--job-seconds", str(job_seconds)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("the emulator did not start")
    return process, json.loads(line)


def child_peak_rss_mb(pid: int) -> float:
    """Peak resident set size of another process of ours (the engine's), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(args: argparse.Namespace, home: Path, endpoints: dict[str, str]) -> dict[str, Any]:
    from bench import gui_loop  # not at the top: the engine's process imports this module again (spawn), Qt-free
    data = DataDir(home).ensure()
    data.settings_file.write_text(json.dumps({"concurrency": {p: args.jobs for p in PROVIDER_IDS}}))
    image = home / "input.png"
    Image.new("RGB", (1024, 768), (200, 120, 40)).save(image)
    runtime = Runtime(data, keys=KeyStore(), engine_config=EngineConfig(poll_interval=SANDBOX_POLL_INTERVAL))
    mode = args.engine if args.loop == "qasync" else "loop"
    engine = await (runtime.start_in_process() if mode == "process" else
                    runtime.start_in_thread() if mode == "thread" else runtime.start())
    child = runtime.thread.pid if mode == "process" else None  # type: ignore[union-attr]
    assert runtime.hub is not None
    window, kind = (None, "none (plain asyncio loop, as the CLI runs)") if args.loop == "asyncio" else \
        gui_loop.open_window(None if args.plain_window else runtime, plain=args.plain_window)
    if kind == "gui.main_window.MainWindow":
        from core.providers import catalog
        from gui.app import CATALOG_LOOK_SECONDS

        catalog.check_files_at_most_every(CATALOG_LOOK_SECONDS)  # as gui.app.run_window does
    if kind == "gui.main_window.MainWindow" and not args.no_freeze:
        from gui.app import keep_startup_out_of_collections

        keep_startup_out_of_collections()  # as gui.app.run_window does once the window is up
    sent = 0

    async def count(_request: object) -> None:
        nonlocal sent
        sent += 1

    runtime.hub.transport.on_request(count)
    sampler = StackSampler() if args.why else None
    probe = StallProbe(sampler=sampler).start()
    await asyncio.sleep(args.idle)
    idle = {"stall_p99_ms": rounded(probe.p99, 2), "stall_max_ms": rounded(probe.max, 2),
            "rss_mb": rounded(rss_mb(), 1)}
    probe.reset()
    cpu0, wall0, loop_cpu0 = cpu_seconds(), time.perf_counter(), time.thread_time()
    child_cpu0 = process_cpu_seconds(child) if child else 0.0
    late = LateTicks()
    with GcPauses() as gc_pauses:
        jobs = await asyncio.gather(*(on_engine(runtime, engine.submit, requests_for(i, str(image)))
                                      for i in range(args.jobs)))
        submitted = time.perf_counter() - wall0
        finals = await on_engine(runtime, engine.wait, [j.id for j in jobs], args.timeout)
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds() - cpu0
    engine_cpu = process_cpu_seconds(child) - child_cpu0 if child else None
    engine_rss = child_peak_rss_mb(child) if child else 0.0
    loop_cpu = time.thread_time() - loop_cpu0  # the loop's own thread: what competes with painting
    late.stop()
    await probe.stop()
    if sampler is not None:
        sampler.report()
        tracked = Counter(type(o).__name__ for o in gc.get_objects())
        print(f"   objects the collector tracks: {sum(tracked.values())}; most: {tracked.most_common(8)}")
    states: dict[str, int] = {}
    for job in finals:
        states[str(job.state)] = states.get(str(job.state), 0) + 1
    errors = sorted({j.error or "" for j in finals if j.state != JobState.COMPLETED})[:3]
    polls = sum(j.polls for j in finals)
    if window is not None:
        window.close()
    await runtime.close()
    window_rss = max(probe.peak_rss, peak_rss_mb())
    return {
        "window": kind,
        "engine": {"process": "its own process", "thread": "its own thread", "gui": "the window's loop"}.get(
            mode, "plain asyncio"),
        "engine_process_cpu_s": rounded(engine_cpu, 2) if engine_cpu is not None else None,
        "window_peak_rss_mb": rounded(window_rss, 1),
        "engine_process_peak_rss_mb": rounded(engine_rss, 1),
        "jobs": args.jobs,
        "states": states,
        "errors": errors,
        "wall_s": rounded(wall, 2),
        "submit_s": rounded(submitted, 2),
        "cpu_s": rounded(cpu, 2),
        "cpu_share_of_one_core": rounded(cpu / wall, 3),
        "loop_thread_cpu_s": rounded(loop_cpu, 2),
        "gc": gc_pauses.figures(),
        "late_over_30ms": len(late.spans),
        "late_over_30ms_with_gc": gc_pauses.overlapping(late.spans),
        "peak_rss_mb": rounded(window_rss + engine_rss, 1),  # both processes: what the app costs
        "requests": sent if child is None else None,  # the engine's process counts its own
        "requests_per_s": rounded(sent / wall, 1) if child is None else None,
        "polls": polls,
        "stall_p99_ms": rounded(probe.p99, 2),
        "stall_max_ms": rounded(probe.max, 2),
        "idle": idle,
    }


async def on_engine(runtime: Runtime, function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Call into the engine as the window does: on its thread when it has one, else on this loop."""
    if runtime.thread is None:
        return await function(*args)
    return await asyncio.wrap_future(runtime.thread.run(function, *args))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--why", action="store_true", help="sample the loop thread's stack while the loop is late")
    parser.add_argument("--what-if", default="", help="experiments (bench/whatif.py): " + ", ".join(whatif.PATCHES))
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--job-seconds", type=float, default=8.0)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle window for the baseline")
    parser.add_argument("--timeout", type=float, default=0.0, help="give up waiting after (240 s; 100 s with --quick)")
    parser.add_argument("--plain-window", action="store_true", help="a plain QMainWindow instead of Reeldeck's")
    parser.add_argument("--loop", choices=("qasync", "asyncio"), default="qasync",
                        help="asyncio: no Qt at all, the engine on a plain loop as the CLI runs it")
    parser.add_argument("--engine", choices=("process", "thread", "gui"), default="process",
                        help="with qasync: the engine in its own process as the window runs it (process), on its "
                             "own thread (thread, before), or on the window's loop (gui, before that)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave start-up's objects in every garbage collection (before gui.app froze them)")
    args = parser.parse_args()
    args.timeout = args.timeout or (100.0 if args.quick else 240.0)
    header(f"real load: {args.jobs} concurrent jobs, {args.job_seconds:g} s each, emulator in its own process")
    applied = whatif.apply(args.what_if)
    with tempfile.TemporaryDirectory(prefix="reeldeck-bench-load-") as folder:
        base = Path(folder)
        emulator, endpoints = start_emulator(base / "emulator", args.job_seconds)
        saved = dict(os.environ)
        os.environ.update(endpoints)
        os.environ["REELDECK_HOME"] = str(base / "home")
        for provider in PROVIDER_IDS:
            os.environ[f"REELDECK_{provider.upper()}_API_KEY"] = "bench-key"
        try:
            emulator_cpu0 = process_cpu_seconds(emulator.pid)
            if args.loop == "asyncio":
                figures = asyncio.run(measure(args, base / "home", endpoints))
            else:
                from bench import gui_loop

                figures = gui_loop.run(lambda: measure(args, base / "home", endpoints))
            figures["emulator_cpu_s"] = rounded(process_cpu_seconds(emulator.pid) - emulator_cpu0, 2)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            assert emulator.stdin is not None
            emulator.stdin.close()
            try:
                emulator.wait(10)
            except subprocess.TimeoutExpired:
                emulator.terminate()
                emulator.wait(10)
    f = figures
    print(f"   window: {f['window']}; engine on {f['engine']}")
    print(f"   jobs: {f['states']} in {f['wall_s']} s (all submitted after {f['submit_s']} s)")
    if f["errors"]:
        print(f"   errors: {f['errors']}")
    print(f"   window process CPU {f['cpu_s']} s ({f['cpu_share_of_one_core']:.0%} of one core; the loop's thread "
          f"{f['loop_thread_cpu_s']} s); engine process CPU {f['engine_process_cpu_s']} s; emulator CPU "
          f"{f['emulator_cpu_s']} s")
    print(f"   peak RSS {f['peak_rss_mb']} MB (window {f['window_peak_rss_mb']} MB + engine process "
          f"{f['engine_process_peak_rss_mb']} MB)")
    print(f"   {f['requests']} requests ({f['polls']} polls), {f['requests_per_s']} requests/s")
    print(f"   garbage collections: longest {f['gc']['max_ms']} ms, {f['gc']['total_ms']} ms in all; "
          f"{f['gc']['full_collections']} full ones, longest {f['gc']['full_max_ms']} ms")
    print(f"   {f['late_over_30ms']} ticks over 30 ms late, {f['late_over_30ms_with_gc']} of them during a collection")
    print(f"   loop stalls under load: p99 {f['stall_p99_ms']} ms, max {f['stall_max_ms']} ms")
    print(f"   baseline, same window idle: p99 {f['idle']['stall_p99_ms']} ms, max {f['idle']['stall_max_ms']} ms, "
          f"RSS {f['idle']['rss_mb']} MB")
    ok = f["states"].get("completed", 0) == f["jobs"]
    ok &= verdict("every job completed", ok, f"{f['states']}")
    ok &= verdict("stall p99 <= 16 ms", f["stall_p99_ms"] <= 16, f"{f['stall_p99_ms']} ms")
    ok &= verdict("stall max <= 50 ms", f["stall_max_ms"] <= 50, f"{f['stall_max_ms']} ms")
    ok &= verdict("peak RSS <= 400 MB", f["peak_rss_mb"] <= 400, f"{f['peak_rss_mb']} MB")
    emit("load", {"ok": ok, "what_if": applied, **figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
