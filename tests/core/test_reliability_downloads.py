"""Only whole videos are ``completed``: a result cut short with no length announced (chunked) is noticed by decoding
it to its end, then resumed or fetched again; a result host that drips bytes forever is abandoned and resumed
instead of hanging the job. End to end on the emulator (its CDN serves the faults)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Harness, wait_until

import core.download
import core.http
from core.jobs import Job, JobState
from core.media import content_digest, verify_complete
from core.sandbox import Fault
from core.submission import JobRequest


async def run_gateway(h: Harness) -> Job:
    job = await h.engine.submit(JobRequest("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "1"}))
    (final,) = await h.engine.wait([job.id], timeout=60)
    return final


def cdn_downloads(h: Harness) -> list[tuple[int | None, str | None, bool]]:
    """Status, fault and whether a Range was asked for, of each request for the video on the CDN."""
    return [(r.status, r.fault, "range" in {n.lower() for n in r.header_names})
            for r in h.sandbox.requests if r.origin == "cdn" and r.path.endswith(".mp4")]


def assert_whole(h: Harness, job: Job) -> None:
    assert job.state == JobState.COMPLETED, job.error
    assert job.video_path is not None
    expected = content_digest(h.sandbox.tasks.video_path(job.remote_id or ""))
    assert content_digest(Path(job.video_path)) == expected  # every byte of the media (the tags are Reeldeck's)
    verify_complete(Path(job.video_path))
    assert not list(Path(job.video_path).parent.glob("*.part"))


async def test_a_chunked_result_cut_at_40_percent_is_resumed_not_completed(harness: Harness,
                                                                          quick_renders: None) -> None:
    h = harness
    fault = h.sandbox.faults.add(Fault("cut_chunked", origin="cdn", fraction=0.4))
    job = await run_gateway(h)
    assert fault.fired == 1
    assert_whole(h, job)
    assert cdn_downloads(h) == [(200, "cut_chunked", False), (206, None, True)]  # resumed where it was cut


async def test_a_cut_chunked_result_is_fetched_again_when_the_host_cannot_resume(harness: Harness,
                                                                               quick_renders: None) -> None:
    h = harness
    h.sandbox.range_support = False
    h.sandbox.faults.add(Fault("cut_chunked", origin="cdn", fraction=0.4))
    job = await run_gateway(h)
    assert_whole(h, job)
    assert cdn_downloads(h) == [(200, "cut_chunked", False), (200, None, True)]  # asked to resume, got it whole


async def test_a_result_that_is_always_cut_is_never_called_completed(harness: Harness,
                                                                   quick_renders: None) -> None:
    h = harness
    h.sandbox.range_support = False
    fault = h.sandbox.faults.add(Fault("cut_chunked", origin="cdn", fraction=0.4, times=None))
    job = await h.engine.submit(JobRequest("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "1"}))
    waiting = await wait_until(h, job.id, lambda j: "before the whole video arrived" in (j.waiting or ""))
    assert waiting.state == JobState.DOWNLOADING and waiting.video_path is None and waiting.error is None
    assert len(cdn_downloads(h)) == 4  # bounded attempts in a round, then a pause
    library = h.tmp / "library"
    assert not library.exists() or list(library.iterdir()) == []  # no .part, no .mp4 left behind
    h.sandbox.faults.faults.remove(fault)
    final = await wait_until(h, job.id, lambda j: j.terminal)
    assert final.state == JobState.COMPLETED and h.sandbox.count("gateway", "create") == 1


async def test_a_host_that_drips_bytes_is_abandoned_and_the_download_resumed(harness: Harness, quick_renders: None,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    # 16 bytes every 50 ms (320 B/s) never trips a read timeout; the pace rule asks for 4 KB/s over 0.5 s windows.
    limits = core.download.DownloadLimits(window=0.5, min_rate=4096, grace=5.0)
    monkeypatch.setattr(core.download, "DEFAULT_LIMITS", limits)
    h.sandbox.faults.add(Fault("drip", origin="cdn", delay=0.05))
    job = await run_gateway(h)
    assert_whole(h, job)
    downloads = cdn_downloads(h)
    assert downloads[0][1] == "drip" and downloads[1:] == [(206, None, True)]


def test_the_pace_rule_follows_size_and_progress() -> None:
    now = [0.0]
    limits = core.download.DownloadLimits(window=10, min_rate=100, grace=5)
    watch = core.http.PaceWatch(limits, 1000, lambda: now[0])
    assert watch.time_left() == 10  # the first window: 1,000 bytes are due within 10 s
    now[0] = 9.0
    watch.saw(1000)
    assert watch.time_left() == pytest.approx(6.0)  # enough this window: only the size deadline (5 + 10 s) is left
    now[0] = 10.0
    watch.saw(10)  # a new window starts
    now[0] = 16.0
    with pytest.raises(core.http.NetworkError, match="useful pace"):
        watch.saw(10)  # past 5 + 1000/100 seconds for 1,000 bytes
    slow = core.http.PaceWatch(limits, None, lambda: now[0])
    now[0] = 26.5
    with pytest.raises(core.http.NetworkError):
        slow.saw(999)  # fewer than 100 B/s over a whole window
