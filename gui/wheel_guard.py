"""Value widgets take the mouse wheel only once focused (docs/ARCHITECTURE.md, "Known pitfalls").

Without this, scrolling a form or the settings with the wheel silently changes whatever combo box, spin box or
slider passes under the pointer ("Fit image" pad → scale, "Jobs at once" 4 → 1). ``guard_wheel(page)`` puts one
shared event filter on the value widgets of a page (not on the whole application: that would run Python for every
event): a wheel event over such a widget that does not have the keyboard focus goes to the scroll area it sits in, so
the page scrolls; once the person clicks (or tabs into) the widget, the wheel changes its value as usual.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox, QWidget

from gui.safety import guarded

VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


class WheelGuard(QObject):
    """Sends wheel events over unfocused value widgets to their parent (the page scrolls, no value changes)."""

    @guarded(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Polish and isinstance(watched, VALUE_WIDGETS):
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone never gives them focus
            return False
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, VALUE_WIDGETS) or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is not None:  # Qt does not pass a handed-on wheel event up by itself: give it to the page
            QCoreApplication.sendEvent(area.viewport(), event)
        return True


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The scroll area the widget sits in (the page to scroll), if any."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


_GUARD: WheelGuard | None = None


def guard_wheel(page: QWidget) -> None:
    """Guard every value widget on ``page`` (call again after adding widgets; a widget is guarded once)."""
    global _GUARD
    if _GUARD is None:
        _GUARD = WheelGuard(QCoreApplication.instance())
    for widget in page.findChildren(QWidget):
        if isinstance(widget, VALUE_WIDGETS) and not widget.property("reeldeckWheelGuard"):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone never gives them focus
            widget.installEventFilter(_GUARD)
            widget.setProperty("reeldeckWheelGuard", True)
