"""The library: jobs and videos written by an earlier process, thumbnails, search, filters, notes, modeltester."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.paths import DataDir
from core.store import JobStore
from gui.annotations import Annotation, AnnotationStore
from gui.library import LibraryPanel, details_html
from gui.library_model import LibraryFilter, LibraryModel, StateFilter
from gui.thumbs import ThumbnailCache

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)

EARLIER_PROCESS = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path[:0] = [sys.argv[2], sys.argv[2] + "/tests/gui"]
    from guikit import make_job, make_video
    from core.jobs import JobState
    from core.paths import DataDir
    from core.store import JobStore

    data = DataDir(Path(sys.argv[1])).ensure()
    store = JobStore(data.database)
    now = time.time()
    fox = make_video(data.library / "fox.mp4")
    owl = make_video(data.library / "owl.mp4", size=(96, 160))
    store.add(make_job("fox00000001", JobState.COMPLETED, prompt="A red fox trots through snow",
                       video_path=str(fox), remote_id="video_fox", created_at=now - 3600, finished_at=now - 3500,
                       submitted_at=now - 3590))
    store.add(make_job("owl00000001", JobState.COMPLETED, provider="gateway", model="viduq3p-720p",
                       prompt="An owl blinks at night", video_path=str(owl), created_at=now - 40 * 86400,
                       finished_at=now - 40 * 86400 + 90))
    store.add(make_job("gone0000001", JobState.COMPLETED, prompt="Moved away", created_at=now - 7200,
                       video_path=str(data.library / "missing.mp4")))
    store.add(make_job("fail0000001", JobState.FAILED, provider="goapi", model="Qubico/hug-video",
                       prompt="Two friends hug", error="GoAPI could not make this video", created_at=now - 60))
    store.close()
""")


@pytest.fixture
def earlier_data(tmp_path: Path) -> DataDir:
    """A data dir filled by another Python process, as an earlier run of Reeldeck would have."""
    root = tmp_path / "data"
    subprocess.run([sys.executable, "-c", EARLIER_PROCESS, str(root), str(ROOT)], check=True, timeout=120)
    return DataDir(root)


def open_library(data: DataDir, qtbot: QtBot) -> tuple[LibraryPanel, LibraryModel, JobStore]:
    store = JobStore(data.database)
    thumbs = ThumbnailCache(data.root / "thumbnails")
    model = LibraryModel(AnnotationStore(data.root), thumbs)
    panel = LibraryPanel(model)
    qtbot.addWidget(panel)
    model.load(store.all())
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
    return panel, model, store


def test_library_shows_videos_from_an_earlier_process(qtbot: QtBot, earlier_data: DataDir) -> None:
    panel, model, store = open_library(earlier_data, qtbot)
    assert model.rowCount() == 4
    assert {j.id for j in panel.visible_jobs()} == {"fox00000001", "owl00000001"}  # videos on disk
    assert panel.count_label.text() == "2 of 4"
    # First-frame thumbnails are made in the background and cached on disk.
    index = panel.proxy.index(0, 0)
    index.data(1)  # DecorationRole: asks for the thumbnail
    panel.proxy.index(1, 0).data(1)
    cache = earlier_data.root / "thumbnails"
    qtbot.waitUntil(lambda: len(list(cache.glob("*.png"))) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: panel.proxy.index(0, 0).data(1) is not None, timeout=10_000)
    store.close()


def test_search_and_filters(qtbot: QtBot, earlier_data: DataDir) -> None:
    panel, _model, store = open_library(earlier_data, qtbot)
    panel.set_search("fox")
    assert [j.id for j in panel.visible_jobs()] == ["fox00000001"]
    panel.set_search("owl night")
    assert [j.id for j in panel.visible_jobs()] == ["owl00000001"]
    panel.set_search("vidu")  # the model label matches too
    assert [j.id for j in panel.visible_jobs()] == ["owl00000001"]
    panel.set_search("")
    panel.set_provider_filter("gateway")
    assert [j.id for j in panel.visible_jobs()] == ["owl00000001"]
    panel.set_provider_filter(None)
    panel.set_model_filter("sora-2")
    assert [j.id for j in panel.visible_jobs()] == ["fox00000001"]
    panel.set_model_filter(None)
    panel.set_state_filter(StateFilter.FAILED)
    assert [j.id for j in panel.visible_jobs()] == ["fail0000001"]
    panel.set_state_filter(StateFilter.COMPLETED)
    assert {j.id for j in panel.visible_jobs()} == {"fox00000001", "owl00000001", "gone0000001"}
    panel.set_state_filter(StateFilter.ALL)
    panel.date_combo.setCurrentIndex(panel.date_combo.findText("Last 7 days"))
    assert {j.id for j in panel.visible_jobs()} == {"fox00000001", "gone0000001", "fail0000001"}
    panel.proxy.set_filters(date_from=dt.date.today() - dt.timedelta(days=41),
                            date_to=dt.date.today() - dt.timedelta(days=39))
    assert [j.id for j in panel.visible_jobs()] == ["owl00000001"]
    store.close()


def test_details_annotations_and_playback(qtbot: QtBot, earlier_data: DataDir) -> None:
    panel, model, store = open_library(earlier_data, qtbot)
    assert panel.select_job("fox00000001")
    assert panel.current is not None and panel.current.id == "fox00000001"
    text = panel.details.toPlainText()
    for words in ("video_fox", "seconds", "Provider time", "A red fox trots through snow"):
        assert words in text
    assert panel.player.path == panel.current.video_path
    panel.favourite_button.click()
    panel.rating.setCurrentIndex(4)
    panel.note.setPlainText("Best fox so far")
    panel.flush_note()
    assert model.annotations.get("fox00000001") == Annotation(True, 4, "Best fox so far")
    panel.favourites.setChecked(True)
    assert [j.id for j in panel.visible_jobs()] == ["fox00000001"]
    panel.set_search("best fox")  # notes are searchable
    assert [j.id for j in panel.visible_jobs()] == ["fox00000001"]
    model.annotations.close()
    # A new window on the same data dir sees the note.
    again = AnnotationStore(earlier_data.root)
    assert again.get("fox00000001").note == "Best fox so far"
    again.close()
    store.close()


def test_details_html_lists_everything(tmp_path: Path) -> None:
    job = make_job("abc", JobState.COMPLETED, remote_id="r-1", submitted_at=time.time(), finished_at=time.time())
    job.inputs = {"image": ["/x/a.png"]}
    job.input_notes = {"image": ["720×1280: cropped"]}
    html = details_html(job)
    assert "r-1" in html and "Param prompt" in html and "cropped" in html


def test_library_model_passes_modeltester(qtmodeltester: ModelTester, tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4")
    model = LibraryModel(AnnotationStore(tmp_path))
    model.load([make_job("a1", JobState.COMPLETED, video_path=str(video)),
                make_job("b2", JobState.FAILED, created_at=5.0)], check_in_background=False)
    qtmodeltester.check(model, force_py=True)
    model.on_job(make_job("c3", JobState.RUNNING))
    model.flush()
    model.annotate("a1", Annotation(True, 5, "x"))
    model.remove_job("b2")
    qtmodeltester.check(model, force_py=True)
    proxy = LibraryFilter()
    proxy.setSourceModel(model)
    proxy.set_filters(state=StateFilter.ALL, text="test")
    qtmodeltester.check(proxy, force_py=True)
    model.annotations.close()
