"""The library: every downloaded video (this run and earlier ones) for offline review.

A grid of first-frame thumbnails with search and filters, and a details panel with a player, every parameter, the
remote id and timings, plus a favourite flag, a rating and a free-text note (kept in the GUI's own file).
Nothing here needs the network.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, QUrl, Signal
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
from gui.cost import SpendPanel
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
SPEND_REFRESH_MS = 300


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
        ("World", "Sandbox — made by the built-in emulator, nothing charged" if job.world == "sandbox"
         else "Real" + (f" — created at {job.origin}, and followed there" if job.origin else "")),
        ("Job id", job.id),
        ("Remote id", job.remote_id or "—"),
        ("Remote status", job.remote_status or "—"),
    ]
    if job.error:
        rows.append(("Error", job.error))
    if job.waiting and not job.terminal:
        rows.append(("Waiting", job.waiting))
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
    reuseRequested = Signal(object)  # Job: its settings from the sidecar next to the video
    lastFrameRequested = Signal(object)  # Job: its last frame into the form
    compareRequested = Signal(list)  # [Job]
    exportRequested = Signal(list)  # [Job]

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
        self.grid.setSelectionMode(QListView.SelectionMode.ExtendedSelection)  # several: Compare, Export
        self.grid.selectionModel().currentChanged.connect(lambda current, _prev: self._show(current))
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())

        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setObjectName("LibraryCompare")
        self.compare_button.setToolTip("Play the selected videos side by side (select two to four with Ctrl+click)")
        self.compare_button.clicked.connect(lambda: self.compareRequested.emit(self.selected_videos()))
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("LibraryExport")
        self.export_button.setToolTip("Copy the selected videos, with readable names and their sidecars, to a folder")
        self.export_button.clicked.connect(lambda: self.exportRequested.emit(self.selected_videos()))
        self.selection_label = QLabel(self)
        self.selection_label.setProperty("role", "note")
        self.export_report = QLabel(self)
        self.export_report.setObjectName("ExportReport")
        self.export_report.setWordWrap(True)
        self.export_report.setProperty("role", "note")
        self.export_report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_report.hide()
        selection_row = QHBoxLayout()
        selection_row.addWidget(self.compare_button)
        selection_row.addWidget(self.export_button)
        selection_row.addWidget(self.selection_label, 1)
        self.spend = SpendPanel(self)
        self._spend_timer = QTimer(self)
        self._spend_timer.setSingleShot(True)
        self._spend_timer.setInterval(SPEND_REFRESH_MS)
        self._spend_timer.timeout.connect(lambda: self.spend.update_jobs(self.model.jobs()))

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
        self.reuse_button = QPushButton("Reuse settings", self)
        self.reuse_button.setToolTip("Fill the form with exactly how this video was made (from its sidecar)")
        self.reuse_button.clicked.connect(lambda: self.current and self.reuseRequested.emit(self.current))
        self.last_frame_button = QPushButton("Use last frame", self)
        self.last_frame_button.setToolTip("Put this video's last frame into the form, to continue the clip")
        self.last_frame_button.clicked.connect(lambda: self.current and self.lastFrameRequested.emit(self.current))
        actions = QHBoxLayout()
        for button in (self.favourite_button, self.rating, self.reveal_button, self.duplicate_button,
                       self.reuse_button, self.last_frame_button):
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

        browse = QWidget(self)
        browse_layout = QVBoxLayout(browse)
        browse_layout.setContentsMargins(0, 0, 0, 0)
        browse_layout.addLayout(selection_row)
        browse_layout.addWidget(self.export_report)
        browse_layout.addWidget(self.grid, 1)
        browse_layout.addWidget(self.spend)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("LibrarySplitter")
        self.splitter.addWidget(browse)
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
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._refresh_choices)
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            signal.connect(lambda *_: self._spend_timer.start())
        model.dataChanged.connect(self._on_data_changed)
        model.diskChanged.connect(self._on_selection)  # Compare and Export take only videos on disk
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._refresh_choices()
        self._show(None)
        self._on_selection()
        self.spend.update_jobs(model.jobs())

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

    def _on_data_changed(self, _first: object, _last: object, roles: list[int] | None = None) -> None:
        if list(roles or ()) != [Qt.ItemDataRole.DecorationRole]:  # a thumbnail arriving costs nothing
            self._spend_timer.start()

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

    def selected_jobs(self) -> list[Job]:
        """The selected videos, in the grid's order."""
        rows = sorted(self.grid.selectionModel().selectedIndexes(), key=lambda i: i.row())
        return [job for index in rows if (job := self.proxy.job_at(index)) is not None]

    def select_jobs(self, job_ids: list[str]) -> None:
        """Select several videos (what Ctrl+click does)."""
        selection = self.grid.selectionModel()
        selection.clearSelection()
        for job_id in job_ids:
            row = self.model.row_of(job_id)
            index = self.proxy.mapFromSource(self.model.index(row, 0)) if row >= 0 else None
            if index is not None and index.isValid():
                selection.select(index, QItemSelectionModel.SelectionFlag.Select)

    def selected_videos(self) -> list[Job]:
        """The selected jobs whose video is on disk."""
        return [j for j in self.selected_jobs() if (item := self.model.item_for(j.id)) is not None and item.on_disk]

    def _on_selection(self) -> None:
        jobs = self.selected_jobs()
        videos = self.selected_videos()
        self.compare_button.setEnabled(2 <= len(videos) <= 4)
        self.export_button.setEnabled(bool(videos))
        self.selection_label.setText(f"{len(jobs)} selected" if len(jobs) > 1 else
                                     "Ctrl+click to select several videos")

    def show_export_report(self, text: str, ok: bool) -> None:
        self.export_report.setText(text)
        self.export_report.setProperty("role", "ok" if ok else "error")
        self.export_report.style().unpolish(self.export_report)
        self.export_report.style().polish(self.export_report)
        self.export_report.show()

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
        for widget in (self.favourite_button, self.rating, self.note, self.reveal_button, self.duplicate_button,
                       self.reuse_button, self.last_frame_button):
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
        self.last_frame_button.setEnabled(bool(item and item.on_disk))
        self.reuse_button.setEnabled(bool(item and item.on_disk))
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
