"""One input's preview: a thumbnail of the file as it will be sent, and a note on what was changed.

Local images are prepared with the provider's rules in a worker thread (``gui.background``); URLs and presets
are shown as they are. Failures become an inline error, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from core.errors import ReeldeckError
from core.imaging import ImageRules
from core.params import SlotKind
from gui.background import background
from gui.dropdata import is_web_url
from gui.thumbs import THUMB_SIZE, Preview, prepared_preview, video_preview

PRESET_PREFIX = "preset:"


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
        self._generation = 0
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(THUMB_SIZE, THUMB_SIZE)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setObjectName("SlotThumb")
        self.caption = QLabel(caption, self)
        self.caption.setProperty("role", "title")
        self.caption.setVisible(bool(caption))
        self.note_label = QLabel(self)
        self.note_label.setWordWrap(True)
        self.note_label.setProperty("role", "note")
        self.note_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_label.setMaximumWidth(max(THUMB_SIZE, 220))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.thumb)
        layout.addWidget(self.note_label)
        self.show_empty("Drop an image here")

    def show_empty(self, hint: str) -> None:
        """No input: a hint in place of the thumbnail."""
        self._generation += 1
        self.value, self.state, self.error = None, self.EMPTY, None
        self.thumb.clear()
        self.thumb.setText(hint)
        self.thumb.setWordWrap(True)
        self._set_note("", error=False)

    def _set_note(self, text: str, *, error: bool) -> None:
        self.note = text
        self.note_label.setText(text)
        self.note_label.setProperty("role", "error" if error else "note")
        restyle(self.note_label)

    def load(self, value: str, rules: ImageRules | None, kind: SlotKind = SlotKind.IMAGE) -> None:
        """Show ``value`` (a file, URL or preset); local files are prepared in a worker thread."""
        self._generation += 1
        generation = self._generation
        self.value, self.error = value, None
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
            background().run(video_preview, value, callback=self._done(generation), owner=self)
        else:
            assert rules is not None
            background().run(prepared_preview, value, rules, callback=self._done(generation), owner=self)

    def _done(self, generation: int) -> Callable[[Preview | None, BaseException | None], None]:
        def finished(preview: Preview | None, error: BaseException | None) -> None:
            if generation != self._generation:
                return  # a newer value replaced this one
            if error is not None or preview is None:
                self._fail(_message(error))
                return
            self.state = self.READY
            self.thumb.setText("")
            self.thumb.setPixmap(QPixmap.fromImage(preview.image))
            self._set_note(preview.note, error=False)
            self.settled.emit()
        return finished

    def _fail(self, message: str) -> None:
        self.state, self.error = self.ERROR, message
        self.thumb.clear()
        self.thumb.setText("⚠")
        self._set_note(message, error=True)
        self.settled.emit()


def _message(error: BaseException | None) -> str:
    if isinstance(error, ReeldeckError):
        return error.message
    if error is None:
        return "The file could not be read."
    return f"The file could not be read ({type(error).__name__}: {error})."


def _short(url: str, limit: int = 48) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
