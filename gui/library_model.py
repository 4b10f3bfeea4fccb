"""The library's Qt models: every job in the store (from this and earlier runs), with annotations and thumbnails.

``LibraryModel`` is a list model over jobs (newest first); whether each video is on disk is checked in a worker
thread. ``LibraryFilter`` narrows it by search text (prompt, provider, model, note, id), provider, model, state,
date range and favourites.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)

from core.jobs import Job, JobState
from gui.annotations import Annotation, AnnotationStore
from gui.background import background
from gui.queue_model import JobRole, excerpt, model_label, provider_name
from gui.safety import guarded
from gui.thumbs import ThumbnailCache

Index = QModelIndex | QPersistentModelIndex
FLUSH_MS = 250


class LibraryRole(IntEnum):
    """Library-only roles (job roles come from ``JobRole``)."""

    ON_DISK = Qt.ItemDataRole.UserRole + 20
    FAVOURITE = Qt.ItemDataRole.UserRole + 21
    RATING = Qt.ItemDataRole.UserRole + 22
    NOTE = Qt.ItemDataRole.UserRole + 23
    CREATED = Qt.ItemDataRole.UserRole + 24
    PROVIDER = Qt.ItemDataRole.UserRole + 25
    MODEL = Qt.ItemDataRole.UserRole + 26
    SEARCH_TEXT = Qt.ItemDataRole.UserRole + 27


class StateFilter(IntEnum):
    """What the state filter offers."""

    ON_DISK = 0
    COMPLETED = 1
    FAILED = 2
    CANCELED = 3
    UNFINISHED = 4
    ALL = 5


STATE_FILTER_TEXT = {
    StateFilter.ON_DISK: "Videos on disk",
    StateFilter.COMPLETED: "Completed",
    StateFilter.FAILED: "Failed",
    StateFilter.CANCELED: "Canceled",
    StateFilter.UNFINISHED: "Unfinished",
    StateFilter.ALL: "All jobs",
}


@dataclass
class LibraryItem:
    """One job with what the GUI knows about it."""

    job: Job
    on_disk: bool
    annotation: Annotation


def _on_disk(job: Job) -> bool:
    return job.state == JobState.COMPLETED and bool(job.video_path) and Path(job.video_path or "").is_file()


def _disk_check(jobs: list[Job]) -> set[str]:
    return {job.id for job in jobs if _on_disk(job)}


class LibraryModel(QAbstractListModel):
    """All jobs, newest first, as library items."""

    def __init__(self, annotations: AnnotationStore, thumbs: ThumbnailCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.annotations = annotations
        self.thumbs = thumbs
        self._items: list[LibraryItem] = []
        self._rows: dict[str, int] = {}
        self._generation = 0
        self._pending: dict[str, Job] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self.loaded = False
        if thumbs is not None:
            thumbs.ready.connect(self._thumbnail_ready)

    # --- loading ---------------------------------------------------------------------------------------------

    def load(self, jobs: Iterable[Job], *, check_in_background: bool = True) -> None:
        """Show these jobs; which videos exist on disk is checked in a worker thread."""
        jobs = sorted(jobs, key=lambda j: j.created_at, reverse=True)
        notes = self.annotations.all()
        self.beginResetModel()
        self._items = [LibraryItem(j, False, notes.get(j.id, Annotation())) for j in jobs]
        self._reindex()
        self.endResetModel()
        self._generation += 1
        generation = self._generation
        if check_in_background:
            background().run(_disk_check, jobs, callback=lambda found, error: self._checked(generation, found, error),
                             owner=self)
        else:
            self._checked(generation, _disk_check(jobs), None)

    def _checked(self, generation: int, found: set[str] | None, error: BaseException | None) -> None:
        if generation != self._generation or found is None:
            return
        for row, item in enumerate(self._items):
            on_disk = item.job.id in found
            if on_disk != item.on_disk:
                item.on_disk = on_disk
                self._changed(row)
        self.loaded = True
        self.layoutChanged.emit()  # filters depend on on_disk

    def on_job(self, job: Job) -> None:
        """An engine event: remembered and applied on the next flush (events are coalesced)."""
        self._pending[job.id] = job
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply the pending engine events."""
        self._flush_timer.stop()
        pending, self._pending = self._pending, {}
        for job in pending.values():
            self._apply(job)

    def _apply(self, job: Job) -> None:
        row = self._rows.get(job.id)
        if row is not None:
            item = self._items[row]
            was_on_disk = item.on_disk
            item.job = job
            item.on_disk = _on_disk(job) if job.state == JobState.COMPLETED else False
            self._changed(row)
            if was_on_disk != item.on_disk:
                self.layoutChanged.emit()
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._items.insert(0, LibraryItem(job, _on_disk(job), self.annotations.get(job.id)))
        self._reindex()
        self.endInsertRows()

    def remove_job(self, job_id: str) -> None:
        self._pending.pop(job_id, None)
        row = self._rows.get(job_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._items[row]
        self._reindex()
        self.endRemoveRows()

    def annotate(self, job_id: str, annotation: Annotation) -> None:
        """Store an annotation and show it."""
        self.annotations.put(job_id, annotation)
        row = self._rows.get(job_id)
        if row is not None:
            self._items[row].annotation = annotation
            self._changed(row)

    def _reindex(self) -> None:
        self._rows = {item.job.id: row for row, item in enumerate(self._items)}

    def _changed(self, row: int) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _thumbnail_ready(self, path: str) -> None:
        for row, item in enumerate(self._items):
            if item.job.video_path == path:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # --- access ------------------------------------------------------------------------------------------------

    def item(self, row: int) -> LibraryItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def jobs(self) -> list[Job]:
        return [item.job for item in self._items]

    def item_for(self, job_id: str) -> LibraryItem | None:
        row = self._rows.get(job_id)
        return self._items[row] if row is not None else None

    def row_of(self, job_id: str) -> int:
        return self._rows.get(job_id, -1)

    def providers(self) -> list[str]:
        return sorted({item.job.provider for item in self._items})

    def models(self, provider_id: str | None = None) -> list[str]:
        return sorted({item.job.model for item in self._items if provider_id in (None, item.job.provider)})

    # --- Qt model API ----------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    @guarded()
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.column() != 0:
            return None
        item = self.item(index.row())
        if item is None:
            return None
        job, note = item.job, item.annotation
        if role == Qt.ItemDataRole.DisplayRole:
            star = "★ " if note.favourite else ""
            return f"{star}{excerpt(job.prompt, 48) or '(no prompt)'}\n{model_label(job)}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.icon(job.video_path) if self.thumbs is not None and item.on_disk else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.prompt or job.id
        return self._role(item, role)

    def _role(self, item: LibraryItem, role: int) -> Any:
        job, note = item.job, item.annotation
        values: dict[int, Any] = {
            JobRole.JOB: job, JobRole.ID: job.id, JobRole.STATE: str(job.state), JobRole.ERROR: job.error,
            JobRole.VIDEO_PATH: job.video_path, JobRole.PROGRESS: job.progress, JobRole.ETA: job.eta,
            JobRole.NEEDS_DECISION: job.needs_decision, JobRole.ELAPSED: None,
            LibraryRole.ON_DISK: item.on_disk, LibraryRole.FAVOURITE: note.favourite,
            LibraryRole.RATING: note.rating, LibraryRole.NOTE: note.note, LibraryRole.CREATED: job.created_at,
            LibraryRole.PROVIDER: job.provider, LibraryRole.MODEL: job.model,
        }
        if role == LibraryRole.SEARCH_TEXT:
            return " ".join((job.prompt, job.provider, provider_name(job.provider), job.model, model_label(job),
                             note.note, job.id, job.remote_id or "")).lower()
        return values.get(role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in (*JobRole, *LibraryRole):
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names


class LibraryFilter(QSortFilterProxyModel):
    """Search and filters over ``LibraryModel``; newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.provider: str | None = None
        self.model_id: str | None = None
        self.state = StateFilter.ON_DISK
        self.date_from: dt.date | None = None
        self.date_to: dt.date | None = None
        self.favourites_only = False
        self.setDynamicSortFilter(True)
        self.setSortRole(LibraryRole.CREATED)
        self.sort(0, Qt.SortOrder.DescendingOrder)

    def set_filters(self, *, text: str | None = None, provider: str | bool | None = False,
                    model: str | bool | None = False, state: StateFilter | None = None,
                    date_from: dt.date | bool | None = False, date_to: dt.date | bool | None = False,
                    favourites_only: bool | None = None) -> None:
        """Change any filters (``False`` leaves one as it is) and re-filter once."""
        modern = hasattr(self, "endFilterChange")  # Qt 6.10+; older Qt re-filters with invalidateRowsFilter
        if modern:
            self.beginFilterChange()
        if text is not None:
            self.text = text.strip().lower()
        if provider is not False:
            self.provider = provider or None  # type: ignore[assignment]
        if model is not False:
            self.model_id = model or None  # type: ignore[assignment]
        if state is not None:
            self.state = state
        if date_from is not False:
            self.date_from = date_from  # type: ignore[assignment]
        if date_to is not False:
            self.date_to = date_to  # type: ignore[assignment]
        if favourites_only is not None:
            self.favourites_only = favourites_only
        if modern:
            self.endFilterChange()
        else:
            self.invalidateRowsFilter()

    @guarded(False)
    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        job = index.data(JobRole.JOB)
        if not isinstance(job, Job):
            return False
        return (self._state_ok(job, bool(index.data(LibraryRole.ON_DISK)))
                and (self.provider is None or job.provider == self.provider)
                and (self.model_id is None or job.model == self.model_id)
                and (not self.favourites_only or bool(index.data(LibraryRole.FAVOURITE)))
                and self._date_ok(job.created_at)
                and all(word in str(index.data(LibraryRole.SEARCH_TEXT)) for word in self.text.split()))

    def _state_ok(self, job: Job, on_disk: bool) -> bool:
        return {
            StateFilter.ON_DISK: on_disk,
            StateFilter.COMPLETED: job.state == JobState.COMPLETED,
            StateFilter.FAILED: job.state == JobState.FAILED,
            StateFilter.CANCELED: job.state == JobState.CANCELED,
            StateFilter.UNFINISHED: not job.terminal,
            StateFilter.ALL: True,
        }[self.state]

    def _date_ok(self, created_at: float) -> bool:
        if self.date_from is None and self.date_to is None:
            return True
        day = dt.datetime.fromtimestamp(created_at).date()
        return (self.date_from is None or day >= self.date_from) and (self.date_to is None or day <= self.date_to)

    def job_at(self, index: Index) -> Job | None:
        job = index.data(JobRole.JOB) if index.isValid() else None
        return job if isinstance(job, Job) else None
