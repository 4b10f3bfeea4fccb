"""The window's one job list: every job of the world shown, as a Qt table model fed by the engine's events.

Like qutebrowser's downloads model, it owns no logic of its own: the engine emits a ``Job`` on every change and the
model keeps the latest copy. It is the only place in the window that holds jobs: the queue
(``gui.queue_model.QueueModel``) and the library (``gui.library_model.LibraryFilter``) are sorted and filtered
proxy views over it, and batch progress (``core.batches``) is derived from its rows.

- **Rows** are every job, newest created first (the library's order, kept by the model so the library's proxy over
  10,000 rows never sorts); the queue's proxy sorts its few rows by queue position.
- **Columns** are the queue's (``Column``) plus one ``TILE_COLUMN``: the library's tile (text, and the first frame
  once the video is on disk). Each proxy shows its own columns.
- **Events are coalesced**: ``on_job`` only remembers; one timer flushes at most once per ``FLUSH_MS`` (a frame),
  and a flush is one ``dataChanged`` per run of neighbouring changed rows, with new jobs inserted as blocks.
- **Nothing scans every row per event**: thumbnails find their rows through a source path -> job ids map, batches
  through a group id -> job ids map, the queue's once-a-second tick through the set of live jobs.
- **Which jobs the queue lists** is a flag per row: jobs from engine events and unfinished or recent jobs from the
  store are listed; *Clear finished* takes ended jobs off the queue (they stay in the library).
"""

from __future__ import annotations

import bisect
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
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

from core.batches import GroupSummary, summarize_group
from core.jobs import Job, JobState
from core.params import SlotKind
from core.providers import provider_class
from core.providers.status import provider_name, status_in_words
from gui import work
from gui.annotations import Annotation, AnnotationStore
from gui.safety import guarded
from gui.thumbs import ThumbnailCache

log = logging.getLogger(__name__)

#: At most one burst of row updates per this many milliseconds.
FLUSH_MS = 100
PROMPT_EXCERPT = 80
#: What a drag of queue rows carries: the dragged jobs' ids, one a line.
JOB_IDS_MIME = "application/x-reeldeck-job-ids"

Index = QModelIndex | QPersistentModelIndex


class JobRole(IntEnum):
    """The job list's data roles (the queue and the library read the same ones)."""

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
    QUEUE_KEY = Qt.ItemDataRole.UserRole + 11  # where it stands in the queue (the queue's sort role)
    IN_QUEUE = Qt.ItemDataRole.UserRole + 12  # the queue lists it
    ON_DISK = Qt.ItemDataRole.UserRole + 20
    FAVOURITE = Qt.ItemDataRole.UserRole + 21
    RATING = Qt.ItemDataRole.UserRole + 22
    NOTE = Qt.ItemDataRole.UserRole + 23
    CREATED = Qt.ItemDataRole.UserRole + 24
    PROVIDER = Qt.ItemDataRole.UserRole + 25
    MODEL = Qt.ItemDataRole.UserRole + 26
    SEARCH_TEXT = Qt.ItemDataRole.UserRole + 27


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


#: The library's tile: one more column after the queue's.
TILE_COLUMN = len(Column)

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


# --- what a job looks like in words -----------------------------------------------------------------------------

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


def video_on_disk(job: Job) -> bool:
    """A completed job whose video file is there (a file check: a worker thread's job for many jobs)."""
    return job.state == JobState.COMPLETED and bool(job.video_path) and Path(job.video_path or "").is_file()


def videos_on_disk(jobs: Iterable[Job]) -> set[str]:
    """The ids of the jobs whose video is on disk (worker thread: a file check per job)."""
    return {job.id for job in jobs if video_on_disk(job)}


@dataclass
class JobItem:
    """One job with what the window knows about it besides the job: its video on disk, its note, whether the
    queue lists it."""

    job: Job
    on_disk: bool
    annotation: Annotation
    in_queue: bool = True


