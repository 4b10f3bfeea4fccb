"""The stall notice in a job's details, on the emulator's manual clock: it appears once the job is past its model's
95th percentile, Keep waiting hides it, Cancel cancels the job."""

from __future__ import annotations

import pytest
from guikit import OFFSCREEN_NOISE, until
from pytestqt.qtbot import QtBot

from core.jobs import Job, JobState
from core.runtime import Runtime
from core.sandbox import ManualClock
from gui.stall_box import StallBox

pytestmark = pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)

START = 1_800_000_000.0
MODEL = ("gateway", "viduq3t-540p")


def past_jobs(runtime: Runtime, seconds: list[float]) -> None:
    """Finished jobs of the model that took these many seconds."""
    assert runtime.store is not None
    for index, took in enumerate(seconds):
        runtime.store.add(Job(f"past{index}", *MODEL, {"prompt": "x"}, {}, state=JobState.COMPLETED,
                              created_at=START - 10_000, submitted_at=START - 10_000,
                              finished_at=START - 10_000 + took))


def working_job(runtime: Runtime) -> Job:
    assert runtime.store is not None
    return runtime.store.add(Job("slow", *MODEL, {"prompt": "a slow fox"}, {}, state=JobState.RUNNING,
                                 remote_id="task-slow", created_at=START, submitted_at=START))


async def test_the_notice_appears_past_the_95th_percentile_and_keep_waiting_hides_it(
        qtbot: QtBot, runtime: Runtime) -> None:
    past_jobs(runtime, [120, 150, 180, 200, 240])
    job = working_job(runtime)
    clock = ManualClock(START)
    box = StallBox(clock=clock, refresh_ms=20)
    qtbot.addWidget(box)
    box.show_job(job, runtime.engine)
    clock.advance(200)
    await until(lambda: box.timer.isActive(), what="the box to watch the job")
    assert box.isHidden()  # within the usual time: nothing said
    clock.advance(60)  # 260 s: past the 95th percentile (232 s)
    await until(lambda: not box.isHidden(), what="the stall notice")
    assert "Taking longer than usual (usually 3–4 min)" in box.text.text()
    messages: list[str] = []
    box.message.connect(messages.append)
    box.keep_button.click()
    assert box.isHidden() and messages and "Still waiting" in messages[0]
    clock.advance(3600)
    box.refresh()
    assert box.isHidden()  # kept waiting: not said again for this job


async def test_cancel_from_the_notice_cancels_the_job(qtbot: QtBot, runtime: Runtime) -> None:
    past_jobs(runtime, [60, 60, 60, 60, 60])
    job = working_job(runtime)
    clock = ManualClock(START + 3600)
    box = StallBox(clock=clock)
    qtbot.addWidget(box)
    box.show_job(job, runtime.engine)
    assert not box.isHidden() and "usually 60 s" in box.text.text()
    box.cancel_button.click()
    assert runtime.store is not None
    await until(lambda: runtime.store.get("slow").state == JobState.CANCELED, what="the job canceled")
    box.show_job(runtime.store.get("slow"), runtime.engine)
    assert box.isHidden() and not box.timer.isActive()
