"""The job queue as a Qt table model: a thin adapter over the engine's job events.

Like qutebrowser's downloads model, it owns no logic: the engine emits a ``Job`` on every change and the model
stores the latest copy. Events are coalesced (at most one flush per ``FLUSH_MS``) and each flush emits
``dataChanged`` for the changed rows only, so a busy engine never stalls the window. Nothing scans every row per
event: thumbnails find their rows through a source path -> job ids map, the once-a-second tick is one
``dataChanged`` over the rows of live jobs, and new jobs go in as blocks.

Rows are in queue order, the last to start on top (a job's queue position is its creation time unless a person
moved it): waiting jobs can be dragged to another place, which the model asks for with ``reorderRequested`` (the
ids of the waiting jobs in the order they should start); the engine stores it and its events move the rows.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from core.jobs import Job, JobState
from core.params import SlotKind
from core.providers import provider_class
from core.providers.status import provider_name, status_in_words
from gui.safety import guarded
from gui.thumbs import ThumbnailCache

FLUSH_MS = 100
TICK_MS = 1000
PROMPT_EXCERPT = 80
#: What a drag of queue rows carries: the dragged jobs' ids, one a line.
JOB_IDS_MIME = "application/x-reeldeck-job-ids"

Index = QModelIndex | QPersistentModelIndex


class JobRole(IntEnum):
    """Custom data roles of the queue (and library) models."""

    JOB = Qt.ItemDataRole.UserRole + 1
    ID = Qt.ItemDataRole.UserRole + 2
    STATE = Qt.ItemDataRole.UserRole + 3
    PROGRESS = Qt.ItemDataRole.UserRole + 4
    ETA = Qt.ItemDataRole.UserRole + 5
    ELAPSED = Qt.ItemDataRole.UserRole + 6
    NEEDS_DECISION = Qt.ItemDataRole.UserRole + 7
    ERROR = Qt.ItemDataRole.UserRole + 8
    VIDEO_PATH = Qt.ItemDataRole.UserRole + 9
    GROUP = Qt.ItemDataRole.UserRole + 10  # the job's batch (a GroupSummary) or None


class Column(IntEnum):
    """The queue's columns."""

    THUMB = 0
    MODEL = 1
    PROMPT = 2
    STATE = 3
    PROGRESS = 4
    ELAPSED = 5
    COST = 6
    GROUP = 7


HEADERS = {
    Column.THUMB: "",
    Column.MODEL: "Provider / model",
    Column.PROMPT: "Prompt",
    Column.STATE: "State",
    Column.PROGRESS: "Progress",
    Column.ELAPSED: "Elapsed",
    Column.COST: "Est. cost",
    Column.GROUP: "Batch",
}

STATE_TEXT = {
    JobState.PENDING: "Waiting",
    JobState.SUBMITTING: "Submitting",
    JobState.RUNNING: "Running",
    JobState.DOWNLOADING: "Downloading",
    JobState.COMPLETED: "Completed",
    JobState.FAILED: "Failed",
    JobState.CANCELED: "Canceled",
}


#: Failed rows' state text: a red that reads on light and dark backgrounds alike.
FAILED_COLOR = QColor("#e5484d")


def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


def state_text(job: Job) -> str:
    """The state as a person reads it: a running job's provider status in plain words ('Queued at GoAPI',
    'Generating'); a status Reeldeck does not know is quoted as the provider sent it."""
    if job.needs_decision:
        return "Needs your decision"
    if job.state == JobState.RUNNING and job.remote_status:
        return status_in_words(job.provider, job.remote_status)
    return STATE_TEXT.get(job.state, str(job.state))


def cost_text(job: Job) -> str:
    """The job's estimated cost ('$0.40'), or that no price is known."""
    return f"${job.cost_usd:.2f}" if job.cost_usd is not None else "no price"


def cost_tooltip(job: Job) -> str:
    if job.cost_usd is None:
        return "No price is known for this model (Edit → Settings… → Prices and budget to add one)."
    if job.world == "sandbox":
        return "The estimate for this job with a real provider; sandbox jobs are not charged."
    return "Estimated at submission from the price table (Edit → Settings… → Prices and budget)."


def queue_key(job: Job) -> float:
    """Where a job stands in the queue (lower starts first)."""
    return job.queue_pos if job.queue_pos is not None else job.created_at


