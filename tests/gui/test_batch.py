"""Batches: the dialog fans one request out to targets × seeds; the queue groups the jobs with their own progress;
a finished batch opens in the compare view."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video, until
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.costs import budget_problem
from core.errors import InputError
from core.jobs import JobState
from core.runtime import Runtime
from core.submission import JobRequest
from gui.batch_dialog import BatchDialog, parse_seeds
from gui.queue_model import Column, JobRole, QueueModel

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]

BASE = JobRequest("gateway", "viduq3p-720p", {"prompt": "A lighthouse in a storm", "duration": 5})


def test_parse_seeds() -> None:
    assert parse_seeds("1, 2, 5-7") == [1, 2, 5, 6, 7]
    assert parse_seeds(" 3 3;4 ") == [3, 4]
    assert parse_seeds("-1, 10..12") == [-1, 10, 11, 12]
    assert parse_seeds("") == []
    for bad, reason in (("x", "not a seed"), ("7-3", "backwards"), ("1-100", "At most")):
        with pytest.raises(InputError, match=reason):
            parse_seeds(bad)


def test_fan_out_counts_estimates_and_problems(qtbot: QtBot) -> None:
    dialog = BatchDialog(BASE)
    qtbot.addWidget(dialog)
    assert [(t.provider, t.model) for t in dialog.targets()] == [("gateway", "viduq3p-720p")]  # the form's model
    dialog.set_targets([("gateway", "viduq3p-720p"), ("gateway", "viduq3p-540p"), ("aihubmix", "sora-2")])
    dialog.seeds.setText("1-3")
    requests = dialog.requests()
    assert len(requests) == 3 + 3 + 1  # Sora has no seed parameter: one job
    assert len({r.group_id for r in requests}) == 1 and requests[0].group_id
    assert sorted(r.params.get("seed") for r in requests if r.provider == "gateway") == [1, 1, 2, 2, 3, 3]
    sora = next(r for r in requests if r.provider == "aihubmix")
    assert "duration" not in sora.params and sora.params["prompt"] == BASE.params["prompt"]
    assert dialog.items[("gateway", "viduq3p-540p")].text(1) == "3"
    assert dialog.items[("aihubmix", "sora-2")].text(1) == "1"
    assert "no seed parameter" in dialog.items[("aihubmix", "sora-2")].text(3)
    assert dialog.items[("aihubmix", "sora-2")].text(2) == "$0.40"  # 4 s (the default) × $0.10
    assert dialog.estimate.usd == pytest.approx(0.40)
    assert "6 jobs have no known price" in dialog.summary.text() and "7 jobs" in dialog.summary.text()
    assert "job(s)" not in dialog.summary.text() and "model(s)" not in dialog.summary.text()
    assert dialog.queue_button.isEnabled() and dialog.queue_button.text() == "Queue 7 jobs"

    dialog.set_targets([("gateway", "viduq3p-720p"), ("goapi", "Qubico/hug-video")])  # needs an image
    assert any(p.startswith("GoAPI") for p in dialog.problems)
    assert not dialog.queue_button.isEnabled() and dialog.error.isVisibleTo(dialog)
    dialog.set_targets([])
    assert not dialog.queue_button.isEnabled()
    dialog.set_targets([("gateway", "viduq3p-720p")])
    dialog.seeds.setText("1, two")
    assert not dialog.queue_button.isEnabled() and "“two” is not a seed" in dialog.error.text()


def test_the_dialog_keeps_a_batch_within_the_budget(qtbot: QtBot) -> None:
    base = JobRequest("aihubmix", "sora-2", {"prompt": "Fox", "seconds": "4"})
    dialog = BatchDialog(base, budget=lambda estimate: budget_problem(0.30, estimate.usd, 1.00, "This batch",
                                                                      estimate.unpriced))
    qtbot.addWidget(dialog)
    assert dialog.queue_button.isEnabled() and dialog.estimate.usd == pytest.approx(0.40)  # $0.70 of $1.00
    dialog.set_targets([("aihubmix", "sora-2"), ("aihubmix", "sora-2-pro")])  # + 4 s × $0.30
    assert dialog.estimate.usd == pytest.approx(1.60)
    assert not dialog.queue_button.isEnabled()
    assert "past your daily budget of $1.00" in dialog.error.text()
    dialog.set_targets([("aihubmix", "sora-2"), ("aihubmix", "veo-3.1-generate-preview")])  # Veo: no known price
    assert dialog.estimate.unpriced == 1 and not dialog.queue_button.isEnabled()
    assert "1 job of this batch has no known price" in dialog.error.text()
    assert "Settings → Prices" in dialog.error.text()


def test_queue_groups_batches(qtmodeltester: ModelTester) -> None:
    jobs = [make_job("solo", JobState.COMPLETED, created_at=900)]
    for index, state in enumerate((JobState.COMPLETED, JobState.RUNNING, JobState.PENDING)):
        jobs.append(make_job(f"b{index}", state, created_at=1000 + index, group_id="gabcdef123456",
                             progress=50.0 if state == JobState.RUNNING else None))
    model = QueueModel(clock=lambda: 1100.0)
    model.set_jobs(jobs)
    qtmodeltester.check(model, force_py=True)
    group = model.group("gabcdef123456")
    assert group is not None and (group.total, group.ended, group.completed) == (3, 1, 1)
    assert group.progress == pytest.approx((100 + 50 + 0) / 3)
    assert not group.finished and group.label == "Batch abcd"
    row = model.row_of("b1")
    assert model.index(row, Column.GROUP).data() == "abcd · 1/3"
    assert model.index(row, Column.GROUP).data(JobRole.GROUP) == group
    assert model.index(model.row_of("solo"), Column.GROUP).data() == ""
    assert [j.id for j in model.group_jobs("gabcdef123456")] == ["b0", "b1", "b2"]

    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append(top.row()))
    for job_id in ("b1", "b2"):
        model.on_job(dataclasses.replace(model.find(job_id), state=JobState.COMPLETED))  # type: ignore[arg-type]
    model.on_job(dataclasses.replace(model.find("b0"), state=JobState.COMPLETED))  # type: ignore[arg-type]
    model.flush()
    group = model.group("gabcdef123456")
    assert group is not None and group.finished and group.text == "abcd · 3/3 done"
    assert model.row_of("b0") in changed  # every member's batch cell repaints
    qtmodeltester.check(model, force_py=True)


async def test_batch_from_the_form_runs_grouped_and_opens_in_compare(qtbot: QtBot, runtime: Runtime) -> None:
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("gateway", "viduq3p-720p")
    composer.set_prompt("A lighthouse in a storm, waves crash")
    await until(lambda: composer.batch_button.isEnabled(), what="Batch enabled")
    assert window.queue_view.table.isColumnHidden(Column.GROUP)  # no batch yet, no column
    composer.batch_button.click()
    dialog = window.batch_dialog
    assert isinstance(dialog, BatchDialog) and dialog.isVisible()
    dialog.set_targets([("gateway", "viduq3p-720p"), ("aihubmix", "sora-2")])
    dialog.seeds.setText("7, 8")
    assert dialog.queue_button.text() == "Queue 3 jobs"
    dialog.queue_button.click()

    await until(lambda: window.queue_model.rowCount() == 3, what="three jobs in the queue")
    groups = window.queue_model.groups()
    assert len(groups) == 1
    group_id = next(iter(groups))
    assert {j.group_id for j in window.queue_model.jobs()} == {group_id}
    assert sorted(str(j.params.get("seed")) for j in window.queue_model.jobs()) == ["7", "8", "None"]
    assert all(j.cost_usd == pytest.approx(0.4) for j in window.queue_model.jobs() if j.provider == "aihubmix")
    assert not window.queue_view.table.isColumnHidden(Column.GROUP)
    await until(lambda: window.queue_model.groups()[group_id].finished, timeout=60, what="the batch to finish")
    assert window.queue_model.groups()[group_id].completed == 3
    assert window.queue_model.index(0, Column.GROUP).data().endswith("3/3 done")
    if window.in_background():  # offscreen windows are never active: the end of the batch was notified
        await until(lambda: any(n.startswith("Batch finished") for n in window.notifications),
                    what="the batch notification")

    window.queue_view.select_job(window.queue_model.job(1).id)  # type: ignore[union-attr]
    assert window.queue_view.compare_action.isEnabled()
    window.queue_view.compare_action.trigger()
    assert window.tabs.currentWidget() is window.compare
    assert {p.job.group_id for p in window.compare.panes} == {group_id} and len(window.compare.panes) == 3
    labels = [p.label.text() for p in window.compare.panes]
    assert any("seed 7" in t for t in labels) and any("seed —" in t for t in labels)
    await until(lambda: all(p.duration > 0 for p in window.compare.panes), what="the videos to load")
    window.close()


async def test_selected_videos_open_in_compare(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    folder = tmp_path
    assert runtime.store is not None
    for index in range(3):
        runtime.store.add(make_job(f"sel{index}", JobState.COMPLETED, created_at=1000 + index,
                                   video_path=str(make_video(folder / f"v{index}.mp4"))))
    window = await make_window(qtbot, runtime)
    queue = window.queue_view
    window.queue_model.set_jobs(runtime.store.all())
    queue.select_job("sel0")
    assert not queue.compare_action.isEnabled()  # one video on its own
    selection = queue.table.selectionModel()
    for job_id in ("sel1", "sel2"):
        index = window.queue_model.index(window.queue_model.row_of(job_id), 0)
        selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
    assert [j.id for j in queue.selected_jobs()] == ["sel2", "sel1", "sel0"]
    assert queue.compare_action.isEnabled()
    queue.compare_action.trigger()
    assert [p.job.id for p in window.compare.panes] == ["sel2", "sel1", "sel0"]
    assert window.compare.hasFocus() or window.compare.isAncestorOf(window.focusWidget())

    window.tabs.setCurrentIndex(1)  # the library: Ctrl+click several, then Compare
    await until(lambda: window.job_list.loaded, what="the library")
    window.library.select_jobs(["sel0", "sel2"])
    assert window.library.compare_button.isEnabled()
    window.library.compare_button.click()
    assert [p.job.id for p in window.compare.panes] == ["sel2", "sel0"]
    assert window.tabs.currentIndex() == 2
    await until(lambda: all(p.duration > 0 for p in window.compare.panes), what="the videos to load")
    window.close()


def test_notes_wrap_instead_of_being_cut_off_and_counts_are_words(qtbot: QtBot) -> None:
    dialog = BatchDialog(BASE)
    qtbot.addWidget(dialog)
    dialog.set_targets([("gateway", "viduq3p-720p"), ("aihubmix", "sora-2"), ("goapi", "Qubico/hug-video")])
    dialog.seeds.setText("1-2")
    dialog.show()
    qtbot.waitExposed(dialog)
    item = dialog.items[("goapi", "Qubico/hug-video")]
    note = item.text(3)
    assert len(note) > 40
    column = dialog.tree.header().sectionSize(3)
    lines = dialog.tree.fontMetrics().horizontalAdvance(note) / max(1, column)
    assert lines > 1  # the note is longer than its column…
    height = dialog.tree.visualItemRect(item).height()
    assert height >= 2 * dialog.tree.fontMetrics().lineSpacing()  # …so its row grows and the whole note shows
    assert "(s)" not in dialog.intro.text() and "(s)" not in dialog.summary.text()
    inputs = sum(len(v) for v in BASE.inputs.values())
    assert f"{inputs} file{'s' if inputs != 1 else ''} from the form" in dialog.intro.text()
