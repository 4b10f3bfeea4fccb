"""File dialogs open in the last folder used for their purpose (inputs, exports), remembered across restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from guikit import make_image
from pytestqt.qtbot import QtBot

from core.params import Slot, SlotKind
from gui import last_folder
from gui.export_action import Exporter
from gui.last_folder import LastFolders, Purpose
from gui.prefs import GuiPrefs
from gui.slots import ImageSlotWidget


def test_last_folder_per_purpose_survives_a_restart(tmp_path: Path) -> None:
    prefs = GuiPrefs(tmp_path / "data")
    folders = LastFolders(prefs)
    first = folders.start(Purpose.INPUTS)
    assert first != os.getcwd() and Path(first).is_dir()  # not the app's folder
    photos = make_image(tmp_path / "shoot" / "day 1" / "photo.png")
    folders.remember(Purpose.INPUTS, photos)
    out = tmp_path / "exports"
    out.mkdir()
    folders.remember(Purpose.EXPORTS, out)
    assert folders.start(Purpose.INPUTS) == str(photos.parent)
    assert folders.start(Purpose.EXPORTS) == str(out)
    prefs.sync()

    again = LastFolders(GuiPrefs(tmp_path / "data"))  # the next start of the app
    assert again.start(Purpose.INPUTS) == str(photos.parent)
    assert again.start(Purpose.EXPORTS) == str(out)
    out.rmdir()
    assert again.start(Purpose.EXPORTS) != str(out)  # gone: a folder that exists instead


def test_the_image_dialog_opens_where_the_last_image_came_from(qtbot: QtBot, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folders = LastFolders(GuiPrefs(tmp_path / "data"))
    monkeypatch.setattr(last_folder, "_current", folders)
    first = make_image(tmp_path / "shoot" / "a.png")
    second = make_image(tmp_path / "other" / "b.png")
    asked: list[str] = []
    answers = iter([str(first), str(second)])

    def dialog(_parent: object, _title: str, start: str, _filter: str) -> tuple[str, str]:
        asked.append(start)
        return next(answers), ""

    monkeypatch.setattr("gui.slots.QFileDialog.getOpenFileName", dialog)
    widget = ImageSlotWidget(Slot("image", SlotKind.IMAGE, "Image", "The first frame.", field="image"), "gateway")
    qtbot.addWidget(widget)
    widget._choose()
    widget._choose()
    assert asked[1] == str(first.parent)
    assert asked[0] != str(first.parent) and asked[0] != os.getcwd()
    assert folders.start(Purpose.INPUTS) == str(second.parent)


def test_export_starts_in_the_last_export_folder(tmp_path: Path) -> None:
    prefs = GuiPrefs(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    LastFolders(prefs).remember(Purpose.EXPORTS, out)
    exporter = Exporter(prefs)
    assert exporter.folders.start(Purpose.EXPORTS) == str(out)
