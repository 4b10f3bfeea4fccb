"""Start-up with many jobs: the window is built and shown before the jobs are read, then lists every one of them."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, sandbox_runtime, until
from pytestqt.qtbot import QtBot

from core.jobs import Annotation, JobState
from core.paths import DataDir
from core.store import JobStore
from gui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)

DAY = 86400.0


def fill_store(root: Path, count: int) -> list[str]:
    """``count`` jobs as earlier runs left them (most with a video on disk, a few failed or still running)."""
    data = DataDir(root).ensure()
    store = JobStore(data.database, world="sandbox")  # the sandbox window shows the sandbox's jobs
    now = time.time()
    for n in range(count):
        created = now - n * 0.2 * DAY  # every fifth of a day: the newest 15 are within the queue's 3 days
        if n % 10 == 3:
            job = make_job(f"run{n:04d}", JobState.RUNNING, created_at=created, remote_id=f"r{n}")
        elif n % 10 == 7:
            job = make_job(f"bad{n:04d}", JobState.FAILED, created_at=created, error="refused")
        else:
            video = data.library / f"v{n:04d}.mp4"
            if n % 10 != 5:  # every tenth video was moved away since
                video.parent.mkdir(parents=True, exist_ok=True)
                video.write_bytes(b"\0" * 16)
            job = make_job(f"ok{n:04d}", JobState.COMPLETED, created_at=created, video_path=str(video))
        store.add(job)
    store.annotate("ok0041", Annotation(True, 5, "the best one"))
    ids = store.ids_newest_first()
    store.close()
    return ids


async def test_the_window_shows_before_the_jobs_are_read_then_lists_them_all(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = fill_store(tmp_path / "data", 60)
    monkeypatch.setattr(MainWindow, "page_size", 7)
    runtime = sandbox_runtime(tmp_path / "data")
    await runtime.start()
    try:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.confirm_close = lambda title, text: True
        pages: list[int] = []
        window.job_pages.page.connect(lambda jobs, _on_disk: pages.append(len(jobs)))
        # Built and shown with only the unfinished jobs read: they are in the queue; the library is still empty.
        window.show()
        running = {i for i in ids if i.startswith("run")}
        assert {j.id for j in window.queue_model.jobs()} == running
        assert {j.id for j in window.job_list.jobs()} == running and not window.job_list.loaded
        assert window.library.proxy.rowCount() == 0  # no video listed yet

        # An engine event for an old job before its page has been read: the event's newer copy wins.
        old = runtime.store.get("run0053")  # type: ignore[union-attr]
        window._on_job(dataclasses.replace(old, remote_status="still going", progress=50.0))

        await until(lambda: window.job_list.loaded, what="every page")
        assert pages == [7] * 8 + [4] and window.job_pages.pages == math.ceil(60 / 7)
        model = window.job_list
        model.flush()  # engine events are applied in batches
        assert [j.id for j in model.jobs()] == ids  # newest first, each job once
        assert model.item_for("run0053").job.remote_status == "still going"  # type: ignore[union-attr]
        assert model.item_for("ok0041").annotation.note == "the best one"  # type: ignore[union-attr]
        on_disk = {i for i in ids if i.startswith("ok") and int(i[2:]) % 10 != 5}
        assert {j.id for j in model.jobs() if model.item_for(j.id).on_disk} == on_disk  # type: ignore[union-attr]
        assert window.library.count_label.text() == f"{len(on_disk)} of 60"
        recent = {f"ok{n:04d}" for n in range(15) if n % 10 not in (3, 7)} | {"bad0007"}
        window.queue_model.flush()
        assert {j.id for j in window.queue_model.jobs()} == running | recent
        assert [j.created_at for j in window.queue_model.jobs()] == sorted(
            (j.created_at for j in window.queue_model.jobs()), reverse=True)
        await asyncio.sleep(0.05)
        window.close()
    finally:
        await runtime.close()


async def test_closing_while_pages_are_read_stops_reading(qtbot: QtBot, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fill_store(tmp_path / "data", 30)
    monkeypatch.setattr(MainWindow, "page_size", 2)
    runtime = sandbox_runtime(tmp_path / "data")
    await runtime.start()
    try:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.confirm_close = lambda title, text: True
        window.show()
        await until(lambda: window.job_pages.pages >= 1, what="the first page")
        window.close()
        read = window.job_pages.pages
    finally:
        await runtime.close()  # the store closes: no page may be read after this
    await asyncio.sleep(0.2)
    assert window.job_pages.pages == read < 15 and not window.job_list.loaded
