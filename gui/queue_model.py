"""The job queue: a sorted and filtered view of the window's one job list (``gui.job_list.JobListModel``).

It keeps no jobs of its own: it lists the jobs the job list marks as queued, in queue order, the last to start on
top (a job's queue position is its creation time unless a person moved it). Waiting jobs can be dragged to another
place, which the view asks for with ``reorderRequested`` (the ids of the waiting jobs in the order they should
start); the engine stores it and its events move the rows.

The queue's few rows are sorted here (``lessThan`` reads the jobs directly); the job list keeps every row newest
first for the library. A row is re-sorted only by a change that may move it: updates that name their roles
(thumbnails, the clock's tick, batch cells) leave the order alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QByteArray, QMimeData, QObject, QSortFilterProxyModel, Qt, QTimer, Signal

from core.batches import GroupSummary, summarize_groups
from core.jobs import Job
from core.providers.status import provider_name
from gui.job_list import (
    FAILED_COLOR,
    HEADERS,
    JOB_IDS_MIME,
    STATE_TEXT,
    Column,
    Index,
    JobListModel,
    JobRole,
    cost_text,
    cost_tooltip,
    elapsed,
    eta_left,
    excerpt,
    format_duration,
    model_label,
    movable,
    progress_text,
    queue_key,
    runs,
    state_text,
    take_label,
    thumbnail_source,
    videos_on_disk,
)
from gui.safety import guarded

TICK_MS = 1000
#: The tick joins live rows into one update while fewer rows than this lie between them.
TICK_GAP = 64

__all__ = [
    "FAILED_COLOR", "HEADERS", "JOB_IDS_MIME", "STATE_TEXT", "Column", "GroupSummary", "JobRole", "QueueModel",
    "cost_text", "cost_tooltip", "elapsed", "eta_left", "excerpt", "format_duration", "model_label", "movable",
    "progress_text", "provider_name", "queue_key", "state_text", "summarize_groups", "take_label",
    "thumbnail_source",
]


class QueueModel(QSortFilterProxyModel):
    """The queued jobs of a ``JobListModel`` in queue order, the last to start (the newest) first.

    Built without a job list, it makes its own (a queue on its own, as tests and tools use it). Feeding and reading
    go through to the job list: ``on_job``, ``flush``, ``set_jobs``, ``add_jobs`` (pages); rows are this view's.
    """

    #: The ids of the waiting jobs in the order they should start (a drag moved some of them).
    reorderRequested = Signal(list)

    def __init__(self, jobs: JobListModel | None = None, *, clock: Callable[[], float] = time.time,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = jobs if jobs is not None else JobListModel(clock=clock, parent=self)
        self.setDynamicSortFilter(True)  # a row's change re-checks that row alone
        self.setSortRole(JobRole.QUEUE_KEY)  # changes that name other roles never re-sort
        self.setSourceModel(self.source)
        self.sort(Column.THUMB, Qt.SortOrder.DescendingOrder)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)
        self._tick_timer.timeout.connect(self.tick)
        self._tick_timer.start()

    # --- what decides the rows -----------------------------------------------------------------------------------

    @guarded(False)
    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        item = self.source.item(source_row)
        return item is not None and item.in_queue

    def filterAcceptsColumn(self, source_column: int, source_parent: Index) -> bool:
        return source_column < len(Column)

    @guarded(False)
    def lessThan(self, left: Index, right: Index) -> bool:
        first, second = self.source.job(left.row()), self.source.job(right.row())
        if first is None or second is None:
            return False
        return queue_key(first) < queue_key(second)

    def tick(self) -> None:
        """Once a second: elapsed time and ETA of live jobs move on, one signal per cluster of live rows.

        The queue tells its views itself: a change told by the job list would make every view of it check
        those rows against its filter again, and only the queue shows clocks."""
        rows = []
        for job_id in self.source.live_ids():
            source_row = self.source.row_of(job_id)
            row = self.mapFromSource(self.source.index(source_row, 0)).row() if source_row >= 0 else -1
            if row >= 0:
                rows.append(row)
        for first, last in runs(rows, TICK_GAP):
            self.dataChanged.emit(self.index(first, Column.PROGRESS), self.index(last, Column.ELAPSED),
                                  [Qt.ItemDataRole.DisplayRole, JobRole.ETA, JobRole.ELAPSED])

    # --- feeding (through to the job list) -----------------------------------------------------------------------

    def on_job(self, job: Job) -> None:
        self.source.on_job(job)

    def flush(self) -> None:
        self.source.flush()

    @property
    def flushes(self) -> int:
        return self.source.flushes

    @property
    def paused(self) -> bool:
        return self.source.paused

    def set_jobs(self, jobs: Iterable[Job]) -> None:
        """Replace every job of the job list with these (all queued)."""
        self.source.set_jobs(jobs)

    def add_jobs(self, jobs: Iterable[Job]) -> int:
        """Add jobs read from the store, queued; jobs already listed are skipped. Returns how many."""
        jobs = list(jobs)
        return self.source.add_jobs(jobs, videos_on_disk(jobs))

    def remove_job(self, job_id: str) -> None:
        """The job is gone (deleted): from the queue and the library."""
        self.source.remove_job(job_id)

    def remove_finished(self) -> int:
        """Take finished jobs off the queue (they stay in the store and the library); returns how many."""
        return self.source.leave_queue([job.id for job in self.jobs() if job.terminal])

    def set_paused(self, paused: bool) -> None:
        self.source.set_paused(paused)

    # --- access (rows are this view's) ---------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        return [job for row in range(self.rowCount()) if (job := self.job(row)) is not None]

    def job(self, row: int) -> Job | None:
        if not 0 <= row < self.rowCount():
            return None
        return self.source.job(self.mapToSource(self.index(row, 0)).row())

    def job_at(self, index: Index) -> Job | None:
        return self.job(index.row()) if index.isValid() else None

    def row_of(self, job_id: str) -> int:
        row = self.source.row_of(job_id)
        return self.mapFromSource(self.source.index(row, 0)).row() if row >= 0 else -1

    def find(self, job_id: str) -> Job | None:
        item = self.source.item_for(job_id)
        return item.job if item is not None and item.in_queue else None

    def group(self, group_id: str | None) -> GroupSummary | None:
        """The summary of a batch (None for a job on its own)."""
        return self.source.group(group_id)

    def groups(self) -> dict[str, GroupSummary]:
        """The batches of the queued jobs."""
        return self.source.queued_groups()

    def has_finished(self) -> bool:
        """Whether the queue lists a job that has ended."""
        return self.source.has_finished_in_queue()

    def group_jobs(self, group_id: str) -> list[Job]:
        """A batch's jobs in the order they were queued."""
        return self.source.group_jobs(group_id)

    # --- reordering by drag and drop -----------------------------------------------------------------------------

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: Index) -> bool:
        return action == Qt.DropAction.MoveAction and bool(self._dragged(data))

    @guarded(False)
    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        """Dragged waiting jobs dropped before ``row`` (or on ``parent``'s row): ask for the new start order."""
        dragged = self._dragged(data)
        if action != Qt.DropAction.MoveAction or not dragged:
            return False
        target = parent.row() if parent.isValid() else (row if row >= 0 else self.rowCount())
        order = self.order_after_move(dragged, target)
        if order is None:
            return False
        self.reorderRequested.emit(order)
        return False  # the rows move when the engine's events arrive, not here

    def order_after_move(self, job_ids: list[str], target: int) -> list[str] | None:
        """The waiting jobs' start order once ``job_ids`` sit before row ``target`` (None if nothing changes)."""
        listed = self.jobs()
        shown = [job.id for job in listed]
        moving = [i for i in shown if i in set(job_ids)]
        before = sum(1 for i in shown[:target] if i not in moving)
        rest = [i for i in shown if i not in moving]
        rows = rest[:before] + moving + rest[before:]
        waiting = {job.id for job in listed if movable(job)}
        old = [i for i in shown if i in waiting]
        new = [i for i in rows if i in waiting]
        return None if new == old else list(reversed(new))  # rows are last-first; the order starts first-first

    def _dragged(self, data: QMimeData) -> list[str]:
        if not data.hasFormat(JOB_IDS_MIME):
            return []
        ids = [i for i in bytes(data.data(JOB_IDS_MIME).data()).decode().split("\n") if i]
        jobs = [self.find(i) for i in ids]
        return ids if jobs and all(job is not None and movable(job) for job in jobs) else []

    def roleNames(self) -> dict[int, QByteArray]:
        return self.source.roleNames()
