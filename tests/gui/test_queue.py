"""The queue model (qtmodeltester, coalescing, row-only updates) and the queue panel's actions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video, until
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.runtime import Runtime
from core.store import JobStore
from gui.job_list import JobListModel
from gui.queue_model import Column, JobRole, QueueModel, format_duration, progress_text
from gui.queue_view import QueueView

#: The jobs these tests retry or send again make a new create: a current model (Sora is retired).
VEO = "veo-3.1-generate-preview"


def jobs_in_every_state(tmp_path: Path) -> list:
    video = make_video(tmp_path / "done.mp4")
    return [
        make_job("pending01", JobState.PENDING, created_at=1000),
        make_job("submit01", JobState.SUBMITTING, created_at=1001),
        make_job("running01", JobState.RUNNING, created_at=1002, remote_status="in_progress", progress=42.0,
                 eta=31.0),
        make_job("download01", JobState.DOWNLOADING, created_at=1003),
        make_job("done01", JobState.COMPLETED, created_at=1004, video_path=str(video), finished_at=1070),
        make_job("failed01", JobState.FAILED, created_at=1005, error="The provider refused the prompt."),
        make_job("cancel01", JobState.CANCELED, created_at=1006),
        make_job("decide01", JobState.SUBMITTING, created_at=1007, needs_decision=True, error="Lost answer."),
    ]


def test_queue_model_passes_modeltester(qtmodeltester: ModelTester, tmp_path: Path) -> None:
    model = QueueModel(clock=lambda: 1100.0)
    model.set_jobs(jobs_in_every_state(tmp_path))
    qtmodeltester.check(model, force_py=True)
    model.on_job(make_job("new01", JobState.PENDING, created_at=2000))
    model.flush()
    model.remove_job("failed01")
    qtmodeltester.check(model, force_py=True)


def test_display_values(tmp_path: Path) -> None:
    model = QueueModel(clock=lambda: 1100.0)
    model.set_jobs(jobs_in_every_state(tmp_path))
    assert model.job(0).id == "decide01"  # type: ignore[union-attr]  # newest first
    running = model.index(model.row_of("running01"), Column.PROGRESS)
    assert running.data() == "42% · 0:31 left" or "left" in running.data()
    assert model.index(model.row_of("running01"), Column.STATE).data() == "Generating"
    assert model.index(model.row_of("decide01"), Column.STATE).data() == "Needs your decision"
    assert model.index(model.row_of("done01"), Column.ELAPSED).data() == "1:06"
    assert model.index(model.row_of("failed01"), Column.STATE).data(Qt.ItemDataRole.ToolTipRole) == (
        "Failed: The provider refused the prompt.")
    assert model.index(0, 0).data(JobRole.NEEDS_DECISION) is True
    assert format_duration(3725) == "1:02:05"
    assert progress_text(make_job("x", JobState.PENDING), 0) == "Queued"


def test_events_are_coalesced_and_touch_only_their_row(qtbot: QtBot, tmp_path: Path) -> None:
    model = QueueModel(clock=lambda: 1100.0)
    model.set_jobs(jobs_in_every_state(tmp_path))
    row = model.row_of("running01")
    base = model.find("running01")
    assert base is not None
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top.row(), bottom.row())))
    for step in range(2000):
        model.on_job(dataclasses.replace(base, progress=step / 20))
    assert model.flushes == 0  # nothing applied synchronously
    qtbot.waitUntil(lambda: model.flushes == 1)
    assert model.find("running01").progress == pytest.approx(1999 / 20)  # type: ignore[union-attr]
    flush_changes = [c for c in changed if c != (row, row)]
    assert all(c == (row, row) for c in changed), flush_changes


def test_new_jobs_are_inserted_at_the_top(qtbot: QtBot, tmp_path: Path) -> None:
    model = QueueModel()
    model.set_jobs(jobs_in_every_state(tmp_path))
    with qtbot.waitSignal(model.rowsInserted):
        model.on_job(make_job("brandnew", JobState.PENDING, created_at=5000))
    assert model.job(0).id == "brandnew"  # type: ignore[union-attr]


def test_the_tick_is_one_signal_over_live_rows(tmp_path: Path) -> None:
    model = QueueModel(clock=lambda: 1100.0)
    jobs = jobs_in_every_state(tmp_path) + [make_job(f"old{n}", JobState.COMPLETED, created_at=900 - n)
                                            for n in range(200)]
    model.set_jobs(jobs)
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append(
        (top.row(), bottom.row(), top.column(), bottom.column())))
    model.tick()
    live = [model.row_of(j) for j in ("decide01", "running01", "pending01")]
    assert changed == [(min(live), max(live), Column.PROGRESS, Column.ELAPSED)]


def test_thumbnails_find_their_rows_after_changes_and_removals(tmp_path: Path) -> None:
    from gui.thumbs import ThumbnailCache

    thumbs = ThumbnailCache(tmp_path / "thumbnails")
    model = QueueModel(JobListModel(thumbs=thumbs))
    jobs = jobs_in_every_state(tmp_path)
    image = str(tmp_path / "photo.png")
    waiting = make_job("withimage", JobState.RUNNING, provider="gateway", model="viduq3p-720p", created_at=1010)
    waiting.inputs = {"image": [image]}
    model.set_jobs([*jobs, waiting])
    done = str(tmp_path / "done.mp4")
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, _bottom, roles=(): changed.append((top.row(), top.column())))

    def ready(path: str) -> list[tuple[int, int]]:
        changed.clear()
        thumbs.ready.emit(path)
        return list(changed)

    assert ready(image) == [(model.row_of("withimage"), Column.THUMB)]  # its input image, while it runs
    model.remove_job("pending01")
    assert ready(done) == [(model.row_of("done01"), Column.THUMB)]
    finished = dataclasses.replace(waiting, state=JobState.COMPLETED, video_path=str(tmp_path / "made.mp4"))
    model.on_job(finished)
    model.flush()
    assert ready(image) == []  # now it shows its video
    assert ready(str(tmp_path / "made.mp4")) == [(model.row_of("withimage"), Column.THUMB)]


def test_copies_of_one_input_image_are_decoded_once(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import make_image

    from gui.thumbs import ThumbnailCache

    thumbs = ThumbnailCache(tmp_path / "thumbnails")
    first = make_image(tmp_path / "inputs" / "job1" / "image.png", (640, 480), "orange")
    copy = tmp_path / "inputs" / "job2" / "image.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(first.read_bytes())  # every job of a batch keeps its own copy of the same image
    other = make_image(tmp_path / "inputs" / "job3" / "image.png", (640, 480), "blue")
    for path in (first, copy, other):
        thumbs.get(str(path))
    qtbot.waitUntil(lambda: all(thumbs.get(str(p)) is not None for p in (first, copy, other)))
    shared = {thumbs.get(str(p)).cacheKey() for p in (first, copy)}  # type: ignore[union-attr]
    assert len(shared) == 1  # one pixmap in memory for both copies
    assert thumbs.get(str(other)).cacheKey() not in shared  # type: ignore[union-attr]


def test_clear_finished_and_pages(tmp_path: Path) -> None:
    model = QueueModel()
    model.set_jobs(jobs_in_every_state(tmp_path))
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    assert model.remove_finished() == 3
    assert [j.id for j in model.jobs()] == ["decide01", "download01", "running01", "submit01", "pending01"]
    assert removed == [(1, 3)]  # neighbours go in one removal
    assert all(model.row_of(j.id) == row for row, j in enumerate(model.jobs()))
    model.on_job(make_job("fresh", JobState.PENDING, created_at=3000))
    model.flush()
    older = [make_job("decide01", JobState.FAILED, created_at=1007), make_job("old1", JobState.COMPLETED,
                                                                             created_at=500)]
    assert model.add_jobs(older) == 1  # decide01 is listed already (events win over pages)
    assert model.jobs()[0].id == "fresh" and model.jobs()[-1].id == "old1"
    assert model.find("decide01").state == JobState.SUBMITTING  # type: ignore[union-attr]
    assert all(model.row_of(j.id) == row for row, j in enumerate(model.jobs()))


class UrlCatcher(QObject):
    """Receives QDesktopServices.openUrl calls for file:// URLs instead of a file manager."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)
