"""An embedded video player: QMediaPlayer + QVideoWidget with play/pause, seek, frame step, loop, speed and volume.

The end of a clip holds its last frame (so "Use this frame" takes what is on screen), a click on the track seeks
where it was clicked, and the time code shows milliseconds and the frame number.

Keyboard (while the player has focus): Space play/pause, ←/→ seek 5 s, ,/. step one frame, ↑/↓ volume, M mute,
L loop, Home back to the start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QKeySequence, QMouseEvent, QPainter, QPalette, QPixmap, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaMetaData, QMediaPlayer, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.resources import ICONS
from gui.safety import guarded

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
SEEK_MS = 5000
DEFAULT_FPS = 24.0
CONTROL_ICON_SIZES = (16, 24, 32, 48, 64)
#: A reported position this close past a frame's start still names that frame (Qt truncates to whole ms).
FRAME_TOLERANCE_MS = 1.0


def timecode(ms: float) -> str:
    """'1:01.250' (minutes, seconds, milliseconds), with hours in front from an hour on: '1:02:03.004'."""
    total = max(0, round(ms))
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{minutes}:{seconds:02d}.{millis:03d}"


def frame_number(seconds: float, frame_ms: float) -> int:
    """The 1-based number of the frame that starts at (or is on screen at) ``seconds``."""
    return int((seconds * 1000 + FRAME_TOLERANCE_MS) // frame_ms) + 1


def control_icon(name: str, color: QColor) -> QIcon:
    """A control icon from resources/icons (``<name>-<size>.png``, black shapes) tinted with ``color``."""
    icon = QIcon()
    for size in CONTROL_ICON_SIZES:
        image = QImage(str(ICONS / f"{name}-{size}.png"))
        if image.isNull():
            continue
        image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(image.rect(), color)
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


class SeekSlider(QSlider):
    """A horizontal seek bar where a click on the track jumps to the time under the pointer (and drags on)."""

    seekRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def _option(self) -> QStyleOptionSlider:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        return option

    def groove_rect(self) -> QRect:
        """Where the track is drawn, in the slider's coordinates."""
        return self.style().subControlRect(QStyle.ComplexControl.CC_Slider, self._option(),
                                           QStyle.SubControl.SC_SliderGroove, self)

    def value_at(self, x: float) -> int:
        """The value under the pointer at ``x`` (the handle's centre goes there)."""
        option = self._option()
        groove = self.groove_rect()
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        offset = round(x - groove.x() - handle.width() / 2)
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), offset, span, option.upsideDown)

    @guarded()
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled() and self.maximum() > self.minimum():
            value = self.value_at(event.position().x())
            self.setValue(value)
            self.seekRequested.emit(value)
        super().mousePressEvent(event)  # the handle is under the pointer now: a drag goes on from there


def media_surface(owner: QWidget, minimum: QSize) -> tuple[QMediaPlayer, QAudioOutput, QVideoWidget]:
    """A player with its sound output and the video surface it draws on (growing with ``owner``)."""
    player = QMediaPlayer(owner)
    audio = QAudioOutput(owner)
    player.setAudioOutput(audio)
    video = QVideoWidget(owner)
    video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    video.setMinimumSize(minimum)
    player.setVideoOutput(video)
    return player, audio, video


def frame_duration_ms(player: QMediaPlayer) -> float:
    """One frame's duration from the file's frame rate (24 fps when unknown)."""
    rate = player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
    try:
        fps = float(rate) if rate else DEFAULT_FPS
    except (TypeError, ValueError):
        fps = DEFAULT_FPS
    return 1000.0 / (fps if fps > 0 else DEFAULT_FPS)


def time_text(position: float, duration: float, frame_ms: float, shown_seconds: Callable[[], float] | None) -> str:
    """'0:01.000 / 0:03.000 · frame 13 / 36': the frame part when a clip of some length is loaded (``shown_seconds``
    gives the start of the frame on screen)."""
    text = f"{timecode(position)} / {timecode(duration)}"
    if shown_seconds is not None and duration > 0:
        frames = max(1, round(duration / frame_ms))
        text += f" · frame {min(frames, frame_number(shown_seconds(), frame_ms))} / {frames}"
    return text


