"""The compare view: two to four finished videos side by side, played in sync under one transport.

Panes are arranged in the grid shape (1 × 3, 2 × 2, 3 × 1, …) that shows the pictures largest in the room there is,
for their aspect ratio: three landscape clips in a 1024 × 700 window go 2 × 2, not into three tall, narrow columns.

One master clock — the longest clip's player — drives everything. Every ``SYNC_MS`` a follower's position is
compared with the master's (both estimated between the players' frame-by-frame position reports); when they drift
apart by more than ``DRIFT_MS`` the follower is moved to the master's time. A clip shorter than the master holds
its last frame until the master loops or is sought back.

Keyboard (while the view has focus): Space play/pause, ←/→ seek 1 s, ,/. one frame back/forward, Home to the start,
L loop, 1–4 focus a pane (its sound is the one you hear), Ctrl+←/→ move the focused pane, Delete remove it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.jobs import Job
from core.words import count
from gui.player import (
    bind_keys,
    frame_duration_ms,
    frame_step_buttons,
    media_surface,
    seek_bar,
    shown_frame_seconds,
    speed_box,
    time_code_label,
    time_text,
    tool_button,
    transport_row,
)
from gui.queue_model import excerpt, model_label
from gui.safety import guarded

MAX_PANES = 4
SYNC_MS = 50  # how often followers are checked while playing
DRIFT_MS = 40  # a follower further than this from the master is moved…
DRIFT_CHECKS = 3  # …when it is that far off in this many checks in a row
SETTLE_MS = 350  # after moving a follower, give its seek this long before judging it again
SEEK_MS = 1000  # ← / →
ESTIMATE_CAP_MS = 250  # never extrapolate a player's position further than this past its last report
PANE_CHROME_PX = 48  # a pane's label row, prompt line and border: height that is not picture
DEFAULT_ASPECT = 16 / 9  # until a clip's resolution is known

PLAYING = QMediaPlayer.PlaybackState.PlayingState
PAUSED = QMediaPlayer.PlaybackState.PausedState
STOPPED = QMediaPlayer.PlaybackState.StoppedState


def _now_ms() -> float:
    return time.monotonic() * 1000.0


def best_grid(panes: int, room: QSize, aspect: float) -> tuple[int, int]:
    """(rows, columns) that show ``panes`` pictures of ``aspect`` (width / height) largest in ``room``.

    Each cell loses ``PANE_CHROME_PX`` of height to its label; among equal sizes the wider grid wins.
    """
    if panes <= 1:
        return (1, 1)
    best: tuple[float, int, int] | None = None
    for columns in range(1, panes + 1):
        rows = math.ceil(panes / columns)
        if (rows - 1) * columns >= panes:
            continue  # a whole row would stay empty
        cell_width = room.width() / columns
        cell_height = max(1.0, room.height() / rows - PANE_CHROME_PX)
        width = min(cell_width, cell_height * aspect)
        area = width * (width / aspect)
        if best is None or area > best[0] + 1e-6:
            best = (area, rows, columns)
    assert best is not None
    return best[1], best[2]


def pane_label(job: Job) -> str:
    """'Provider · model · seed 42' (or 'seed —' when the job had none)."""
    seed = job.params.get("seed")
    return f"{model_label(job)} · seed {seed if seed not in (None, '') else '—'}"


class ComparePane(QFrame):
    """One video of the comparison: its own player and video surface, a label, and move/remove buttons."""

    clicked = Signal(object)  # self
    moveRequested = Signal(object, int)  # self, -1 | +1
    removeRequested = Signal(object)  # self

    def __init__(self, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ComparePane")
        self.job = job
        self.path = job.video_path or ""
        self.player, self.audio, self.video = media_surface(self, QSize(200, 112))
        self.audio.setMuted(True)

        self.number = QLabel(self)
        self.number.setObjectName("PaneNumber")
        self.label = QLabel(pane_label(job), self)
        self.label.setObjectName("PaneLabel")
        self.label.setWordWrap(True)  # narrow panes (three in a row) wrap rather than widen the window
        self.label.setToolTip(f"{job.prompt or '(no prompt)'}\n\n{job.provider} / {job.model}, job {job.id}")
        self.prompt = QLabel(excerpt(job.prompt, 90) or "(no prompt)", self)
        self.prompt.setProperty("role", "note")
        self.prompt.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.prompt.setToolTip(job.prompt)
        self.left_button = self._button("◀", "Move this video left (Ctrl+←)", lambda: self.moveRequested.emit(self, -1))
        self.right_button = self._button("▶", "Move this video right (Ctrl+→)",
                                         lambda: self.moveRequested.emit(self, 1))
        self.remove_button = self._button("✕", "Remove this video from the comparison (Delete)",
                                          lambda: self.removeRequested.emit(self))
        header = QHBoxLayout()
        header.setContentsMargins(6, 4, 4, 0)
        header.addWidget(self.number)
        header.addWidget(self.label, 1)
        for button in (self.left_button, self.right_button, self.remove_button):
            header.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.prompt)

        self.reported = 0  # the last position the player reported, and when
        self.reported_at = _now_ms()
        self.settle_until = 0.0
        self.holding = False  # showing its last frame while a longer master plays on
        self.strikes = 0  # checks in a row that found it drifting
        self.player.positionChanged.connect(self._on_position)
        self.set_focused(False)
        self.set_number(1)
        if self.path:
            self.player.setSource(QUrl.fromLocalFile(self.path))
            self.player.pause()  # shows the first frame

    def _button(self, text: str, tip: str, slot: Callable[[], object]) -> QToolButton:
        button = tool_button(self, tip, slot, text=text)
        button.setAutoRaise(True)
        return button

    def set_number(self, number: int) -> None:
        self.number.setText(f"<b>{number}</b>")
        self.number.setToolTip(f"Press {number} to focus this video")

    def set_focused(self, focused: bool) -> None:
        """The focused pane is outlined and is the one whose sound plays."""
        self.focused = focused
        self.audio.setMuted(not focused)
        edge = "palette(highlight)" if focused else "palette(mid)"
        width = 2 if focused else 1
        self.setStyleSheet(f"#ComparePane {{ border: {width}px solid {edge}; border-radius: 6px; }}")

    # --- clock -----------------------------------------------------------------------------------------------

    @property
    def duration(self) -> int:
        return max(0, self.player.duration())

    def aspect(self) -> float | None:
        """The clip's width / height once its resolution is known."""
        size = self.player.metaData().value(QMediaMetaData.Key.Resolution)
        if isinstance(size, QSize) and size.width() > 0 and size.height() > 0:
            return size.width() / size.height()
        return None

    @property
    def state(self) -> QMediaPlayer.PlaybackState:
        return self.player.playbackState()

    def frame_ms(self) -> float:
        return frame_duration_ms(self.player)

    def _on_position(self, position: int) -> None:
        self.reported = position
        self.reported_at = _now_ms()

    def estimate(self, now: float | None = None) -> float:
        """Where the player is now: its last report, moved on by the time since then while it plays."""
        position = float(self.player.position())
        if self.state != PLAYING:
            return position
        now = _now_ms() if now is None else now
        if self.reported != self.player.position():  # a new frame whose report is still on its way
            self._on_position(self.player.position())
            self.reported_at = now
        ahead = min(ESTIMATE_CAP_MS, max(0.0, now - self.reported_at)) * self.player.playbackRate()
        end = self.duration or position + ahead
        return min(position + ahead, float(end))

    def move_to(self, position: float, *, settle: bool = True) -> None:
        """Seek, and (optionally) leave the player alone while the seek settles."""
        self.player.setPosition(max(0, round(position)))
        self.reported = self.player.position()
        self.reported_at = _now_ms()
        self.strikes = 0
        if settle:
            self.settle_until = _now_ms() + SETTLE_MS

    def hold_last_frame(self) -> None:
        """Stand on the last frame (a stopped player at its end shows nothing)."""
        self.holding = True
        if self.duration:
            self.move_to(self.duration - 1, settle=False)
        if self.state != PAUSED:
            self.player.pause()

    def shown_frame_seconds(self) -> float:
        """The time of the frame on screen (see ``gui.player.shown_frame_seconds``)."""
        return shown_frame_seconds(self.video.videoSink(), self.player.position())

    def stop(self) -> None:
        self.player.stop()
        self.player.setSource(QUrl())

    @guarded()
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self)
        super().mousePressEvent(event)


