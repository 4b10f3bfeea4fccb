"""The window's one job list: the queue and the library are views of it, fed once per engine event."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from guikit import make_job
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from core.batches import summarize_groups
from core.jobs import Job, JobState
from gui.annotations import Annotation, AnnotationStore
from gui.job_list import TILE_COLUMN, Column, JobListModel, JobRole
from gui.library_model import LibraryFilter, LibraryTiles, StateFilter
from gui.queue_model import QueueModel


def video_file(path: Path) -> str:
    """Stands for a downloaded video: the job list checks only that the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 16)
    return str(path)


def views(model: JobListModel) -> tuple[QueueModel, LibraryFilter]:
    library = LibraryFilter()
    library.setSourceModel(model)
    return QueueModel(model), library


def ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


def library_ids(library: LibraryFilter) -> list[str]:
    return [job.id for row in range(library.rowCount()) if (job := library.job_at(library.index(row, 0)))]


def test_the_model_and_its_views_pass_modeltester(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    queue, library = views(model)
    library.set_filters(state=StateFilter.ALL)
    testers = {id(m): ModelTester(pytestconfig) for m in (model, queue, library)}  # one each: they watch signals
    model.set_jobs([make_job("a1", JobState.COMPLETED, created_at=10.0, video_path=video_file(tmp_path / "a.mp4")),
                    make_job("b2", JobState.PENDING, created_at=20.0, group_id="gx"),
                    make_job("c3", JobState.RUNNING, created_at=30.0, group_id="gx")])
    for checked in (model, queue, library):
        testers[id(checked)].check(checked, force_py=True)
    model.on_job(make_job("d4", JobState.PENDING, created_at=5.0, queue_pos=40.0))
    model.flush()
    model.leave_queue(["a1"])
    model.annotate("a1", Annotation(True, 3, "x"))
    model.remove_job("b2")
    for checked in (model, queue, library):
        testers[id(checked)].check(checked, force_py=True)
    assert model.columnCount() == TILE_COLUMN + 1 == queue.columnCount() + 1 and library.columnCount() == 1
    model.annotations.close()  # type: ignore[union-attr]


def test_one_event_reaches_the_queue_and_the_library_once(qtbot: QtBot, tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    queue, library = views(model)
    running = make_job("run1", JobState.RUNNING, created_at=100.0)
    model.set_jobs([running, make_job("old1", JobState.COMPLETED, created_at=50.0,
                                      video_path=video_file(tmp_path / "old.mp4"))])
    assert ids(queue.jobs()) == ["run1", "old1"] and library_ids(library) == ["old1"]
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top.row(), bottom.row())))
    for step in range(50):
        model.on_job(dataclasses.replace(running, progress=float(step)))
    model.on_job(dataclasses.replace(running, state=JobState.COMPLETED, video_path=video_file(tmp_path / "v.mp4")))
    qtbot.waitUntil(lambda: model.flushes == 1)
    assert changed == [(0, 0)]  # fifty-one events: one update of one row
    assert library_ids(library) == ["run1", "old1"]  # the library shows the new video at once
    assert queue.find("run1").state == JobState.COMPLETED  # type: ignore[union-attr]
    assert queue.index(queue.row_of("run1"), Column.STATE).data() == "Completed"


def test_neighbouring_changes_are_one_update(tmp_path: Path) -> None:
    model = JobListModel()
    jobs = [make_job(f"j{n}", JobState.RUNNING, created_at=100.0 - n) for n in range(6)]
    model.set_jobs(jobs)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top.row(), bottom.row())))
    for n in (0, 1, 2, 4):
        model.on_job(dataclasses.replace(jobs[n], progress=50.0))
    model.flush()
    assert changed == [(0, 2), (4, 4)]


def test_pages_choose_the_queue_rows_and_the_library_takes_every_one(tmp_path: Path) -> None:
    model = JobListModel()
    queue, library = views(model)
    library.set_filters(state=StateFilter.ALL)
    page = [make_job("new", JobState.COMPLETED, created_at=300.0), make_job("live", JobState.RUNNING, created_at=200.0),
            make_job("old", JobState.FAILED, created_at=100.0)]
    assert model.add_jobs(page, in_queue=lambda job: not job.terminal or job.created_at >= 250.0) == 3
    assert ids(queue.jobs()) == ["new", "live"] and library_ids(library) == ["new", "live", "old"]
    assert queue.find("old") is None and model.find("old") is not None
    model.on_job(dataclasses.replace(page[2], state=JobState.PENDING))  # retried: it is queued again
    model.flush()
    assert ids(queue.jobs()) == ["new", "live", "old"]