def model_label(job: Job) -> str:
    """'Provider · model label' for a job."""
    try:
        model = provider_class(job.provider).spec.model(job.model).label
    except Exception:
        model = job.model
    return f"{provider_name(job.provider)} · {model}"


def take_label(job: Job) -> str:
    """'Provider · model · seed 7': what tells one take of a batch from another."""
    return model_label(job) + (f" · seed {job.seed}" if job.seed else "")


def excerpt(text: str, limit: int = PROMPT_EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_duration(seconds: float | None) -> str:
    """'1:05' or '1:02:03'; empty for None."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def elapsed(job: Job, now: float) -> float | None:
    """Seconds from creation to the end (or to now while the job is alive)."""
    if not job.created_at:
        return None
    end = job.finished_at if job.terminal and job.finished_at else now
    return max(0.0, end - job.created_at)


def eta_left(job: Job, now: float) -> float | None:
    """The provider's ETA, counted down since the job was last updated."""
    if job.eta is None or job.terminal:
        return None
    return max(0.0, job.eta - max(0.0, now - job.updated_at))


def thumbnail_source(job: Job) -> str | None:
    """What to show as the job's thumbnail: its video once done, else its first local input image."""
    if job.state == JobState.COMPLETED and job.video_path:
        return job.video_path
    try:
        slots = provider_class(job.provider).spec.model(job.model).slots
        image_slots = [s.name for s in slots if s.kind == SlotKind.IMAGE]
    except Exception:
        image_slots = list(job.inputs)
    for name in image_slots:
        for value in job.inputs.get(name, []):
            if value and "://" not in value and not value.startswith("preset:"):
                return value
    return None


def _last_first(job: Job) -> float:
    return -queue_key(job)


@dataclass(frozen=True)
class GroupSummary:
    """Where a batch stands: how many of its jobs ended, how many made a video, overall progress."""

    group_id: str
    total: int
    ended: int
    completed: int
    progress: float  # 0..100, ended jobs counting as 100

    @property
    def finished(self) -> bool:
        return self.ended == self.total

    @property
    def short(self) -> str:
        return self.group_id.removeprefix("g")[:4]

    @property
    def label(self) -> str:
        return f"Batch {self.short}"

    @property
    def text(self) -> str:
        """What the Batch column shows: '7a3c · 3/4' while it runs, '7a3c · 4/4 done' (', 1 failed') after."""
        if self.finished:
            failed = self.total - self.completed
            return f"{self.short} · {self.completed}/{self.total} done" + (f", {failed} failed" if failed else "")
        return f"{self.short} · {self.ended}/{self.total}"


def summarize_groups(jobs: Iterable[Job]) -> dict[str, GroupSummary]:
    """Per group id: its summary."""
    members: dict[str, list[Job]] = {}
    for job in jobs:
        if job.group_id:
            members.setdefault(job.group_id, []).append(job)
    result = {}
    for group_id, group in members.items():
        ended = sum(1 for j in group if j.terminal)
        completed = sum(1 for j in group if j.state == JobState.COMPLETED)
        progress = sum(100.0 if j.terminal else (j.progress or 0.0) for j in group) / len(group)
        result[group_id] = GroupSummary(group_id, len(group), ended, completed, progress)
    return result


class QueueModel(QAbstractTableModel):
    """Jobs in queue order, the last to start (the newest) first. Feed it with ``on_job`` (an engine listener),
    ``set_jobs`` or ``add_jobs`` (pages)."""

    #: The ids of the waiting jobs in the order they should start (a drag moved some of them).
    reorderRequested = Signal(list)
    #: A job this list showed unfinished has ended (completed, failed or canceled).
    jobEnded = Signal(object)
    #: Every job of a batch this list showed unfinished has ended (its GroupSummary).
    groupFinished = Signal(object)

    def __init__(self, thumbs: ThumbnailCache | None = None, *, clock: Callable[[], float] = time.time,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[str, int] = {}
        self._sources: dict[str, set[str]] = {}  # thumbnail source path -> ids of the jobs showing it
        self._groups: dict[str, GroupSummary] = {}
        self._pending: dict[str, Job] = {}
        self._clock = clock
        self.thumbs = thumbs
        if thumbs is not None:
            thumbs.ready.connect(self._thumbnail_ready)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)
        self._tick_timer.timeout.connect(self._tick)
        self._tick_timer.start()
        self.flushes = 0
        #: The queue is paused: waiting jobs say so.
        self.paused = False

    # --- feeding -----------------------------------------------------------------------------------------------

    def set_jobs(self, jobs: Iterable[Job]) -> None:
        """Replace everything (newest first)."""
        self.beginResetModel()
        self._jobs = sorted(jobs, key=queue_key, reverse=True)
        self._reindex()
        self._sources = {}
        for job in self._jobs:
            self._map_source(job)
        self._groups = summarize_groups(self._jobs)
        self._pending.clear()
        self.endResetModel()

    def add_jobs(self, jobs: Iterable[Job]) -> int:
        """Add jobs read from the store (a page at start); jobs already listed are skipped. Returns how many."""
        new = [job for job in jobs if job.id not in self._rows]
        if new:
            self._place(new)
            self._regroup()
        return len(new)

    def on_job(self, job: Job) -> None:
        """An engine event: remember the latest copy and flush soon (coalesced)."""
        self._pending[job.id] = job
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply pending events: update changed rows in place, insert new jobs (at the top, newest first)."""
        self._flush_timer.stop()
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self.flushes += 1
        new = [job for job_id, job in pending.items() if job_id not in self._rows]
        moved: list[Job] = []
        for job in pending.values():
            row = self._rows.get(job.id)
            if row is None:
                continue
            before = self._jobs[row]
            if queue_key(before) != queue_key(job):
                moved.append(job)  # reordered: it leaves its row and goes in at its new place
                continue
            self._unmap_source(before)
            self._jobs[row] = job
            self._map_source(job)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
            if job.terminal and not before.terminal:
                self.jobEnded.emit(job)
        if moved:
            self._remove({job.id for job in moved}, regroup=False)
        if new or moved:
            self._place(new + moved)
        self._regroup()

    def remove_job(self, job_id: str) -> None:
        self._remove({job_id})

    def remove_finished(self) -> int:
        """Take finished jobs off the list (they stay in the store and the library); returns how many."""
        return self._remove({j.id for j in self._jobs if j.terminal})

    def _remove(self, job_ids: set[str], *, regroup: bool = True) -> int:
        """Remove these jobs, each run of neighbouring rows in one go (bottom up), and re-index once."""
        for job_id in job_ids:
            self._pending.pop(job_id, None)
        rows = sorted((self._rows[i] for i in job_ids if i in self._rows), reverse=True)
        if not rows:
            return 0
        runs: list[tuple[int, int]] = []  # (first, last), bottom up
        for row in rows:
            if runs and runs[-1][0] == row + 1:
                runs[-1] = (row, runs[-1][1])
            else:
                runs.append((row, row))
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            for job in self._jobs[first:last + 1]:
                self._unmap_source(job)
            del self._jobs[first:last + 1]
            self._reindex()
            self.endRemoveRows()
        if regroup:
            self._regroup()
        return len(rows)

    def _place(self, jobs: list[Job]) -> None:
        """Insert jobs at the rows their queue positions give (last first), each block of neighbours at once."""
        jobs = sorted(jobs, key=queue_key, reverse=True)
        start = 0
        while start < len(jobs):
            row = bisect.bisect_right(self._jobs, -queue_key(jobs[start]), key=_last_first)
            stop = start + 1
            while stop < len(jobs) and (row == len(self._jobs) or queue_key(jobs[stop]) > queue_key(self._jobs[row])):
                stop += 1
            block = jobs[start:stop]
            self.beginInsertRows(QModelIndex(), row, row + len(block) - 1)
            self._jobs[row:row] = block
            if row + len(block) == len(self._jobs):  # appended: no other row moved
                self._rows.update((job.id, row + offset) for offset, job in enumerate(block))
            else:
                self._reindex()
            for job in block:
                self._map_source(job)
            self.endInsertRows()
            start = stop

    def _reindex(self) -> None:
        self._rows = {job.id: row for row, job in enumerate(self._jobs)}

    def _map_source(self, job: Job) -> None:
        source = thumbnail_source(job)
        if source:
            self._sources.setdefault(source, set()).add(job.id)

    def _unmap_source(self, job: Job) -> None:
        source = thumbnail_source(job)
        ids = self._sources.get(source or "")
        if ids is not None:
            ids.discard(job.id)
            if not ids:
                del self._sources[source or ""]

    def _regroup(self) -> None:
        before = self._groups
        self._groups = summarize_groups(self._jobs)
        if before == self._groups:
            return
        for group_id, summary in self._groups.items():
            earlier = before.get(group_id)
            if summary.finished and earlier is not None and not earlier.finished:
                self.groupFinished.emit(summary)
        for row, job in enumerate(self._jobs):
            if job.group_id and before.get(job.group_id) != self._groups.get(job.group_id):
                index = self.index(row, Column.GROUP)
                self.dataChanged.emit(index, index)

    def _tick(self) -> None:
        """Once a second: elapsed time and ETA of live jobs move on (one signal over the rows that hold them)."""
        live = [row for row, job in enumerate(self._jobs) if not job.terminal]
        if live:
            self.dataChanged.emit(self.index(live[0], Column.PROGRESS), self.index(live[-1], Column.ELAPSED),
                                  [Qt.ItemDataRole.DisplayRole, JobRole.ETA, JobRole.ELAPSED])

    def rows_showing(self, path: str) -> list[int]:
        """The rows whose thumbnail is ``path`` (the job's video, or its input image before that)."""
        return sorted(self._rows[job_id] for job_id in self._sources.get(path, ()) if job_id in self._rows)

    def _thumbnail_ready(self, path: str) -> None:
        for row in self.rows_showing(path):
            index = self.index(row, Column.THUMB)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # --- access ------------------------------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def job(self, row: int) -> Job | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def job_at(self, index: Index) -> Job | None:
        return self.job(index.row()) if index.isValid() else None

    def row_of(self, job_id: str) -> int:
        return self._rows.get(job_id, -1)

    def find(self, job_id: str) -> Job | None:
        row = self.row_of(job_id)
        return self._jobs[row] if row >= 0 else None

    def group(self, group_id: str | None) -> GroupSummary | None:
        """The summary of a batch (None for a job on its own)."""
        return self._groups.get(group_id) if group_id else None

    def groups(self) -> dict[str, GroupSummary]:
        return dict(self._groups)

    def group_jobs(self, group_id: str) -> list[Job]:
        """A batch's jobs in the order they were queued."""
        return sorted((j for j in self._jobs if j.group_id == group_id), key=lambda j: j.created_at)

    # --- Qt model API --------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(
                Column):
            return HEADERS[Column(section)]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # between rows
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled
        job = self.job_at(index)
        if job is not None and movable(job):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    # --- reordering by drag and drop ---------------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """The queue was paused or resumed: waiting rows say so."""
        self.paused = paused
        waiting = [row for row, job in enumerate(self._jobs) if movable(job)]
        if waiting:
            self.dataChanged.emit(self.index(waiting[0], Column.STATE), self.index(waiting[-1], Column.PROGRESS))

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        ids = dict.fromkeys(job.id for index in indexes if (job := self.job_at(index)) is not None and movable(job))
        data = QMimeData()
        data.setData(JOB_IDS_MIME, QByteArray("\n".join(ids).encode()))
        return data

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: Index) -> bool:
        return action == Qt.DropAction.MoveAction and bool(self._dragged(data))

    @guarded(False)
    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        """Dragged waiting jobs dropped before ``row`` (or on ``parent``'s row): ask for the new start order."""
        dragged = self._dragged(data)
        if action != Qt.DropAction.MoveAction or not dragged:
            return False
        target = parent.row() if parent.isValid() else (row if row >= 0 else len(self._jobs))
        order = self.order_after_move(dragged, target)
        if order is None:
            return False
        self.reorderRequested.emit(order)
        return False  # the rows move when the engine's events arrive, not here

    def order_after_move(self, job_ids: list[str], target: int) -> list[str] | None:
        """The waiting jobs' start order once ``job_ids`` sit before row ``target`` (None if nothing changes)."""
        shown = [job.id for job in self._jobs]
        moving = [i for i in shown if i in set(job_ids)]
        before = sum(1 for i in shown[:target] if i not in moving)
        rest = [i for i in shown if i not in moving]
        rows = rest[:before] + moving + rest[before:]
        waiting = {job.id for job in self._jobs if movable(job)}
        old = [i for i in shown if i in waiting]
        new = [i for i in rows if i in waiting]
        return None if new == old else list(reversed(new))  # rows are last-first; the order starts first-first

    def _dragged(self, data: QMimeData) -> list[str]:
        if not data.hasFormat(JOB_IDS_MIME):
            return []
        ids = [i for i in bytes(data.data(JOB_IDS_MIME).data()).decode().split("\n") if i]
        jobs = [self.find(i) for i in ids]
        return ids if jobs and all(job is not None and movable(job) for job in jobs) else []

    @guarded()
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self.job_at(index)
        if job is None or not 0 <= index.column() < len(Column):
            return None
        column = Column(index.column())
        now = self._clock()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column, now)
        if role == Qt.ItemDataRole.DecorationRole and column == Column.THUMB and self.thumbs is not None:
            return self.thumbs.icon(thumbnail_source(job))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, column)
        if job.state == JobState.FAILED and column in (Column.STATE, Column.PROGRESS):
            if role == Qt.ItemDataRole.ForegroundRole:
                return FAILED_COLOR  # failures stand out at a glance
            if role == Qt.ItemDataRole.FontRole:
                return _bold()
        return self._custom(job, role, now)

    def _display(self, job: Job, column: Column, now: float) -> Any:
        if column == Column.MODEL:
            return take_label(job)
        if column == Column.PROMPT:
            return excerpt(job.prompt) or "(no prompt)"
        if column == Column.STATE:
            return state_text(job)
        if column == Column.PROGRESS:
            return "Paused" if self.paused and movable(job) else progress_text(job, now)
        if column == Column.ELAPSED:
            return format_duration(elapsed(job, now))
        if column == Column.COST:
            return cost_text(job)
        if column == Column.GROUP:
            group = self.group(job.group_id)
            return group.text if group is not None else ""
        return None

    def _tooltip(self, job: Job, column: Column) -> str | None:
        if job.state == JobState.FAILED and job.error:  # the reason on hover, anywhere on the row
            return f"Failed: {job.error}"
        if column == Column.PROMPT and job.prompt:
            return job.prompt
        if job.error and column in (Column.STATE, Column.PROGRESS):
            return job.error
        if job.waiting and not job.terminal and column in (Column.STATE, Column.PROGRESS):
            return job.waiting[0].upper() + job.waiting[1:]
        if column == Column.STATE and job.state == JobState.RUNNING and job.remote_status:
            return f"{provider_name(job.provider)}'s own word for it: {job.remote_status}"
        if movable(job) and column in (Column.STATE, Column.PROGRESS):
            return ("The queue is paused: this job starts once you resume it." if self.paused else
                    "Drag waiting jobs to change which starts first: the lowest starts next.")
        if column == Column.COST:
            return cost_tooltip(job)
        if column == Column.MODEL:
            return f"{job.provider} / {job.model} (job {job.id})"
        if column == Column.GROUP and (group := self.group(job.group_id)) is not None:
            hint = "Select it and press Compare to play its videos side by side." if group.finished else (
                f"{group.progress:.0f}% of the batch is done.")
            return f"{group.label}: {group.total} jobs queued together ({group.group_id}). {hint}"
        return None

    def _custom(self, job: Job, role: int, now: float) -> Any:
        values: dict[int, Callable[[], Any]] = {
            JobRole.JOB: lambda: job,
            JobRole.ID: lambda: job.id,
            JobRole.STATE: lambda: str(job.state),
            JobRole.PROGRESS: lambda: job.progress,
            JobRole.ETA: lambda: eta_left(job, now),
            JobRole.ELAPSED: lambda: elapsed(job, now),
            JobRole.NEEDS_DECISION: lambda: job.needs_decision,
            JobRole.ERROR: lambda: job.error,
            JobRole.VIDEO_PATH: lambda: job.video_path,
            JobRole.GROUP: lambda: self.group(job.group_id),
        }
        getter = values.get(role)
        return getter() if getter is not None else None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in JobRole:
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names


def movable(job: Job) -> bool:
    """A job that waits to be sent (its place in the queue can change)."""
    return job.state == JobState.PENDING and not job.needs_decision


def progress_text(job: Job, now: float) -> str:
    """'42% · 0:31 left', 'Downloading…', 'Done' and so on."""
    if job.needs_decision or (job.waiting_on_you and not job.terminal):
        return "Waiting for you"
    if job.waiting and not job.terminal:
        return "Retrying soon"
    if job.state == JobState.COMPLETED:
        return "Done"
    if job.state in (JobState.FAILED, JobState.CANCELED):
        return "—"
    if job.state == JobState.DOWNLOADING:
        return "Downloading…"
    if job.state in (JobState.PENDING, JobState.SUBMITTING):
        return "Queued" if job.state == JobState.PENDING else "Sending…"
    parts = []
    if job.progress is not None:
        parts.append(f"{job.progress:.0f}%")
    left = eta_left(job, now)
    if left is not None:
        parts.append(f"{format_duration(left)} left")
    return " · ".join(parts) or "Working…"
