"""The player's controls and keyboard shortcuts on a real MP4."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_video
from PySide6.QtCore import QPoint, Qt
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from gui.player import PlayerWidget, timecode

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


@pytest.fixture
def player(qtbot: QtBot, tmp_path: Path) -> PlayerWidget:
    widget = PlayerWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_plays_and_controls(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=3.0, fps=12)
    frames: list[object] = []
    player.video_sink().videoFrameChanged.connect(frames.append)
    assert player.load(str(video))
    qtbot.waitUntil(lambda: len(frames) > 2, timeout=15_000)
    qtbot.waitUntil(lambda: player.player.duration() > 2500, timeout=10_000)
    assert player.seek.maximum() == player.player.duration()

    player.toggle_play()
    qtbot.waitUntil(lambda: player.player.playbackState() == QMediaPlayer.PlaybackState.PausedState)
    player.player.setPosition(1000)
    qtbot.waitUntil(lambda: player.player.position() == 1000)
    player.step_frames(1)
    assert player.frame_ms() == pytest.approx(1000 / 12, rel=0.05)
    qtbot.waitUntil(lambda: abs(player.player.position() - 1083) <= 2)
    player.step_frames(-1)
    qtbot.waitUntil(lambda: abs(player.player.position() - 1000) <= 2)

    player.toggle_loop()
    assert player.player.loops() == QMediaPlayer.Loops.Infinite and player.loop_button.isChecked()
    player.set_speed(2.0)
    assert player.player.playbackRate() == 2.0
    player.toggle_mute()
    assert player.audio.isMuted() and player.mute_button.isChecked()
    player.volume.setValue(30)
    assert player.audio.volume() == pytest.approx(0.3)


def test_keyboard_shortcuts(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=12.0, fps=6, size=(96, 64))
    player.load(str(video), autoplay=False)
    qtbot.waitUntil(lambda: player.player.duration() > 10_000, timeout=10_000)
    player.setFocus()
    qtbot.waitUntil(player.hasFocus)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: player.player.position() >= 5000)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: player.player.position() < 1000)
    qtbot.keyClick(player, Qt.Key.Key_M)
    assert player.audio.isMuted()
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.player.loops() == QMediaPlayer.Loops.Infinite
    volume = player.volume.value()
    qtbot.keyClick(player, Qt.Key.Key_Down)
    assert player.volume.value() == volume - 10
    qtbot.keyClick(player, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)
    qtbot.keyClick(player, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState)


def test_missing_file_says_so(player: PlayerWidget, tmp_path: Path) -> None:
    assert not player.load(str(tmp_path / "gone.mp4"))
    assert "missing" in player.placeholder.text()
    assert not player.play_button.isEnabled()


def test_a_click_on_the_track_seeks_where_clicked(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=8.0, fps=12, size=(96, 64))
    player.load(str(video), autoplay=False)
    qtbot.waitUntil(lambda: player.player.duration() > 7000, timeout=10_000)
    duration = player.player.duration()
    groove = player.seek.groove_rect()
    x = groove.left() + round(groove.width() * 0.75)
    qtbot.mouseClick(player.seek, Qt.MouseButton.LeftButton, pos=QPoint(x, groove.center().y()))
    qtbot.waitUntil(lambda: abs(player.player.position() - 0.75 * duration) < 0.05 * duration, timeout=5000)
    assert player.seek.value() == pytest.approx(0.75 * duration, abs=0.05 * duration)


def test_the_end_of_a_clip_holds_its_last_frame(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=1.0, fps=12, size=(96, 64))
    taken: list[float] = []
    player.frameRequested.connect(lambda _path, seconds: taken.append(seconds))
    player.load(str(video))
    qtbot.waitUntil(lambda: player.player.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia
                    or player.held_at_end, timeout=15_000)
    sink = player.video_sink()
    last_frame_us = round(11 / 12 * 1_000_000)
    qtbot.waitUntil(lambda: sink.videoFrame().isValid() and abs(sink.videoFrame().startTime() - last_frame_us) < 2000,
                    timeout=5000)
    assert player.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    player.use_frame_button.click()
    assert taken == [pytest.approx(11 / 12, abs=0.002)]  # the frame on screen, not a time past the end
    player.toggle_play()  # from the end, play starts again at the beginning
    qtbot.waitUntil(lambda: player.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)
    qtbot.waitUntil(lambda: player.player.position() < 900, timeout=5000)


def test_time_code_and_frame_number(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", seconds=3.0, fps=12, size=(96, 64))
    player.load(str(video), autoplay=False)
    qtbot.waitUntil(lambda: player.player.duration() > 2500, timeout=10_000)
    player.player.setPosition(1000)  # frame 13 (from 1.000 s to 1.083 s) of 36
    qtbot.waitUntil(lambda: "0:01.000" in player.time_label.text(), timeout=5000)
    assert "frame 13 / 36" in player.time_label.text()
    assert "0:03.000" in player.time_label.text()
    assert timecode(61_250) == "1:01.250" and timecode(3_723_004) == "1:02:03.004"


def test_frame_step_buttons_do_not_look_like_seek_buttons(player: PlayerWidget) -> None:
    seek_back = player.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward).pixmap(16).toImage()
    seek_forward = player.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward).pixmap(16).toImage()
    back = player.back_button.icon().pixmap(16).toImage()
    forward = player.forward_button.icon().pixmap(16).toImage()
    assert not back.isNull() and not forward.isNull()
    assert back != seek_back and forward != seek_forward and back != forward
    assert "frame" in player.back_button.toolTip().lower() and "frame" in player.forward_button.toolTip().lower()
