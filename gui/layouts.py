"""The window's repeated arrangements, built in one place: a column of parts edge to edge, a row of buttons from the
left, and a page that scrolls up and down only (its rows wrap instead of scrolling sideways)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLayout, QScrollArea, QVBoxLayout, QWidget

#: A part of a column: a widget or a layout, ``(part, stretch)``, or an int for an empty stretch of that factor.
Part = QWidget | QLayout | tuple[QWidget | QLayout, int] | int


def add_parts(layout: QBoxLayout, *parts: Part) -> QBoxLayout:
    """Add ``parts`` to ``layout`` in order."""
    for part in parts:
        if isinstance(part, int):
            layout.addStretch(part)
            continue
        item, stretch = part if isinstance(part, tuple) else (part, 0)
        if isinstance(item, QLayout):
            layout.addLayout(item, stretch)
        else:
            layout.addWidget(item, stretch)
    return layout


def column(parent: QWidget, *parts: Part) -> QWidget:
    """A widget holding ``parts`` top to bottom, with no margin of its own."""
    host = QWidget(parent)
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    add_parts(layout, *parts)
    return host


def button_row(*buttons: QWidget) -> QHBoxLayout:
    """Buttons side by side from the left, the rest of the row empty."""
    row = QHBoxLayout()
    add_parts(row, *buttons, 1)
    return row


def vertical_scroll(parent: QWidget, content: QWidget, *, framed: bool = True) -> QScrollArea:
    """``content`` in a scroll area as wide as the area (it never scrolls sideways)."""
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setWidget(content)
    if not framed:
        area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
