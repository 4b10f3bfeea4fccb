"""The player's controls and keyboard shortcuts on a real MP4."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_video
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from gui.player import PlayerWidget

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
