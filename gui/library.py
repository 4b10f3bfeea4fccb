"""The library: every downloaded video (this run and earlier ones) for offline review.

A grid of first-frame thumbnails with search and filters, and a details panel with a player, every parameter, the
remote id and timings, plus a favourite flag, a rating and a free-text note (kept in the GUI's own file).
Nothing here needs the network.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.jobs import Job, iso
from gui.annotations import Annotation
from gui.library_model import STATE_FILTER_TEXT, LibraryFilter, LibraryModel, StateFilter
from gui.player import PlayerWidget
from gui.queue_model import format_duration, model_label, provider_name

DATE_RANGES = {
    "Any time": None,
    "Today": 0,
    "Last 7 days": 6,
    "Last 30 days": 29,
    "Last 365 days": 364,
}
NOTE_SAVE_MS = 400


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def details_html(job: Job) -> str:
    """Every parameter, the inputs, the remote id, timings and the file, as HTML."""
    rows: list[tuple[str, str]] = [
        ("Provider", f"{provider_name(job.provider)} ({job.provider})"),
        ("Model", job.model),
        ("Mode", job.mode),
        ("State", str(job.state) + (" — needs your decision" if job.needs_decision else "")),
        ("Job id", job.id),
        ("Remote id", job.remote_id or "—"),
        ("Remote status", job.remote_status or "—"),
    ]
    if job.error:
        rows.append(("Error", job.error))
    for name, value in job.params.items():
        rows.append((f"Param {name}", str(value)))
    for slot, values in job.inputs.items():
        notes = job.input_notes.get(slot, [])
        for index, value in enumerate(values):
            note = f" ({notes[index]})" if index < len(notes) else ""
            rows.append((f"Input {slot}" + (f" #{index + 1}" if len(values) > 1 else ""), f"{value}{note}"))
    queued = (job.submitted_at - job.created_at) if job.submitted_at and job.created_at else None
    working = (job.finished_at - job.submitted_at) if job.finished_at and job.submitted_at else None
    total = (job.finished_at - job.created_at) if job.finished_at and job.created_at else None
    rows += [
        ("Created", f"{_when(job.created_at)} ({iso(job.created_at)})"),
        ("Submitted", _when(job.submitted_at)),
        ("Finished", _when(job.finished_at)),
        ("Waited before sending", format_duration(queued) or "—"),
        ("Provider time", format_duration(working) or "—"),
        ("Total", format_duration(total) or "—"),
        ("Polls / attempts", f"{job.polls} / {job.attempts}"),
    ]
    if job.video_path:
        path = Path(job.video_path)
        size = f"{path.stat().st_size / 1_048_576:.1f} MB" if path.is_file() else "missing"
        rows.append(("File", f"{job.video_path} ({size})"))
    cells = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    prompt = html.escape(job.prompt) if job.prompt else "<i>(no prompt)</i>"
    return f"<p>{prompt}</p><table cellspacing='0' cellpadding='3'>{cells}</table>"


class LibraryPanel(QWidget):
    """Filters, the thumbnail grid and the details of the selected video."""

    duplicateRequested = Signal(object)  # Job

    def __init__(self, model: LibraryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(model)
        self.current: Job | None = None

        self.search = QLineEdit(self)
        self.search.setObjectName("LibrarySearch")
        self.search.setPlaceholderText("Search prompts, models, notes…")
        self.search.setClearButtonEnabled(True)
        self.provider_combo = QComboBox(self)
        self.model_combo = QComboBox(self)
        self.state_combo = QComboBox(self)
        for state, text in STATE_FILTER_TEXT.items():
            self.state_combo.addItem(text, int(state))
        self.date_combo = QComboBox(self)
        for text, days in DATE_RANGES.items():
            self.date_combo.addItem(text, days)
        self.favourites = QCheckBox("★ only", self)
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "note")
        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        for widget in (self.provider_combo, self.model_combo, self.state_combo, self.date_combo, self.favourites,
                       self.count_label):
            filters.addWidget(widget)

        self.grid = QListView(self)
        self.grid.setObjectName("LibraryGrid")
        self.grid.setModel(self.proxy)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(192, 108))
        self.grid.setGridSize(QSize(216, 172))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(True)
        self.grid.setSpacing(6)
        self.grid.selectionModel().currentChanged.connect(lambda current, _prev: self._show(current))

        self.player = PlayerWidget(self, placeholder="Select a video to play it.")
        self.title = QLabel(self)
        self.title.setProperty("role", "title")
        self.title.setWordWrap(True)
        self.favourite_button = QPushButton("☆ Favourite", self)
        self.favourite_button.setCheckable(True)
        self.favourite_button.toggled.connect(self._save_annotation)
        self.rating = QComboBox(self)
        self.rating.addItem("No rating", 0)
        for stars in range(1, 6):
            self.rating.addItem("★" * stars + "☆" * (5 - stars), stars)
        self.rating.currentIndexChanged.connect(lambda _i: self._save_annotation())
        self.reveal_button = QPushButton("Show file", self)
        self.reveal_button.clicked.connect(self.reveal)
        self.duplicate_button = QPushButton("Duplicate", self)
        self.duplicate_button.setToolTip("Copy this job's settings into the form")
        self.duplicate_button.clicked.connect(lambda: self.current and self.duplicateRequested.emit(self.current))
        actions = QHBoxLayout()
        for button in (self.favourite_button, self.rating, self.reveal_button, self.duplicate_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.note = QPlainTextEdit(self)
        self.note.setObjectName("LibraryNote")
        self.note.setPlaceholderText("Your notes on this video (saved as you type)")
        self.note.setMaximumHeight(90)
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(NOTE_SAVE_MS)
        self._note_timer.timeout.connect(self._save_annotation)
        self.note.textChanged.connect(self._note_timer.start)
        self.details = QTextBrowser(self)
        self.details.setObjectName("LibraryDetails")
        self.details.setOpenLinks(False)

        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.player, 3)
        side_layout.addWidget(self.title)
        side_layout.addLayout(actions)
        side_layout.addWidget(self.note)
        side_layout.addWidget(self.details, 2)
        side_scroll = QScrollArea(self)
        side_scroll.setWidgetResizable(True)
        side_scroll.setWidget(side)
        side_scroll.setMinimumWidth(360)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("LibrarySplitter")
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(side_scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)

        self.search.textChanged.connect(lambda text: self._apply(text=text))
        self.provider_combo.currentIndexChanged.connect(lambda _i: self._on_provider())
        self.model_combo.currentIndexChanged.connect(lambda _i: self._apply(model=self.model_combo.currentData()))
        self.state_combo.currentIndexChanged.connect(
            lambda _i: self._apply(state=StateFilter(int(self.state_combo.currentData()))))
        self.date_combo.currentIndexChanged.connect(lambda _i: self._on_date())
        self.favourites.toggled.connect(lambda on: self._apply(favourites_only=on))
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self._refresh_choices)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._refresh_choices()
        self._show(None)

    # --- filters ---------------------------------------------------------------------------------------------

    def _apply(self, **filters: object) -> None:
        self.proxy.set_filters(**filters)  # type: ignore[arg-type]
        self._update_count()

    def _on_provider(self) -> None:
        provider = self.provider_combo.currentData()
        self._fill_models(provider)
        self._apply(provider=provider, model=self.model_combo.currentData())

    def _on_date(self) -> None:
        days = self.date_combo.currentData()
        start = None if days is None else dt.date.today() - dt.timedelta(days=int(days))
        self._apply(date_from=start, date_to=None)

    def _refresh_choices(self, *_args: object) -> None:
        current = self.provider_combo.currentData()
        self.provider_combo.blockSignals(True)
        self.provider_combo.clear()
        self.provider_combo.addItem("All providers", None)
        for provider in self.model.providers():
            self.provider_combo.addItem(provider_name(provider), provider)
        self.provider_combo.setCurrentIndex(max(0, self.provider_combo.findData(current)))
        self.provider_combo.blockSignals(False)
        self._fill_models(self.provider_combo.currentData())
        self._update_count()

    def _fill_models(self, provider: str | None) -> None:
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem("All models", None)
        for model in self.model.models(provider):
            self.model_combo.addItem(model, model)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current)))
        self.model_combo.blockSignals(False)

    def _update_count(self, *_args: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {total}")

    def set_search(self, text: str) -> None:
        self.search.setText(text)

    def set_state_filter(self, state: StateFilter) -> None:
        self.state_combo.setCurrentIndex(self.state_combo.findData(int(state)))

    def set_provider_filter(self, provider: str | None) -> None:
        self.provider_combo.setCurrentIndex(max(0, self.provider_combo.findData(provider)))

    def set_model_filter(self, model: str | None) -> None:
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(model)))

    def visible_jobs(self) -> list[Job]:
        """The jobs the grid shows now, in order."""
        jobs = []
        for row in range(self.proxy.rowCount()):
            job = self.proxy.job_at(self.proxy.index(row, 0))
            if job is not None:
                jobs.append(job)
        return jobs

    # --- details ---------------------------------------------------------------------------------------------

    def select_job(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.grid.setCurrentIndex(index)
        return True

    def _show(self, index: object) -> None:
        job = self.proxy.job_at(index) if index is not None and hasattr(index, "isValid") else None  # type: ignore[arg-type]
        if self._note_timer.isActive():
            self._note_timer.stop()
            self._save_annotation()
        self.current = job
        enabled = job is not None
        for widget in (self.favourite_button, self.rating, self.note, self.reveal_button, self.duplicate_button):
            widget.setEnabled(enabled)
        if job is None:
            self.title.setText("Nothing selected")
            self.details.setHtml("<p>Select a video to see everything about it.</p>")
            self._set_annotation(Annotation())
            self.player.load(None)
            return
        item = self.model.item_for(job.id)
        self.title.setText(model_label(job))
        self.details.setHtml(details_html(job))
        self._set_annotation(item.annotation if item else Annotation())
        self.reveal_button.setEnabled(bool(item and item.on_disk))
        self.player.load(job.video_path if item and item.on_disk else None, autoplay=False)

    def _set_annotation(self, annotation: Annotation) -> None:
        for widget in (self.favourite_button, self.rating, self.note):
            widget.blockSignals(True)
        self.favourite_button.setChecked(annotation.favourite)
        self.favourite_button.setText("★ Favourite" if annotation.favourite else "☆ Favourite")
        self.rating.setCurrentIndex(max(0, self.rating.findData(annotation.rating)))
        if self.note.toPlainText() != annotation.note:
            self.note.setPlainText(annotation.note)
        for widget in (self.favourite_button, self.rating, self.note):
            widget.blockSignals(False)

    def _save_annotation(self) -> None:
        job = self.current
        if job is None:
            return
        annotation = Annotation(self.favourite_button.isChecked(), int(self.rating.currentData() or 0),
                                self.note.toPlainText())
        self.favourite_button.setText("★ Favourite" if annotation.favourite else "☆ Favourite")
        self.model.annotate(job.id, annotation)

    def flush_note(self) -> None:
        """Save a note being typed now (before closing)."""
        if self._note_timer.isActive():
            self._note_timer.stop()
            self._save_annotation()

    def reveal(self) -> None:
        if self.current is not None and self.current.video_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.current.video_path).parent)))
