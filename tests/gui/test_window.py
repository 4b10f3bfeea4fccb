"""The whole window in sandbox mode: submit → queue → completes → selecting it plays it (frames reach a sink)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, until
from PySide6.QtMultimedia import QVideoFrame
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.runtime import Runtime
from gui.main_window import MainWindow
from gui.queue_model import Column

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


async def make_window(qtbot: QtBot, runtime: Runtime) -> MainWindow:
    """Show the window and wait until it is on screen (closing a never-exposed QVideoWidget makes Qt warn)."""
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.confirm_close = lambda title, text: True
    window.show()
    await until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), what="exposure")
    await asyncio.sleep(0.05)
    return window


async def test_submit_complete_and_play(qtbot: QtBot, runtime: Runtime) -> None:
    window = await make_window(qtbot, runtime)
    assert window.banner.isVisible() and "SANDBOX" in window.banner.text()
    assert window.windowTitle() == "SANDBOX · Reeldeck"  # never "Reeldeck — SANDBOX — Reeldeck"
    composer = window.composer
    assert composer.select("aihubmix", "veo-3.1-generate-preview")
    composer.set_prompt("A red fox trots through fresh snow at dawn")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit_button.click()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    job = window.queue_model.job(0)
    assert job is not None and job.provider == "aihubmix"
    await until(lambda: window.queue_model.job(0).state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the job to complete")
    done = window.queue_model.job(0)
    assert done is not None and done.video_path and Path(done.video_path).is_file()
    frames: list[QVideoFrame] = []
    window.player.video_sink().videoFrameChanged.connect(lambda frame: frames.append(frame))
    window.queue_view.table.setCurrentIndex(window.queue_model.index(-1, 0))  # nothing selected
    window.queue_view.select_job(done.id)
    await until(lambda: window.player.path == done.video_path, what="the player to load the video")
    await until(lambda: len(frames) > 2, timeout=20, what="video frames at the sink")
    assert frames[-1].isValid()
    assert window.queue_model.data(window.queue_model.index(0, Column.STATE)) == "Completed"
    await until(lambda: window.job_list.row_of(done.id) >= 0, what="the video in the library")
    await until(lambda: window.job_list.item_for(done.id).on_disk,  # type: ignore[union-attr]
                what="the library to know the video is on disk")
    if window.in_background():  # offscreen windows are never active: the finish was notified
        assert any(n.startswith("Video ready") for n in window.notifications)
    window.close()


async def test_drop_anywhere_fills_the_first_empty_slot(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    from guikit import make_image
    from test_slots import drag_and_drop, mime_for_files

    window = await make_window(qtbot, runtime)
    window.composer.select("gateway", "viduq3p-720p")
    first, second = make_image(tmp_path / "first.png"), make_image(tmp_path / "second.png")
    assert drag_and_drop(window, mime_for_files(first)) == (True, True)
    assert drag_and_drop(window.queue_view, mime_for_files(second)) == (True, True)  # any child: it bubbles up
    assert window.composer.request().inputs == {  # type: ignore[union-attr]
        "image": [str(first)], "last_image": [str(second)]}
    window.close()


async def test_duplicate_fills_the_form(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    from guikit import make_image

    from core.submission import JobRequest

    engine = runtime.engine
    assert engine is not None
    image = make_image(tmp_path / "still.png", (640, 480))
    job = await engine.submit(JobRequest("gateway", "viduq3p-720p", {"prompt": "Again please", "duration": 7,
                                                                    "seed": 42}, {"image": [str(image)]}),
                              start=False)
    window = await make_window(qtbot, runtime)
    window.queue_model.flush()
    window.composer.select("aihubmix", "veo-3.1-generate-preview")
    window.queue_view.select_job(job.id)
    window.queue_view.duplicate_selected()
    composer = window.composer
    assert (composer.provider_id, composer.model.id) == ("gateway", "viduq3p-720p")  # type: ignore[union-attr]
    values = composer.form.values()  # type: ignore[union-attr]
    assert values["prompt"] == "Again please" and values["duration"] == 7 and values["seed"] == "42"
    assert composer.request().inputs == {"image": job.inputs["image"]}  # type: ignore[union-attr]
    await until(lambda: composer.valid, what="the duplicated form to be valid")
    window.close()


async def test_close_with_running_jobs_and_resume_next_launch(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import sandbox_runtime

    from core.submission import JobRequest

    root = tmp_path / "data"
    first = sandbox_runtime(root, job_seconds=2.0)
    await first.start()
    window = await make_window(qtbot, first)
    asked: list[str] = []
    window.confirm_close = lambda title, text: asked.append(text) or True
    request = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "Survives a restart"})
    job = await first.engine.submit(request)  # type: ignore[union-attr]
    await until(lambda: first.store.get(job.id).remote_id is not None, what="the remote id")  # type: ignore[union-attr]
    window.save_layout()
    window.resize(701, 555)
    await asyncio.sleep(0.1)
    window.close()
    assert asked and "resume" in asked[0] and "1 job is still running" in asked[0]
    await first.close()
    assert first.store is not None
    again = sandbox_runtime(root, job_seconds=2.0)
    await again.start()
    try:
        assert again.store.get(job.id).state == JobState.RUNNING  # type: ignore[union-attr]
        second = await make_window(qtbot, again)
        assert (second.size().width(), second.size().height()) == (701, 555)  # geometry remembered
        assert second.resume() == [job.id]
        await until(lambda: (second.queue_model.find(job.id) or job).state == JobState.COMPLETED, timeout=60,
                    what="the resumed job to complete")
        second.close()
    finally:
        await again.close()


async def test_refuses_to_close_when_asked_not_to(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import sandbox_runtime

    from core.submission import JobRequest

    rt = sandbox_runtime(tmp_path / "data", job_seconds=30.0)
    await rt.start()
    try:
        window = await make_window(qtbot, rt)
        await rt.engine.submit(JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "Keep going"}))  # type: ignore[union-attr]
        window.confirm_close = lambda title, text: False
        window.close()
        assert window.isVisible()
        window.confirm_close = lambda title, text: True
        window.close()
        assert not window.isVisible()
    finally:
        await rt.close()


async def test_run_window_starts_resumes_and_stops(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import memory_keys

    import gui.app
    from core.paths import DataDir
    from gui.main_window import MainWindow

    task = asyncio.ensure_future(gui.app.run_window(DataDir(tmp_path / "home"), sandbox=True, keys=memory_keys()))

    def window() -> MainWindow | None:
        from PySide6.QtWidgets import QApplication

        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()),
                    None)

    await until(lambda: window() is not None, what="the window")
    shown = window()
    assert shown is not None and shown.sandbox and shown.banner.isVisible()
    shown.confirm_close = lambda title, text: True
    shown.close()
    assert await asyncio.wait_for(task, 30) == 0


async def test_first_run_shows_veo_and_later_runs_the_last_model(qtbot: QtBot, runtime: Runtime) -> None:
    window = await make_window(qtbot, runtime)
    assert (window.composer.provider_id, window.composer.model.id) == ("aihubmix", "veo-3.1-generate-preview")  # type: ignore[union-attr]
    assert window.composer.select("gateway", "viduq3t-1080p")
    window.save_layout()
    window.close()
    again = await make_window(qtbot, runtime)
    assert (again.composer.provider_id, again.composer.model.id) == ("gateway", "viduq3t-1080p")  # type: ignore[union-attr]
    again.close()


async def test_help_lists_shortcuts_and_opens_the_data_folder_and_log(
    qtbot: QtBot, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QDesktopServices

    window = await make_window(qtbot, runtime)
    lines = dict((what, keys) for keys, what in window.shortcut_lines())
    assert {"Settings", "Track a task by id", "Keyboard shortcuts", "Retry"} <= set(lines)
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    for action in help_menu.actions():
        if action.text() in ("Open the &data folder", "Open the &log"):
            action.trigger()
    assert opened[0] == str(runtime.data.root)
    assert opened[1] in (str(runtime.data.logs / "reeldeck.log"), str(runtime.data.logs))
    window.close()
