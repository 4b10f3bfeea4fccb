"""Input slots with drag-and-drop: image slots, ordered reference slots (@Image1..) and motion-video slots.

Each image shows a thumbnail of the image *as it will be sent*: the provider's rules for the slot and the current
parameters (``slot_image_rules``: the API's rules and the size the model uses, or full size when the person chose
to send originals) are applied by ``core.imaging.prepare_image`` in a worker thread; the size and bytes to send,
the changes made ("padded to 2:5") and warnings (much cropped, enlarged) are listed under it, and first and last
frames of different shapes are pointed out. A file that is not an image, is damaged or too large shows an inline
error; nothing crashes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.imaging import ImageRules, frame_mismatch
from core.params import Preset, Slot, SlotKind
from core.providers import provider_class
from gui.dropdata import dropped_items, looks_like_video
from gui.last_folder import Purpose, last_folders
from gui.layouts import add_parts, button_row
from gui.preview_item import PRESET_PREFIX, PreviewItem, restyle
from gui.safety import guarded

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff *.heic);;All files (*)"
VIDEO_FILTER = "MP4 videos (*.mp4 *.mov *.m4v);;All files (*)"
COLUMNS = 2  # reference images per row


class ImageSending(QObject):
    """The "send original images" setting as the slot widgets see it; ``changed`` makes them prepare again."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.originals = False

    def set_originals(self, originals: bool) -> None:
        if originals != self.originals:
            self.originals = originals
            self.changed.emit()


_sending: ImageSending | None = None


def image_sending() -> ImageSending:
    """The one ``ImageSending`` of the process (set at start-up from the settings, and by the settings dialog)."""
    global _sending
    if _sending is None:
        _sending = ImageSending()
    return _sending


