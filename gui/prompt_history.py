"""The prompt history dialog: every prompt used, newest first, searched as you type; pick one to put it in the form.

It shows ``core.prompts.PromptHistory``; the window records each submitted prompt there.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.prompts import PromptEntry, PromptHistory
from core.words import count


class PromptHistoryDialog(QDialog):
    """Search the prompts used before; Use (or Enter, or a double click) emits ``chosen`` with the prompt."""

    chosen = Signal(str)

    def __init__(self, history: PromptHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt history")
        self.setObjectName("PromptHistoryDialog")
        self.history = history
        self.search = QLineEdit(self)
        self.search.setObjectName("PromptSearch")
        self.search.setPlaceholderText("Search the prompts you used (every word must appear)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("PromptList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.summary = QLabel(self)
        self.summary.setProperty("role", "note")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.use_button = QPushButton("Use this prompt", self)
        self.use_button.setDefault(True)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.search.textChanged.connect(lambda _text: self.refresh())
        self.search.returnPressed.connect(self.use)
        self.list.itemActivated.connect(lambda _item: self.use())
        self.list.currentItemChanged.connect(lambda *_: self._update_button())
        self.buttons.accepted.connect(self.use)
        self.buttons.rejected.connect(self.reject)
        self.resize(560, 480)
        self.refresh()

    def refresh(self) -> list[PromptEntry]:
        """List the prompts matching the search now."""
        query = self.search.text()
        entries = self.history.search(query)
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(entry.text, self.list)
            item.setData(Qt.ItemDataRole.UserRole, entry.text)
            item.setToolTip(_describe(entry))
        if entries:
            self.list.setCurrentRow(0)
        self.summary.setText(_summary(len(entries), query))
        self._update_button()
        return entries

    def _update_button(self) -> None:
        self.use_button.setEnabled(self.list.currentItem() is not None)

    def use(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))
        self.accept()


def _summary(found: int, query: str) -> str:
    if query.strip():
        return f"{count(found, 'prompt')} found." if found else "No prompt you used contains those words."
    return f"{count(found, 'prompt')} used, newest first." if found else "Prompts you submit appear here."


def _describe(entry: PromptEntry) -> str:
    used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_used))
    where = f" with {entry.provider} / {entry.model}" if entry.provider else ""
    return f"Last used {used}{where}; used {count(entry.uses, 'time')}."
