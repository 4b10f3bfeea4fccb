"""The library's Qt models: every job in the store (from this and earlier runs), with annotations and thumbnails.

``LibraryModel`` is a list model over jobs, kept newest first by the model itself (the filter does not sort);
whether each video is on disk is checked in a worker thread before its rows are shown. The window feeds it page
by page at start (``add_jobs``) and with engine events (``on_job``, coalesced). A change is told for its own row
only (``dataChanged``; the filter re-checks just that row), never with ``layoutChanged``; thumbnails find their
rows through a path -> job ids map. ``LibraryFilter`` narrows it by search text (prompt, provider, model, note,
id), provider, model, state, date range and favourites.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
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
    Signal,
)

from core.jobs import Job, JobState
from gui.annotations import Annotation, AnnotationStore
from gui.background import background
from gui.queue_model import JobRole, excerpt, model_label, provider_name, take_label
from gui.safety import guarded
from gui.thumbs import ThumbnailCache

log = logging.getLogger(__name__)

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


_STATE_OF_FILTER = {
    StateFilter.COMPLETED: JobState.COMPLETED,
    StateFilter.FAILED: JobState.FAILED,
    StateFilter.CANCELED: JobState.CANCELED,
}

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


def videos_on_disk(jobs: list[Job]) -> set[str]:
    """The ids of the jobs whose video is on disk (worker thread: a file check per job)."""
    return {job.id for job in jobs if _on_disk(job)}


def _newest_first(item: LibraryItem) -> float:
    return -item.job.created_at


def search_text(item: LibraryItem) -> str:
    """What the search box matches, lower case: prompt, provider, model, note, ids."""
    job = item.job
    return " ".join((job.prompt, job.provider, provider_name(job.provider), job.model, model_label(job),
                     item.annotation.note, job.id, job.remote_id or "")).lower()


class LibraryModel(QAbstractListModel):
    """All jobs, newest first, as library items."""

    #: Which videos are on disk changed (a load, a page, a finished job): selections may now allow more.
    diskChanged = Signal()

    def __init__(self, annotations: AnnotationStore, thumbs: ThumbnailCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.annotations = annotations
        self.thumbs = thumbs
        self._items: list[LibraryItem] = []
        self._rows: dict[str, int] = {}  # job id -> row; rebuilt on next use once rows have moved
        self._rows_stale = False
        self._paths: dict[str, set[str]] = {}  # video path -> ids of the jobs showing it (thumbnails)
        self._kinds: Counter[tuple[str, str]] = Counter()  # (provider, model) -> rows (the filter's choices)
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
        """Show exactly these jobs; their rows appear once a worker thread has checked which videos are on disk."""
        jobs = list(jobs)
        self._generation += 1
        generation = self._generation
        self.loaded = False
        if check_in_background:
            background().run(videos_on_disk, jobs,
                             callback=lambda found, error: self._loaded(generation, jobs, found, error), owner=self)
        else:
            self._loaded(generation, jobs, videos_on_disk(jobs), None)

    def _loaded(self, generation: int, jobs: list[Job], found: set[str] | None, error: BaseException | None) -> None:
        if generation != self._generation:
            return
        if error is not None:
            log.error("could not check which videos are on disk: %s", error)
        self.beginResetModel()
        self._items, self._rows, self._rows_stale, self._paths, self._kinds = [], {}, False, {}, Counter()
        self._place(self._new_items(jobs, found or set(), self.annotations.all()), signals=False)
        self.endResetModel()
        self.loaded = True
        self.diskChanged.emit()

    def add_jobs(self, jobs: Iterable[Job], on_disk: Collection[str],
                 notes: Mapping[str, Annotation] | None = None) -> int:
        """Add jobs read from the store (a page at start), ``on_disk`` naming those whose video was found.

        Jobs already shown are skipped (an engine event brought a newer copy first). Rows go where their creation
        time puts them; a page older than every row shown is one insertion at the end. Returns how many were added.
        """
        new = [job for job in jobs if self.row_of(job.id) < 0]
        if not new:
            return 0
        self._place(self._new_items(new, on_disk, notes))
        if any(job.id in on_disk for job in new):
            self.diskChanged.emit()
        return len(new)

    def finish_loading(self) -> None:
        """Every page is in (the window calls it after the last one)."""
        self.loaded = True

    def _new_items(self, jobs: Iterable[Job], on_disk: Collection[str],
                   notes: Mapping[str, Annotation] | None) -> list[LibraryItem]:
        def note(job_id: str) -> Annotation:
            return notes.get(job_id, Annotation()) if notes is not None else self.annotations.get(job_id)

        return [LibraryItem(job, job.id in on_disk, note(job.id)) for job in jobs]

    def on_job(self, job: Job) -> None:
        """An engine event: remembered and applied on the next flush (events are coalesced)."""
        self._pending[job.id] = job
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply the pending engine events: changed rows in place (one ``dataChanged`` each), new jobs inserted."""
        self._flush_timer.stop()
        pending, self._pending = self._pending, {}
        new: list[Job] = []
        disk_changed = False
        for job in pending.values():
            row = self.row_of(job.id)
            if row < 0:
                new.append(job)
                continue
            item = self._items[row]
            was_on_disk = item.on_disk
            self._untrack(item.job)
            item.job = job
            item.on_disk = _on_disk(job)
            self._track(job)
            self._changed(row)  # the filter re-checks this row alone (on disk or not decides whether it shows)
            disk_changed |= was_on_disk != item.on_disk
        if new:
            items = [LibraryItem(job, _on_disk(job), self.annotations.get(job.id)) for job in new]
            self._place(items)
            disk_changed |= any(item.on_disk for item in items)
        if disk_changed:
            self.diskChanged.emit()

    def remove_job(self, job_id: str) -> None:
        self._pending.pop(job_id, None)
        row = self.row_of(job_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        item = self._items.pop(row)
        self._untrack(item.job)
        self._rows.pop(job_id, None)
        self._rows_stale = row < len(self._items)  # rows below it moved up
        self.endRemoveRows()

    def annotate(self, job_id: str, annotation: Annotation) -> None:
        """Store an annotation and show it."""
        self.annotations.put(job_id, annotation)
        row = self.row_of(job_id)
        if row >= 0:
            self._items[row].annotation = annotation
            self._changed(row)

    # --- rows --------------------------------------------------------------------------------------------------

    def _place(self, items: list[LibraryItem], *, signals: bool = True) -> None:
        """Insert items at the rows their creation time gives (newest first), in as few insertions as possible."""
        items = sorted(items, key=lambda it: it.job.created_at, reverse=True)
        start = 0
        while start < len(items):
            row = bisect.bisect_right(self._items, -items[start].job.created_at, key=_newest_first)
            stop = start + 1
            # The following items go to the same row while they are all newer than the row they land before.
            while stop < len(items) and (row == len(self._items)
                                         or items[stop].job.created_at > self._items[row].job.created_at):
                stop += 1
            block = items[start:stop]
            if signals:
                self.beginInsertRows(QModelIndex(), row, row + len(block) - 1)
            appended = row == len(self._items)
            self._items[row:row] = block
            if appended and not self._rows_stale:
                self._rows.update((item.job.id, row + offset) for offset, item in enumerate(block))
            else:
                self._rows_stale = True  # rows below the insertion moved down
            for item in block:
                self._track(item.job)
            if signals:
                self.endInsertRows()
            start = stop

    def _track(self, job: Job) -> None:
        """Count a job shown: under its video path (thumbnails) and its provider and model (filter choices)."""
        if job.video_path:
            self._paths.setdefault(job.video_path, set()).add(job.id)
        self._kinds[(job.provider, job.model)] += 1

    def _untrack(self, job: Job) -> None:
        ids = self._paths.get(job.video_path or "")
        if ids is not None:
            ids.discard(job.id)
            if not ids:
                del self._paths[job.video_path or ""]
        kind = (job.provider, job.model)
        self._kinds[kind] -= 1
        if self._kinds[kind] <= 0:
            del self._kinds[kind]

    def _changed(self, row: int) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _thumbnail_ready(self, path: str) -> None:
        for row in self.rows_showing(path):
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # --- access ------------------------------------------------------------------------------------------------

    def item(self, row: int) -> LibraryItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def jobs(self) -> list[Job]:
        return [item.job for item in self._items]

    def item_for(self, job_id: str) -> LibraryItem | None:
        row = self.row_of(job_id)
        return self._items[row] if row >= 0 else None

    def row_of(self, job_id: str) -> int:
        if self._rows_stale:
            self._rows = {item.job.id: row for row, item in enumerate(self._items)}
            self._rows_stale = False
        return self._rows.get(job_id, -1)

    def rows_showing(self, path: str) -> list[int]:
        """The rows whose video is ``path`` (what a thumbnail that arrives updates)."""
        return sorted(row for job_id in self._paths.get(path, ()) if (row := self.row_of(job_id)) >= 0)

    def providers(self) -> list[str]:
        return sorted({provider for provider, _model in self._kinds})

    def models(self, provider_id: str | None = None) -> list[str]:
        return sorted({model for provider, model in self._kinds if provider_id in (None, provider)})

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
            return f"{star}{excerpt(job.prompt, 48) or '(no prompt)'}\n{take_label(job)}"
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
            return search_text(item)
        return values.get(role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in (*JobRole, *LibraryRole):
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names


class LibraryFilter(QSortFilterProxyModel):
    """Search and filters over ``LibraryModel``, in its order (newest first).

    It filters and never sorts: a sorting proxy asks the model for the sort role (Python) about 14 times for every
    row it places, so 10,000 rows would cost hundreds of thousands of calls; the model keeps its own order.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.provider: str | None = None
        self.model_id: str | None = None
        self.state = StateFilter.ON_DISK
        self.date_from: dt.date | None = None
        self.date_to: dt.date | None = None
        self.favourites_only = False
        self.setDynamicSortFilter(True)  # a row's dataChanged re-checks whether that row passes

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
        if isinstance(model, LibraryModel):  # read the item itself: no index or variant round trips per role
            item = model.item(source_row)
            if item is None:
                return False
            job, on_disk, favourite = item.job, item.on_disk, item.annotation.favourite
        else:
            index = model.index(source_row, 0, source_parent)
            job, item = index.data(JobRole.JOB), None
            if not isinstance(job, Job):
                return False
            on_disk, favourite = bool(index.data(LibraryRole.ON_DISK)), bool(index.data(LibraryRole.FAVOURITE))
        if not (self._state_ok(job, on_disk)
                and (self.provider is None or job.provider == self.provider)
                and (self.model_id is None or job.model == self.model_id)
                and (not self.favourites_only or favourite)
                and self._date_ok(job.created_at)):
            return False
        if not self.text:
            return True
        text = search_text(item) if item is not None else str(index.data(LibraryRole.SEARCH_TEXT))
        return all(word in text for word in self.text.split())

    def _state_ok(self, job: Job, on_disk: bool) -> bool:
        state = self.state
        if state == StateFilter.ON_DISK:
            return on_disk
        if state == StateFilter.UNFINISHED:
            return not job.terminal
        if state == StateFilter.ALL:
            return True
        return job.state == _STATE_OF_FILTER[state]

    def _date_ok(self, created_at: float) -> bool:
        if self.date_from is None and self.date_to is None:
            return True
        day = dt.datetime.fromtimestamp(created_at).date()
        return (self.date_from is None or day >= self.date_from) and (self.date_to is None or day <= self.date_to)

    def job_at(self, index: Index) -> Job | None:
        job = index.data(JobRole.JOB) if index.isValid() else None
        return job if isinstance(job, Job) else None
