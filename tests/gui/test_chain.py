"""Chaining clips: "Use this frame" / "Use last frame" put the exact frame (PyAV) into the slot the person picks."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, until
from PIL import Image, ImageChops
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.frames import frame_at
from core.jobs import JobState
from core.runtime import Runtime
from gui.chain import SlotChoice

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)]


def coloured_video(path: Path, fps: int = 4) -> Path:
    """Frame i is a flat COLOURS[i], on screen from i/fps to (i+1)/fps (lossless, so colours survive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv444p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        for colour in COLOURS:
            container.mux(stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour))))
        container.mux(stream.encode(None))
    return path


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(pixel[:3], colour, strict=True))


def same_pixels(first: Image.Image, second: Image.Image) -> bool:
    return ImageChops.difference(first.convert("RGB"), second.convert("RGB")).getbbox() is None


async def test_use_this_frame_goes_into_the_chosen_slot(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    video = coloured_video(tmp_path / "colours.mp4")
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("gateway", "viduq3p-720p")  # first frame and last frame: the person picks
    offered: list[list[SlotChoice]] = []
    window.chainer.choose_slot = lambda choices: offered.append(choices) or "last_image"

    window.player.load(str(video), autoplay=False)
    await until(lambda: window.player.player.duration() == 1500, what="the video to load")
    window.player.player.setPosition(800)  # frame 3 is on screen from 0.75 s to 1.0 s
    sink = window.player.video_sink()
    await until(lambda: sink.videoFrame().isValid() and sink.videoFrame().startTime() == 750_000,
                what="frame 3 on screen")
    window.tabs.setCurrentIndex(1)
    window.player.use_frame_button.click()

    assert [c.label for c in offered[0]] == ["First frame", "Last frame"]
    slot = composer.slots.widgets["last_image"]  # type: ignore[union-attr]
    await until(lambda: bool(slot.values()), what="the frame in the last-frame slot")
    assert composer.slots.widgets["image"].values() == []  # type: ignore[union-attr]
    assert window.tabs.currentIndex() == 0  # back in the Studio, where the form is
    saved = Image.open(slot.values()[0])
    expected, at = frame_at(video, 0.8)
    assert at == pytest.approx(0.75)
    assert close_to(saved.getpixel((10, 10)), COLOURS[3]) and same_pixels(saved, expected)
    assert Path(slot.values()[0]).parent == runtime.data.root / "frames"
    await until(lambda: not composer.slots.busy(), what="the preview")  # type: ignore[union-attr]
    window.close()


async def test_use_last_frame_from_library_and_queue(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    video = coloured_video(tmp_path / "colours.mp4")
    assert runtime.store is not None
    runtime.store.add(make_job("chain01", JobState.COMPLETED, video_path=str(video)))
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("aihubmix", "sora-2")  # one image slot: no question asked
    window.chainer.choose_slot = lambda choices: pytest.fail("asked although there is one slot")  # type: ignore[assignment,return-value]
    window.tabs.setCurrentIndex(1)
    await until(lambda: window.job_list.loaded, what="the library")
    assert window.library.select_job("chain01")
    assert window.library.last_frame_button.isEnabled()
    window.library.last_frame_button.click()
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    await until(lambda: bool(slot.values()), what="the last frame in the first-frame slot")
    assert close_to(Image.open(slot.values()[0]).getpixel((5, 5)), COLOURS[-1])

    assert composer.select("gateway", "viduq3p-mix-720p")  # reference images: the frame is added as the next one
    window.queue_model.flush()
    assert window.queue_view.select_job("chain01")
    assert window.queue_view.last_frame_action.isEnabled()
    window.queue_view.last_frame_action.trigger()
    refs = composer.slots.widgets["ref_image"]  # type: ignore[union-attr]
    await until(lambda: len(refs.values()) == 1, what="the frame as @Image1")
    refs.add_items([str(tmp_path / "x.png")] * 3)  # now full
    messages: list[str] = []
    window.chainer.message.connect(messages.append)
    assert not window.chainer.use_frame(str(video), None)
    assert messages and "full" in messages[0]
    await until(lambda: not composer.slots.busy(), what="the previews")  # type: ignore[union-attr]
    window.close()


async def test_a_broken_video_is_a_message_not_a_crash(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"junk" * 10)
    window = await make_window(qtbot, runtime)
    window.composer.select("aihubmix", "sora-2")
    messages: list[str] = []
    window.chainer.message.connect(messages.append)
    assert window.chainer.use_frame(str(bad), 0.5)
    await until(lambda: bool(messages), what="the error")
    assert "Cannot read frames" in messages[0]
    assert window.composer.slots.widgets["image"].values() == []  # type: ignore[union-attr]
    window.close()
