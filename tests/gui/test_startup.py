"""Start-up with many jobs: the window is built and shown before the jobs are read, then lists every one of them."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, sandbox_runtime, until
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from core.jobs import Annotation, JobState
from core.paths import DataDir
from core.store import JobStore
from gui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)

DAY = 86400.0


def fill_store(root: Path, count: int) -> list[str]:
    """``count`` jobs as earlier runs left them (most with a video on disk, a few failed or still running)."""
    data = DataDir(root).ensure()
    store = JobStore(data.database, world="sandbox")  # the sandbox window shows the sandbox's jobs
    now = time.time()
    for n in range(count):
        created = now - n * 0.2 * DAY  # every fifth of a day: the newest 15 are within the queue's 3 days
        if n % 10 == 3:
            job = make_job(f"run{n:04d}", JobState.RUNNING, created_at=created, remote_id=f"r{n}")
        elif n % 10 == 7:
            job = make_job(f"bad{n:04d}", JobState.FAILED, created_at=created, error="refused")
        else:
            video = data.library / f"v{n:04d}.mp4"
            if n % 10 != 5:  # every tenth video was moved away since
                video.parent.mkdir(parents=True, exist_ok=True)
                video.write_bytes(b"\0" * 16)
            job = make_job(f"ok{n:04d}", JobState.COMPLETED, created_at=created, video_path=str(video))
        store.add(job)
    store.annotate("ok0041", Annotation(True, 5, "the best one"))
    ids = store.ids_newest_first()
    store.close()
    return ids


async def test_the_window_shows_before_the_jobs_are_read_then_lists_them_all(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = fill_store(tmp_path / "data", 60)
    monkeypatch.setattr(MainWindow, "page_size", 7)
    runtime = sandbox_runtime(tmp_path / "data")
    await runtime.start()
    try:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.confirm_close = lambda title, text: True
        pages: list[int] = []
        window.job_pages.page.connect(lambda jobs, _on_disk: pages.append(len(jobs)))
        # Built and shown with only the unfinished jobs read: they are in the queue; the library is still empty.
        window.show()
        running = {i for i in ids if i.startswith("run")}
        assert {j.id for j in window.queue_model.jobs()} == running
        assert {j.id for j in window.job_list.jobs()} == running and not window.job_list.loaded
        assert window.library.proxy.rowCount() == 0  # no video listed yet

        # An engine event for an old job before its page has been read: the event's newer copy wins.
        old = runtime.store.get("run0053")  # type: ignore[union-attr]
        window._on_job(dataclasses.replace(old, remote_status="still going", progress=50.0))

        await until(lambda: window.job_list.loaded, what="every page")
        assert pages == [7] * 8 + [4] and window.job_pages.pages == math.ceil(60 / 7)
        model = window.job_list
        model.flush()  # engine events are applied in batches
        assert [j.id for j in model.jobs()] == ids  # newest first, each job once
        assert model.item_for("run0053").job.remote_status == "still going"  # type: ignore[union-attr]
        assert model.item_for("ok0041").annotation.note == "the best one"  # type: ignore[union-attr]
        on_disk = {i for i in ids if i.startswith("ok") and int(i[2:]) % 10 != 5}
        assert {j.id for j in model.jobs() if model.item_for(j.id).on_disk} == on_disk  # type: ignore[union-attr]
        assert window.library.count_label.text() == f"{len(on_disk)} of 60"
        recent = {f"ok{n:04d}" for n in range(15) if n % 10 not in (3, 7)} | {"bad0007"}
        window.queue_model.flush()
        assert {j.id for j in window.queue_model.jobs()} == running | recent
        assert [j.created_at for j in window.queue_model.jobs()] == sorted(
            (j.created_at for j in window.queue_model.jobs()), reverse=True)
        await asyncio.sleep(0.05)
        window.close()
    finally:
        await runtime.close()


async def test_closing_while_pages_are_read_stops_reading(qtbot: QtBot, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fill_store(tmp_path / "data", 30)
    monkeypatch.setattr(MainWindow, "page_size", 2)
    runtime = sandbox_runtime(tmp_path / "data")
    await runtime.start()
    try:
        window = MainWindow(runtime)
        qtbot.addWidget(window)
        window.confirm_close = lambda title, text: True
        window.show()
        await until(lambda: window.job_pages.pages >= 1, what="the first page")
        window.close()
        read = window.job_pages.pages
    finally:
        await runtime.close()  # the store closes: no page may be read after this
    await asyncio.sleep(0.2)
    assert window.job_pages.pages == read < 15 and not window.job_list.loaded


FIRST_FRAME = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QMainWindow, QWidget
from core.paths import DataDir
from gui import app as gui_app

class Paints(QObject):
    seen = 0
    def eventFilter(self, watched, event):
        if (event.type() == QEvent.Type.Paint and isinstance(watched, QWidget)
                and isinstance(watched.window(), QMainWindow)):
            Paints.seen += 1
        return False

qt = gui_app.make_application([sys.argv[0]])
paints = Paints()
qt.installEventFilter(paints)
window = gui_app.show_first_frame(DataDir(Path(sys.argv[1])), sandbox=sys.argv[2] == "sandbox")
heavy = ("httpx", "keyring", "PIL", "av", "PySide6.QtMultimedia", "qasync", "aiohttp", "ssl", "sqlite3",
         "core.engine", "core.runtime", "core.store", "core.providers", "core.sandbox")
print(json.dumps({"paints": Paints.seen, "visible": window.isVisible(), "title": window.windowTitle(),
                  "banner": window.banner.isVisible(), "imported": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.parametrize("world", ["real", "sandbox"])
def test_the_first_frame_is_painted_before_the_core_is_imported(tmp_path: Path, world: str) -> None:
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_LOGGING_RULES": "qt.*=false"}
    done = subprocess.run([sys.executable, "-c", FIRST_FRAME, str(tmp_path / "home"), world], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frame = json.loads(done.stdout.splitlines()[-1])
    assert frame["paints"] > 0 and frame["visible"]
    assert frame["imported"] == []  # no keyring, TLS, HTTP, store, providers, media or event loop before it
    assert frame["banner"] == (world == "sandbox")
    assert frame["title"] == ("SANDBOX · Reeldeck" if world == "sandbox" else "Reeldeck")


async def test_the_first_frame_becomes_the_window_and_last_times_job_resumes(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import memory_keys

    from core.submission import JobRequest
    from gui.app import run_window, show_first_frame

    root = tmp_path / "home"
    first = sandbox_runtime(root, job_seconds=2.0)
    await first.start()
    job = await first.engine.submit(JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "Survives"}))  # type: ignore[union-attr]
    await until(lambda: first.store.get(job.id).remote_id is not None, what="the remote id")  # type: ignore[union-attr]
    await first.close()

    frame = show_first_frame(DataDir(root), sandbox=True, paint=False)
    qtbot.addWidget(frame)
    assert frame.isVisible() and not frame.attached
    settings = next(a for a in frame.findChildren(QAction) if a.text() == "&Settings…")
    assert not settings.isEnabled()  # nothing to set before the core is up
    running = asyncio.ensure_future(run_window(DataDir(root), True, keys=memory_keys(), window=frame))
    await until(lambda: running.done() or frame.attached, what="the window to get its core")
    assert not running.done(), running.exception()
    assert settings.isEnabled() and frame.composer.isVisible() and frame.tabs.widget(1) is frame.library
    await until(lambda: (frame.queue_model.find(job.id) or job).state == JobState.COMPLETED, timeout=60,
                what="last time's job to resume and complete")
    frame.confirm_close = lambda title, text: True
    frame.close()
    assert await asyncio.wait_for(running, 30) == 0


async def test_closing_the_first_frame_before_the_core_is_up_loses_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import memory_keys

    from gui.app import run_window, show_first_frame

    ids = fill_store(tmp_path / "home", 5)
    frame = show_first_frame(DataDir(tmp_path / "home"), sandbox=True, paint=False)
    qtbot.addWidget(frame)
    quit_action = next(a for a in frame.findChildren(QAction) if a.text() == "&Quit")
    quit_action.trigger()  # before the loop ran the start: nothing to confirm, nothing read yet
    assert not frame.isVisible()
    assert await asyncio.wait_for(run_window(DataDir(tmp_path / "home"), True, keys=memory_keys(), window=frame),
                                  30) == 0
    assert not frame.attached
    store = JobStore(DataDir(tmp_path / "home").database, world="sandbox")
    try:
        assert store.ids_newest_first() == ids
        assert store.get("run0003").state == JobState.RUNNING  # type: ignore[union-attr]
    finally:
        store.close()