def search_text(item: JobItem) -> str:
    """What the library's search box matches, lower case: prompt, provider, model, note, ids."""
    job = item.job
    return " ".join((job.prompt, job.provider, provider_name(job.provider), job.model, model_label(job),
                     item.annotation.note, job.id, job.remote_id or "")).lower()


def _newest_first(item: JobItem) -> float:
    return -item.job.created_at


def runs(rows: Iterable[int], gap: int = 1) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs; rows closer than ``gap`` join one run."""
    runs: list[tuple[int, int]] = []
    for row in sorted(rows):
        if runs and row - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class JobListModel(QAbstractTableModel):
    """Every job of the world shown, newest first, fed by ``on_job`` (engine events, coalesced), ``set_jobs`` /
    ``load`` (replace everything) and ``add_jobs`` (pages read from the store)."""

    #: A job this list showed unfinished has ended (completed, failed or canceled).
    jobEnded = Signal(object)
    #: Every job of a batch this list showed unfinished has ended (its GroupSummary).
    groupFinished = Signal(object)
    #: Which videos are on disk changed (a load, a page, a finished job): selections may now allow more.
    diskChanged = Signal()

    def __init__(self, annotations: AnnotationStore | None = None, thumbs: ThumbnailCache | None = None, *,
                 clock: Callable[[], float] = time.time, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.annotations = annotations
        self.thumbs = thumbs
        self._clock = clock
        self._items: list[JobItem] = []
        self._rows: dict[str, int] = {}  # job id -> row; rebuilt on next use once rows have moved
        self._rows_stale = False
        self._sources: dict[str, set[str]] = {}  # thumbnail source path -> ids of the jobs showing it
        self._members: dict[str, set[str]] = {}  # batch id -> ids of its jobs
        self._groups: dict[str, GroupSummary] = {}
        self._live: set[str] = set()  # ids of the jobs not ended (the tick moves their clocks)
        self._kinds: Counter[tuple[str, str]] = Counter()  # (provider, model) -> rows (the library's choices)
        self._pending: dict[str, Job] = {}
        self._generation = 0
        self.flushes = 0
        self.loaded = False
        #: The queue is paused: waiting jobs say so.
        self.paused = False
        if thumbs is not None:
            thumbs.ready.connect(self._thumbnail_ready)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)

    # --- replacing everything ------------------------------------------------------------------------------------

    def set_jobs(self, jobs: Iterable[Job]) -> None:
        """Show exactly these jobs, all in the queue (their videos are checked here: for few jobs)."""
        jobs = list(jobs)
        self._reset(jobs, videos_on_disk(jobs))

    def load(self, jobs: Iterable[Job], *, check_in_background: bool = True) -> None:
        """Show exactly these jobs; their rows appear once a worker thread has checked which videos are on disk."""
        jobs = list(jobs)
        self._generation += 1
        generation = self._generation
        self.loaded = False
        if check_in_background:
            work.run(videos_on_disk, jobs, owner=self, on_done=lambda found: self._loaded(generation, jobs, found),
                     on_error=lambda error: self._loaded(generation, jobs, set(), error))
        else:
            self._loaded(generation, jobs, videos_on_disk(jobs))

    def _loaded(self, generation: int, jobs: list[Job], found: set[str],
                error: BaseException | None = None) -> None:
        if error is not None:
            log.error("could not check which videos are on disk: %s", error)
        if generation == self._generation:
            self._reset(jobs, found)
            self.loaded = True

    def _reset(self, jobs: list[Job], on_disk: Collection[str]) -> None:
        self.beginResetModel()
        self._items, self._rows, self._rows_stale = [], {}, False
        self._sources, self._members, self._groups, self._live, self._kinds = {}, {}, {}, set(), Counter()
        self._pending.clear()
        notes = self.annotations.all() if self.annotations is not None and len(jobs) > 20 else None
        self._place(self._new_items(jobs, on_disk, notes), signals=False)
        self._groups = {g: s for g in self._members if (s := self._summary(g)) is not None}
        self.endResetModel()
        self.diskChanged.emit()

    # --- pages and events ----------------------------------------------------------------------------------------

    def add_jobs(self, jobs: Iterable[Job], on_disk: Collection[str] = (),
                 notes: Mapping[str, Annotation] | None = None, *,
                 in_queue: Callable[[Job], bool] | None = None) -> int:
        """Add jobs read from the store (a page at start), ``on_disk`` naming those whose video was found and
        ``in_queue`` choosing those the queue lists (every one by default).

        Jobs already shown are skipped (an engine event brought a newer copy first). Rows go where their creation
        time puts them; a page older than every row shown is one insertion at the end. Returns how many were added.
        """
        new = [job for job in jobs if self.row_of(job.id) < 0]
        if not new:
            return 0
        items = self._new_items(new, on_disk, notes)
        if in_queue is not None:
            for item in items:
                item.in_queue = in_queue(item.job)
        self._place(items)
        self._regroup({job.group_id for job in new if job.group_id})
        if any(job.id in on_disk for job in new):
            self.diskChanged.emit()
        return len(new)

    def finish_loading(self) -> None:
        """Every page is in (the window calls it after the last one)."""
        self.loaded = True

    def on_job(self, job: Job) -> None:
        """An engine event: remember the latest copy and flush soon (coalesced)."""
        self._pending[job.id] = job
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply the pending events: changed rows in place (one ``dataChanged`` per run of neighbours), new jobs
        inserted as blocks; then the endings of jobs and batches are told."""
        self._flush_timer.stop()
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self.flushes += 1
        new: list[Job] = []
        changed: list[int] = []
        ended: list[Job] = []
        groups: set[str] = set()
        disk_changed = False
        for job in pending.values():
            row = self.row_of(job.id)
            if row < 0:
                new.append(job)
                continue
            item = self._items[row]
            before, was_on_disk = item.job, item.on_disk
            self._untrack(before)
            item.job, item.on_disk, item.in_queue = job, video_on_disk(job), True
            self._track(job)
            changed.append(row)
            disk_changed |= was_on_disk != item.on_disk
            groups.update(g for g in (before.group_id, job.group_id) if g)
            if job.terminal and not before.terminal:
                ended.append(job)
        for first, last in runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, TILE_COLUMN))
        if new:
            items = [JobItem(job, video_on_disk(job), self._note(job.id)) for job in new]
            self._place(items)
            disk_changed |= any(item.on_disk for item in items)
            groups.update(job.group_id for job in new if job.group_id)
        for job in ended:
            self.jobEnded.emit(job)
        self._regroup(groups)
        if disk_changed:
            self.diskChanged.emit()

    def remove_job(self, job_id: str) -> None:
        """The job is gone (deleted, or moved to the trash): its row goes from every view."""
        self._pending.pop(job_id, None)
        row = self.row_of(job_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        item = self._items.pop(row)
        self._untrack(item.job)
        self._rows.pop(job_id, None)
        self._rows_stale = self._rows_stale or row < len(self._items)  # rows below it moved up
        self.endRemoveRows()
        if item.job.group_id:
            self._regroup({item.job.group_id})

    def leave_queue(self, job_ids: Iterable[str]) -> int:
        """Take these jobs off the queue (they stay in the library); returns how many the queue listed."""
        rows = []
        for job_id in job_ids:
            row = self.row_of(job_id)
            if row >= 0 and self._items[row].in_queue:
                self._items[row].in_queue = False
                rows.append(row)
        for first, last in runs(rows):
            self.dataChanged.emit(self.index(first, 0), self.index(last, TILE_COLUMN), [JobRole.IN_QUEUE])
        return len(rows)

    def annotate(self, job_id: str, annotation: Annotation) -> None:
        """Store an annotation and show it."""
        if self.annotations is not None:
            self.annotations.put(job_id, annotation)
        row = self.row_of(job_id)
        if row >= 0:
            self._items[row].annotation = annotation
            self.dataChanged.emit(self.index(row, 0), self.index(row, TILE_COLUMN))

    def set_paused(self, paused: bool) -> None:
        """The queue was paused or resumed: waiting rows say so."""
        self.paused = paused
        waiting = [row for row, item in enumerate(self._items) if movable(item.job)]
        for first, last in runs(waiting, 64):
            self.dataChanged.emit(self.index(first, Column.STATE), self.index(last, Column.PROGRESS),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    # --- rows and what points at them ----------------------------------------------------------------------------

    def _note(self, job_id: str) -> Annotation:
        return self.annotations.get(job_id) if self.annotations is not None else Annotation()

    def _new_items(self, jobs: Iterable[Job], on_disk: Collection[str],
                   notes: Mapping[str, Annotation] | None) -> list[JobItem]:
        def note(job_id: str) -> Annotation:
            return notes.get(job_id, Annotation()) if notes is not None else self._note(job_id)

        return [JobItem(job, job.id in on_disk, note(job.id)) for job in jobs]

    def _place(self, items: list[JobItem], *, signals: bool = True) -> None:
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
        """Count a job shown: under its thumbnail, its batch, its provider and model, and as live or not."""
        source = thumbnail_source(job)
        if source:
            self._sources.setdefault(source, set()).add(job.id)
        if job.group_id:
            self._members.setdefault(job.group_id, set()).add(job.id)
        self._kinds[(job.provider, job.model)] += 1
        if not job.terminal:
            self._live.add(job.id)

    def _untrack(self, job: Job) -> None:
        _discard(self._sources, thumbnail_source(job) or "", job.id)
        _discard(self._members, job.group_id or "", job.id)
        kind = (job.provider, job.model)
        self._kinds[kind] -= 1
        if self._kinds[kind] <= 0:
            del self._kinds[kind]
        self._live.discard(job.id)

    def _summary(self, group_id: str) -> GroupSummary | None:
        return summarize_group(group_id, (self._items[self.row_of(i)].job for i in self._members.get(group_id, ())))

    def _regroup(self, group_ids: set[str]) -> None:
        """Summarize these batches again; repaint their members' Batch cells and tell batches that finished."""
        for group_id in group_ids:
            before = self._groups.get(group_id)
            summary = self._summary(group_id)
            if summary == before:
                continue
            if summary is None:
                del self._groups[group_id]
                continue
            self._groups[group_id] = summary
            for row in sorted(self.row_of(i) for i in self._members.get(group_id, ())):
                index = self.index(row, Column.GROUP)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                                                     JobRole.GROUP])
            if summary.finished and before is not None and not before.finished:
                self.groupFinished.emit(summary)

    def _thumbnail_ready(self, path: str) -> None:
        for row in self.rows_showing(path):
            self.dataChanged.emit(self.index(row, Column.THUMB), self.index(row, TILE_COLUMN),
                                  [Qt.ItemDataRole.DecorationRole])

    # --- access --------------------------------------------------------------------------------------------------

    def item(self, row: int) -> JobItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def job(self, row: int) -> Job | None:
        return self._items[row].job if 0 <= row < len(self._items) else None

    def jobs(self) -> list[Job]:
        return [item.job for item in self._items]

    def live_ids(self) -> set[str]:
        """The ids of the jobs that have not ended."""
        return set(self._live)

    def item_for(self, job_id: str) -> JobItem | None:
        row = self.row_of(job_id)
        return self._items[row] if row >= 0 else None

    def find(self, job_id: str) -> Job | None:
        row = self.row_of(job_id)
        return self._items[row].job if row >= 0 else None

    def row_of(self, job_id: str) -> int:
        if self._rows_stale:
            self._rows = {item.job.id: row for row, item in enumerate(self._items)}
            self._rows_stale = False
        return self._rows.get(job_id, -1)

    def rows_showing(self, path: str) -> list[int]:
        """The rows whose thumbnail is ``path`` (the job's video, or its input image before that)."""
        return sorted(row for job_id in self._sources.get(path, ()) if (row := self.row_of(job_id)) >= 0)

    def group(self, group_id: str | None) -> GroupSummary | None:
        """The summary of a batch (None for a job on its own)."""
        return self._groups.get(group_id) if group_id else None

    def groups(self) -> dict[str, GroupSummary]:
        return dict(self._groups)

    def queued_groups(self) -> dict[str, GroupSummary]:
        """The batches with at least one job the queue lists."""
        return {group_id: summary for group_id, summary in self._groups.items()
                if any(self._items[self.row_of(i)].in_queue for i in self._members.get(group_id, ()))}

    def has_finished_in_queue(self) -> bool:
        """Whether the queue lists a job that has ended (what *Clear finished* would take off)."""
        return any(item.in_queue and item.job.terminal for item in self._items)

    def group_jobs(self, group_id: str) -> list[Job]:
        """A batch's jobs in the order they were queued."""
        jobs = (self._items[self.row_of(i)].job for i in self._members.get(group_id, ()))
        return sorted(jobs, key=lambda j: j.created_at)

    def providers(self) -> list[str]:
        return sorted({provider for provider, _model in self._kinds})

    def models(self, provider_id: str | None = None) -> list[str]:
        return sorted({model for provider, model in self._kinds if provider_id in (None, provider)})

    # --- Qt model API --------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else TILE_COLUMN + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            if 0 <= section < len(Column):
                return HEADERS[Column(section)]
            if section == TILE_COLUMN:
                return "Video"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # between the queue's rows
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled
        job = self.job(index.row())
        if job is not None and movable(job):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        """The dragged waiting jobs' ids (what reordering the queue carries)."""
        jobs = (self.job(index.row()) for index in indexes if index.isValid())
        ids = dict.fromkeys(job.id for job in jobs if job is not None and movable(job))
        data = QMimeData()
        data.setData(JOB_IDS_MIME, QByteArray("\n".join(ids).encode()))
        return data

    @guarded()
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item(index.row()) if index.isValid() else None
        if item is None or not 0 <= index.column() <= TILE_COLUMN:
            return None
        if index.column() == TILE_COLUMN:
            return self._tile(item, role)
        job = item.job
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
        return self._custom(item, role, now)

    def _tile(self, item: JobItem, role: int) -> Any:
        """The library's tile: '★ prompt' over 'model', the first frame once the video is on disk."""
        job = item.job
        if role == Qt.ItemDataRole.DisplayRole:
            star = "★ " if item.annotation.favourite else ""
            return f"{star}{excerpt(job.prompt, 48) or '(no prompt)'}\n{take_label(job)}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.icon(job.video_path) if self.thumbs is not None and item.on_disk else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.prompt or job.id
        return self._custom(item, role, self._clock())

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

    def _custom(self, item: JobItem, role: int, now: float) -> Any:
        job, note = item.job, item.annotation
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
            JobRole.QUEUE_KEY: lambda: queue_key(job),
            JobRole.IN_QUEUE: lambda: item.in_queue,
            JobRole.ON_DISK: lambda: item.on_disk,
            JobRole.FAVOURITE: lambda: note.favourite,
            JobRole.RATING: lambda: note.rating,
            JobRole.NOTE: lambda: note.note,
            JobRole.CREATED: lambda: job.created_at,
            JobRole.PROVIDER: lambda: job.provider,
            JobRole.MODEL: lambda: job.model,
            JobRole.SEARCH_TEXT: lambda: search_text(item),
        }
        getter = values.get(role)
        return getter() if getter is not None else None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in JobRole:
            names[int(role)] = QByteArray(role.name.lower().encode())
        return names


def _discard(index: dict[str, set[str]], key: str, job_id: str) -> None:
    """Take a job id out of one entry of a key -> ids map (the entry goes once empty)."""
    ids = index.get(key)
    if ids is not None:
        ids.discard(job_id)
        if not ids:
            del index[key]
