"""The queue as a person runs it: pause and resume, waiting jobs dragged into another order (kept in the store), the
cost of each job, provider statuses in plain words, and the start-up and quit messages counting the right jobs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, open_window, sandbox_runtime, until
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.runtime import Runtime
from core.store import JobStore
from core.submission import JobRequest
from gui.main_window import MainWindow
from gui.queue_model import Column, QueueModel, state_text

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


def veo(prompt: str) -> JobRequest:
    return JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": prompt, "seconds": "4"})


def drag(window: MainWindow, job_ids: list[str], before_row: int) -> bool:
    """What the table does when rows are dropped: the model's own mime data, dropped between rows."""
    model = window.queue_model
    indexes = [model.index(model.row_of(i), Column.PROMPT) for i in job_ids]
    data = model.mimeData(indexes)
    assert model.canDropMimeData(data, Qt.DropAction.MoveAction, before_row, 0, QModelIndex())
    return model.dropMimeData(data, Qt.DropAction.MoveAction, before_row, 0, QModelIndex())


def shown_ids(window: MainWindow) -> list[str]:
    return [job.id for job in window.queue_model.jobs()]


async def test_pause_then_drag_sets_the_order_jobs_start_in(qtbot: QtBot, runtime: Runtime) -> None:
    window = await open_window(qtbot, runtime)
    engine = runtime.engine
    assert engine is not None
    runtime.hub.settings.data["concurrency"] = {"aihubmix": 1}  # type: ignore[union-attr]
    window.queue_view.pause_action.trigger()
    assert engine.paused and window.queue_view.pause_action.text() == "Resume queue"
    assert window.queue_view.pause_note.isVisible()
    a, b, c = [await engine.submit(veo(p)) for p in ("first", "second", "third")]
    await until(lambda: len(window.queue_model.jobs()) == 3, what="the three jobs listed")
    assert shown_ids(window) == [c.id, b.id, a.id]  # the last to start on top
    assert window.queue_model.index(0, Column.PROGRESS).data() == "Paused"
    await asyncio.sleep(0.5)
    assert runtime.sandbox.count("aihubmix", "create") == 0  # paused: nothing sent

    sent: list[str] = []
    engine.subscribe(lambda j: sent.append(j.id) if j.state == JobState.SUBMITTING and j.id not in sent else None)
    drag(window, [a.id], 0)  # the first job dragged to the top: it now starts last
    await until(lambda: shown_ids(window) == [a.id, c.id, b.id], what="the rows in their new order")
    stored = {j.id: j.queue_pos or 0.0 for j in engine.store.unfinished()}
    assert sorted(stored, key=stored.__getitem__) == [b.id, c.id, a.id]

    window.queue_view.pause_action.trigger()
    assert not engine.paused and not window.queue_view.pause_note.isVisible()
    await until(lambda: all(engine.store.get(j.id).state == JobState.COMPLETED for j in (a, b, c)), timeout=60,
                what="every job to complete")
    assert sent == [b.id, c.id, a.id]
    window.close()


async def test_the_dragged_order_is_there_after_a_restart(qtbot: QtBot, tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = sandbox_runtime(root)
    await first.start()
    assert first.engine is not None
    try:
        window = await open_window(qtbot, first)
        window.queue_view.set_paused(True)
        a, b, c = [await first.engine.submit(veo(p)) for p in "abc"]
        await until(lambda: len(window.queue_model.jobs()) == 3, what="the jobs listed")
        drag(window, [c.id], 3)  # the newest dragged to the bottom: it starts first
        await until(lambda: shown_ids(window) == [b.id, a.id, c.id], what="the new order")
        window.close()
    finally:
        await first.close()
    store = JobStore(first.data.database)  # the CLI and the next start read the same order
    try:
        assert [j.id for j in store.unfinished()] == [c.id, a.id, b.id]
    finally:
        store.close()
    again = sandbox_runtime(root)
    await again.start()
    try:
        second = await open_window(qtbot, again)
        assert shown_ids(second) == [b.id, a.id, c.id]
        second.close()
    finally:
        await again.close()


async def test_only_waiting_jobs_can_be_dragged(qtbot: QtBot, runtime: Runtime) -> None:
    window = await open_window(qtbot, runtime)
    assert runtime.engine is not None
    job = await runtime.engine.submit(veo("runs now"))
    await until(lambda: (window.queue_model.find(job.id) or job).state == JobState.RUNNING, what="running")
    index = window.queue_model.index(window.queue_model.row_of(job.id), Column.PROMPT)
    assert not window.queue_model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    data = window.queue_model.mimeData([index])
    assert not window.queue_model.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    window.close()


def test_provider_statuses_in_plain_words() -> None:
    def running(provider: str, raw: str) -> str:
        return state_text(make_job("x", JobState.RUNNING, provider=provider, remote_status=raw))

    assert running("aihubmix", "queued") == "Queued at AIHubMix"
    assert running("aihubmix", "in_progress") == "Generating"
    assert running("gateway", "IN_PROGRESS") == "Generating"
    assert running("gateway", "QUEUED (waiting for off-peak)") == "Waiting for off-peak"
    assert running("gateway", "DREAMING") == "Running (“DREAMING”)"  # unknown: as the provider said it
    assert running("aihubmix", "attached") == "Looking up the task"
    assert "/" not in running("goapi", "pending") and "(" not in running("goapi", "pending")


def test_each_job_shows_its_estimated_cost() -> None:
    model = QueueModel(clock=lambda: 2000.0)
    priced = make_job("priced", JobState.RUNNING, created_at=1000, cost_usd=0.4, world="real")
    unknown = make_job("unknown", JobState.PENDING, created_at=1001)
    model.set_jobs([priced, unknown])
    cost = model.index(model.row_of("priced"), Column.COST)
    assert model.headerData(Column.COST, Qt.Orientation.Horizontal) == "Est. cost"
    assert cost.data() == "$0.40" and "Estimated" in cost.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(model.row_of("unknown"), Column.COST).data() == "no price"


async def test_quit_counts_only_jobs_still_working_and_start_says_what_resumed(qtbot: QtBot,
                                                                                 tmp_path: Path) -> None:
    root = tmp_path / "data"
    rt = sandbox_runtime(root)
    await rt.start()
    assert rt.engine is not None and rt.store is not None
    try:
        done = await rt.engine.submit(veo("finishes"))
        waiting = await rt.engine.submit(veo("left waiting"), start=False)
        await until(lambda: rt.store.get(done.id).terminal, timeout=60, what="done")  # type: ignore[union-attr]
        window = await open_window(qtbot, rt)
        asked: list[str] = []
        window.confirm_close = lambda title, text: asked.append(text) or True
        assert window.resume() == [waiting.id]
        assert window.statusBar().currentMessage() == "1 job from last time has resumed."
        window.queue_view.set_paused(True)
        window.close()
        assert len(asked) == 1 and "1 job is still running" in asked[0]
    finally:
        await rt.close()

