"""Reviewing in the library as a creator expects: rating keys, a minimum-rating filter, a right-click menu, deleting
to the trash with undo, and dragging videos out to other apps — on a real store, real files and real widgets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.engine import Engine
from core.hub import ProviderHub
from core.jobs import Job, JobState
from core.paths import DataDir
from core.provenance import sidecar_path
from core.secrets import KeyStore
from core.settings import Settings
from core.store import JobStore
from gui.annotations import Annotation, AnnotationStore
from gui.job_list import JobListModel
from gui.library import LibraryPanel
from gui.library_trash import LibraryTrash

#: Selecting the next tile while a video is still opening interrupts that open; FFmpeg says so.
INTERRUPTED_OPEN = r"Could not open media\. FFmpeg error description: Immediate exit requested"
pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE, INTERRUPTED_OPEN)


@pytest.fixture
def trash_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The desktop trash of a private home (never the real one): ``$XDG_DATA_HOME/Trash``."""
    share = tmp_path / "home" / ".local" / "share"
    share.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(share))
    return share / "Trash"


class Library:
    """A library panel over a real store in a temp data dir, with three finished videos."""

    def __init__(self, root: Path, qtbot: QtBot) -> None:
        self.data = DataDir(root).ensure()
        self.store = JobStore(self.data.database, world="sandbox")
        now = time.time()
        self.jobs: list[Job] = []
        for index, name in enumerate(("fox", "owl", "elk")):
            video = make_video(self.data.library / f"{name}.mp4")
            sidecar_path(video).write_text(json.dumps({"prompt": name}), encoding="utf-8")
            job = make_job(f"{name}0000001", JobState.COMPLETED, prompt=f"A {name}", video_path=str(video),
                           created_at=now - 100 * (index + 1), finished_at=now - 50)
            self.store.add(job)
            self.jobs.append(job)
        (self.data.inputs / "fox0000001").mkdir(parents=True)
        (self.data.inputs / "fox0000001" / "image-0.png").write_bytes(b"png")
        self.model = JobListModel(AnnotationStore(self.store))
        self.panel = LibraryPanel(self.model)
        hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints={})
        self.engine = Engine(self.store, hub, library_dir=self.data.library, inputs_dir=self.data.inputs)
        self.panel.set_trash(LibraryTrash(lambda: self.engine, own_trash=self.data.root / "trash"))
        qtbot.addWidget(self.panel)
        self.panel.resize(1000, 640)
        self.panel.show()
        qtbot.waitExposed(self.panel)
        self.model.load(self.store.all(), check_in_background=False)

    def ids(self) -> list[str]:
        return [job.id for job in self.panel.visible_jobs()]


@pytest.fixture
def library(tmp_path: Path, qtbot: QtBot) -> Library:
    lib = Library(tmp_path / "data", qtbot)
    yield lib
    lib.store.close()


def test_rating_keys_rate_the_selected_videos(qtbot: QtBot, library: Library) -> None:
    panel = library.panel
    panel.select_jobs(["fox0000001", "owl0000001"])
    panel.grid.setFocus()
    qtbot.waitUntil(panel.grid.hasFocus)
    qtbot.keyClicks(panel.grid, "4")
    store = library.model.annotations
    assert store.get("fox0000001").rating == 4 and store.get("owl0000001").rating == 4
    assert store.get("elk0000001").rating == 0
    panel.select_job("fox0000001")
    assert panel.rating.currentData() == 4  # the details show it
    panel.select_jobs(["fox0000001"])
    qtbot.keyClicks(panel.grid, "0")
    assert store.get("fox0000001").rating == 0 and store.get("owl0000001").rating == 4


def test_minimum_rating_filter(qtbot: QtBot, library: Library) -> None:
    panel, annotations = library.panel, library.model.annotations
    library.model.annotate("fox0000001", Annotation(False, 3, ""))
    library.model.annotate("owl0000001", Annotation(True, 5, ""))
    panel.set_min_rating(3)
    assert library.ids() == ["fox0000001", "owl0000001"]
    assert panel.count_label.text() == "2 of 3"
    panel.set_min_rating(4)
    assert library.ids() == ["owl0000001"]
    assert panel.min_rating.currentText().startswith("★★★★")
    library.model.annotate("elk0000001", Annotation(False, 5, ""))  # a rating given now shows at once
    assert library.ids() == ["owl0000001", "elk0000001"]
    panel.set_min_rating(0)
    assert len(library.ids()) == 3
    assert annotations.get("owl0000001").favourite  # favourites are their own filter, not a rating
    panel.favourites.setChecked(True)
    assert library.ids() == ["owl0000001"]


