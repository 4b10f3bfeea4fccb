"""The Sequence tab: drag finished videos in and reorder them, trim, play as one piece, export (with cancel), keep
sequences across a restart, and continue a clip with a new job that lands right after it (sandbox end to end)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, sandbox_runtime, until
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.jobs import JobState
from core.runtime import Runtime
from gui.main_window import MainWindow
from gui.sequence_view import SequenceView

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]

RED, GREEN, BLUE = (230, 30, 30), (30, 200, 30), (30, 30, 230)


def flat_video(path: Path, colour: tuple[int, int, int], *, frames: int = 12, size: tuple[int, int] = (96, 64),
               fps: int = 12) -> Path:
    """A real H.264 MP4 of one flat colour (a moving mark keeps frames distinct)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            picture = Image.new("RGB", size, colour)
            picture.paste((255, 255, 255), (index % size[0], 0, index % size[0] + 3, 3))
            container.mux(stream.encode(av.VideoFrame.from_image(picture)))
        container.mux(stream.encode(None))
    return path


def add_finished(runtime: Runtime, job_id: str, video: Path) -> None:
    assert runtime.store is not None
    runtime.store.add(make_job(job_id, JobState.COMPLETED, prompt=f"clip {job_id}", video_path=str(video)))


def decode(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as container:
        return [f.to_image() for f in container.decode(container.streams.video[0])]


def near(pixel: object, colour: tuple[int, int, int], tolerance: int = 14) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))  # type: ignore[index]


def centre(image: Image.Image) -> object:
    return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


async def sequence_tab(qtbot: QtBot, runtime: Runtime) -> tuple[MainWindow, SequenceView]:
    window = await make_window(qtbot, runtime)
    window.tabs.setCurrentWidget(window.sequence_view)
    await until(lambda: window.job_list.loaded, what="the library")
    return window, window.sequence_view


def drag_in(view: SequenceView, job_ids: list[str], row: int) -> bool:
    """What a drop of finished videos on the strip does: the list's drag data, dropped at ``row``."""
    source = view.finished_clips
    indexes = [source.index(r, 0) for r in range(source.rowCount()) if source.job_at(r).id in job_ids]  # type: ignore[union-attr]
    data = source.mimeData(indexes)
    assert view.strip_model.canDropMimeData(data, Qt.DropAction.CopyAction, row, 0, QModelIndex())
    return view.strip_model.dropMimeData(data, Qt.DropAction.CopyAction, row, 0, QModelIndex())


