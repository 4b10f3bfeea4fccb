"""The library's views of the window's one job list (``gui.job_list.JobListModel``): tiles, search and filters.

``LibraryTiles`` shows every job as a tile (the job list's tile column); ``LibraryFilter`` narrows it by search
text (prompt, provider, model, note, id), provider, model, state, date range and favourites. Neither keeps jobs
or sorts: the job list keeps every row newest first, and a change is told for its own row only (the filter
re-checks just that row).
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt

from core.jobs import Job, JobState
from gui.job_list import TILE_COLUMN, Index, JobItem, JobListModel, JobRole, search_text, videos_on_disk
from gui.safety import guarded

__all__ = [
    "STATE_FILTER_TEXT", "Index", "LibraryFilter", "LibraryItem", "LibraryRole", "LibraryTiles", "StateFilter",
    "search_text", "videos_on_disk",
]

#: The library's roles are the job list's (``ON_DISK``, ``FAVOURITE``, ``RATING``, ``NOTE`` and the rest).
LibraryRole = JobRole
#: One job with what the window knows about it (its video on disk, its note).
LibraryItem = JobItem


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


class LibraryTiles(QSortFilterProxyModel):
    """Every job of a ``JobListModel`` as a library tile (one column), in its order (newest first)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setDynamicSortFilter(True)  # a row's dataChanged re-checks whether that row passes

    def filterAcceptsColumn(self, source_column: int, source_parent: Index) -> bool:
        return source_column == TILE_COLUMN

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def jobs_model(self) -> JobListModel | None:
        model = self.sourceModel()
        return model if isinstance(model, JobListModel) else None

    def item_at(self, index: Index) -> JobItem | None:
        """The job list's item behind one of these rows."""
        model = self.jobs_model()
        if model is None or not index.isValid():
            return None
        return model.item(self.mapToSource(self.index(index.row(), 0)).row())

    def index_of(self, job_id: str) -> Index | None:
        """This view's index of a job (None when the job is not shown here)."""
        model = self.jobs_model()
        row = model.row_of(job_id) if model is not None else -1
        index = self.mapFromSource(model.index(row, TILE_COLUMN)) if model is not None and row >= 0 else None
        return index if index is not None and index.isValid() else None

    def job_at(self, index: Index) -> Job | None:
        job = index.data(JobRole.JOB) if index.isValid() else None
        return job if isinstance(job, Job) else None


class LibraryFilter(LibraryTiles):
    """Search and filters over the library's tiles, in the job list's order (newest first).

    It filters and never sorts: a sorting proxy asks the model for the sort role (Python) about 14 times for every
    row it places, so 10,000 rows would cost hundreds of thousands of calls; the job list keeps its own order.
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
        model = self.jobs_model()
        item = model.item(source_row) if model is not None else None  # the item itself: no variant round trips
        if item is None:
            return False
        job = item.job
        if not (self._state_ok(job, item.on_disk)
                and (self.provider is None or job.provider == self.provider)
                and (self.model_id is None or job.model == self.model_id)
                and (not self.favourites_only or item.annotation.favourite)
                and self._date_ok(job.created_at)):
            return False
        if not self.text:
            return True
        text = search_text(item)
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
