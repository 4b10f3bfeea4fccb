"""The window with the engine on its own thread (as ``gui.app`` starts it): calls cross over, job events come back
to the window's thread coalesced, the queue's actions work, and closing stops the thread with jobs kept for later."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, open_window, sandbox_runtime, until
from pytestqt.qtbot import QtBot

from core.jobs import Job, JobState
from core.runtime import Runtime
from core.submission import JobRequest
from gui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)

VEO = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a heron lands on a pier"})


class Recorder:
    """Wraps ``MainWindow._on_job``: which jobs arrived, and on which thread."""

    def __init__(self, window: MainWindow) -> None:
        self.events: list[Job] = []
        self.threads: set[str] = set()
        original = window._on_job

        def record(job: Job) -> None:
            self.events.append(job)
            self.threads.add(threading.current_thread().name)
            original(job)

        window._on_job = record  # type: ignore[method-assign]


def deselect(window: MainWindow) -> None:
    """Nothing selected: a finished job is then not loaded into the player (closing the window while a player
    starts makes Qt warn; test_window covers playing)."""
    window.queue_view.table.setCurrentIndex(window.queue_model.index(-1, 0))


async def test_a_job_submitted_from_the_window_runs_on_the_engine_thread_and_is_shown(
        qtbot: QtBot, threaded: Runtime) -> None:
    assert threaded.thread is not None and threaded.thread.running
    window = await open_window(qtbot, threaded)
    assert window.bridge.threaded
    recorder = Recorder(window)
    engine_threads: set[str] = set()
    assert threaded.engine is not None
    threaded.engine.subscribe(lambda job: engine_threads.add(threading.current_thread().name))
    window.submit(VEO)
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    job = window.queue_model.job(0)
    assert job is not None and window.queue_view.selected_job() is not None  # shown before the call returned
    deselect(window)
    await until(lambda: (shown := window.queue_model.job(0)) is not None and shown.state == JobState.COMPLETED,
                timeout=60, what="the job to complete")
    assert engine_threads == {"reeldeck-engine"}
    assert recorder.threads == {threading.main_thread().name}
    assert recorder.events[-1].state == JobState.COMPLETED and Path(str(recorder.events[-1].video_path)).is_file()
    await until(lambda: window.job_list.row_of(job.id) >= 0, what="the video in the library")
    window.close()


async def test_many_events_of_one_job_in_a_frame_arrive_as_its_latest(qtbot: QtBot, threaded: Runtime) -> None:
    window = await open_window(qtbot, threaded)
    recorder = Recorder(window)
    engine = threaded.engine
    assert engine is not None
    job = await window.bridge.call(engine.submit, VEO, start=False)  # stored, not started
    recorder.events.clear()

    def progress_burst() -> None:  # on the engine thread: fifty progress events in a row
        for step in range(1, 51):
            engine.emit(replace(job, state=JobState.RUNNING, progress=step / 50))

    delivered = window.bridge.delivered
    await window.bridge.call(progress_burst)
    assert [(e.id, e.progress) for e in recorder.events] == [(job.id, 1.0)]
    assert window.bridge.delivered == delivered + 1
    window.queue_model.flush()
    assert window.queue_model.find(job.id).progress == 1.0  # type: ignore[union-attr]
    window.close()


async def test_events_between_calls_reach_the_window_by_themselves(qtbot: QtBot, threaded: Runtime) -> None:
    window = await open_window(qtbot, threaded)
    recorder = Recorder(window)
    engine, thread = threaded.engine, threaded.thread
    assert engine is not None and thread is not None
    job = await window.bridge.call(engine.submit, VEO, start=False)
    recorder.events.clear()
    thread.run(engine.emit, replace(job, progress=0.5))  # not awaited through the bridge: the signal brings it
    await until(lambda: recorder.events, what="the event")
    assert recorder.events[0].progress == 0.5
    window.close()


async def test_queue_actions_cross_to_the_engine_thread(qtbot: QtBot, threaded: Runtime) -> None:
    window = await open_window(qtbot, threaded)
    engine = threaded.engine
    assert engine is not None
    window.queue_view.set_paused(True)  # nothing is sent while paused
    await until(lambda: engine.paused, what="the engine to pause")
    window.submit(VEO)
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    job = window.queue_model.job(0)
    assert job is not None and job.state == JobState.PENDING
    window.queue_view.select_job(job.id)
    window.queue_view.cancel_selected()
    await until(lambda: window.queue_model.job(0).state == JobState.CANCELED,  # type: ignore[union-attr]
                what="the cancel to be shown")
    window.queue_view.retry_selected()  # a canceled job can be retried: it is worked again on the engine thread
    await until(lambda: window.queue_model.job(0).state == JobState.PENDING,  # type: ignore[union-attr]
                what="the retry to be shown")
    deselect(window)
    window.queue_view.set_paused(False)
    await until(lambda: window.queue_model.job(0).state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the retried job to complete")
    window.close()


async def test_closing_stops_the_engine_thread_and_jobs_resume_next_time(qtbot: QtBot, tmp_path: Path) -> None:
    first = sandbox_runtime(tmp_path / "data", job_seconds=30.0)
    await first.start_in_thread()
    window = await open_window(qtbot, first)
    window.submit(VEO)
    await until(lambda: (job := window.queue_model.job(0)) is not None and job.state == JobState.RUNNING,
                timeout=20, what="the job to be sent")
    job_id = window.queue_model.job(0).id  # type: ignore[union-attr]
    thread = first.thread
    assert thread is not None
    window.close()
    await asyncio.wait_for(first.close(), 20)
    assert not thread.running
    second = sandbox_runtime(tmp_path / "data", job_seconds=30.0)
    await second.start_in_thread()
    try:
        assert second.store is not None
        stored = second.store.get(job_id)
        assert stored.state == JobState.RUNNING and stored.remote_id  # kept as it was, task and all
        assert second.store.lease_owner(job_id) is None  # released: the next run takes it up
        again = await open_window(qtbot, second)
        started = again.resume()
        await until(lambda: started == [job_id], what="the job to be resumed")
        again.close()
    finally:
        await second.close()


async def test_switching_worlds_on_the_engine_thread_follows_the_new_engine(qtbot: QtBot, tmp_path: Path) -> None:
    rt = sandbox_runtime(tmp_path / "data", job_seconds=2.0)
    await rt.start_in_thread()
    try:
        window = await open_window(qtbot, rt)
        sandbox_engine = rt.engine
        window.submit(VEO)
        await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
        job_id = window.queue_model.job(0).id  # type: ignore[union-attr]
        deselect(window)
        window.sandbox_action.trigger()  # off: the real providers (their engine is built on the engine thread)
        await until(lambda: rt.world == "real" and window.sandbox_action.isEnabled(), what="the real world")
        assert rt.engine is not sandbox_engine and window.engine is rt.engine
        await until(lambda: window.job_list.loaded, what="the library listed")
        assert window.queue_model.rowCount() == 0
        window.sandbox_action.trigger()  # on again: the job resumes there and its events reach the window
        await until(lambda: rt.world == "sandbox" and window.sandbox_action.isEnabled(), what="the sandbox")
        await until(lambda: (job := window.queue_model.find(job_id)) is not None and job.state == JobState.COMPLETED,
                    timeout=60, what="the sandbox job completed and shown")
        window.close()
    finally:
        await rt.close()
    assert rt.thread is not None and not rt.thread.running


async def test_the_library_trash_forgets_and_remembers_on_the_engine_thread(qtbot: QtBot, threaded: Runtime) -> None:
    window = await open_window(qtbot, threaded)
    assert threaded.engine is not None and window.library.trash is not None
    engine_threads: set[str] = set()
    threaded.engine.subscribe(lambda job: engine_threads.add(threading.current_thread().name))
    window.submit(VEO)
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    deselect(window)
    await until(lambda: (shown := window.queue_model.job(0)) is not None and shown.state == JobState.COMPLETED,
                timeout=60, what="the job to complete")
    job = window.queue_model.job(0)
    assert job is not None
    entry = window.library.trash.trash(job)  # from the window's thread
    assert threaded.store is not None and threaded.store.find(job.id) is None
    back = window.library.trash.restore(entry)
    assert back.id == job.id and threaded.store.find(job.id) is not None
    assert engine_threads == {"reeldeck-engine"}  # remember's event was made where the engine runs
    window.close()