class SlotWidget(QFrame):
    """Base of the slot widgets: drag-and-drop, the slot's declaration and the current image rules."""

    changed = Signal()
    #: What Choose… offers.
    FILE_FILTER = IMAGE_FILTER

    def __init__(self, slot: Slot, provider_id: str, parent: QWidget | None = None, *,
                 model_id: str | None = None) -> None:
        super().__init__(parent)
        #: The model whose declared rules (sizes, formats, byte limits) this slot's images are prepared by.
        self.model_id = model_id
        self.slot = slot
        self.provider_id = provider_id
        self.rules: ImageRules | None = None
        self.params: dict[str, Any] = {}
        self.setAcceptDrops(True)
        self.setObjectName("SlotWidget")
        self.setToolTip(slot.help)
        self.setProperty("dragActive", False)
        self.title = QLabel(slot.label + (f" (up to {slot.max_count})" if slot.max_count > 1 else ""), self)
        self.title.setProperty("role", "title")
        self.title.setToolTip(slot.help)
        image_sending().changed.connect(self._sending_changed)

    # --- values --------------------------------------------------------------------------------------------

    def values(self) -> list[str]:
        raise NotImplementedError

    def set_values(self, values: list[str]) -> None:
        raise NotImplementedError

    def add_items(self, items: list[str]) -> int:
        """Take as many of ``items`` as fit; returns how many were taken."""
        raise NotImplementedError

    def items(self) -> list[PreviewItem]:
        raise NotImplementedError

    def _choose(self) -> None:
        """Choose…: one file of the slot's kind (starting where inputs were last chosen) becomes its value."""
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {self.slot.label.lower()}",
                                              last_folders().start(Purpose.INPUTS), self.FILE_FILTER)
        if path:
            last_folders().remember(Purpose.INPUTS, path)
            self.set_values([path])

    def accepts(self, item: str) -> bool:
        """Whether a dropped path or URL belongs in this kind of slot."""
        return looks_like_video(item) == (self.slot.kind == SlotKind.VIDEO)

    @property
    def free(self) -> int:
        return self.slot.max_count - len(self.values())

    def problems(self) -> list[str]:
        """Inline errors that block submission."""
        return [f"{self.slot.label}: {item.error}" for item in self.items() if item.error]

    def busy(self) -> bool:
        return any(item.state == PreviewItem.PREPARING for item in self.items())

    def clear(self) -> None:
        self.set_values([])

    # --- image rules -----------------------------------------------------------------------------------------

    def set_params(self, params: dict[str, Any]) -> None:
        """The form's values changed: recompute the image rules and re-prepare when they differ."""
        self.params = dict(params)
        if self.slot.kind != SlotKind.IMAGE:
            return
        try:
            rules: ImageRules | None = provider_class(self.provider_id).slot_image_rules(
                self.slot, self.params, model=self.model_id, send_originals=image_sending().originals)
        except Exception:  # a half-typed parameter; the form shows the real error
            rules = None
        if rules != self.rules:
            self.rules = rules
            self.refresh()

    def _sending_changed(self) -> None:
        self.set_params(self.params)

    def refresh(self) -> None:
        """Prepare every filled item again with the current rules."""
        for item in self.items():
            if item.value:
                item.load(item.value, self.rules, self.slot.kind)

    # --- drag and drop ---------------------------------------------------------------------------------------

    def _acceptable(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> list[str]:
        return [i for i in dropped_items(event.mimeData()) if self.accepts(i)]

    @guarded()
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._acceptable(event):
            event.acceptProposedAction()
            self._set_drag(True)
        else:
            event.ignore()

    @guarded()
    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._acceptable(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    @guarded()
    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drag(False)
        super().dragLeaveEvent(event)

    @guarded()
    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drag(False)
        items = self._acceptable(event)
        if not items:
            event.ignore()
            return
        if self.slot.max_count == 1:
            self.set_values(items[:1])  # a single slot: the drop replaces what was there
        else:
            self.add_items(items)
        event.acceptProposedAction()

    def _set_drag(self, active: bool) -> None:
        self.setProperty("dragActive", active)
        restyle(self)


class OneItemSlotWidget(SlotWidget):
    """A slot that holds one item (an image, a video): a second one is not taken."""

    item: PreviewItem

    def items(self) -> list[PreviewItem]:
        return [self.item]

    def add_items(self, items: list[str]) -> int:
        if self.values() or not items:
            return 0
        self.set_values(items[:1])
        return 1


class ImageSlotWidget(OneItemSlotWidget):
    """A slot for one image: thumbnail as sent, what was changed, Choose… and Clear."""

    def __init__(self, slot: Slot, provider_id: str, parent: QWidget | None = None, *,
                 model_id: str | None = None) -> None:
        super().__init__(slot, provider_id, parent, model_id=model_id)
        self.item = PreviewItem(parent=self)
        self.item.settled.connect(self.changed)
        self.choose = QPushButton("Choose…", self)
        self.choose.clicked.connect(self._choose)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.clicked.connect(self.clear)
        add_parts(QVBoxLayout(self), self.title, self.item, button_row(self.choose, self.clear_button))
        self._update_buttons()

    def values(self) -> list[str]:
        return [self.item.value] if self.item.value else []

    def set_values(self, values: list[str]) -> None:
        if values:
            self.item.load(values[0], self.rules, self.slot.kind)
        else:
            self.item.show_empty("Drop an image here")
        self._update_buttons()
        self.changed.emit()

    def _update_buttons(self) -> None:
        self.clear_button.setEnabled(bool(self.values()))


class ReferenceSlotWidget(SlotWidget):
    """Several ordered images (reference images): each is named @Image1, @Image2… and can be moved or removed."""

    def __init__(self, slot: Slot, provider_id: str, parent: QWidget | None = None, *,
                 model_id: str | None = None) -> None:
        super().__init__(slot, provider_id, parent, model_id=model_id)
        self.setObjectName("ReferenceSlot")
        self._items: list[PreviewItem] = []
        self._holders: list[QWidget] = []
        self.row = QGridLayout()  # two per row: the composer column is narrow
        self.row.setSpacing(6)
        self.hint = QLabel(f"Drop up to {slot.max_count} images here; refer to them in the prompt as "
                           "@Image1, @Image2…", self)
        self.hint.setProperty("role", "note")
        self.hint.setWordWrap(True)
        self.add_button = QPushButton("Add…", self)
        self.add_button.clicked.connect(self._choose)
        self.clear_button = QPushButton("Clear all", self)
        self.clear_button.clicked.connect(self.clear)
        add_parts(QVBoxLayout(self), self.title, self.hint, self.row, button_row(self.add_button, self.clear_button))
        self._rebuild()

    def values(self) -> list[str]:
        return [item.value for item in self._items if item.value]

    def items(self) -> list[PreviewItem]:
        return list(self._items)

    def names(self) -> list[str]:
        """The names the prompt uses for the images, in order."""
        return [f"@Image{index + 1}" for index in range(len(self._items))]

    def set_values(self, values: list[str]) -> None:
        for item in self._items:
            item.deleteLater()
        self._items = []
        self.add_items(values)
        self._rebuild()
        self.changed.emit()

    def add_items(self, items: list[str]) -> int:
        taken = 0
        for value in items:
            if len(self._items) >= self.slot.max_count:
                break
            item = PreviewItem(parent=self)
            item.settled.connect(self.changed)
            item.load(value, self.rules, self.slot.kind)
            self._items.append(item)
            taken += 1
        if taken:
            self._rebuild()
            self.changed.emit()
        return taken

    def move_item(self, index: int, offset: int) -> None:
        """Move the image at ``index`` left (-1) or right (+1); names follow the new order."""
        target = index + offset
        if 0 <= index < len(self._items) and 0 <= target < len(self._items):
            self._items[index], self._items[target] = self._items[target], self._items[index]
            self._rebuild()
            self.changed.emit()

    def remove_item(self, index: int) -> None:
        if 0 <= index < len(self._items):
            self._items.pop(index).deleteLater()
            self._rebuild()
            self.changed.emit()

    def _rebuild(self) -> None:
        for item in self._items:
            item.setParent(self)  # out of the old holder before it goes
        for holder in self._holders:
            holder.deleteLater()
        self._holders = []
        while self.row.count():
            self.row.takeAt(0)
        for index, item in enumerate(self._items):
            item.caption.setText(f"@Image{index + 1}")
            item.caption.setVisible(True)
            holder = QWidget(self)
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(item)
            item.show()
            controls = QHBoxLayout()
            for text, tip, action in (("◀", "Move earlier", lambda _=False, i=index: self.move_item(i, -1)),
                                      ("▶", "Move later", lambda _=False, i=index: self.move_item(i, 1)),
                                      ("✕", "Remove", lambda _=False, i=index: self.remove_item(i))):
                button = QToolButton(holder)
                button.setText(text)
                button.setToolTip(tip)
                button.clicked.connect(action)
                controls.addWidget(button)
            controls.addStretch(1)
            column.addLayout(controls)
            self.row.addWidget(holder, index // COLUMNS, index % COLUMNS)
            self._holders.append(holder)
        self.row.setColumnStretch(COLUMNS, 1)
        self.add_button.setEnabled(len(self._items) < self.slot.max_count)
        self.clear_button.setEnabled(bool(self._items))

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, f"Add {self.slot.label.lower()}",
                                                last_folders().start(Purpose.INPUTS), IMAGE_FILTER)
        if paths:
            last_folders().remember(Purpose.INPUTS, paths[0])
        self.add_items(paths)


class VideoSlotWidget(OneItemSlotWidget):
    """A motion video: one of the slot's presets, or an MP4 file (or URL) of your own."""

    FILE_FILTER = VIDEO_FILTER

    def __init__(self, slot: Slot, provider_id: str, parent: QWidget | None = None, *,
                 model_id: str | None = None) -> None:
        super().__init__(slot, provider_id, parent, model_id=model_id)
        self.setObjectName("VideoSlot")
        self.item = PreviewItem(parent=self)
        self.item.show_empty("Drop an MP4 here")
        self.item.settled.connect(self.changed)
        self.presets = QComboBox(self)
        self.presets.addItem("No motion video", None)
        for preset in slot.presets:
            self.presets.addItem(f"Preset: {preset.name}", preset.name)
            self.presets.setItemData(self.presets.count() - 1, preset.help, Qt.ItemDataRole.ToolTipRole)
        self.presets.addItem("Your own video file…", "")
        self.presets.activated.connect(self._on_preset)
        self.presets.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.preview_link = self._make_preview_link()
        self.choose = QPushButton("Choose…", self)
        self.choose.clicked.connect(self._choose)
        top = add_parts(QHBoxLayout(), self.presets, self.preview_link, self.choose)
        add_parts(QVBoxLayout(self), self.title, top, self.item)

    def _make_preview_link(self) -> QToolButton:
        """"Preview ↗": opens the chosen preset's demo clip (the provider's docs show it only that way)."""
        link = QToolButton(self)
        link.setObjectName("PresetPreviewLink")
        link.setText("Preview ↗")
        link.setAutoRaise(True)
        link.setCursor(Qt.CursorShape.PointingHandCursor)
        link.clicked.connect(self._open_preview)
        link.setVisible(False)
        return link

    def _chosen_preset(self) -> Preset | None:
        value = self.item.value
        if not value or not value.startswith(PRESET_PREFIX):
            return None
        name = value.removeprefix(PRESET_PREFIX)
        return next((p for p in self.slot.presets if p.name == name), None)

    def _show_preview_link(self) -> None:
        preset = self._chosen_preset()
        url = preset.preview_url if preset else ""
        self.preview_link.setVisible(bool(url))
        if preset and url:
            self.preview_link.setToolTip(f"Open the provider's demo clip of {preset.name} in your browser:\n{url}")

    def _open_preview(self) -> None:
        preset = self._chosen_preset()
        if preset and preset.preview_url:
            QDesktopServices.openUrl(QUrl(preset.preview_url))

    def values(self) -> list[str]:
        value = self.item.value
        if value and value.startswith(PRESET_PREFIX):
            return [value.removeprefix(PRESET_PREFIX)]
        return [value] if value else []

    def _preset_named(self, value: str) -> str | None:
        value = value.removeprefix(PRESET_PREFIX)
        for preset in self.slot.presets:
            if value in (preset.name, preset.value):
                return preset.name
        return None

    def set_values(self, values: list[str]) -> None:
        value = values[0] if values else None
        preset = self._preset_named(value) if value else None
        if value is None:
            self.item.show_empty("Drop an MP4 here")
            self.presets.setCurrentIndex(0)
        elif preset is not None:
            self.item.load(PRESET_PREFIX + preset, None, SlotKind.VIDEO)
            self.presets.setCurrentIndex(max(0, self.presets.findData(preset)))
        else:
            self.item.load(value, None, SlotKind.VIDEO)
            self.presets.setCurrentIndex(self.presets.count() - 1)
        self._show_preview_link()
        self.changed.emit()

    def _on_preset(self, index: int) -> None:
        data = self.presets.itemData(index)
        if data is None:
            self.set_values([])
        elif data == "":
            if not self.item.value or self.item.value.startswith(PRESET_PREFIX):
                self._choose()
        else:
            self.set_values([str(data)])


def slot_widget(slot: Slot, provider_id: str, parent: QWidget | None = None, *,
                model_id: str | None = None) -> SlotWidget:
    """The widget for a slot's kind and count."""
    if slot.kind == SlotKind.VIDEO:
        return VideoSlotWidget(slot, provider_id, parent, model_id=model_id)
    if slot.max_count > 1:
        return ReferenceSlotWidget(slot, provider_id, parent, model_id=model_id)
    return ImageSlotWidget(slot, provider_id, parent, model_id=model_id)


class SlotsPanel(QWidget):
    """All input slots of one model, in declaration order."""

    changed = Signal()

    def __init__(self, provider_id: str, slots: tuple[Slot, ...], parent: QWidget | None = None, *,
                 model_id: str | None = None) -> None:
        super().__init__(parent)
        self.widgets: dict[str, SlotWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for slot in slots:
            widget = slot_widget(slot, provider_id, self, model_id=model_id)
            widget.changed.connect(self.changed)
            self.widgets[slot.name] = widget
            layout.addWidget(widget)
        self.frames_warning = QLabel(self)
        self.frames_warning.setObjectName("FramesWarning")
        self.frames_warning.setProperty("role", "warning")
        self.frames_warning.setWordWrap(True)
        self.frames_warning.hide()
        layout.addWidget(self.frames_warning)
        self.changed.connect(self._check_frames)

    def _check_frames(self) -> None:
        """Point out a first and a last frame of different shapes (the provider would crop or stretch one)."""
        sizes = [self._prepared_size(name) for name in ("image", "last_image")]
        first, last = sizes
        message = frame_mismatch(first, last) if first and last else None
        self.frames_warning.setText(f"⚠ {message}" if message else "")
        self.frames_warning.setVisible(bool(message))

    def _prepared_size(self, name: str) -> tuple[int, int] | None:
        widget = self.widgets.get(name)
        items = widget.items() if widget is not None and widget.slot.kind == SlotKind.IMAGE else []
        return items[0].prepared_size if items and items[0].state == PreviewItem.READY else None

    def inputs(self) -> dict[str, list[str]]:
        """Filled slots: slot name -> files, URLs or preset names (what ``JobRequest.inputs`` takes)."""
        return {name: w.values() for name, w in self.widgets.items() if w.values()}

    def set_inputs(self, inputs: dict[str, list[str]]) -> None:
        for name, widget in self.widgets.items():
            widget.set_values(list(inputs.get(name, [])))

    def set_params(self, params: dict[str, Any]) -> None:
        for widget in self.widgets.values():
            widget.set_params(params)

    def problems(self) -> list[str]:
        return [p for w in self.widgets.values() for p in w.problems()]

    def busy(self) -> bool:
        return any(w.busy() for w in self.widgets.values())

    def fill_first_empty(self, items: list[str]) -> int:
        """Put dropped items into the first slots with room that take them; returns how many were placed."""
        placed = 0
        for item in items:
            for widget in self.widgets.values():
                if widget.free > 0 and widget.accepts(item) and widget.add_items([item]):
                    placed += 1
                    break
        return placed