def test_delete_goes_to_the_trash_and_undo_brings_it_all_back(qtbot: QtBot, library: Library,
                                                              trash_home: Path) -> None:
    panel, store = library.panel, library.store
    fox = library.jobs[0]
    video, side = Path(fox.video_path or ""), sidecar_path(Path(fox.video_path or ""))
    library.model.annotate(fox.id, Annotation(True, 4, "keep the ending"))
    trashed: list[list[str]] = []
    panel.jobsTrashed.connect(trashed.append)
    panel.select_jobs([fox.id])
    panel.grid.setFocus()
    qtbot.waitUntil(panel.grid.hasFocus)
    qtbot.keyClick(panel.grid, Qt.Key.Key_Delete)

    assert not video.exists() and not side.exists()
    assert (trash_home / "files" / video.name).is_file()  # in the desktop trash, not deleted
    assert (trash_home / "info" / f"{video.name}.trashinfo").is_file()
    assert not (library.data.inputs / fox.id).exists()
    assert store.find(fox.id) is None and library.model.row_of(fox.id) < 0
    assert trashed == [[fox.id]]
    assert panel.undo_bar.isVisible() and "trash" in panel.undo_label.text()

    restored: list[list[str]] = []
    panel.jobsRestored.connect(lambda jobs: restored.append([j.id for j in jobs]))
    panel.undo_button.click()
    assert video.is_file() and side.is_file()
    assert (library.data.inputs / fox.id / "image-0.png").is_file()
    assert not (trash_home / "files" / video.name).exists()
    assert not (trash_home / "info" / f"{video.name}.trashinfo").exists()
    again = store.find(fox.id)
    assert again is not None and again.state == JobState.COMPLETED and again.video_path == fox.video_path
    assert store.annotation(fox.id) == Annotation(True, 4, "keep the ending")
    library.model.flush()
    assert fox.id in library.ids() and restored == [[fox.id]]
    assert not panel.undo_bar.isVisible()


def test_nothing_running_is_trashed_from_the_library(qtbot: QtBot, library: Library, trash_home: Path) -> None:
    running = make_job("run0000001", JobState.RUNNING, created_at=time.time())
    library.store.add(running)
    library.model.on_job(running)
    library.model.flush()
    messages: list[str] = []
    library.panel.message.connect(messages.append)
    library.panel.trash_jobs([running])
    assert library.store.find("run0000001") is not None
    assert messages and "still running" in messages[0]


def test_context_menu_offers_the_review_actions(qtbot: QtBot, library: Library) -> None:
    panel = library.panel
    panel.select_jobs(["fox0000001", "owl0000001"])
    menu = panel.context_menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    for wanted in ("Play", "Compare", "Use last frame", "Reuse settings", "Show in folder", "Export 2 videos…", "Rate",
                   "Move to trash"):
        assert any(t.startswith(wanted) for t in texts), (wanted, texts)
    compared: list[list[str]] = []
    panel.compareRequested.connect(lambda jobs: compared.append([j.id for j in jobs]))
    action(menu, "Compare").trigger()
    assert compared == [["fox0000001", "owl0000001"]]
    rate = action(menu, "Rate").menu()
    action(rate, "★★☆☆☆").trigger()
    assert library.model.annotations.get("owl0000001").rating == 2
    panel.select_jobs(["elk0000001"])
    single = panel.context_menu()
    assert not action(single, "Compare").isEnabled()
    last: list[str] = []
    panel.lastFrameRequested.connect(lambda job: last.append(job.id))
    action(single, "Use last frame").trigger()
    assert last == ["elk0000001"]


def action(menu: object, prefix: str) -> QAction:
    for each in menu.actions():  # type: ignore[attr-defined]
        if each.text().startswith(prefix):
            return each
    raise AssertionError(f"no action {prefix!r}")


def test_dragging_videos_out_carries_their_files(qtbot: QtBot, library: Library) -> None:
    panel = library.panel
    assert panel.grid.dragEnabled()
    indexes = [panel.proxy.index(row, 0) for row in range(2)]
    assert all(panel.proxy.flags(i) & panel.proxy.flags(i).ItemIsDragEnabled for i in indexes)
    mime = panel.proxy.mimeData(indexes)
    assert mime is not None and mime.hasUrls()
    assert mime.urls() == [QUrl.fromLocalFile(j.video_path or "") for j in library.jobs[:2]]
    assert all(Path(u.toLocalFile()).is_file() for u in mime.urls())
    assert QApplication.instance() is not None
