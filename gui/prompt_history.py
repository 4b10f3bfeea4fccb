"""The prompt library dialog: every prompt used, searched as you type; favourites first; templates on their own.

It shows ``core.prompts.PromptHistory``; the window and the command line record each submitted prompt there.
Three views (All, Favourites, Templates) over one search box. A star keeps a prompt at the top and from being
pruned; the form's prompt can be kept as a favourite before it is ever submitted (a template to run later).
Use (or Enter, or a double click) puts the prompt in the form, where a template's placeholders appear to fill in.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from core.errors import ReeldeckError
from core.prompts import PromptEntry, PromptHistory
from core.words import count

VIEWS = ("All", "Favourites", "Templates")
STAR, NO_STAR = "★", "☆"


class PromptHistoryDialog(QDialog):
    """The prompt library: search, star, forget; Use emits ``chosen`` with the prompt.

    ``current`` is the form's prompt, offered to keep as a favourite; ``provider`` and ``model`` go with it.
    """

    chosen = Signal(str)

    def __init__(self, history: PromptHistory, parent: QWidget | None = None, *, current: str = "",
                 provider: str = "", model: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompt library")
        self.setObjectName("PromptHistoryDialog")
        self.history = history
        self.current = current
        self._form_source = (provider, model)
        self.views = QTabBar(self)
        self.views.setObjectName("PromptViews")
        self.views.setDrawBase(False)
        for name in VIEWS:
            self.views.addTab(name)
        self.search = QLineEdit(self)
        self.search.setObjectName("PromptSearch")
        self.search.setPlaceholderText("Search the prompts you used (every word must appear)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("PromptList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.details = QLabel(self)
        self.details.setObjectName("PromptDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel(self)
        self.summary.setProperty("role", "note")
        self.star_button = QPushButton(self)
        self.star_button.setObjectName("PromptStar")
        self.star_button.setCheckable(True)
        self.star_button.setToolTip("Favourites come first, have their own view and are never pruned")
        self.star_button.clicked.connect(self.toggle_favourite)
        self.forget_button = QPushButton("Forget", self)
        self.forget_button.setObjectName("PromptForget")
        self.forget_button.setToolTip("Remove this prompt from the library (the jobs that used it stay)")
        self.forget_button.clicked.connect(self.forget)
        self.keep_button = QPushButton(f"{STAR} Keep the form's prompt", self)
        self.keep_button.setObjectName("PromptKeepCurrent")
        self.keep_button.setToolTip(_short(current) or "The form has no prompt")
        self.keep_button.clicked.connect(self.keep_current)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.use_button = QPushButton("Use this prompt", self)
        self.use_button.setDefault(True)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        actions = QHBoxLayout()
        actions.addWidget(self.star_button)
        actions.addWidget(self.forget_button)
        actions.addWidget(self.keep_button)
        actions.addStretch(1)
        actions.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.views)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.summary)
        layout.addLayout(actions)
        self.views.currentChanged.connect(lambda _index: self.refresh())
        self.search.textChanged.connect(lambda _text: self.refresh())
        self.search.returnPressed.connect(self.use)
        self.list.itemActivated.connect(lambda _item: self.use())
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.buttons.accepted.connect(self.use)
        self.buttons.rejected.connect(self.reject)
        self.resize(640, 520)
        self.refresh()

    # --- what is shown -----------------------------------------------------------------------------------------

    @property
    def view(self) -> str:
        return VIEWS[max(0, self.views.currentIndex())]

    def set_view(self, name: str) -> None:
        self.views.setCurrentIndex(VIEWS.index(name))

    def refresh(self, keep: str | None = None) -> list[PromptEntry]:
        """List the prompts matching the search and view now (``keep``: the prompt to stay on)."""
        query = self.search.text()
        entries = self.history.search(query, favourites=self.view == "Favourites", templates=self.view == "Templates")
        self.list.blockSignals(True)
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(_label(entry), self.list)
            item.setData(Qt.ItemDataRole.UserRole, entry.text)
            item.setToolTip(_describe(entry))
        self.list.blockSignals(False)
        texts = [e.text for e in entries]
        if entries:
            self.list.setCurrentRow(texts.index(keep) if keep in texts else 0)
        self.summary.setText(_summary(len(entries), query, self.view))
        self._show_current()
        return entries

    def selected(self) -> PromptEntry | None:
        item = self.list.currentItem()
        return self.history.get(str(item.data(Qt.ItemDataRole.UserRole))) if item is not None else None

    def _show_current(self) -> None:
        entry = self.selected()
        self.use_button.setEnabled(entry is not None)
        self.forget_button.setEnabled(entry is not None)
        self.star_button.setEnabled(entry is not None)
        self.star_button.setChecked(entry is not None and entry.favourite)
        self.star_button.setText(f"{STAR} Favourite" if entry is not None and entry.favourite else
                                 f"{NO_STAR} Add to favourites")
        self.details.setText(_details(entry) if entry is not None else "")
        self.details.setVisible(entry is not None)
        kept = self.history.get(self.current) if self.current.strip() else None
        self.keep_button.setVisible(bool(self.current.strip()) and (kept is None or not kept.favourite))

    # --- actions -----------------------------------------------------------------------------------------------

    def toggle_favourite(self) -> None:
        """Star the selected prompt, or take its star away."""
        entry = self.selected()
        if entry is None:
            return
        self._change(lambda: self.history.set_favourite(entry.text, not entry.favourite), keep=entry.text)

    def forget(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._change(lambda: self.history.remove(entry.text))

    def keep_current(self) -> None:
        """Keep the form's prompt as a favourite (a template can be kept before it is ever run)."""
        if self.current.strip():
            self._change(lambda: self.history.set_favourite(self.current, True, *self._form_source),
                         keep=self.current)

    def _change(self, action: Callable[[], object], keep: str | None = None) -> None:
        try:
            action()
        except ReeldeckError as exc:
            self.summary.setText(exc.message)
            return
        self.refresh(keep=keep)

    def use(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self.chosen.emit(entry.text)
        self.accept()


def _label(entry: PromptEntry) -> str:
    return f"{STAR} {entry.text}" if entry.favourite else entry.text


def _summary(found: int, query: str, view: str) -> str:
    noun = {"Favourites": "favourite", "Templates": "template"}.get(view, "prompt")
    if query.strip():
        return f"{count(found, noun)} found." if found else f"No {noun} contains those words."
    if found:
        return f"{count(found, noun)}, favourites first, then the newest."
    return {"Favourites": f"No favourites yet: select a prompt and press “{NO_STAR} Add to favourites”.",
            "Templates": "No templates yet. A template is a prompt with placeholders in braces, like "
                         "“A {colour} {animal|fox,owl} at dawn”: each job fills them in, and Batch… runs it over "
                         "lists of values."}.get(view, "Prompts you submit appear here.")


def _describe(entry: PromptEntry) -> str:
    if entry.uses == 0:
        return "Kept as a favourite; not used yet."
    used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_used))
    where = f" with {entry.provider} / {entry.model}" if entry.provider else ""
    return f"Last used {used}{where}; used {count(entry.uses, 'time')}."


def _details(entry: PromptEntry) -> str:
    if not entry.is_template:
        return _describe(entry)
    names = ", ".join("{" + name + "}" for name in entry.placeholders)
    return (f"Template with {names}. Use puts it in the form to fill in; Batch… runs it over lists of values. "
            + _describe(entry))


def _short(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
