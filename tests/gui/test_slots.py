"""Image and video slots with real drag-and-drop events: local files, web URLs, non-images, reference order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guikit import OFFSCREEN_NOISE, make_image, memory_keys
from PIL import Image
from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from core.paths import DataDir
from core.runtime import Runtime
from gui.composer import Composer
from gui.dropdata import dropped_items
from gui.prefs import GuiPrefs
from gui.preview_item import PreviewItem
from gui.settings_dialog import SettingsDialog
from gui.slots import ReferenceSlotWidget, VideoSlotWidget, image_sending

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = pytest.mark.usefixtures("sora_served")


def mime_for_files(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def mime_for_url(url: str, *, as_text: bool = False) -> QMimeData:
    mime = QMimeData()
    if as_text:
        mime.setText(url)
    else:
        mime.setUrls([QUrl(url)])
    return mime


def drag_and_drop(widget: QWidget, mime: QMimeData) -> tuple[bool, bool]:
    """Deliver a drag-enter and then a drop; returns whether each was accepted."""
    centre = widget.rect().center()
    enter = QDragEnterEvent(QPoint(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    entered = enter.isAccepted()
    if not entered:
        return False, False
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return entered, drop.isAccepted()


def composer_for(qtbot: QtBot, provider: str, model: str) -> Composer:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.resize(900, 900)
    assert composer.select(provider, model)
    return composer


def test_mime_parsing(tmp_path: Path) -> None:
    local = tmp_path / "a.png"
    assert dropped_items(mime_for_files(local)) == [str(local)]
    assert dropped_items(mime_for_url("https://example.com/cat.jpg")) == ["https://example.com/cat.jpg"]
    assert dropped_items(mime_for_url("https://example.com/cat.jpg\n", as_text=True)) == [
        "https://example.com/cat.jpg"]
    assert dropped_items(mime_for_url("ftp://example.com/cat.jpg")) == []
    assert dropped_items(mime_for_url("just some words", as_text=True)) == []


def test_drop_local_image_shows_it_as_sent(qtbot: QtBot, tmp_path: Path) -> None:
    tall = make_image(tmp_path / "tall.png", (100, 1000))
    composer = composer_for(qtbot, "aimlapi", "video-01-live2d")
    composer.set_prompt("She smiles")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    assert drag_and_drop(slot, mime_for_files(tall)) == (True, True)
    item = slot.items()[0]
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY, timeout=10_000)
    assert item.note.startswith("404×1000 PNG, ")  # widened to just inside 2:5, then what it was and what changed
    assert "to send\nfrom 100×1000 PNG" in item.note and "padded to aspect ratio just inside 2:5" in item.note
    assert item.thumb.pixmap() is not None and not item.thumb.pixmap().isNull()
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    assert composer.request().inputs == {"image": [str(tall)]}  # type: ignore[union-attr]


def test_thumbnail_follows_parameters(qtbot: QtBot, image_file: Path) -> None:
    composer = composer_for(qtbot, "aihubmix", "sora-2")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    drag_and_drop(slot, mime_for_files(image_file))
    item = slot.items()[0]
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY, timeout=10_000)
    assert "720×1280" in item.note and "cropped" in item.note
    composer.form.editors["image_fit"].set_value("pad")  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY and "padded" in item.note, timeout=10_000)


def test_each_model_previews_by_its_own_declared_rules(qtbot: QtBot) -> None:
    """AIHubMix serves Sora (an image must match ``size`` exactly) and Veo (no exact size) on one endpoint: the
    preview of a Veo first frame must not be fitted to Sora's rules."""
    veo = composer_for(qtbot, "aihubmix", "veo-3.1-generate-preview").slots.widgets["image"]  # type: ignore[union-attr]
    sora = composer_for(qtbot, "aihubmix", "sora-2").slots.widgets["image"]  # type: ignore[union-attr]
    veo.set_params({"size": "1280x720"})
    sora.set_params({"size": "720x1280"})
    assert sora.rules is not None and sora.rules.exact_size == (720, 1280)
    assert veo.rules is not None and veo.rules.exact_size is None and veo.rules.max_short_side == 1920