async def test_actions_on_real_jobs(sora_served: Path, qtbot: QtBot, runtime: Runtime, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = runtime.store
    engine = runtime.engine
    assert store is not None and engine is not None
    video = make_video(runtime.data.library / "old.mp4")
    for job in (make_job("done02", JobState.COMPLETED, video_path=str(video), finished_at=None),
                make_job("failed02", JobState.FAILED, model="sora-2", error="boom"),  # Sora remixes (still served)
                make_job("decide02", JobState.SUBMITTING, model=VEO, needs_decision=True, error="Lost answer.")):
        store.add(job)
    model = QueueModel()
    model.set_jobs(store.all())
    unsubscribe = engine.subscribe(model.on_job)
    view = QueueView(model, engine)
    qtbot.addWidget(view)
    view.ask = lambda title, text: True
    played: list[str] = []
    duplicated: list[str] = []
    view.jobActivated.connect(lambda job: played.append(job.id))
    view.duplicateRequested.connect(lambda job: duplicated.append(job.id))

    # A completed job: selecting it asks the player to play it; reveal opens its folder.
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        assert view.select_job("done02")
        assert played == ["done02"]
        assert view.reveal_action.isEnabled() and not view.cancel_action.isEnabled()
        view.reveal_selected()
        assert catcher.urls and catcher.urls[0].toLocalFile() == str(video.parent)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    view.duplicate_selected()
    assert duplicated == ["done02"]

    # The decision: both choices are explained; "Cancel the job" ends it without sending anything.
    view.select_job("decide02")
    assert not view.decision.isHidden()
    assert "charged twice" in view.decision_text.text()
    view.giveup_button.click()
    await until(lambda: model.find("decide02").state == JobState.CANCELED,  # type: ignore[union-attr]
                what="the decision to cancel")

    # Retry a failed job: it runs again in the sandbox and completes.
    view.select_job("failed02")
    assert view.retry_action.isEnabled()
    view.retry_selected()
    await until(lambda: model.find("failed02").state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the retried job to complete")

    # Remix the finished Sora video with a new prompt: a new job, from the source's remote video.
    view.select_job("failed02")
    assert view.remix_action.isEnabled()
    view.ask_prompt = lambda title, label, text: "the same scene, at night"
    view.remix_selected()
    await until(lambda: any(j.prompt == "the same scene, at night" and j.state == JobState.COMPLETED
                            for j in model.jobs()), timeout=60, what="the remix to complete")
    remix = next(j for j in model.jobs() if j.prompt == "the same scene, at night")
    assert remix.prepared == {"remix_of": store.get("failed02").remote_id}

    # Delete: the video goes to the (test's own) trash and the job leaves the store and the list.
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    view.select_job("done02")
    view.delete_selected()
    await until(lambda: model.row_of("done02") < 0, what="the job to be deleted")
    assert store.find("done02") is None
    assert not video.exists()
    assert (tmp_path / "xdg" / "Trash" / "files" / video.name).exists()
    unsubscribe()


@pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)
def test_actions_a_job_cannot_take_are_greyed_saying_why(qtbot: QtBot, tmp_path: Path) -> None:
    """Remix only where the model remixes; no Retry or Generate again that would send a create of a retired model
    (Sora, in the shipped catalog); a job that has its task is still retried. The reasons are core's words."""
    from core.abilities import new_job_problem, remix_problem, retry_problem

    jobs = [make_job("veo-done", JobState.COMPLETED, model=VEO, remote_id="video_veo", created_at=1),
            make_job("sora-failed", JobState.FAILED, model="sora-2", error="boom", created_at=2),
            make_job("sora-at-provider", JobState.FAILED, model="sora-2", remote_id="video_sora", error="boom",
                     created_at=3),
            make_job("veo-failed", JobState.FAILED, model=VEO, error="boom", created_at=4)]
    model = QueueModel()
    model.set_jobs(jobs)
    view = QueueView(model)
    qtbot.addWidget(view)
    view.show()

    def menu_of(job_id: str) -> dict[str, tuple[bool, str]]:
        assert view.select_job(job_id)
        return {a.text(): (a.isEnabled(), a.toolTip()) for a in (view.retry_action, view.again_action,
                                                                  view.remix_action)}

    veo_done = menu_of("veo-done")
    assert veo_done["Remix…"] == (False, remix_problem(jobs[0]))
    assert "Veo 3.1 videos cannot be remixed" in veo_done["Remix…"][1]
    assert veo_done["Generate again"][0] and not veo_done["Retry"][0]

    sora_failed = menu_of("sora-failed")
    why = retry_problem(jobs[1])
    assert why is not None and "retired sora-2 since 2026-09-24" in why and "veo-3.1-generate-preview" in why
    assert sora_failed["Retry"] == (False, why) and sora_failed["Generate again"] == (False, new_job_problem(jobs[1]))
    assert why in view.detail.text() and not view.detail.isHidden()  # said where the creator looks, too

    at_provider = menu_of("sora-at-provider")
    assert at_provider["Retry"][0] and "Resume this job now" in at_provider["Retry"][1]  # its task is resumed
    assert not at_provider["Generate again"][0]

    veo_failed = menu_of("veo-failed")
    assert veo_failed["Retry"][0] and veo_failed["Generate again"][0]
    assert "Resume this job now" in veo_failed["Retry"][1] and "charged again" in veo_failed["Generate again"][1]
    assert "retired" not in view.detail.text()


@pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)
async def test_cancel_running_job_and_resend_decision(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import sandbox_runtime

    from core.submission import JobRequest

    rt = sandbox_runtime(tmp_path / "slow", job_seconds=30.0)
    await rt.start()
    try:
        engine, store = rt.engine, rt.store
        assert engine is not None and store is not None
        model = QueueModel()
        unsubscribe = engine.subscribe(model.on_job)
        view = QueueView(model, engine)
        qtbot.addWidget(view)
        job = await engine.submit(JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "slow one"}))
        await until(lambda: (model.find(job.id) or job).state == JobState.RUNNING, what="running")
        view.select_job(job.id)
        assert view.cancel_action.isEnabled()
        view.cancel_selected()
        await until(lambda: model.find(job.id).state == JobState.CANCELED,  # type: ignore[union-attr]
                    what="the cancel")
        stuck = make_job("decide03", JobState.SUBMITTING, model=VEO, needs_decision=True, error="Lost.", prompt="again")
        store.add(stuck)
        model.on_job(stuck)
        model.flush()
        view.select_job("decide03")
        view.resend_button.click()
        await until(lambda: model.find("decide03").state == JobState.RUNNING,  # type: ignore[union-attr]
                    what="the resent job to run")
        unsubscribe()
    finally:
        await rt.close()


def test_store_written_jobs_load(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite")
    for job in jobs_in_every_state(tmp_path):
        store.add(job)
    model = QueueModel()
    model.set_jobs(store.all())
    assert model.rowCount() == 8
    store.close()


def test_column_widths_share_the_squeeze_and_give_the_prompt_the_rest() -> None:
    from gui.queue_view import column_widths

    full = {Column.THUMB: 90, Column.MODEL: 180, Column.PROMPT: 280, Column.STATE: 140}
    least = {Column.THUMB: 64, Column.MODEL: 100, Column.PROMPT: 100, Column.STATE: 90}
    roomy = column_widths(1000, full, least)
    assert roomy == {Column.THUMB: 90, Column.MODEL: 180, Column.PROMPT: 590, Column.STATE: 140}
    squeezed = column_widths(500, full, least)  # 190 px short of 690: each column gives the same share
    assert sum(squeezed.values()) == 500 and all(least[c] <= squeezed[c] < full[c] for c in full)
    spare = {c: (squeezed[c] - least[c]) / (full[c] - least[c]) for c in full if c != Column.PROMPT}
    assert max(spare.values()) - min(spare.values()) < 0.05
    assert column_widths(300, full, least) == least  # narrower than the least: the table scrolls sideways
