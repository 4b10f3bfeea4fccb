"""The window's side of the money rules: the decision box takes a task id, Generate again is its own (paid) action,
a waiting job says why, and File → "Track a task by id…" asks for provider, model and id."""

from __future__ import annotations

from pathlib import Path

from guikit import make_job, until
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.runtime import Runtime
from core.sandbox import Fault
from core.submission import JobRequest
from gui.queue_model import QueueModel, progress_text
from gui.queue_view import QueueView
from gui.track_dialog import TrackDialog

GATEWAY = JobRequest("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "1"})


def queue(qtbot: QtBot, runtime: Runtime) -> tuple[QueueModel, QueueView]:
    assert runtime.engine is not None
    model = QueueModel()
    runtime.engine.subscribe(model.on_job)
    view = QueueView(model, runtime.engine)
    qtbot.addWidget(view)
    return model, view


async def test_the_decision_box_follows_the_task_the_person_found(qtbot: QtBot, runtime: Runtime) -> None:
    assert runtime.engine is not None and runtime.sandbox is not None
    runtime.sandbox.faults.add(Fault("after", provider="gateway", request_kind="create"))  # made, answer lost
    model, view = queue(qtbot, runtime)
    job = await runtime.engine.submit(GATEWAY)
    await until(lambda: (model.find(job.id) or job).needs_decision, what="the decision")
    view.select_job(job.id)
    assert view.decision.isVisibleTo(view) and not view.attach_button.isEnabled()
    (task,) = runtime.sandbox.tasks.list("gateway")
    qtbot.keyClicks(view.task_id_edit, task.id)
    assert view.attach_button.isEnabled()
    view.attach_button.click()
    await until(lambda: (model.find(job.id) or job).state == JobState.COMPLETED, what="the attached task's video")
    done = model.find(job.id)
    assert done is not None and done.remote_id == task.id
    assert runtime.sandbox.count("gateway", "create") == 1  # nothing was sent again


async def test_generate_again_is_a_new_job_and_retry_is_not(qtbot: QtBot, runtime: Runtime) -> None:
    assert runtime.engine is not None and runtime.store is not None and runtime.sandbox is not None
    model, view = queue(qtbot, runtime)
    first = await runtime.engine.submit(GATEWAY)
    await until(lambda: (model.find(first.id) or first).state == JobState.COMPLETED, what="the first video")
    view.select_job(first.id)
    assert view.again_action.isEnabled() and not view.retry_action.isEnabled()
    assert view.again_action not in view.toolbar.actions()  # a paid action is never one stray toolbar click
    view.again_action.trigger()
    await until(lambda: len(runtime.store.all()) == 2, what="the new job")
    again = next(j for j in runtime.store.all() if j.id != first.id)
    assert again.params == first.params and again.provider == first.provider
    await until(lambda: runtime.store.get(again.id).state == JobState.COMPLETED, what="the second video")
    assert runtime.sandbox.count("gateway", "create") == 2
    assert runtime.store.get(first.id).state == JobState.COMPLETED  # the first job is left as it was


def test_a_waiting_job_says_why(qtbot: QtBot) -> None:
    model = QueueModel()
    view = QueueView(model, None)
    qtbot.addWidget(view)
    waiting = make_job("wait01", JobState.RUNNING, remote_id="task-1",
                       waiting="waiting: No API key for Video gateway.", waiting_on_you=True)
    model.on_job(waiting)
    model.flush()
    assert progress_text(waiting, 0.0) == "Waiting for you"
    view.select_job("wait01")
    assert view.detail.isVisibleTo(view) and view.detail.text() == "Waiting: No API key for Video gateway."
    assert view.retry_action.isEnabled()  # "Retry" resumes it now, without a new charge


def test_the_track_dialog_asks_provider_model_and_id(qtbot: QtBot) -> None:
    dialog = TrackDialog()
    qtbot.addWidget(dialog)
    ok = dialog.buttons.buttons()[0]
    assert not ok.isEnabled()
    dialog.provider_box.setCurrentIndex(dialog.provider_box.findData("gateway"))
    models = [dialog.model_box.itemData(i) for i in range(dialog.model_box.count())]
    assert "viduq3t-540p" in models and "sora-2" not in models
    dialog.model_box.setCurrentIndex(models.index("viduq3t-540p"))
    qtbot.keyClicks(dialog.task_edit, "  task_123  ")
    assert ok.isEnabled() and dialog.choice() == ("gateway", "viduq3t-540p", "task_123")


def test_failures_stand_out_with_the_reason_on_hover(qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt

    from gui.queue_model import FAILED_COLOR, Column

    model = QueueModel()
    model.on_job(make_job("bad01", JobState.FAILED, error="GoAPI could not make this video: NSFW"))
    model.on_job(make_job("ok01", JobState.COMPLETED))
    model.flush()
    row = {model.job(r).id: r for r in range(model.rowCount())}  # type: ignore[union-attr]
    failed = model.index(row["bad01"], Column.STATE)
    done = model.index(row["ok01"], Column.STATE)
    assert model.data(failed, Qt.ItemDataRole.ForegroundRole) == FAILED_COLOR
    assert model.data(done, Qt.ItemDataRole.ForegroundRole) != FAILED_COLOR
    assert model.data(failed, Qt.ItemDataRole.FontRole).bold()
    for column in Column:  # the reason on hover anywhere on the row
        assert model.data(model.index(row["bad01"], column), Qt.ItemDataRole.ToolTipRole) == (
            "Failed: GoAPI could not make this video: NSFW")


def test_rows_and_tiles_tell_takes_apart_by_seed(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    from gui.annotations import AnnotationStore
    from gui.job_list import JobListModel
    from gui.library_model import LibraryTiles
    from gui.queue_model import Column

    takes = [make_job(f"take{seed}", JobState.COMPLETED, provider="gateway", model="viduq3t-540p") for seed in (7, 8)]
    for seed, job in zip((7, 8), takes, strict=True):
        job.params["seed"] = seed
    model = QueueModel()
    for job in takes:
        model.on_job(job)
    model.flush()
    shown = {model.data(model.index(r, Column.MODEL), Qt.ItemDataRole.DisplayRole) for r in range(2)}
    assert {s.rsplit(" · ", 1)[-1] for s in shown} == {"seed 7", "seed 8"}
    library = JobListModel(AnnotationStore(tmp_path))
    library.load(takes, check_in_background=False)
    view = LibraryTiles()
    view.setSourceModel(library)
    tiles = {view.data(view.index(r, 0), Qt.ItemDataRole.DisplayRole) for r in range(2)}
    assert all("seed" in t for t in tiles) and len(tiles) == 2
