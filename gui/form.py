"""Parameter forms generated from a model's declaration (``core.params.ModelSpec``).

Every ``Param`` gets the widget that fits its type: an enum a combo box, a bounded number a spin box, a boolean a
check box, free text a multi-line box with a live character count. Help text becomes the tooltip and defaults are
filled in. A parameter with no default that is not required can be left unset ("provider default").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal, SignalInstance
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.params import ModelSpec, Param, ParamType
from gui.wheel_guard import guard_wheel

INT_LIMIT = 2**31 - 1
UNSET_TEXT = "Provider default"


class ParamEditor(QWidget):
    """One parameter's editor. ``value()`` is None when the parameter is left unset."""

    changed = Signal()

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)
        self.setObjectName(f"param_{param.name}")

    @property
    def optional(self) -> bool:
        """True when the parameter may be left unset."""
        return self.param.default is None and not self.param.required

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the declared default (or unset)."""
        self.set_value(self.param.default)

    def _hold(self, widget: QWidget, edited: SignalInstance, *, stretch: bool = False,
              on_edit: Callable[[], None] | None = None) -> None:
        """Lay out the one input widget (kept at its own width when ``stretch``), tell of each edit (through
        ``on_edit`` when given, else ``changed``) and show the default."""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget)
        if stretch:
            layout.addStretch(1)
        slot = on_edit or self.changed.emit
        edited.connect(lambda *_args: slot())
        self.reset()


class TextEditor(ParamEditor):
    """Multi-line text (prompts) with a live character count against ``max_length``."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QPlainTextEdit(self)
        self.edit.setToolTip(param.help)
        self.edit.setPlaceholderText(param.help)
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(80)
        self.edit.setMaximumHeight(160)
        self.count = QLabel(self)
        self.count.setProperty("role", "note")
        #: The row under the text: the character count, then room for buttons (the composer's Prompt history…).
        self.footer = QHBoxLayout()
        self.footer.setContentsMargins(0, 0, 0, 0)
        self.footer.addWidget(self.count, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addLayout(self.footer)
        self.edit.textChanged.connect(self._on_text)
        self.reset()
        self._on_text()

    def _on_text(self) -> None:
        length = len(self.edit.toPlainText())
        limit = self.param.max_length
        over = limit is not None and length > limit
        self.count.setText(f"{length:,} / {limit:,} characters" if limit else f"{length:,} characters")
        self.count.setProperty("role", "error" if over else "note")
        self.count.style().unpolish(self.count)
        self.count.style().polish(self.count)
        self.changed.emit()

    def value(self) -> Any:
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.edit.setPlainText("" if value is None else str(value))


class StringEditor(ParamEditor):
    """One line of text."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setToolTip(param.help)
        self.edit.setPlaceholderText(UNSET_TEXT if self.optional else "")
        if param.max_length:
            self.edit.setMaxLength(max(param.max_length + 1, 1))
        self._hold(self.edit, self.edit.textChanged)

    def value(self) -> Any:
        text = self.edit.text()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class EnumEditor(ParamEditor):
    """A combo box of the allowed values; optional ones start with "Provider default"."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setToolTip(param.help)
        if self.optional:
            self.combo.addItem(UNSET_TEXT, None)
        for choice in param.choices:
            self.combo.addItem(str(choice), choice)
        self._hold(self.combo, self.combo.currentIndexChanged)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        for index in range(self.combo.count()):
            data = self.combo.itemData(index)
            if data == value or (value is not None and str(data) == str(value)):
                self.combo.setCurrentIndex(index)
                return
        self.combo.setCurrentIndex(0)


class _SpinEditor(ParamEditor):
    """What the two spin-box editors share: an optional one shows "Provider default" just below its minimum."""

    spin: QSpinBox | QDoubleSpinBox
    _unset_at: float | None
    _coerce: type = int

    def _lay_out(self) -> None:
        if self.optional:
            self.spin.setSpecialValueText(UNSET_TEXT)
        self._hold(self.spin, self.spin.valueChanged, stretch=True)

    def value(self) -> Any:
        if self._unset_at is not None and self.spin.value() <= self._unset_at:
            return None
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        if value is None:
            self._show(self._unset_at if self._unset_at is not None else self.spin.minimum())
            return
        try:
            self._show(self._coerce(value))
        except (TypeError, ValueError):
            self._show(self.spin.minimum())

    def _show(self, value: float) -> None:
        """Put ``value`` in the spin box, as the box's own type (a whole number in a QSpinBox)."""
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(int(value))
        else:
            self.spin.setValue(float(value))


class IntEditor(_SpinEditor):
    """A spin box for a bounded whole number; an optional one shows "Provider default" below its minimum."""

    _coerce = int

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = QSpinBox(self)
        self.spin.setToolTip(param.help)
        low, high = int(param.minimum or 0), int(param.maximum or 0)
        self._unset_at = low - 1 if self.optional else None
        self.spin.setRange(low - 1 if self.optional else low, high)
        self.spin.setAccelerated(True)
        self._lay_out()


class NumberEditor(_SpinEditor):
    """A spin box for a bounded decimal number."""

    _coerce = float

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = QDoubleSpinBox(self)
        self.spin.setToolTip(param.help)
        low, high = float(param.minimum or 0.0), float(param.maximum or 0.0)
        span = high - low
        self.spin.setDecimals(2 if span <= 100 else 1)
        self.spin.setSingleStep(0.1 if span <= 10 else 1.0)
        step = self.spin.singleStep()
        self._unset_at = low - step if self.optional else None
        self.spin.setRange(self._unset_at if self._unset_at is not None else low, high)
        self._lay_out()


class FreeNumberEditor(ParamEditor):
    """A number without bounds (a seed, say): a line edit that accepts digits; empty means unset."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit(self)
        self.edit.setToolTip(param.help)
        pattern = r"-?\d*" if param.type == ParamType.INTEGER else r"-?\d*\.?\d*([eE]-?\d+)?"
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(pattern), self.edit))
        self.edit.setPlaceholderText(UNSET_TEXT if self.optional else "")
        self._hold(self.edit, self.edit.textChanged)

    def value(self) -> Any:
        text = self.edit.text().strip()
        return text or None  # validate() coerces and range-checks it

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class BoolEditor(ParamEditor):
    """A check box; an optional one is three-state, its middle state meaning "provider default"."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(param.label, self)
        self.check.setToolTip(param.help)
        self.check.setTristate(self.optional)
        self._hold(self.check, self.check.checkStateChanged, stretch=True, on_edit=self._on_state)
        self._on_state()

    def _on_state(self) -> None:
        if self.optional:
            state = self.value()
            self.check.setText(f"{self.param.label} ({UNSET_TEXT.lower()})" if state is None else self.param.label)
        self.changed.emit()

    def value(self) -> Any:
        state = self.check.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            return None
        return state == Qt.CheckState.Checked

    def set_value(self, value: Any) -> None:
        if value is None:
            self.check.setCheckState(Qt.CheckState.PartiallyChecked if self.optional else Qt.CheckState.Unchecked)
        else:
            self.check.setCheckState(Qt.CheckState.Checked if _truthy(value) else Qt.CheckState.Unchecked)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _bounded(param: Param) -> bool:
    if param.minimum is None or param.maximum is None:
        return False
    return param.type != ParamType.INTEGER or (param.minimum > -INT_LIMIT and param.maximum < INT_LIMIT)


def editor_for(param: Param, parent: QWidget | None = None) -> ParamEditor:
    """The right editor widget for a parameter."""
    if param.type == ParamType.ENUM:
        return EnumEditor(param, parent)
    if param.type == ParamType.BOOLEAN:
        return BoolEditor(param, parent)
    if param.type == ParamType.TEXT:
        return TextEditor(param, parent)
    if param.type == ParamType.STRING:
        return StringEditor(param, parent)
    if param.type == ParamType.INTEGER:
        return IntEditor(param, parent) if _bounded(param) else FreeNumberEditor(param, parent)
    if param.type == ParamType.NUMBER:
        return NumberEditor(param, parent) if _bounded(param) else FreeNumberEditor(param, parent)
    return StringEditor(param, parent)


class ModelForm(QWidget):
    """The parameter form of one model; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, model: ModelSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.editors: dict[str, ParamEditor] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: field under label, not sideways
        for param in model.params:
            editor = editor_for(param, self)
            editor.changed.connect(self.changed)
            self.editors[param.name] = editor
            if isinstance(editor, BoolEditor):
                layout.addRow("", editor)
                continue
            label = QLabel(param.label + (" *" if param.required else ""), self)
            label.setToolTip(param.help)
            label.setBuddy(editor)
            layout.addRow(label, editor)
        guard_wheel(self)  # scrolling the page never changes a value

    def values(self) -> dict[str, Any]:
        """The values that are set, by parameter name (raw: validate() coerces them)."""
        result = {}
        for name, editor in self.editors.items():
            value = editor.value()
            if value is not None:
                result[name] = value
        return result

    def set_values(self, values: dict[str, Any], *, reset_others: bool = True) -> None:
        """Fill the form from values (unknown names are ignored)."""
        for name, editor in self.editors.items():
            if name in values:
                editor.set_value(values[name])
            elif reset_others:
                editor.reset()

    def editor(self, name: str) -> ParamEditor | None:
        return self.editors.get(name)
