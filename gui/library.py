"""The library: every downloaded video (this run and earlier ones) for offline review.

A grid of first-frame thumbnails with search and filters, and a details panel with a player, every parameter, the
remote id and timings, plus a favourite flag, a rating and a free-text note (kept in the job store).
Nothing here needs the network.

Reviewing: keys 1–5 rate the selected videos (0 clears), a minimum-rating filter narrows the grid, a right-click
menu on tiles offers every action, Delete moves the selected videos to the trash (Ctrl+Z or *Undo* brings them
back), and tiles can be dragged out into other apps (file URLs).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QModelIndex, QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core import words
from core.errors import ReeldeckError
from core.jobs import Job, iso
from gui.annotations import Annotation
from gui.cost import SpendPanel
from gui.flow_layout import FlowLayout
from gui.job_list import JobListModel
from gui.layouts import column, vertical_scroll
from gui.library_model import STATE_FILTER_TEXT, Index, LibraryFilter, StateFilter
from gui.library_trash import LibraryTrash, TrashedJob
from gui.player import PlayerWidget
from gui.queue_model import format_duration, model_label, provider_name
from gui.safety import guarded
from gui.theme import colors, current_dark

DATE_RANGES = {
    "Any time": None,
    "Today": 0,
    "Last 7 days": 6,
    "Last 30 days": 29,
    "Last 365 days": 364,
}
NOTE_SAVE_MS = 400
SPEND_REFRESH_MS = 300
MAX_RATING = 5
UNDO_STEPS = 10


def stars(rating: int) -> str:
    """'★★★☆☆' for 3."""
    return "★" * rating + "☆" * (MAX_RATING - rating)


class ReviewFilter(LibraryFilter):
    """The library's filter plus what reviewing adds: a minimum rating, and dragging videos out as file URLs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.min_rating = 0

    def set_min_rating(self, rating: int) -> None:
        """Show only videos rated at least ``rating`` stars (0: every video)."""
        self.min_rating = max(0, min(MAX_RATING, rating))
        self.set_filters()  # re-filter once, every other filter as it is

    def _rating(self, source_row: int) -> int:
        model = self.jobs_model()
        item = model.item(source_row) if model is not None else None
        return item.annotation.rating if item is not None else 0

    @guarded(False)
    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if self.min_rating and self._rating(source_row) < self.min_rating:
            return False
        return bool(super().filterAcceptsRow(source_row, source_parent))

    def _video(self, index: Index) -> str | None:
        """The video file of a row, when it is on disk."""
        item = self.item_at(index)
        return item.job.video_path if item is not None and item.on_disk else None

    @guarded(Qt.ItemFlag.NoItemFlags)
    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if self._video(index) else flags

    @guarded([])
    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    @guarded(None)
    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The videos' files as URLs: what file managers, editors and chat apps take from a drop."""
        paths = list(dict.fromkeys(p for index in indexes if (p := self._video(index))))
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(path) for path in paths])
        return mime

    @guarded(Qt.DropAction.CopyAction)
    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


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