def test_drop_web_url_as_uri_list_and_as_text(qtbot: QtBot) -> None:
    composer = composer_for(qtbot, "gateway", "viduq3p-720p")
    composer.set_prompt("from the first frame to the last")  # the gateway needs a prompt in every mode
    first = composer.slots.widgets["image"]  # type: ignore[union-attr]
    last = composer.slots.widgets["last_image"]  # type: ignore[union-attr]
    assert drag_and_drop(first, mime_for_url("https://images.example.com/first.jpg")) == (True, True)
    assert drag_and_drop(last, mime_for_url("https://images.example.com/last.jpg", as_text=True)) == (True, True)
    assert first.items()[0].state == PreviewItem.URL
    assert "URL passed through" in first.items()[0].note
    assert composer.request().inputs == {  # type: ignore[union-attr]
        "image": ["https://images.example.com/first.jpg"], "last_image": ["https://images.example.com/last.jpg"]}
    qtbot.waitUntil(lambda: composer.mode == "first_last")


def test_drop_non_image_shows_inline_error_and_blocks_submit(qtbot: QtBot, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image at all")
    composer = composer_for(qtbot, "goapi", "Qubico/hug-video")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    assert drag_and_drop(slot, mime_for_files(text)) == (True, True)
    item = slot.items()[0]
    qtbot.waitUntil(lambda: item.state == PreviewItem.ERROR, timeout=10_000)
    assert "not an image" in item.note
    assert item.note_label.property("role") == "error"
    # The form re-checks itself on the next turn of the loop: wait for the reason, then for Submit to be off.
    qtbot.waitUntil(lambda: "notes.txt" in composer.reason_label.text(), timeout=10_000)
    assert not composer.submit_button.isEnabled()


def test_corrupt_and_empty_images(qtbot: QtBot, tmp_path: Path) -> None:
    good = make_image(tmp_path / "good.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:80])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    composer = composer_for(qtbot, "goapi", "Qubico/hug-video")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    for path, words in ((broken, "broken.png"), (empty, "empty")):
        drag_and_drop(slot, mime_for_files(path))
        item = slot.items()[0]
        qtbot.waitUntil(lambda: item.state == PreviewItem.ERROR, timeout=10_000)  # noqa: B023
        assert words in item.note


def test_video_file_is_refused_by_an_image_slot(qtbot: QtBot, tmp_path: Path) -> None:
    composer = composer_for(qtbot, "goapi", "Qubico/hug-video")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    assert drag_and_drop(slot, mime_for_files(tmp_path / "clip.mp4")) == (False, False)


def test_reference_slot_keeps_order_and_names(qtbot: QtBot, tmp_path: Path) -> None:
    images = [make_image(tmp_path / f"ref{i}.png", (300, 300), color) for i, color in
              enumerate(("red", "green", "blue", "white", "black"))]
    composer = composer_for(qtbot, "gateway", "viduq3p-mix-720p")
    slot = composer.slots.widgets["ref_image"]  # type: ignore[union-attr]
    assert isinstance(slot, ReferenceSlotWidget)
    assert drag_and_drop(slot, mime_for_files(*images[:2])) == (True, True)
    assert drag_and_drop(slot, mime_for_files(*images[2:])) == (True, True)  # only two more fit
    assert slot.values() == [str(p) for p in images[:4]]
    assert slot.names() == ["@Image1", "@Image2", "@Image3", "@Image4"]
    slot.move_item(0, 1)
    assert slot.values()[:2] == [str(images[1]), str(images[0])]
    assert [i.caption.text() for i in slot.items()] == ["@Image1", "@Image2", "@Image3", "@Image4"]
    slot.remove_item(3)
    assert slot.values() == [str(images[1]), str(images[0]), str(images[2])]
    qtbot.waitUntil(lambda: all(i.state == PreviewItem.READY for i in slot.items()), timeout=10_000)
    composer.set_prompt("@Image1 hugs @Image2 near @Image3")
    qtbot.waitUntil(lambda: composer.mode == "reference")
    assert composer.request().inputs["ref_image"] == slot.values()  # type: ignore[union-attr]


def test_video_slot_presets_and_files(qtbot: QtBot, tmp_path: Path, image_file: Path) -> None:
    composer = composer_for(qtbot, "novita", "img2video-motion")
    slot = composer.slots.widgets["motion_video"]  # type: ignore[union-attr]
    assert isinstance(slot, VideoSlotWidget)
    presets = composer.model.slot("motion_video").presets  # type: ignore[union-attr]
    assert slot.presets.count() == len(presets) + 2
    slot.presets.setCurrentIndex(1)
    slot.presets.activated.emit(1)
    assert slot.values() == [presets[0].name]
    fake = tmp_path / "dance.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)  # an MP4 header with no frames
    assert drag_and_drop(slot, mime_for_files(fake)) == (True, True)
    item = slot.items()[0]
    qtbot.waitUntil(lambda: item.state == PreviewItem.ERROR, timeout=10_000)
    assert "dance.mp4" in item.note
    assert drag_and_drop(slot, mime_for_files(image_file)) == (False, False)


class LinkCatcher(QObject):
    """Receives QDesktopServices.openUrl calls for https:// URLs instead of a web browser."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)
def test_video_slot_links_each_presets_documented_demo(qtbot: QtBot) -> None:
    composer = composer_for(qtbot, "novita", "img2video-motion")
    composer.show()
    slot = composer.slots.widgets["motion_video"]  # type: ignore[union-attr]
    assert isinstance(slot, VideoSlotWidget)
    presets = composer.model.slot("motion_video").presets  # type: ignore[union-attr]
    assert not slot.preview_link.isVisible()  # no preset chosen: nothing to preview
    catcher = LinkCatcher()
    QDesktopServices.setUrlHandler("https", catcher, "open")
    try:
        for index, preset in enumerate(presets, start=1):
            slot.presets.setCurrentIndex(index)
            slot.presets.activated.emit(index)
            assert slot.preview_link.isVisible()
            assert preset.preview_url in slot.preview_link.toolTip()
            qtbot.mouseClick(slot.preview_link, Qt.MouseButton.LeftButton)
            assert catcher.urls[-1] == preset.preview_url
    finally:
        QDesktopServices.unsetUrlHandler("https")
    assert len(catcher.urls) == len(presets)
    slot.set_values([])
    assert not slot.preview_link.isVisible()


def test_fill_first_empty(qtbot: QtBot, tmp_path: Path) -> None:
    one, two = make_image(tmp_path / "one.png"), make_image(tmp_path / "two.png")
    composer = composer_for(qtbot, "gateway", "viduq3p-720p")
    assert composer.fill_first_empty([str(one)]) == 1
    assert composer.fill_first_empty([str(two)]) == 1
    assert composer.request().inputs == {"image": [str(one)], "last_image": [str(two)]}  # type: ignore[union-attr]
    assert composer.fill_first_empty([str(one)]) == 0


def test_video_slot_shows_the_first_frame_of_a_real_mp4(qtbot: QtBot, tmp_path: Path) -> None:
    from guikit import make_video

    clip = make_video(tmp_path / "moves.mp4")
    composer = composer_for(qtbot, "novita", "img2video-motion")
    slot = composer.slots.widgets["motion_video"]  # type: ignore[union-attr]
    assert drag_and_drop(slot, mime_for_files(clip)) == (True, True)
    item = slot.items()[0]
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY, timeout=10_000)
    assert "MP4 video" in item.note
    assert not item.thumb.pixmap().isNull()
    assert slot.values() == [str(clip)]
    assert slot.presets.currentIndex() == slot.presets.count() - 1  # "your own video file"


# --- the preview tells the truth: size and bytes sent, what changed, what is lost ------------------------------


def wait_ready(qtbot: QtBot, item: PreviewItem) -> None:
    qtbot.waitUntil(lambda: item.state in (PreviewItem.READY, PreviewItem.ERROR), timeout=15_000)
    assert item.state == PreviewItem.READY, item.note


def make_photo(path: Path, size: tuple[int, int]) -> Path:
    noise = Image.effect_noise(size, 30)
    Image.merge("RGB", (noise, Image.linear_gradient("L").resize(size), noise)).save(path, "JPEG", quality=80)
    return path


def test_a_small_jpeg_is_shown_as_the_jpeg_it_is(qtbot: QtBot, tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "small.jpg", (512, 512))
    composer = composer_for(qtbot, "goapi", "Qubico/hug-video")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    drag_and_drop(slot, mime_for_files(photo))
    item = slot.items()[0]
    wait_ready(qtbot, item)
    kilobytes = round(photo.stat().st_size / 1024)
    assert item.note == f"512×512 JPEG, {kilobytes} KB to send\nthe file as it is"
    assert item.prepared_size == (512, 512) and item.warning_label.isHidden()


def test_a_large_photo_is_shown_at_the_size_the_model_uses(qtbot: QtBot, tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "big.jpg", (3000, 2000))
    composer = composer_for(qtbot, "gateway", "viduq3p-540p")
    composer.set_prompt("waves")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    drag_and_drop(slot, mime_for_files(photo))
    item = slot.items()[0]
    wait_ready(qtbot, item)
    assert item.prepared_size == (1440, 960)
    assert item.note.startswith("1440×960 JPEG, ") and "from 3000×2000 JPEG" in item.note
    assert "scaled down to 1440×960" in item.note
    image_sending().set_originals(True)  # what the settings dialog does: the preview follows at once
    try:
        qtbot.waitUntil(lambda: item.state == PreviewItem.READY and item.prepared_size == (3000, 2000),
                        timeout=15_000)
        assert "the file as it is" in item.note
    finally:
        image_sending().set_originals(False)
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY and item.prepared_size == (1440, 960), timeout=15_000)


@pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)
def test_a_cropped_panorama_is_warned_about_under_its_thumbnail(qtbot: QtBot, tmp_path: Path) -> None:
    panorama = make_image(tmp_path / "panorama.png", (8000, 1000), "navy")
    composer = composer_for(qtbot, "aihubmix", "sora-2")
    composer.resize(520, 700)  # the narrow composer column of a 1024×700 window
    composer.show()
    qtbot.waitExposed(composer)
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    drag_and_drop(slot, mime_for_files(panorama))
    item = slot.items()[0]
    wait_ready(qtbot, item)
    assert item.warnings and item.warnings[0].startswith("Cropped: only 7 % of the picture is kept")
    assert item.warning_label.isVisibleTo(composer) and item.warning_label.property("role") == "warning"
    assert "⚠ Cropped" in item.note
    qtbot.waitUntil(lambda: item.note_label.geometry().top() >= item.thumb.geometry().bottom())
    # nothing is drawn over anything: thumbnail, note and warning follow each other inside the item
    assert item.warning_label.geometry().top() >= item.note_label.geometry().bottom()
    assert item.warning_label.geometry().bottom() <= item.height()
    assert item.note_label.height() >= item.note_label.heightForWidth(item.note_label.width())
    composer.form.editors["image_fit"].set_value("pad")  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: item.state == PreviewItem.READY and "padded" in item.note, timeout=15_000)
    assert item.warnings[0].startswith("Padded: the picture fills only 7 % of the frame")


def test_a_tiny_image_enlarged_is_warned_about(qtbot: QtBot, tmp_path: Path) -> None:
    tiny = make_image(tmp_path / "tiny.png", (100, 100))
    composer = composer_for(qtbot, "aimlapi", "video-01-live2d")
    slot = composer.slots.widgets["image"]  # type: ignore[union-attr]
    drag_and_drop(slot, mime_for_files(tiny))
    item = slot.items()[0]
    wait_ready(qtbot, item)
    assert item.prepared_size == (301, 301)
    assert any(w.startswith("Enlarged 3.0× from 100×100") for w in item.warnings)


def test_first_and_last_frames_of_different_shapes_are_pointed_out(qtbot: QtBot, tmp_path: Path) -> None:
    landscape = make_image(tmp_path / "wide.png", (640, 360))
    portrait = make_image(tmp_path / "tall.png", (360, 640))
    other_landscape = make_image(tmp_path / "wide2.png", (1280, 720), "teal")
    composer = composer_for(qtbot, "gateway", "viduq3p-720p")
    panel = composer.slots
    assert panel is not None
    panel.set_inputs({"image": [str(landscape)], "last_image": [str(portrait)]})
    qtbot.waitUntil(lambda: panel.frames_warning.isVisibleTo(composer), timeout=15_000)
    assert "640×360" in panel.frames_warning.text() and "360×640" in panel.frames_warning.text()
    panel.widgets["last_image"].set_values([str(other_landscape)])
    qtbot.waitUntil(lambda: panel.frames_warning.isHidden(), timeout=15_000)


def test_an_unexpected_failure_reads_as_words_not_a_python_exception(qtbot: QtBot, tmp_path: Path) -> None:
    item = PreviewItem()
    qtbot.addWidget(item)
    item._failed(item._generation, KeyError("_reeldeck_internal"))
    assert item.state == PreviewItem.ERROR
    assert "KeyError" not in item.note and "could not be read or prepared" in item.note


def test_the_setting_to_send_originals_is_a_checkbox_that_applies_at_once(qtbot: QtBot, tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data").ensure()
    dialog = SettingsDialog(Runtime(data, keys=memory_keys()), GuiPrefs(data.root))
    qtbot.addWidget(dialog)
    assert not dialog.originals_box.isChecked()
    dialog.originals_box.setChecked(True)
    try:
        dialog.save()
        assert json.loads(data.settings_file.read_text())["send_original_images"] is True
        assert image_sending().originals is True
        again = SettingsDialog(Runtime(data, keys=memory_keys()), GuiPrefs(data.root))
        qtbot.addWidget(again)
        assert again.originals_box.isChecked()
        again.originals_box.setChecked(False)
        again.save()
        assert "send_original_images" not in json.loads(data.settings_file.read_text())
        assert image_sending().originals is False
    finally:
        image_sending().set_originals(False)
