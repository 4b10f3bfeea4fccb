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
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.paths import DataDir
from core.store import JobStore
from gui.annotations import Annotation, AnnotationStore
from gui.job_list import JobListModel
from gui.library import LibraryPanel, details_html
from gui.library_model import LibraryFilter, StateFilter
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
    store = JobStore(data.database, world="sandbox")  # the sandbox window shows the sandbox's jobs
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


def open_library(data: DataDir, qtbot: QtBot) -> tuple[LibraryPanel, JobListModel, JobStore]:
    store = JobStore(data.database, world="sandbox")  # the sandbox window shows the sandbox's jobs
    thumbs = ThumbnailCache(data.root / "thumbnails")
    model = JobListModel(AnnotationStore(data.root), thumbs)
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
    job.origin = "https://gateway.example"  # a real job says where it is followed
    assert "created at https://gateway.example, and followed there" in details_html(job)
    job.world = "sandbox"  # sandbox renders are marked as such
    assert "Sandbox — made by the built-in emulator, nothing charged" in details_html(job)


def test_library_model_passes_modeltester(qtmodeltester: ModelTester, tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4")
    model = JobListModel(AnnotationStore(tmp_path))
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


class Signals:
    """Counts a model's change signals (what the views and the filter react to)."""

    def __init__(self, model: JobListModel) -> None:
        self.changed: list[tuple[int, int, list[int]]] = []
        self.layouts = 0
        self.resets = 0
        model.dataChanged.connect(lambda first, last, roles=(): self.changed.append(
            (first.row(), last.row(), list(roles))))
        model.layoutChanged.connect(lambda *_: setattr(self, "layouts", self.layouts + 1))
        model.modelReset.connect(lambda: setattr(self, "resets", self.resets + 1))


def video_file(path: Path) -> str:
    """Stands for a downloaded video: the library checks only that the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 16)
    return str(path)


def test_a_finished_job_changes_its_own_row_only(qtbot: QtBot, tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    proxy = LibraryFilter()  # videos on disk only, as the library opens
    proxy.setSourceModel(model)
    now = time.time()
    jobs = [make_job(f"done{n}", JobState.COMPLETED, created_at=now - 100 - n,
                     video_path=video_file(tmp_path / f"v{n}.mp4")) for n in range(50)]
    running = make_job("running1", JobState.RUNNING, created_at=now - 10)
    model.load([*jobs, running], check_in_background=False)
    assert model.row_of("running1") == 0 and proxy.rowCount() == 50
    signals = Signals(model)
    proxy_inserted: list[int] = []
    proxy.rowsInserted.connect(lambda _parent, first, _last: proxy_inserted.append(first))
    disk = []
    model.diskChanged.connect(lambda: disk.append(1))

    model.on_job(make_job("running1", JobState.COMPLETED, created_at=now - 10,
                          video_path=video_file(tmp_path / "new.mp4")))
    model.flush()

    assert signals.changed == [(0, 0, [])]  # one dataChanged, for that row
    assert signals.layouts == 0 and signals.resets == 0
    assert model.item_for("running1").on_disk  # type: ignore[union-attr]
    assert proxy_inserted == [0] and proxy.rowCount() == 51  # the filter took in that row alone
    assert disk == [1]


def test_new_jobs_and_pages_keep_newest_first(qtbot: QtBot, tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    model.annotations.put("p3", Annotation(True, 4, "kept"))
    signals = Signals(model)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    page1 = [make_job(f"p{n}", JobState.COMPLETED, created_at=1000.0 - n) for n in range(4)]
    page2 = [make_job(f"p{n}", JobState.FAILED, created_at=1000.0 - n) for n in range(4, 8)]
    assert model.add_jobs(page1, on_disk={"p1"}, notes=model.annotations.all()) == 4
    model.on_job(make_job("p6", JobState.COMPLETED, created_at=1000.0 - 6))  # an event before its page
    model.on_job(make_job("fresh", JobState.PENDING, created_at=2000.0))
    model.flush()
    assert model.add_jobs(page2, on_disk=set()) == 3  # p6 is shown already, with the newer copy
    assert [j.id for j in model.jobs()] == ["fresh", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"]
    assert model.item_for("p6").job.state == JobState.COMPLETED  # type: ignore[union-attr]
    assert model.item_for("p1").on_disk and not model.item_for("p0").on_disk  # type: ignore[union-attr]
    assert model.item_for("p3").annotation.note == "kept"  # type: ignore[union-attr]
    # One insertion per block of neighbours: page 1; fresh and p6 (one flush); page 2 around p6.
    assert inserted == [(0, 3), (0, 0), (5, 5), (5, 6), (8, 8)]
    assert signals.layouts == 0
    assert all(model.row_of(j.id) == row for row, j in enumerate(model.jobs()))


def test_thumbnails_find_their_rows_after_removals(qtbot: QtBot, tmp_path: Path) -> None:
    thumbs = ThumbnailCache(tmp_path / "thumbnails")
    model = JobListModel(AnnotationStore(tmp_path), thumbs)
    jobs = [make_job(f"j{n}", JobState.COMPLETED, created_at=100.0 - n,
                     video_path=video_file(tmp_path / f"v{n}.mp4")) for n in range(6)]
    jobs.append(make_job("copy", JobState.COMPLETED, created_at=10.0, video_path=jobs[4].video_path))
    model.load(jobs, check_in_background=False)
    model.remove_job("j1")
    model.remove_job("j3")
    model.on_job(make_job("new", JobState.COMPLETED, created_at=200.0,
                          video_path=video_file(tmp_path / "new.mp4")))
    model.flush()
    assert [j.id for j in model.jobs()] == ["new", "j0", "j2", "j4", "j5", "copy"]
    signals = Signals(model)
    decoration = [Qt.ItemDataRole.DecorationRole]
    for path, rows in ((jobs[4].video_path, [3, 5]), (jobs[5].video_path, [4]), (jobs[3].video_path, []),
                       (str(tmp_path / "new.mp4"), [0])):
        signals.changed.clear()
        thumbs.ready.emit(path)
        assert signals.changed == [(row, row, decoration) for row in rows], path
    # A job whose video moved is found under its new path only.
    model.on_job(make_job("j5", JobState.COMPLETED, created_at=100.0 - 5, video_path=jobs[0].video_path))
    model.flush()
    assert model.rows_showing(jobs[0].video_path or "") == [1, 4]
    assert model.rows_showing(jobs[5].video_path or "") == []


def test_filter_choices_follow_additions_and_removals(tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    model.add_jobs([make_job("a", JobState.COMPLETED, created_at=3.0),
                    make_job("b", JobState.FAILED, provider="gateway", model="viduq3p-720p", created_at=2.0),
                    make_job("c", JobState.FAILED, provider="gateway", model="viduq3p-720p", created_at=1.0)],
                   on_disk=set())
    assert model.providers() == ["aihubmix", "gateway"] and model.models("gateway") == ["viduq3p-720p"]
    model.remove_job("b")
    assert model.providers() == ["aihubmix", "gateway"]
    model.remove_job("c")
    assert model.providers() == ["aihubmix"] and model.models() == ["sora-2"]
    model.load([], check_in_background=False)
    assert model.providers() == [] and model.models() == []


def test_library_model_with_pages_passes_modeltester(qtmodeltester: ModelTester, tmp_path: Path) -> None:
    model = JobListModel(AnnotationStore(tmp_path))
    model.add_jobs([make_job(f"a{n}", JobState.COMPLETED, created_at=50.0 - n) for n in range(5)], on_disk=set())
    qtmodeltester.check(model, force_py=True)
    model.add_jobs([make_job(f"b{n}", JobState.FAILED, created_at=40.0 - n) for n in range(5)], on_disk=set())
    model.on_job(make_job("a2", JobState.FAILED, created_at=48.0))
    model.on_job(make_job("mid", JobState.RUNNING, created_at=42.5))
    model.flush()
    model.remove_job("b1")
    qtmodeltester.check(model, force_py=True)
    model.annotations.close()


def caption_contrast(panel: LibraryPanel, job_id: str) -> tuple[str, int]:
    """The background colour of a tile without a picture (only its caption) and how far its most different pixel
    is from it (0 to 765)."""
    index = panel.proxy.index_of(job_id)
    assert index is not None
    caption = panel.grid.viewport().grab(panel.grid.visualRect(index)).toImage()
    background = caption.pixelColor(1, caption.height() - 1)
    distance = 0
    for y in range(caption.height()):
        for x in range(caption.width()):
            pixel = caption.pixelColor(x, y)
            distance = max(distance, abs(pixel.red() - background.red()) + abs(pixel.green() - background.green())
                           + abs(pixel.blue() - background.blue()))
    return background.name(), distance


@pytest.mark.parametrize("dark", [False, True])
def test_tile_captions_stay_readable_under_a_platform_themes_palette(qtbot: QtBot, earlier_data: DataDir,
                                                                      dark: bool) -> None:
    """A platform theme (QT_QPA_PLATFORMTHEME=gtk3) can hand item views a palette of its own; here one whose text
    is as dark as its base. The tiles draw with the theme's colours: their captions stay readable."""
    from PySide6.QtGui import QColor, QPalette

    from gui.theme import colors, palette, theme_manager

    gtk_like = QPalette(palette(dark))
    for role, colour in ((QPalette.ColorRole.Base, "#2b2b2b"), (QPalette.ColorRole.Text, "#2e3436"),
                         (QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#2e3436")):
        gtk_like.setColor(role, QColor(colour))
    manager = theme_manager()
    try:
        manager.apply(dark=dark)
        store = JobStore(earlier_data.database, world="sandbox")
        model = JobListModel(AnnotationStore(earlier_data.root), None)  # no thumbnails: the tiles are captions
        panel = LibraryPanel(model)
        qtbot.addWidget(panel)
        model.load(store.all())
        qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
        panel.grid.setPalette(gtk_like)
        panel.grid.viewport().setPalette(gtk_like)
        panel.resize(1024, 700)
        panel.show()
        qtbot.waitExposed(panel)
        background, contrast = caption_contrast(panel, "owl00000001")
        assert background == colors(dark)["base"]
        assert contrast > 300, f"caption barely differs from its background {background}"
        store.close()
    finally:
        manager.apply(dark=False)
