"""One input's preview: a thumbnail of the file as it will be sent, its size and the bytes to send, what was
changed, and a warning when much of the picture is lost or it is enlarged.

Local images are prepared with the provider's rules in a worker thread (``gui.work``); URLs and presets
are shown as they are. Failures become an inline error in plain words, never an exception.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.errors import ReeldeckError
from core.imaging import ImageRules
from core.params import SlotKind
from gui import work
from gui.dropdata import is_web_url
from gui.thumbs import THUMB_SIZE, Preview, prepared_preview, video_preview

PRESET_PREFIX = "preset:"
NOTE_WIDTH = max(THUMB_SIZE, 220)

log = logging.getLogger(__name__)


def restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class PreviewItem(QFrame):
    """One input's thumbnail, caption and note; prepares itself in the background."""

    settled = Signal()

    EMPTY, PREPARING, READY, ERROR, URL = "empty", "preparing", "ready", "error", "url"

    def __init__(self, caption: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: str | None = None
        self.state = self.EMPTY
        self.error: str | None = None
        self.note = ""
        self.warnings: list[str] = []
        #: The size the image will be sent at, once prepared (None for URLs, presets, videos and errors).
        self.prepared_size: tuple[int, int] | None = None
        self._generation = 0
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(THUMB_SIZE, THUMB_SIZE)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setObjectName("SlotThumb")
        self.caption = QLabel(caption, self)
        self.caption.setProperty("role", "title")
        self.caption.setVisible(bool(caption))
        self.note_label = _wrapping_label(self, "note")
        self.warning_label = _wrapping_label(self, "warning")
        self.warning_label.setObjectName("PreviewWarning")
        self.warning_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(self.thumb)
        layout.addWidget(self.note_label)
        layout.addWidget(self.warning_label)
        layout.addStretch(1)
        self.show_empty("Drop an image here")

    def show_empty(self, hint: str) -> None:
        """No input: a hint in place of the thumbnail."""
        self._generation += 1
        self.value, self.state, self.error = None, self.EMPTY, None
        self.prepared_size = None
        self.thumb.clear()
        self.thumb.setText(hint)
        self.thumb.setWordWrap(True)
        self._set_note("", error=False)

    def _set_note(self, text: str, *, error: bool, warnings: list[str] | None = None) -> None:
        self.warnings = list(warnings or [])
        self.note = "\n".join([text, *(f"⚠ {w}" for w in self.warnings)]) if self.warnings else text
        _set_wrapped_text(self.note_label, text)
        self.note_label.setProperty("role", "error" if error else "note")
        restyle(self.note_label)
        _set_wrapped_text(self.warning_label, "\n".join(f"⚠ {w}" for w in self.warnings))
        self.warning_label.setVisible(bool(self.warnings))

    def load(self, value: str, rules: ImageRules | None, kind: SlotKind = SlotKind.IMAGE) -> None:
        """Show ``value`` (a file, URL or preset); local files are prepared in a worker thread."""
        self._generation += 1
        generation = self._generation
        self.value, self.error = value, None
        self.prepared_size = None
        self.thumb.clear()
        if value.startswith(PRESET_PREFIX):
            self.state = self.READY
            self.thumb.setText("Preset motion")
            self._set_note(f"Preset {value.removeprefix(PRESET_PREFIX)}: used as is", error=False)
            self.settled.emit()
            return
        if is_web_url(value):
            self.state = self.URL
            self.thumb.setText("Web image" if kind == SlotKind.IMAGE else "Web video")
            self._set_note(f"URL passed through; {_short(value)} is fetched by the provider", error=False)
            self.settled.emit()
            return
        if kind == SlotKind.IMAGE and rules is None:
            self._fail("Fix the parameters first: the image rules depend on them.")
            return
        self.state = self.PREPARING
        self.thumb.setText("Preparing…")
        self._set_note("", error=False)
        if kind == SlotKind.VIDEO:
            work.run(video_preview, value, owner=self, on_done=lambda preview: self._done(generation, kind, preview),
                     on_error=lambda error: self._failed(generation, error))
        else:
            assert rules is not None
            work.run(prepared_preview, value, rules, owner=self,
                     on_done=lambda preview: self._done(generation, kind, preview),
                     on_error=lambda error: self._failed(generation, error))

    def _done(self, generation: int, kind: SlotKind, preview: Preview) -> None:
        if generation != self._generation:
            return  # a newer value replaced this one
        self.state = self.READY
        self.thumb.setText("")
        self.thumb.setPixmap(QPixmap.fromImage(preview.image))
        self.prepared_size = (preview.width, preview.height) if kind == SlotKind.IMAGE else None
        self._set_note(preview.note, error=False, warnings=preview.warnings)
        self.settled.emit()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:  # (else a newer value replaced this one)
            self._fail(_message(error))

    def _fail(self, message: str) -> None:
        self.state, self.error = self.ERROR, message
        self.thumb.clear()
        self.thumb.setText("⚠")
        self._set_note(message, error=True)
        self.settled.emit()


def _wrapping_label(parent: QWidget, role: str) -> QLabel:
    """A word-wrapped label that keeps the height its text needs, so nothing is drawn over it."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setProperty("role", role)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setFixedWidth(NOTE_WIDTH)
    policy = QSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
    policy.setHeightForWidth(False)  # the width is fixed: its height is a plain minimum the parents respect
    label.setSizePolicy(policy)
    return label


def _set_wrapped_text(label: QLabel, text: str) -> None:
    """Set the text and reserve the height it takes at the label's fixed width (layouts above a scroll area do
    not ask word-wrapped labels for their height; without this the thumbnail is drawn over the first lines)."""
    label.setText(text)
    label.setMinimumHeight(label.heightForWidth(NOTE_WIDTH) if text else 0)


def _message(error: BaseException | None) -> str:
    """A failure in plain words: core's own message, or a sentence (the exception goes to the log)."""
    if isinstance(error, ReeldeckError):
        return error.message
    if error is not None:
        log.warning("Preparing an input failed", exc_info=error)
    return "The file could not be read or prepared. Try another file; the log has the details."


def _short(url: str, limit: int = 48) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