class CompareView(QWidget):
    """2–4 panes and one transport (play, pause, seek, frame step, loop, speed) that drives them all."""

    frameRequested = Signal(str, float)  # video path, seconds: "Use this frame" of the focused pane
    message = Signal(str)
    panesChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CompareView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.panes: list[ComparePane] = []
        self.focused: ComparePane | None = None
        self.playing = False
        self.looping = False
        self.rate = 1.0
        self.corrections = 0  # how often a follower had to be moved (for tests and the curious)

        self.placeholder = QLabel(
            "Compare finished videos side by side.\n\nSelect two to four videos in the Library (Ctrl+click) or in "
            "the queue and press Compare — or select a finished batch in the queue.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("role", "note")
        self.grid_host = QWidget(self)
        self.grid_host.installEventFilter(self)  # a new size may call for another grid shape
        self.shape: tuple[int, int] = (0, 0)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)

        style = self.style()
        self.play_button = tool_button(self, "Play / pause all (Space)", self.toggle_play,
                                       icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.back_button, self.forward_button = frame_step_buttons(
            self, "One frame back, all videos (,)", "One frame forward, all videos (.)", self.step_frames)
        self.seek_slider = seek_bar(self, "CompareSeek", "Seek all videos: click or drag (← / →: 1 s)", self.seek)
        self.time_label = time_code_label(
            self, "Time of the longest clip (minutes:seconds.milliseconds) and its frame number")
        self.loop_button = tool_button(self, "Loop all (L)", self.toggle_loop, text="⟲ Loop")
        self.loop_button.setCheckable(True)
        self.speed = speed_box(self, "Playback speed of all videos", self.set_speed)
        self.use_frame_button = tool_button(self, "Put the focused video's frame on screen into the form",
                                            self.use_frame, text="Use this frame")
        self.status = QLabel(self)
        self.status.setProperty("role", "note")

        transport = transport_row([self.play_button, self.back_button, self.forward_button, self.time_label],
                                  [self.loop_button, self.speed, self.use_frame_button])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.grid_host, 1)
        layout.addWidget(self.seek_slider)
        layout.addLayout(transport)
        layout.addWidget(self.status)

        self.sync_timer = QTimer(self)
        self.sync_timer.setInterval(SYNC_MS)
        self.sync_timer.timeout.connect(self.sync)
        self._shortcuts()
        self._relayout()

    @guarded(False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid_host and event.type() == QEvent.Type.Resize:
            self._arrange()
        return False

    def _shortcuts(self) -> None:
        bindings: dict[str, Callable[[], object]] = {
            "Space": self.toggle_play,
            "Left": lambda: self.seek(self.position() - SEEK_MS),
            "Right": lambda: self.seek(self.position() + SEEK_MS),
            ",": lambda: self.step_frames(-1),
            ".": lambda: self.step_frames(1),
            "Home": lambda: self.seek(0),
            "L": self.toggle_loop,
            "Delete": self.remove_focused,
            "Ctrl+Left": lambda: self._move_focused(-1),
            "Ctrl+Right": lambda: self._move_focused(1),
        }
        for number in range(1, MAX_PANES + 1):
            bindings[str(number)] = partial(self.focus_pane, number - 1)
        self.shortcuts = bind_keys(self, bindings)

    # --- panes -----------------------------------------------------------------------------------------------

    def set_jobs(self, jobs: list[Job]) -> list[Job]:
        """Compare these jobs (finished ones with a video, at most four); returns the ones shown."""
        self.clear()
        usable = [j for j in jobs if j.video_path][:MAX_PANES]
        for job in usable:
            self._add_pane(job)
        if len([j for j in jobs if j.video_path]) > MAX_PANES:
            self.message.emit(f"The compare view shows {MAX_PANES} videos at a time; the first {MAX_PANES} are "
                              "shown.")
        self._relayout()
        if self.panes:
            self.focus_pane(0)
        return usable

    def jobs(self) -> list[Job]:
        return [pane.job for pane in self.panes]

    def _add_pane(self, job: Job) -> ComparePane:
        pane = ComparePane(job, self.grid_host)
        pane.clicked.connect(lambda p: self.focus_pane(self.panes.index(p)) if p in self.panes else None)
        pane.moveRequested.connect(lambda p, offset: self.move_pane(self.panes.index(p), offset))
        pane.removeRequested.connect(lambda p: self.remove_pane(self.panes.index(p)))
        pane.player.durationChanged.connect(lambda _d: self._on_durations())
        pane.player.metaDataChanged.connect(self._arrange)  # its resolution: the best grid shape may change
        pane.player.mediaStatusChanged.connect(lambda status, p=pane: self._on_status(p, status))
        pane.player.positionChanged.connect(lambda _pos, p=pane: self._on_position(p))
        pane.player.setPlaybackRate(self.rate)
        self.panes.append(pane)
        return pane

    def clear(self) -> None:
        """Remove every pane (their players stop)."""
        self.pause()
        for pane in self.panes:
            self._dispose(pane)
        self.panes = []
        self.focused = None
        self._relayout()

    def remove_pane(self, index: int) -> None:
        if not 0 <= index < len(self.panes):
            return
        pane = self.panes.pop(index)
        self._dispose(pane)
        if self.focused is pane:
            self.focused = None
        self._relayout()
        if self.panes:
            self.focus_pane(min(index, len(self.panes) - 1))
        else:
            self.pause()

    def _dispose(self, pane: ComparePane) -> None:
        pane.stop()
        self.grid.removeWidget(pane)
        pane.hide()
        if self.window().isActiveWindow():
            # Destroying a video surface (a native child window) can take the activation from the window;
            # give it back so the keyboard keeps working.
            pane.destroyed.connect(self._reactivate)
        pane.deleteLater()

    def _reactivate(self, *_args: object) -> None:
        if shiboken6.isValid(self) and self.isVisible():
            self.window().activateWindow()
            focused = QApplication.focusWidget()
            if self.panes and (focused is None or not self.isAncestorOf(focused)):
                self.setFocus()

    def remove_focused(self) -> None:
        if self.focused is not None and self.focused in self.panes:
            self.remove_pane(self.panes.index(self.focused))

    def move_pane(self, index: int, offset: int) -> None:
        """Swap a pane with its neighbour."""
        target = index + offset
        if 0 <= index < len(self.panes) and 0 <= target < len(self.panes):
            self.panes[index], self.panes[target] = self.panes[target], self.panes[index]
            self._relayout()

    def swap(self, first: int, second: int) -> None:
        if 0 <= first < len(self.panes) and 0 <= second < len(self.panes):
            self.panes[first], self.panes[second] = self.panes[second], self.panes[first]
            self._relayout()

    def _move_focused(self, offset: int) -> None:
        if self.focused is not None and self.focused in self.panes:
            self.move_pane(self.panes.index(self.focused), offset)

    def focus_pane(self, index: int) -> None:
        """Outline a pane and hear its sound; the others are muted."""
        if not 0 <= index < len(self.panes):
            return
        self.focused = self.panes[index]
        for pane in self.panes:
            pane.set_focused(pane is self.focused)

    def aspect(self) -> float:
        """The panes' typical picture shape (width / height): the mean of the known ones."""
        known = [a for p in self.panes if (a := p.aspect()) is not None]
        return sum(known) / len(known) if known else DEFAULT_ASPECT

    def _arrange(self, *, force: bool = False) -> None:
        """Put the panes in the grid shape that shows them largest (again only when that shape changes)."""
        shape = best_grid(len(self.panes), self.grid_host.size(), self.aspect()) if self.panes else (0, 0)
        if shape == self.shape and not force:
            return
        self.shape = shape
        while self.grid.count():
            self.grid.takeAt(0)
        rows, columns = shape
        for index, pane in enumerate(self.panes):
            self.grid.addWidget(pane, index // max(1, columns), index % max(1, columns))
        for column in range(MAX_PANES):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)
        for row in range(MAX_PANES):
            self.grid.setRowStretch(row, 1 if row < rows else 0)

    def _relayout(self) -> None:
        count = len(self.panes)
        self._arrange(force=True)
        for index, pane in enumerate(self.panes):
            pane.set_number(index + 1)
            pane.left_button.setEnabled(index > 0)
            pane.right_button.setEnabled(index < count - 1)
            pane.show()
        self.placeholder.setVisible(not self.panes)
        self.grid_host.setVisible(bool(self.panes))
        for widget in (self.play_button, self.back_button, self.forward_button, self.seek_slider, self.speed,
                       self.loop_button, self.use_frame_button):
            widget.setEnabled(bool(self.panes))
        self._on_durations()
        self.status.setText(self._summary())
        self.panesChanged.emit()

    def _summary(self) -> str:
        if not self.panes:
            return ""
        return (f"{count(len(self.panes), 'video')} in sync · Space play/pause · ←/→ 1 s · , . one frame · "
                f"1–{len(self.panes)} focus · Ctrl+←/→ move · Delete remove")

    # --- the master clock ----------------------------------------------------------------------------------------

    @property
    def master(self) -> ComparePane | None:
        """The longest clip (the first one while durations are unknown)."""
        if not self.panes:
            return None
        return max(self.panes, key=lambda p: p.duration)  # max keeps the first of equals

    def followers(self) -> list[ComparePane]:
        master = self.master
        return [p for p in self.panes if p is not master]

    def position(self) -> int:
        master = self.master
        return master.player.position() if master is not None else 0

    def duration(self) -> int:
        master = self.master
        return master.duration if master is not None else 0

    def positions(self) -> list[int]:
        return [p.player.position() for p in self.panes]

    def _on_durations(self) -> None:
        self.seek_slider.setRange(0, self.duration())
        self._show_time()

    def _on_position(self, pane: ComparePane) -> None:
        if pane is self.master:
            if not self.seek_slider.isSliderDown():
                self.seek_slider.setValue(pane.player.position())
            self._show_time()

    def _show_time(self) -> None:
        """'0:01.000 / 0:05.000 · frame 13 / 60' of the master (the longest clip)."""
        master = self.master
        frame_ms = master.frame_ms() if master is not None else 0.0
        shown = master.shown_frame_seconds if master is not None else None
        self.time_label.setText(time_text(self.position(), self.duration(), frame_ms, shown))

    def _on_status(self, pane: ComparePane, status: QMediaPlayer.MediaStatus) -> None:
        if status != QMediaPlayer.MediaStatus.EndOfMedia:
            return
        if pane is not self.master:
            pane.hold_last_frame()  # wait there for the master
            return
        if self.playing and self.looping:
            for each in self.panes:
                each.holding = False
                each.move_to(0)
                each.player.play()
            return
        self.playing = False
        self.sync_timer.stop()
        for each in self.panes:
            each.hold_last_frame()
        self._show_state()

    def sync(self) -> None:
        """Keep every follower on the master's time (called every ``SYNC_MS`` while playing)."""
        master = self.master
        if master is None or not self.playing:
            return
        now = _now_ms()
        target = master.estimate(now)
        for pane in self.followers():
            if not pane.duration:
                continue
            if target >= pane.duration - pane.frame_ms():
                if not pane.holding:
                    pane.hold_last_frame()
                continue
            if now < pane.settle_until:
                continue
            if pane.state != PLAYING:
                pane.holding = False
                pane.move_to(target)
                pane.player.play()
                continue
            if abs(pane.estimate(now) - target) <= DRIFT_MS:
                pane.strikes = 0
                continue
            pane.strikes += 1  # one reading can be a frame report still on its way; a drift persists
            if pane.strikes >= DRIFT_CHECKS:
                pane.strikes = 0
                pane.move_to(target)
                self.corrections += 1

    # --- transport -------------------------------------------------------------------------------------------

    def play(self) -> None:
        master = self.master
        if master is None:
            return
        if master.duration and master.player.position() >= master.duration - master.frame_ms():
            self.seek(0)  # at the end: play from the start
        start = master.player.position()
        self.playing = True
        for pane in self.panes:
            pane.player.setPlaybackRate(self.rate)
            if pane is not master and pane.duration and start >= pane.duration - pane.frame_ms():
                pane.hold_last_frame()
                continue
            pane.holding = False
            if pane.state == STOPPED:
                pane.move_to(min(start, max(0, pane.duration - 1)))
            pane.player.play()
        self.sync_timer.start()
        self._show_state()

    def pause(self) -> None:
        """Pause everything and line the followers up on the master's frame."""
        was_playing = self.playing
        self.playing = False
        self.sync_timer.stop()
        for pane in self.panes:
            if pane.state == PLAYING:
                pane.player.pause()
        if was_playing:
            self._align(self.position())
        self._show_state()

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def seek(self, position: float) -> None:
        """Move every video to ``position`` ms (clamped to each one's length)."""
        master = self.master
        if master is None:
            return
        position = max(0.0, min(float(position), float(self.duration() or position)))
        self._align(position, include_master=True)
        self.seek_slider.setValue(int(position))
        self._show_time()

    def _align(self, position: float, *, include_master: bool = False) -> None:
        master = self.master
        for pane in self.panes:
            if pane is master and not include_master:
                continue
            end = pane.duration
            if end and position >= end - pane.frame_ms() and pane is not master:
                pane.hold_last_frame()
                continue
            pane.holding = False
            pane.move_to(min(position, end - 1) if end else position)
            if pane.state == STOPPED:
                pane.player.play() if self.playing else pane.player.pause()
            elif self.playing and pane.state != PLAYING:
                pane.player.play()

    def step_frames(self, frames: int) -> None:
        """Pause and move every video by whole frames of the master."""
        master = self.master
        if master is None:
            return
        self.pause()
        self.seek(master.player.position() + round(frames * master.frame_ms()))

    def toggle_loop(self) -> None:
        self.set_loop(not self.looping)

    def set_loop(self, looping: bool) -> None:
        self.looping = looping
        self.loop_button.setChecked(looping)

    def set_speed(self, rate: float) -> None:
        self.rate = rate
        index = self.speed.findData(rate)
        if index >= 0 and index != self.speed.currentIndex():
            self.speed.setCurrentIndex(index)
        for pane in self.panes:
            pane.player.setPlaybackRate(rate)

    def use_frame(self) -> None:
        """Ask to put the focused video's current frame into the form."""
        pane = self.focused or (self.panes[0] if self.panes else None)
        if pane is not None and pane.path:
            self.frameRequested.emit(pane.path, pane.shown_frame_seconds())

    def _show_state(self) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def stop(self) -> None:
        """Pause (leaving the tab, closing the window)."""
        self.pause()
