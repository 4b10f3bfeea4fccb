"""Playing a sequence as one seamless piece: the export's own frames (``core.sequence.sequence_frames``), live.

A worker thread decodes, trims, resamples and crossfades the clips exactly as a re-encode would, at a preview size,
into a small bounded queue; a timer on the GUI thread shows one frame per tick at the sequence's frame rate. There
is no gap between clips because there are no players to switch: it is one stream of frames. (No sound: the
preview and the export carry the picture only.)
"""

from __future__ import annotations

import contextlib
import queue
from dataclasses import dataclass
from fractions import Fraction

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QVBoxLayout, QWidget

from core.errors import ReeldeckError
from core.sequence import CancelToken, ExportCancelled, Sequence, plan_export, probe, sequence_frames
from gui import work
from gui.safety import guarded

#: The largest picture the preview decodes to (it is scaled to the widget when shown).
PREVIEW_BOX = (640, 360)
BUFFER_FRAMES = 12


@dataclass(frozen=True)
class _Start:
    rate: Fraction
    total: int


@dataclass(frozen=True)
class _End:
    error: str | None


def _fit_box(width: int, height: int, box: tuple[int, int] = PREVIEW_BOX) -> tuple[int, int]:
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _produce(sequence: Sequence, token: CancelToken, out: queue.Queue[object]) -> None:
    """Worker thread: put _Start, then QImages, then _End into ``out`` (blocking while it is full)."""

    def put(item: object) -> None:
        while not token.cancelled:
            with contextlib.suppress(queue.Full):
                out.put(item, timeout=0.1)
                return

    try:
        infos = [probe(c.path) for c in sequence.clips]
        plan = plan_export(sequence, infos)
        put(_Start(plan.rate, plan.total_frames))
        size = _fit_box(plan.width, plan.height)
        for image in sequence_frames(sequence, infos, plan, size, token):
            data = image.tobytes()
            put(QImage(data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888).copy())
        put(_End(None))
    except ExportCancelled:
        return
    except ReeldeckError as exc:
        put(_End(exc.message))
    except Exception as exc:  # a broken file must end the preview with a reason, not hang it
        put(_End(f"The preview stopped: {exc}"))


class SequencePreview(QWidget):
    """A picture, play/stop and where the piece is; ``play(sequence)`` starts from its first frame."""

    finished = Signal()
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SequencePreview")
        self.picture = QLabel("Add finished videos to the strip below, then press Play to watch them as one piece.",
                             self)
        self.picture.setObjectName("SequencePicture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(240, 135)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setStyleSheet("#SequencePicture { background: black; color: #bbb; }")
        style = self.style()
        self.play_button = QToolButton(self)
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play the sequence from its start / stop")
        self.play_button.setText("Play")
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.position = QLabel("", self)
        self.position.setProperty("role", "note")
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.position, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture, 1)
        layout.addLayout(controls)

        self.source: Sequence | None = None
        self.frames_shown = 0
        self.total = 0
        self.rate = Fraction(24)
        self.last_image: QImage | None = None
        self._token: CancelToken | None = None
        self._queue: queue.Queue[object] = queue.Queue(BUFFER_FRAMES)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self._token is not None

    def play(self, sequence: Sequence) -> None:
        """Play a copy of ``sequence`` from its start (later edits apply at the next play)."""
        self.stop()
        copy = Sequence.from_body(sequence.id, sequence.name, sequence.body(), 0.0, 0.0)
        self._token = CancelToken()
        self._queue = queue.Queue(BUFFER_FRAMES)
        self.frames_shown, self.total = 0, 0
        self.position.setText("Preparing…")
        work.stream(_produce, copy, self._token, self._queue, name="reeldeck-sequence-preview")
        self.timer.start(40)
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.play_button.setText("Stop")

    def stop(self) -> None:
        if self._token is not None:
            self._token.cancel()
        self._token = None
        self.timer.stop()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setText("Play")

    def _tick(self) -> None:
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return  # still decoding: hold the picture
        if isinstance(item, _Start):
            self.rate, self.total = item.rate, item.total
            self.timer.setInterval(max(1, round(1000 / float(item.rate))))
        elif isinstance(item, _End):
            self.stop()
            if item.error:
                self.position.setText(item.error)
                self.message.emit(item.error)
            self.finished.emit()
        elif isinstance(item, QImage):
            self.frames_shown += 1
            self.last_image = item
            self._show(item)
            seconds = self.frames_shown / float(self.rate)
            self.position.setText(f"{seconds:.2f} s of {self.total / float(self.rate):.2f} s · frame "
                                  f"{self.frames_shown} of {self.total}")

    def _show(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image).scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)
        self.picture.setPixmap(pixmap)

    @guarded()
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.last_image is not None:
            self._show(self.last_image)
