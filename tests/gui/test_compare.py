"""The compare view: 2–4 videos under one transport, kept in sync by a master clock; keyboard driven."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, make_video
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtMultimedia import QMediaPlayer
from pytestqt.qtbot import QtBot

from core.jobs import Job, JobState
from gui.compare import CompareView, best_grid, pane_label
from gui.player import timecode

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]

PLAYING = QMediaPlayer.PlaybackState.PlayingState
#: Players report positions frame by frame (24 fps here: every 42 ms), at slightly different moments; two panes in
#: sync therefore read up to about two frames apart.
TOLERANCE_MS = 100


def video_jobs(tmp_path: Path, lengths: tuple[float, ...]) -> list[Job]:
    jobs = []
    providers = [("aihubmix", "sora-2"), ("gateway", "viduq3p-720p"), ("novita", "img2video-motion"),
                 ("aimlapi", "video-01-live2d")]
    for index, seconds in enumerate(lengths):
        provider, model = providers[index]
        video = make_video(tmp_path / f"clip{index}.mp4", seconds=seconds, fps=24, size=(160, 96))
        job = make_job(f"cmp{index}", JobState.COMPLETED, provider=provider, model=model, video_path=str(video),
                       prompt=f"Take {index}")
        job.params["seed"] = 100 + index
        jobs.append(job)
    return jobs


@pytest.fixture
def view(qtbot: QtBot) -> CompareView:
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def loaded(view: CompareView) -> bool:
    return bool(view.panes) and all(p.duration > 0 for p in view.panes)


def spread(view: CompareView) -> int:
    positions = view.positions()
    return max(positions) - min(positions)


def test_play_seek_and_pause_keep_every_pane_together(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    jobs = video_jobs(tmp_path, (4.0, 5.0, 4.5))
    assert view.set_jobs(jobs) == jobs
    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    assert view.master is view.panes[1]  # the longest clip is the clock
    assert view.duration() == view.panes[1].duration

    view.play()
    assert view.playing and view.sync_timer.isActive()
    qtbot.waitUntil(lambda: view.position() > 300, timeout=10_000)
    view.seek(2000)
    qtbot.waitUntil(lambda: all(p > 2200 for p in view.positions()), timeout=10_000)
    for _ in range(5):  # sampled while playing, every pane stays within the tolerance of the others
        qtbot.waitUntil(lambda: spread(view) <= TOLERANCE_MS, timeout=2_000)
        before = view.position()
        qtbot.waitUntil(lambda before=before: view.position() > before + 100, timeout=5_000)
    assert all(p.state == PLAYING for p in view.panes)

    view.pause()
    qtbot.waitUntil(lambda: all(p.state != PLAYING for p in view.panes), timeout=5_000)
    qtbot.waitUntil(lambda: spread(view) <= 1, timeout=5_000)  # paused on the master's frame
    frozen = view.positions()
    with qtbot.assertNotEmitted(view.panes[0].player.positionChanged, wait=300):
        pass
    assert view.positions() == frozen


def test_a_drifting_follower_is_pulled_back(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    view.set_jobs(video_jobs(tmp_path, (6.0, 6.0)))
    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    view.play()
    qtbot.waitUntil(lambda: view.position() > 400, timeout=10_000)
    follower = view.followers()[0]
    follower.player.setPosition(view.position() + 900)  # knocked off by 0.9 s behind the view's back
    qtbot.waitUntil(lambda: view.corrections > 0, timeout=5_000)
    qtbot.waitUntil(lambda: spread(view) <= TOLERANCE_MS, timeout=5_000)
    view.pause()


def test_frame_step_speed_and_loop_apply_to_all(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    view.set_jobs(video_jobs(tmp_path, (2.0, 1.0)))
    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    view.seek(500)
    qtbot.waitUntil(lambda: view.positions() == [500, 500], timeout=5_000)
    view.step_frames(1)
    qtbot.waitUntil(lambda: view.positions() == [542, 542], timeout=5_000)
    view.step_frames(-1)
    qtbot.waitUntil(lambda: view.positions() == [500, 500], timeout=5_000)
    view.seek(1500)  # past the shorter clip: it stands on its last frame
    qtbot.waitUntil(lambda: view.positions() == [1500, 999], timeout=5_000)

    view.set_speed(2.0)
    assert all(p.player.playbackRate() == 2.0 for p in view.panes)
    view.set_loop(True)
    view.play()
    qtbot.waitUntil(lambda: view.position() < 400 and view.playing, timeout=10_000)  # wrapped round to the start
    qtbot.waitUntil(lambda: all(p.state == PLAYING for p in view.panes), timeout=5_000)
    view.set_loop(False)
    qtbot.waitUntil(lambda: not view.playing, timeout=10_000)  # stops at the end, on the last frames
    assert view.positions() == [p.duration - 1 for p in view.panes]


def test_labels_keys_swap_and_remove(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    jobs = video_jobs(tmp_path, (1.0, 1.0, 1.0, 1.0))
    view.set_jobs(jobs)
    assert [p.label.text() for p in view.panes] == [pane_label(j) for j in jobs]
    assert view.panes[0].label.text() == "AIHubMix · Sora 2 · seed 100"
    cells = [view.grid.getItemPosition(view.grid.indexOf(p))[:2] for p in view.panes]
    assert cells == [(0, 0), (0, 1), (1, 0), (1, 1)]  # four panes make a 2 × 2 grid
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)

    qtbot.keyClick(view, Qt.Key.Key_3)
    assert view.focused is view.panes[2] and view.panes[2].focused
    assert not view.panes[2].audio.isMuted() and view.panes[0].audio.isMuted()
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)  # move the focused pane left
    assert [p.job.id for p in view.panes] == ["cmp0", "cmp2", "cmp1", "cmp3"]
    assert view.panes[1].number.text() == "<b>2</b>"
    view.swap(0, 3)
    assert [p.job.id for p in view.panes] == ["cmp3", "cmp2", "cmp1", "cmp0"]
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # removes the focused one (cmp2)
    assert [p.job.id for p in view.panes] == ["cmp3", "cmp1", "cmp0"]
    assert view.focused is view.panes[1]
    view.panes[0].remove_button.click()
    assert [p.job.id for p in view.panes] == ["cmp1", "cmp0"]

    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.playing and all(p.state == PLAYING for p in view.panes), timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: all(p.state != PLAYING for p in view.panes), timeout=5_000)
    view.seek(250)
    qtbot.waitUntil(lambda: view.positions() == [250, 250], timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: view.positions() == [292, 292], timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_Comma)
    qtbot.waitUntil(lambda: view.positions() == [250, 250], timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_L)
    assert view.looping and view.loop_button.isChecked()

    seen: list[tuple[str, float]] = []
    view.frameRequested.connect(lambda path, seconds: seen.append((path, seconds)))
    view.focus_pane(1)
    view.use_frame_button.click()
    assert seen and seen[0][0] == view.panes[1].path and seen[0][1] == pytest.approx(0.25, abs=0.05)

    view.clear()
    assert view.placeholder.isVisibleTo(view) and not view.play_button.isEnabled()


def test_only_four_videos_at_a_time(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    jobs = video_jobs(tmp_path, (1.0, 1.0, 1.0, 1.0))
    extra = make_job("cmp9", JobState.COMPLETED, video_path=jobs[0].video_path)
    messages: list[str] = []
    view.message.connect(messages.append)
    shown = view.set_jobs([*jobs, extra])
    assert len(shown) == 4 and len(view.panes) == 4 and messages


def test_three_landscape_clips_get_wide_panes_at_1024x700(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    view.resize(1000, 600)  # the compare tab of a 1024×700 window
    jobs = video_jobs(tmp_path, (1.0, 1.0, 1.0))  # 160×96: landscape
    view.set_jobs(jobs)
    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    qtbot.waitUntil(lambda: all(p.video.width() > p.video.height() for p in view.panes), timeout=5_000)
    for pane in view.panes:  # a landscape picture fills its pane: no tall, narrow panes with bars above and below
        assert pane.video.width() / pane.video.height() == pytest.approx(160 / 96, rel=0.5)
    rows = {view.grid.getItemPosition(view.grid.indexOf(p))[0] for p in view.panes}
    assert len(rows) == 2


def test_grid_shape_follows_the_room_and_the_pictures() -> None:
    assert best_grid(2, QSize(1000, 560), 16 / 9) == (1, 2)
    assert best_grid(3, QSize(1000, 560), 16 / 9) == (2, 2)
    assert best_grid(3, QSize(1800, 700), 16 / 9) == (1, 3)
    assert best_grid(3, QSize(1000, 560), 9 / 16) == (1, 3)  # portrait clips stand side by side
    assert best_grid(4, QSize(1000, 560), 16 / 9) == (2, 2)
    assert best_grid(2, QSize(500, 900), 16 / 9) == (2, 1)


def test_transport_seeks_where_the_track_is_clicked(qtbot: QtBot, view: CompareView, tmp_path: Path) -> None:
    view.set_jobs(video_jobs(tmp_path, (4.0, 3.0)))
    qtbot.waitUntil(lambda: loaded(view), timeout=10_000)
    groove = view.seek_slider.groove_rect()
    x = groove.left() + round(groove.width() / 2)
    qtbot.mouseClick(view.seek_slider, Qt.MouseButton.LeftButton, pos=QPoint(x, groove.center().y()))
    qtbot.waitUntil(lambda: all(abs(p - 2000) < 200 for p in view.positions()), timeout=5_000)
    qtbot.waitUntil(lambda: view.time_label.text().startswith(timecode(view.position()) + " / 0:04.000 · frame "),
                    timeout=5_000)