class TileDelegate(QStyledItemDelegate):
    """Draws a library tile with the theme's own colours: a platform theme (GTK, KDE) may give item views a palette
    of its own whose text does not show on the background, and the captions must stay readable whatever it is."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        themed = QStyleOptionViewItem(option)
        c = colors(current_dark())
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            for role, name in ((QPalette.ColorRole.Text, "text"), (QPalette.ColorRole.WindowText, "text"),
                               (QPalette.ColorRole.Base, "base"), (QPalette.ColorRole.Highlight, "highlight"),
                               (QPalette.ColorRole.HighlightedText, "highlight_text")):
                themed.palette.setColor(group, role, QColor(c[name]))
        painter.fillRect(option.rect, QColor(c["base"]))
        super().paint(painter, themed, index)


class LibraryPanel(QWidget):
    """Filters, the thumbnail grid and the details of the selected video."""

    duplicateRequested = Signal(object)  # Job
    reuseRequested = Signal(object)  # Job: its settings from the sidecar next to the video
    lastFrameRequested = Signal(object)  # Job: its last frame into the form
    compareRequested = Signal(list)  # [Job]
    exportRequested = Signal(list)  # [Job]
    jobsTrashed = Signal(list)  # [job id]: moved to the trash and forgotten (the queue drops them too)
    jobsRestored = Signal(list)  # [Job]: an undo brought them back
    message = Signal(str)

    def __init__(self, model: JobListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = ReviewFilter(self)
        self.proxy.setSourceModel(model)
        self.current: Job | None = None
        self.trash: LibraryTrash | None = None
        self.undo_stack: list[list[TrashedJob]] = []

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
        self.min_rating = QComboBox(self)
        self.min_rating.setObjectName("LibraryMinRating")
        self.min_rating.setToolTip("Show only videos rated at least this many stars (rate with keys 1–5, 0 clears)")
        self.min_rating.addItem("Any rating", 0)
        for rating in range(1, MAX_RATING + 1):
            self.min_rating.addItem(stars(rating) + (" only" if rating == MAX_RATING else " or more"), rating)
        self.favourites = QCheckBox("Favourites", self)
        self.favourites.setToolTip("Show only videos marked as favourite")
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "note")
        choices = QWidget(self)
        choice_flow = FlowLayout(choices)  # a narrow window wraps the filters onto a second line
        for widget in (self.provider_combo, self.model_combo, self.state_combo, self.date_combo, self.min_rating,
                       self.favourites, self.count_label):
            choice_flow.addWidget(widget)
        self.search.setMinimumWidth(160)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(choices, 3)

        self.grid = QListView(self)
        self.grid.setObjectName("LibraryGrid")
        self.grid.setModel(self.proxy)
        self.grid.setItemDelegate(TileDelegate(self.grid))
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(192, 108))
        self.grid.setGridSize(QSize(216, 172))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(True)
        self.grid.setSpacing(6)
        self.grid.setSelectionMode(QListView.SelectionMode.ExtendedSelection)  # several: Compare, Export
        self.grid.setDragEnabled(True)  # videos drag out into other apps as files
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._show_context_menu)
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
        self.trash_button = QPushButton("Move to trash", self)
        self.trash_button.setObjectName("LibraryTrash")
        self.trash_button.setToolTip("Move the selected videos to the trash (Delete); Undo (Ctrl+Z) brings them back")
        self.trash_button.clicked.connect(lambda: self.trash_jobs(self.selected_jobs()))
        selection_row = QHBoxLayout()
        selection_row.addWidget(self.compare_button)
        selection_row.addWidget(self.export_button)
        selection_row.addWidget(self.trash_button)
        selection_row.addWidget(self.selection_label, 1)
        self.undo_bar = QFrame(self)
        self.undo_bar.setObjectName("UndoBar")
        self.undo_label = QLabel(self.undo_bar)
        self.undo_label.setWordWrap(True)
        self.undo_button = QPushButton("Undo", self.undo_bar)
        self.undo_button.setToolTip("Bring the videos back from the trash (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        undo_row = QHBoxLayout(self.undo_bar)
        undo_row.setContentsMargins(0, 0, 0, 0)
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        self.undo_bar.hide()
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
        self.rating.setToolTip("Your rating (keys 1–5 in the grid; 0 clears)")
        self.rating.addItem("No rating", 0)
        for rating in range(1, MAX_RATING + 1):
            self.rating.addItem(stars(rating), rating)
        self.rating.currentIndexChanged.connect(lambda _i: self._save_annotation())
        self.reveal_button = QPushButton("Show in folder", self)
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
        actions_host = QWidget(self)
        actions = FlowLayout(actions_host)  # wraps under a narrow player instead of cutting buttons off
        for button in (self.favourite_button, self.rating, self.reveal_button, self.duplicate_button,
                       self.reuse_button, self.last_frame_button):
            actions.addWidget(button)
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

        side = column(self, (self.player, 3), self.title, actions_host, self.note, (self.details, 2))
        side_scroll = vertical_scroll(self, side)  # its rows wrap instead of scrolling sideways
        side_scroll.setMinimumWidth(340)

        browse = column(self, selection_row, self.undo_bar, self.export_report, (self.grid, 1), self.spend)

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
        self.min_rating.currentIndexChanged.connect(lambda _i: self.set_min_rating(int(self.min_rating.currentData())))
        self._review_shortcuts()
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
        if not roles:  # a job or a note changed (thumbnails, the clock's tick and batch cells name their roles)
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
            index = self.proxy.index_of(job_id)
            if index is not None:
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
        index = self.proxy.index_of(job_id)
        if index is None:
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

    # --- reviewing: rating keys, the context menu, trash and undo -------------------------------------------

    def _review_shortcuts(self) -> None:
        bindings: dict[str, Callable[[], object]] = {
            str(rating): partial(self.rate_selected, rating) for rating in range(MAX_RATING + 1)}
        bindings["Delete"] = lambda: self.trash_jobs(self.selected_jobs())
        self.shortcuts: dict[str, QShortcut] = {}
        for keys, slot in bindings.items():
            shortcut = QShortcut(QKeySequence(keys), self.grid)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)  # typing in the search box rates nothing
            shortcut.activated.connect(slot)
            self.shortcuts[keys] = shortcut
        undo = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self._undo_unless_typing)
        self.shortcuts["Undo"] = undo

    def _undo_unless_typing(self) -> None:
        if self.note.hasFocus() or self.search.hasFocus():
            return  # their own undo
        self.undo()

    def set_min_rating(self, rating: int) -> None:
        """Show only videos rated at least ``rating`` stars (0: all)."""
        index = self.min_rating.findData(rating)
        if index >= 0 and index != self.min_rating.currentIndex():
            self.min_rating.setCurrentIndex(index)  # comes back here through the signal
            return
        self.proxy.set_min_rating(rating)
        self._update_count()

    def rate_selected(self, rating: int) -> None:
        """Give every selected video ``rating`` stars (0 clears); favourites and notes stay."""
        jobs = self.selected_jobs()
        if self.current is not None and not jobs:
            jobs = [self.current]
        for job in jobs:
            item = self.model.item_for(job.id)
            old = item.annotation if item is not None else Annotation()
            self.model.annotate(job.id, Annotation(old.favourite, rating, old.note))
        if self.current is not None and any(j.id == self.current.id for j in jobs):
            item = self.model.item_for(self.current.id)
            self._set_annotation(item.annotation if item is not None else Annotation())
        if jobs:
            what = words.count(len(jobs), "video")
            self.message.emit(f"Rated {what} {stars(rating)}." if rating else f"Rating cleared on {what}.")

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        if not self.grid.selectionModel().isSelected(index):
            self.grid.setCurrentIndex(index)  # a right-click on an unselected tile acts on that tile
        self.context_menu().exec(self.grid.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The actions for the selected tiles (the tile under the pointer when it was not selected)."""
        jobs = self.selected_jobs()
        videos = self.selected_videos()
        first = videos[0] if len(videos) == 1 else None
        menu = QMenu(self)

        def add(text: str, slot: Callable[[], object], enabled: bool = True, shortcut: str = "") -> None:
            action = menu.addAction(text)
            action.triggered.connect(lambda _=False: slot())
            action.setEnabled(enabled)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))

        one = first is not None
        add("Play", lambda: self._play(first), one)
        add("Compare", lambda: self.compareRequested.emit(videos), 2 <= len(videos) <= 4)
        add("Use last frame (continue the clip)", lambda: self.lastFrameRequested.emit(first), one)
        add("Reuse settings", lambda: self.reuseRequested.emit(first), one)
        add("Duplicate into the form", lambda: self.duplicateRequested.emit(jobs[0]), len(jobs) == 1)
        menu.addSeparator()
        add("Show in folder", lambda: self._reveal(first), one)
        add(f"Export {words.count(len(videos), 'video')}…" if len(videos) > 1 else "Export…",
            lambda: self.exportRequested.emit(videos), bool(videos))
        rate = menu.addMenu("Rate")
        rate.setEnabled(bool(jobs))
        for rating in range(MAX_RATING, -1, -1):
            action = rate.addAction(stars(rating) if rating else "No rating")
            action.setShortcut(QKeySequence(str(rating)))
            action.triggered.connect(lambda _=False, r=rating: self.rate_selected(r))
        menu.addSeparator()
        add("Move to trash", lambda: self.trash_jobs(jobs), bool(jobs), "Delete")
        return menu

    def _play(self, job: Job | None) -> None:
        if job is None:
            return
        self.select_job(job.id)
        self.player.load(job.video_path, autoplay=True)

    def _reveal(self, job: Job | None) -> None:
        if job is not None and job.video_path:
            folder = Path(job.video_path).parent
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
                self.message.emit(f"The video is in {folder}")

    def set_trash(self, trash: LibraryTrash) -> None:
        """Where deletions go (the window gives the running store); without one the library deletes nothing."""
        self.trash = trash

    def trash_jobs(self, jobs: list[Job]) -> int:
        """Move these jobs' videos (with sidecars and inputs) to the trash and forget the jobs; returns how many."""
        if not jobs:
            return 0
        if self.trash is None:
            self.message.emit("Deleting is not available here.")
            return 0
        busy = [j for j in jobs if not j.terminal]
        if busy:
            self.message.emit(f"{words.count(len(busy), 'job')} {'is' if len(busy) == 1 else 'are'} still running: "
                              "cancel in the queue first. Nothing was moved.")
            return 0
        if self.current is not None and any(j.id == self.current.id for j in jobs):
            self.player.load(None)  # let go of the file before it moves
        done: list[TrashedJob] = []
        problem = ""
        for job in jobs:
            try:
                done.append(self.trash.trash(job))
            except OSError as exc:
                problem = f" {Path(job.video_path or job.id).name} could not be moved ({exc.strerror or exc})."
                break
            except ReeldeckError as exc:
                problem = f" {Path(job.video_path or job.id).name} was not moved: {exc.message}"
                break
        for entry in done:
            self.model.remove_job(entry.job.id)
        if done:
            self.undo_stack = [*self.undo_stack, done][-UNDO_STEPS:]
            self.jobsTrashed.emit([entry.job.id for entry in done])
        text = f"Moved {words.count(len(done), 'video')} to the trash.{problem}"
        self._show_undo(text if done else problem.strip())
        self.message.emit(text if done else problem.strip())
        return len(done)

    def _show_undo(self, text: str) -> None:
        self.undo_label.setText(text)
        self.undo_button.setVisible(bool(self.undo_stack))
        self.undo_bar.setVisible(bool(text))

    def undo(self) -> list[Job]:
        """Bring the last trashed videos back: files where they were, the jobs and their notes in the store."""
        if not self.undo_stack or self.trash is None:
            return []
        entries = self.undo_stack.pop()
        restored: list[Job] = []
        for entry in entries:
            try:
                restored.append(self.trash.restore(entry))
            except OSError as exc:
                self.message.emit(f"{entry.job.id} could not be brought back ({exc.strerror or exc}).")
        for job in restored:
            self.model.on_job(job)
        self.model.flush()
        if restored:
            self.jobsRestored.emit(restored)
        self.undo_bar.setVisible(bool(self.undo_stack))
        if self.undo_stack:
            self.undo_label.setText(f"{words.count(len(self.undo_stack), 'deletion')} can still be undone.")
        self.message.emit(f"Brought back {words.count(len(restored), 'video')} from the trash.")
        return restored