def test_clear_finished_leaves_the_library_as_it_was(tmp_path: Path) -> None:
    model = JobListModel()
    queue, library = views(model)
    done = [make_job(f"done{n}", JobState.COMPLETED, created_at=100.0 - n,
                     video_path=video_file(tmp_path / f"v{n}.mp4")) for n in range(3)]
    model.set_jobs([make_job("live", JobState.RUNNING, created_at=200.0), *done])
    assert queue.remove_finished() == 3
    assert ids(queue.jobs()) == ["live"]
    assert library_ids(library) == ["done0", "done1", "done2"] and model.rowCount() == 4
    assert queue.remove_finished() == 0


def test_the_queue_sorts_by_queue_position_and_the_library_by_creation(tmp_path: Path) -> None:
    model = JobListModel()
    queue, library = views(model)
    library.set_filters(state=StateFilter.ALL)
    first, second = make_job("first", JobState.PENDING, created_at=10.0), make_job("second", JobState.PENDING,
                                                                                     created_at=20.0)
    model.set_jobs([first, second])
    assert ids(queue.jobs()) == ["second", "first"]  # the last to start on top
    layouts: list[int] = []
    queue.layoutChanged.connect(lambda *_: layouts.append(1))
    model.on_job(dataclasses.replace(first, queue_pos=30.0))  # moved: it now starts last
    model.flush()
    assert ids(queue.jobs()) == ["first", "second"] and layouts
    assert library_ids(library) == ["second", "first"]  # the library keeps creation order
    assert queue.order_after_move(["first"], 2) == ["first", "second"]


def test_batch_progress_is_derived_from_every_job_of_the_list(qtbot: QtBot) -> None:
    model = JobListModel()
    queue = QueueModel(model)
    members = [make_job(f"b{n}", JobState.RUNNING, created_at=100.0 + n, group_id="gcafe1234", progress=40.0)
               for n in range(3)]
    model.set_jobs(members)
    assert model.groups() == summarize_groups(members)
    model.on_job(dataclasses.replace(members[0], state=JobState.COMPLETED, progress=100.0))
    model.flush()
    queue.remove_finished()  # off the queue, still part of its batch
    group = model.group("gcafe1234")
    assert group is not None and (group.total, group.ended, group.completed) == (3, 1, 1)
    assert queue.index(queue.row_of("b1"), Column.GROUP).data() == "cafe · 1/3"
    finished: list[object] = []
    model.groupFinished.connect(finished.append)
    for job in members[1:]:
        model.on_job(dataclasses.replace(job, state=JobState.FAILED))
    model.flush()
    assert finished == [model.group("gcafe1234")] and finished[0].text == "cafe · 1/3 done, 2 failed"  # type: ignore[attr-defined]
    model.flush()
    assert len(finished) == 1
    model.remove_job("b0")
    assert model.group("gcafe1234").total == 2  # type: ignore[union-attr]


def test_the_tick_touches_clusters_of_live_rows_of_the_queue_only(tmp_path: Path) -> None:
    model = JobListModel(clock=lambda: 1000.0)
    queue, library = views(model)
    jobs = [make_job(f"j{n:03d}", JobState.COMPLETED, created_at=1000.0 - n) for n in range(300)]
    for n in (0, 2, 250):
        jobs[n] = make_job(f"live{n}", JobState.RUNNING, created_at=1000.0 - n)
    model.set_jobs(jobs)
    changed: list[tuple[int, int]] = []
    queue.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top.row(), bottom.row())))
    told: list[object] = []
    for other in (model, library):
        other.dataChanged.connect(told.append)
    queue.tick()
    assert changed == [(0, 2), (250, 250)]  # not the 248 ended rows between them
    assert told == []  # the job list and the library (no clocks) hear nothing


def test_a_library_tile_and_a_queue_row_show_the_same_job(tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    tiles = LibraryTiles()
    tiles.setSourceModel(model)
    job = make_job("fav1", JobState.COMPLETED, prompt="A fox in the snow", video_path=video_file(tmp_path / "f.mp4"))
    model.set_jobs([job])
    model.annotate("fav1", Annotation(True, 5, "best"))
    tile = tiles.index(0, 0)
    assert tile.data().startswith("★ A fox in the snow")
    assert tile.data(JobRole.RATING) == 5 and tile.data(JobRole.ON_DISK) is True
    assert model.index(0, Column.PROMPT).data() == "A fox in the snow"
    assert tiles.index_of("fav1") == tile and tiles.index_of("nope") is None
    model.annotations.close()  # type: ignore[union-attr]