def tool_button(parent: QWidget, tip: str, slot: Callable[[], object], *, icon: QIcon | None = None,
                text: str = "") -> QToolButton:
    """A transport button that never takes the keyboard focus (the keys belong to the player)."""
    button = QToolButton(parent)
    if icon is not None:
        button.setIcon(icon)
    if text:
        button.setText(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(lambda _=False: slot())
    return button


class _StepIconTint(QObject):
    """Keeps the frame-step buttons' icons in the owner's text colour, again on each light ↔ dark change."""

    def __init__(self, owner: QWidget, back: QToolButton, forward: QToolButton) -> None:
        super().__init__(owner)
        self.owner, self.back, self.forward = owner, back, forward
        self.tint()
        owner.installEventFilter(self)

    def tint(self) -> None:
        color = self.owner.palette().color(QPalette.ColorRole.ButtonText)
        self.back.setIcon(control_icon("frame-back", color))
        self.forward.setIcon(control_icon("frame-forward", color))
        for button in (self.back, self.forward):
            button.setIconSize(QSize(16, 16))

    @guarded(False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.owner and event.type() == QEvent.Type.PaletteChange:
            self.tint()
        return False


def frame_step_buttons(owner: QWidget, back_tip: str, forward_tip: str,
                       step: Callable[[int], object]) -> tuple[QToolButton, QToolButton]:
    """One frame back and one forward (``step(-1)``, ``step(1)``), with icons tinted to the theme."""
    back = tool_button(owner, back_tip, lambda: step(-1))
    forward = tool_button(owner, forward_tip, lambda: step(1))
    _StepIconTint(owner, back, forward)
    return back, forward


def seek_bar(parent: QWidget, name: str, tip: str, seek: Callable[[int], object]) -> SeekSlider:
    """The track: empty until a duration is known; a click or a drag seeks."""
    slider = SeekSlider(parent)
    slider.setObjectName(name)
    slider.setRange(0, 0)
    slider.setToolTip(tip)
    slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    slider.sliderMoved.connect(seek)
    slider.seekRequested.connect(seek)
    return slider


def time_code_label(parent: QWidget, tip: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("TimeCode")
    label.setToolTip(tip)
    return label


def speed_box(parent: QWidget, tip: str, set_rate: Callable[[float], object]) -> QComboBox:
    """The playback speeds, 1× chosen."""
    box = QComboBox(parent)
    box.setToolTip(tip)
    box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    for value in SPEEDS:
        box.addItem(f"{value:g}×", value)
    box.setCurrentIndex(SPEEDS.index(1.0))
    box.currentIndexChanged.connect(lambda _i: set_rate(float(box.currentData())))
    return box


def bind_keys(owner: QWidget, bindings: dict[str, Callable[[], object]]) -> dict[str, QShortcut]:
    """Shortcuts that work while ``owner`` or a child of it has the focus, by their key sequence."""
    shortcuts: dict[str, QShortcut] = {}
    for keys, slot in bindings.items():
        shortcut = QShortcut(QKeySequence(keys), owner)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        shortcuts[keys] = shortcut
    return shortcuts


def transport_row(left: list[QWidget], right: list[QWidget]) -> QHBoxLayout:
    """Controls at the left and the right end of a row."""
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def shown_frame_seconds(sink: QVideoSink, position_ms: int) -> float:
    """The start time of the frame on screen, when the sink holds the frame for ``position_ms``; else the position.

    Qt reports positions in whole milliseconds (a frame at 41.67 ms reads 41) and, paused on a frame boundary,
    shows the frame that ends there; the frame's own start time names exactly the picture the person sees.
    """
    frame = sink.videoFrame()
    if frame.isValid() and frame.startTime() >= 0:
        at_us = position_ms * 1000
        if frame.startTime() - 1000 <= at_us <= max(frame.endTime(), frame.startTime()) + 1000:
            return frame.startTime() / 1_000_000
    return position_ms / 1000


class PlayerWidget(QWidget):
    """Plays one local video at a time; ``load(path)`` replaces it."""

    loaded = Signal(str)
    frameRequested = Signal(str, float)  # video path, seconds: "Use this frame"

    def __init__(self, parent: QWidget | None = None, placeholder: str = "Select a completed job to play it.") -> None:
        super().__init__(parent)
        self.setObjectName("Player")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.path: str | None = None
        self.player, self.audio, self.video = media_surface(self, QSize(240, 135))
        self.audio.setVolume(0.8)

        self.placeholder = QLabel(placeholder, self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("role", "note")
        self.stack = QStackedLayout()
        self.stack.setStackingMode(QStackedLayout.StackingMode.StackAll)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.video)
        self.stack.setCurrentWidget(self.placeholder)

        style = self.style()
        self.play_button = tool_button(self, "Play / pause (Space)", self.toggle_play,
                                       icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.back_button, self.forward_button = frame_step_buttons(self, "One frame back (,)",
                                                                   "One frame forward (.)", self.step_frames)
        self.loop_button = tool_button(self, "Loop (L)", self.toggle_loop, text="⟲ Loop")
        self.loop_button.setCheckable(True)
        self.mute_button = tool_button(self, "Mute (M)", self.toggle_mute,
                                       icon=style.standardIcon(QStyle.StandardPixmap.SP_MediaVolume))
        self.mute_button.setCheckable(True)
        self.seek = seek_bar(self, "SeekSlider", "Seek: click or drag (← / →: 5 s)", self.set_position)
        self.time_label = time_code_label(
            self, "Time (minutes:seconds.milliseconds) and frame number of the picture on screen")
        self.held_at_end = False  # standing on the last frame after the clip ended
        self.speed = speed_box(self, "Playback speed", self.player.setPlaybackRate)
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMaximumWidth(90)
        self.volume.setToolTip("Volume (↑ / ↓)")
        self.volume.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.volume.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        self.use_frame_button = tool_button(self, "Use this frame: put the frame on screen into a slot of the form "
                                            "(first frame, last frame or reference) to continue the clip",
                                            self.use_frame, text="Use this frame")
        self.use_frame_button.setObjectName("UseFrameButton")
        self.status = QLabel(self)
        self.status.setProperty("role", "note")
        self.status.setWordWrap(True)

        # the track and the time code have a row of their own, above the buttons
        controls = transport_row([self.play_button, self.back_button, self.forward_button],
                                 [self.loop_button, self.speed, self.mute_button, self.volume])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.stack, 1)
        track = QHBoxLayout()
        track.addWidget(self.seek, 1)
        track.addWidget(self.time_label)
        layout.addLayout(track)
        layout.addLayout(controls)
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.use_frame_button)
        layout.addLayout(footer)

        self.player.positionChanged.connect(self._on_position)
        self.player.durationChanged.connect(self._on_duration)
        self.player.playbackStateChanged.connect(self._on_state)
        self.player.mediaStatusChanged.connect(self._on_media_status)
        self.player.errorOccurred.connect(self._on_error)
        self._shortcuts()
        self._set_enabled(False)
        self._show_time(0)

    def _shortcuts(self) -> None:
        bindings: dict[str, Callable[[], object]] = {
            "Space": self.toggle_play,
            "Left": lambda: self.seek_by(-SEEK_MS),
            "Right": lambda: self.seek_by(SEEK_MS),
            ",": lambda: self.step_frames(-1),
            ".": lambda: self.step_frames(1),
            "Up": lambda: self.volume.setValue(min(100, self.volume.value() + 10)),
            "Down": lambda: self.volume.setValue(max(0, self.volume.value() - 10)),
            "M": self.toggle_mute,
            "L": self.toggle_loop,
            "Home": lambda: self.set_position(0),
        }
        self.shortcuts = bind_keys(self, bindings)

    # --- loading ---------------------------------------------------------------------------------------------

    def load(self, path: str | None, *, autoplay: bool = True) -> bool:
        """Play a local file (or show the placeholder for None); False when the file is missing."""
        self.player.stop()
        self.held_at_end = False
        if not path:
            self.path = None
            self.player.setSource(QUrl())
            self.stack.setCurrentWidget(self.placeholder)
            self._set_enabled(False)
            return False
        if not Path(path).is_file():
            self.path = None
            self.player.setSource(QUrl())
            self.placeholder.setText(f"The video file is missing:\n{path}")
            self.stack.setCurrentWidget(self.placeholder)
            self._set_enabled(False)
            return False
        self.path = path
        self.status.setText(Path(path).name)
        self.player.setSource(QUrl.fromLocalFile(path))
        self.stack.setCurrentWidget(self.video)
        self._set_enabled(True)
        if autoplay:
            self.player.play()
        else:
            self.player.pause()  # shows the first frame
        self.loaded.emit(path)
        return True

    def video_sink(self) -> QVideoSink:
        """Where decoded frames arrive."""
        return self.video.videoSink()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.back_button, self.forward_button, self.seek, self.speed,
                       self.use_frame_button):
            widget.setEnabled(enabled)

    # --- controls --------------------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.path is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
            return
        if self.held_at_end or self.at_end():
            self.set_position(0)  # at the end: play from the start
        self.player.play()

    def at_end(self) -> bool:
        duration = self.player.duration()
        return duration > 0 and self.player.position() >= duration - self.frame_ms()

    def set_position(self, position: int) -> None:
        """Seek to ``position`` ms (the picture follows; the end is held, not left black)."""
        self.held_at_end = False
        self.player.setPosition(max(0, position))

    def seek_by(self, delta_ms: int) -> None:
        if self.path is None:
            return
        duration = self.player.duration()
        target = max(0, self.player.position() + delta_ms)
        if duration > 0 and target >= duration:
            self.hold_last_frame()
            return
        self.set_position(target)

    def hold_last_frame(self) -> None:
        """Stand paused on the clip's last frame (a player stopped at its end shows nothing)."""
        duration = self.player.duration()
        self.player.setPosition(max(0, duration - 1))
        self.player.pause()
        self.held_at_end = True

    def frame_ms(self) -> float:
        """One frame's duration from the file's frame rate (24 fps when unknown)."""
        return frame_duration_ms(self.player)

    def step_frames(self, frames: int) -> None:
        """Pause and move by whole frames."""
        if self.path is None:
            return
        self.player.pause()
        self.seek_by(round(frames * self.frame_ms()))

    def toggle_loop(self) -> None:
        looping = self.player.loops() != QMediaPlayer.Loops.Infinite
        self.player.setLoops(QMediaPlayer.Loops.Infinite if looping else QMediaPlayer.Loops.Once)
        self.loop_button.setChecked(looping)

    def toggle_mute(self) -> None:
        muted = not self.audio.isMuted()
        self.audio.setMuted(muted)
        self.mute_button.setChecked(muted)
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else QStyle.StandardPixmap.SP_MediaVolume
        self.mute_button.setIcon(self.style().standardIcon(icon))

    def set_speed(self, rate: float) -> None:
        index = self.speed.findData(rate)
        if index >= 0:
            self.speed.setCurrentIndex(index)

    def stop(self) -> None:
        self.player.stop()

    def use_frame(self) -> None:
        """Ask for the frame on screen (exactly: its own start time) to go into the form."""
        if self.path is not None:
            self.frameRequested.emit(self.path, shown_frame_seconds(self.video_sink(), self.player.position()))

    # --- player events ---------------------------------------------------------------------------------------

    def _on_position(self, position: int) -> None:
        if not self.seek.isSliderDown():
            self.seek.setValue(position)
        self._show_time(position)

    def _show_time(self, position: int) -> None:
        """'0:01.000 / 0:03.000 · frame 13 / 36' for the frame on screen."""
        shown = None if self.path is None else lambda: shown_frame_seconds(self.video_sink(), position)
        self.time_label.setText(time_text(position, max(0, self.player.duration()), self.frame_ms(), shown))

    def _on_duration(self, duration: int) -> None:
        self.seek.setRange(0, max(0, duration))
        self._on_position(self.player.position())

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.EndOfMedia and self.player.loops() != QMediaPlayer.Loops.Infinite:
            self.hold_last_frame()

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_error(self, _error: QMediaPlayer.Error, message: str) -> None:
        self.status.setText(f"Cannot play this video: {message}")
