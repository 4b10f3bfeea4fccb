"""Scrolling a page with the mouse wheel never changes a value under the pointer; a focused widget still takes it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QSpinBox, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from core.providers import provider_spec
from gui.form import ModelForm
from gui.wheel_guard import guard_wheel


def wheel_down(widget: QWidget) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(QPoint(*(int(v) for v in (centre.x(), centre.y()))))),
                        QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def page_with(qtbot: QtBot) -> tuple[QScrollArea, QComboBox, QSpinBox]:
    area = QScrollArea()
    page = QWidget()
    layout = QVBoxLayout(page)
    combo, spin = QComboBox(page), QSpinBox(page)
    combo.addItems(["pad", "crop", "scale"])
    spin.setRange(1, 10)
    spin.setValue(4)
    layout.addWidget(combo)
    layout.addWidget(spin)
    layout.addSpacing(2000)  # a long page that scrolls
    area.setWidget(page)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    guard_wheel(page)
    return area, combo, spin


def test_the_wheel_over_unfocused_values_scrolls_the_page(qtbot: QtBot) -> None:
    area, combo, spin = page_with(qtbot)
    wheel_down(combo)
    wheel_down(spin)
    assert combo.currentText() == "pad" and spin.value() == 4  # nothing changed silently
    assert area.verticalScrollBar().value() > 0  # the page scrolled instead
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_a_focused_value_widget_takes_the_wheel(qtbot: QtBot) -> None:
    _area, _combo, spin = page_with(qtbot)
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel_down(spin)
    assert spin.value() == 3


def test_generated_forms_are_guarded(qtbot: QtBot) -> None:
    form = ModelForm(provider_spec("gateway").model("viduq3p-720p"))
    qtbot.addWidget(form)
    fit = form.editors["image_fit"]
    combos = fit.findChildren(QComboBox) or ([fit] if isinstance(fit, QComboBox) else [])
    assert combos and all(c.property("reeldeckWheelGuard") for c in combos)
    before = form.values().get("image_fit")
    wheel_down(combos[0])
    assert form.values().get("image_fit") == before