def drag_strip(view: SequenceView, source_row: int, target_row: int) -> None:
    """What dragging a strip clip to another place does: the strip's own drag data, dropped at ``target_row``."""
    model = view.strip_model
    data = model.mimeData([model.index(source_row, 0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, target_row, 0, QModelIndex())


def order(view: SequenceView) -> list[str]:
    return [view.strip_model.clip(r).job_id for r in range(view.strip_model.rowCount())]  # type: ignore[union-attr]


async def test_drag_in_reorder_and_trim_are_stored(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    for job_id, colour in (("red", RED), ("green", GREEN), ("blue", BLUE)):
        add_finished(runtime, job_id, flat_video(tmp_path / f"{job_id}.mp4", colour))
    window, view = await sequence_tab(qtbot, runtime)
    assert view.strip.dragDropMode() == view.strip.DragDropMode.DragDrop
    assert view.finished_clips.rowCount() == 3 and view.current is None

    view.new_sequence("Colours")
    assert drag_in(view, ["red", "blue"], 0)  # dropped in the list's order: newest first
    assert order(view) == ["blue", "red"]
    drag_strip(view, 0, 2)
    assert drag_in(view, ["green"], 1)  # dropped between the two
    assert order(view) == ["red", "green", "blue"]
    drag_strip(view, 0, 3)  # the first clip to the end
    assert order(view) == ["green", "blue", "red"]
    drag_strip(view, 2, 0)
    assert order(view) == ["red", "green", "blue"]
    assert runtime.store is not None
    assert [c.job_id for c in runtime.store.sequences()[0].clips] == ["red", "green", "blue"]

    view.strip.selectionModel().setCurrentIndex(view.strip_model.index(1, 0),
                                                QItemSelectionModel.SelectionFlag.ClearAndSelect)
    await until(lambda: view.in_spin.isEnabled(), what="the clip's facts")
    assert view.out_spin.value() == pytest.approx(1.0)
    view.in_spin.setValue(0.25)
    view.out_spin.setValue(0.75)
    stored = runtime.store.sequences()[0].clips[1]
    assert (stored.start, stored.end) == (pytest.approx(0.25), pytest.approx(0.75))
    assert "0.25 s – 0.75 s" in view.strip_model.index(1, 0).data()
    await until(lambda: "frames" in view.plan_label.text(), what="the plan")
    assert "30 frames" in view.plan_label.text() and "between keyframes" in view.plan_label.text()

    messages: list[str] = []
    view.message.connect(messages.append)
    view.out_spin.setValue(0.1)  # before the in point: refused, nothing changes
    assert messages and "after the in point" in messages[-1]
    assert runtime.store.sequences()[0].clips[1].end == pytest.approx(0.75)
    assert view.out_spin.value() == pytest.approx(0.75)
    window.close()


async def test_plays_as_one_piece_and_exports_with_progress(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    add_finished(runtime, "red", flat_video(tmp_path / "red.mp4", RED))
    add_finished(runtime, "blue", flat_video(tmp_path / "blue.mp4", BLUE, size=(64, 64)))
    window, view = await sequence_tab(qtbot, runtime)
    view.new_sequence("Two")
    assert drag_in(view, ["red"], 0) and drag_in(view, ["blue"], 1)
    view.crossfade_spin.setValue(2)

    view.preview.play_button.click()
    await until(lambda: not view.preview.playing, timeout=30, what="the preview to play to its end")
    assert view.preview.frames_shown == view.preview.total == 22
    shown = view.preview.last_image
    assert shown is not None and (shown.width(), shown.height()) == (96, 64)  # the first clip's size
    assert near(shown.pixelColor(48, 32).getRgb(), BLUE) and near(shown.pixelColor(3, 32).getRgb(), (0, 0, 0))

    progress: list[int] = []
    view.progress.valueChanged.connect(progress.append)
    target = tmp_path / "out" / "two.mp4"
    view.pick_file = lambda suggested: str(target)
    finished: list[tuple[str, bool]] = []
    view.exportFinished.connect(lambda text, ok: finished.append((text, ok)))
    view.export_button.click()
    assert view.cancel_button.isVisible() and not view.export_button.isEnabled()
    await until(lambda: bool(finished), timeout=60, what="the export")
    assert finished[0][1], finished[0][0]
    assert progress and progress[-1] == 22  # shown while the window went on
    frames = decode(target)
    assert len(frames) == 22 and frames[0].size == (96, 64)
    assert near(centre(frames[0]), RED) and near(centre(frames[-1]), BLUE)
    assert not view.cancel_button.isVisible() and view.export_button.isEnabled()
    window.close()


async def test_cancel_an_export_leaves_no_file(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    add_finished(runtime, "long", flat_video(tmp_path / "long.mp4", RED, frames=600, size=(320, 240), fps=24))
    add_finished(runtime, "other", flat_video(tmp_path / "other.mp4", BLUE, frames=600, size=(240, 240), fps=24))
    window, view = await sequence_tab(qtbot, runtime)
    view.new_sequence("Long")
    assert drag_in(view, ["long", "other"], 0)
    target = tmp_path / "out" / "long.mp4"
    finished: list[tuple[str, bool]] = []
    view.exportFinished.connect(lambda text, ok: finished.append((text, ok)))
    assert view.export(target)
    await until(lambda: view.progress.value() > 0, timeout=60, what="the first progress")
    view.cancel_button.click()
    await until(lambda: bool(finished), timeout=60, what="the export to stop")
    assert finished == [("The export was cancelled; no file was written.", False)]
    assert not target.exists() and list(target.parent.iterdir()) == []
    window.close()


async def test_sequences_survive_a_restart(qtbot: QtBot, tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = sandbox_runtime(root)
    await first.start()
    try:
        add_finished(first, "red", flat_video(tmp_path / "red.mp4", RED))
        add_finished(first, "blue", flat_video(tmp_path / "blue.mp4", BLUE))
        window, view = await sequence_tab(qtbot, first)
        view.new_sequence("Kept")
        assert drag_in(view, ["red", "blue"], 0)  # newest first: blue, red
        view.quality_combo.setCurrentIndex(view.quality_combo.findData("small"))
        window.close()
    finally:
        await first.close()

    again = sandbox_runtime(root)
    await again.start()
    try:
        window, view = await sequence_tab(qtbot, again)
        assert view.chooser.currentText() == "Kept"
        assert order(view) == ["blue", "red"]
        assert view.quality_combo.currentData() == "small"
        window.close()
    finally:
        await again.close()


async def test_continue_this_clip_appends_the_finished_job(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    add_finished(runtime, "first", flat_video(tmp_path / "first.mp4", RED, size=(160, 96)))
    add_finished(runtime, "last", flat_video(tmp_path / "last.mp4", BLUE, size=(160, 96)))
    window, view = await sequence_tab(qtbot, runtime)
    view.new_sequence("Story")
    assert drag_in(view, ["last"], 0) and drag_in(view, ["first"], 0)
    composer = window.composer
    assert composer.select("aihubmix", "sora-2")  # one image slot: the frame goes there
    view.strip.selectionModel().setCurrentIndex(view.strip_model.index(0, 0),
                                                QItemSelectionModel.SelectionFlag.ClearAndSelect)
    await until(lambda: view.continue_button.isEnabled(), what="the clip selected")
    view.continue_button.click()
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    await until(lambda: bool(slot.values()), what="the clip's last frame in the form")
    assert window.tabs.currentIndex() == 0 and near(Image.open(slot.values()[0]).getpixel((80, 60)), RED)
    await until(lambda: not composer.slots.busy(), what="the preview")  # type: ignore[union-attr]

    composer.set_prompt("The red room turns blue")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit_button.click()
    assert runtime.store is not None
    await until(lambda: bool(runtime.store.sequences()[0].waiting), what="the sequence to wait for the job")
    [(new_id, after)] = runtime.store.sequences()[0].waiting.items()
    assert after == "first"
    await until(lambda: order(view) == ["first", new_id, "last"], timeout=60, what="the continuation in place")
    assert runtime.store.get(new_id).state == JobState.COMPLETED
    stored = runtime.store.sequences()[0]
    assert [c.job_id for c in stored.clips] == ["first", new_id, "last"] and not stored.waiting
    # The queue keeps the new job selected, so the Studio's player plays it: let it start before closing.
    video = runtime.store.get(new_id).video_path
    await until(lambda: window.player.path == video, what="the Studio's player to load the new video")
    sink = window.player.video_sink()
    await until(lambda: sink.videoFrame().isValid(), timeout=20, what="a frame on screen")
    window.close()
