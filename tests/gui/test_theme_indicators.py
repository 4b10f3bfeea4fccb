"""Check boxes must be seen in both themes: the batch dialog's model list, the settings' options. Fusion draws an
unchecked box's frame from the window colour darkened, which on the dark theme is all but black on black."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle, QStyleOptionButton, QTreeWidget, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from gui.theme import colors, theme_manager


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    manager = theme_manager(qapp)
    before = manager.mode
    manager.set_mode(request.param)
    yield request.param
    manager.set_mode(before)


#: Channel difference the frame of an empty box must have from what is behind it (Fusion's light theme: 53–63).
VISIBLE = 40


def contrast(image: QImage, area: QRect, background: QColor) -> int:
    """The largest channel difference between a pixel of ``area`` and ``background``."""
    best = 0
    for x in range(area.left(), area.right() + 1):
        for y in range(area.top(), area.bottom() + 1):
            pixel = image.pixelColor(QPoint(x, y))
            best = max(best, abs(pixel.red() - background.red()), abs(pixel.green() - background.green()),
                       abs(pixel.blue() - background.blue()))
    return best


def test_an_unchecked_box_stands_out_in_either_theme(qtbot: QtBot, theme: str) -> None:
    box = QCheckBox("Send original images")
    qtbot.addWidget(box)
    box.resize(240, 30)
    box.show()
    option = QStyleOptionButton()
    option.initFrom(box)
    area = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    image = box.grab().toImage()
    assert contrast(image, area, QColor(colors(theme == "dark")["window"])) >= VISIBLE, theme


def test_an_unchecked_item_in_a_list_stands_out_in_either_theme(qtbot: QtBot, theme: str) -> None:
    tree = QTreeWidget()
    qtbot.addWidget(tree)
    tree.setHeaderHidden(True)
    tree.setRootIsDecorated(False)
    item = QTreeWidgetItem(tree, [""])  # no text: only the box is drawn in the row
    item.setCheckState(0, Qt.CheckState.Unchecked)
    tree.resize(240, 80)
    tree.show()
    row = tree.visualItemRect(item)
    indicator = QRect(row.left(), row.top(), row.width(), row.height())
    image = tree.viewport().grab().toImage()
    assert contrast(image, indicator, QColor(colors(theme == "dark")["base"])) >= VISIBLE, theme
