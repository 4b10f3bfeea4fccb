"""The placeholders of a template prompt, under the prompt in the form: one field per placeholder, filled per job.

The syntax and the filling rule are ``core.templates``'; this widget only shows the placeholders of the text it is
given and asks for their values. A placeholder that lists values (``{animal|fox,owl}``) gets an editable list
starting at its first value; a plain one (``{colour}``) a line to type in. Values are kept by name while the prompt
is edited (and across models: ``kept`` is the composer's). Batch… runs the template over lists of values instead.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QFrame, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.templates import Placeholder, TemplateError, parse_template
from gui.wheel_guard import guard_wheel


class TemplateFields(QFrame):
    """One value per placeholder of the prompt; hidden when the prompt has none. ``changed`` on every edit."""

    changed = Signal()

    def __init__(self, kept: dict[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TemplateFields")
        #: The values typed, by placeholder name (shared with the composer, so they outlive this widget).
        self.kept = kept if kept is not None else {}
        self.placeholders: tuple[Placeholder, ...] = ()
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        self.title = QLabel("Placeholders for this job (Batch… runs them over lists of values):", self)
        self.title.setWordWrap(True)
        self.title.setProperty("role", "note")
        self.rows = QFormLayout()
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(self.rows)
        self.setVisible(False)

    def set_text(self, text: str) -> None:
        """Show the placeholders of ``text`` (none, or a malformed template: the form says what is wrong)."""
        try:
            placeholders = parse_template(text).placeholders
        except TemplateError:
            placeholders = ()
        if placeholders != self.placeholders:
            self._rebuild(placeholders)
        self.setVisible(bool(placeholders))

    def _rebuild(self, placeholders: tuple[Placeholder, ...]) -> None:
        while self.rows.rowCount():
            self.rows.removeRow(0)
        self.placeholders = placeholders
        self.editors = {p.name: self._editor(p) for p in placeholders}
        for placeholder in placeholders:
            self.rows.addRow(placeholder.token, self.editors[placeholder.name])
        guard_wheel(self)

    def _editor(self, placeholder: Placeholder) -> QLineEdit | QComboBox:
        value = self.kept.get(placeholder.name, "")
        editor: QLineEdit | QComboBox
        if placeholder.values:
            editor = QComboBox(self)
            editor.setEditable(True)
            editor.addItems(list(placeholder.values))
            editor.setCurrentText(value or placeholder.values[0])
            editor.currentTextChanged.connect(lambda text, name=placeholder.name: self._typed(name, text))
            self.kept[placeholder.name] = editor.currentText()
        else:
            editor = QLineEdit(value, self)
            editor.setPlaceholderText(f"the value of {placeholder.token} for this job")
            editor.textChanged.connect(lambda text, name=placeholder.name: self._typed(name, text))
        editor.setObjectName(f"placeholder_{placeholder.name}")
        editor.setToolTip(f"What {placeholder.token} becomes in the prompt sent")
        return editor

    def _typed(self, name: str, text: str) -> None:
        self.kept[name] = text
        self.changed.emit()

    def values(self) -> dict[str, str]:
        """The value of each placeholder shown, by name."""
        return {name: self.kept.get(name, "") for name in self.editors}

    def set_value(self, name: str, value: str) -> None:
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            editor.setCurrentText(value)
        else:
            editor.setText(value)
