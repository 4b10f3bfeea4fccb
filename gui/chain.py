"""Chaining clips: a frame of a finished video goes into an image slot of the current form.

"Use this frame" (player, compare view) takes the frame on screen; "Use last frame" (queue, library) the video's
final frame. The frame is decoded with PyAV at its exact time (``core.frames``) in a worker thread, saved as a
lossless PNG under the data dir (``frames/``) and placed in the slot the person picks — first frame, last frame or
reference — so a clip can be continued with any provider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu, QWidget

from core.errors import ReeldeckError
from core.params import SlotKind
from gui import work
from gui.composer import Composer

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class SlotChoice:
    """An image slot a frame can go into."""

    name: str
    label: str
    free: int
    multiple: bool

    @property
    def text(self) -> str:
        if self.multiple:
            return f"{self.label} (add as the next reference)" if self.free else f"{self.label} (full)"
        return self.label


def image_slots(composer: Composer) -> list[SlotChoice]:
    """The current model's image slots, in form order."""
    if composer.slots is None:
        return []
    return [SlotChoice(name, w.slot.label, w.free, w.slot.max_count > 1)
            for name, w in composer.slots.widgets.items() if w.slot.kind == SlotKind.IMAGE]


def extract(video: Path, seconds: float | None, folder: Path) -> tuple[Path, float]:
    """Decode the frame (the last one for None) and save it as PNG; returns the file and the frame's time."""
    from core.frames import frame_at, last_frame, save_frame  # PyAV and Pillow load when a frame is first taken

    image: Image.Image
    image, at = last_frame(video) if seconds is None else frame_at(video, seconds)
    stem = f"{video.stem}-{'last' if seconds is None else f'{round(at * 1000)}ms'}"
    return save_frame(image, folder, stem), at


Chooser = Callable[[list[SlotChoice]], str | None]


class FrameChainer(QObject):
    """Turns "use this frame" requests into a filled slot of the composer."""

    placed = Signal(str, str)  # slot name, image file
    message = Signal(str)

    def __init__(self, composer: Composer, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.composer = composer
        self.folder = folder
        #: Asks which slot when the model has several; replaceable (tests answer without a menu).
        self.choose_slot: Chooser = self._ask

    def use_frame(self, video: str, seconds: float | None) -> bool:
        """Put the frame of ``video`` at ``seconds`` (None: its last frame) into a slot; False when nothing happens."""
        choices = image_slots(self.composer)
        open_choices = [c for c in choices if c.free or not c.multiple]
        if not open_choices:
            self.message.emit("This model's form has no free image slot for a frame — pick a model that takes a "
                              "first frame, a last frame or reference images." if not choices else
                              "The reference images are full; remove one first.")
            return False
        name = open_choices[0].name if len(choices) == 1 else self.choose_slot(choices)
        if name is None or name not in {c.name for c in open_choices}:
            return False
        provider, model = self.composer.provider_id, self.composer.model.id if self.composer.model else ""
        work.run(extract, Path(video), seconds, self.folder, owner=self,
                 on_done=lambda result: self._extracted(name, (provider, model), result),
                 on_error=self._failed)
        return True

    def _failed(self, error: BaseException) -> None:
        self.message.emit(error.message if isinstance(error, ReeldeckError) else f"Cannot read that frame: {error}")

    def _extracted(self, name: str, form: tuple[str, str], result: tuple[Path, float]) -> None:
        path, at = result
        slots = self.composer.slots
        current = (self.composer.provider_id, self.composer.model.id if self.composer.model else "")
        widget = slots.widgets.get(name) if slots is not None and current == form else None
        if widget is None:
            self.message.emit(f"The form changed meanwhile; the frame is saved as {path}.")
            return
        if widget.slot.max_count > 1:
            if not widget.add_items([str(path)]):
                self.message.emit(f"{widget.slot.label} is full; the frame is saved as {path}.")
                return
        else:
            widget.set_values([str(path)])
        self.message.emit(f"The frame at {at:.3f} s is in “{widget.slot.label}”.")
        self.placed.emit(name, str(path))

    def _ask(self, choices: list[SlotChoice]) -> str | None:
        """A small menu at the pointer: which slot gets the frame."""
        parent = self.parent()
        menu = QMenu(parent if isinstance(parent, QWidget) else None)
        menu.addSection("Use the frame as…")
        for choice in choices:
            action = menu.addAction(choice.text)
            action.setData(choice.name)
            action.setEnabled(bool(choice.free) or not choice.multiple)
        picked = menu.exec(QCursor.pos())
        return str(picked.data()) if picked is not None else None
