"""The sequence strip's models: the clips of one sequence (drag to reorder) and the finished videos to drag in.

``StripModel`` shows a ``core.sequence.Sequence``'s clips in order and edits it only through the sequence's own
methods; a drop of its own rows moves a clip, a drop of finished videos (``FinishedClips``, over the library's
model) inserts them there. Every edit emits ``edited`` so the tab stores the sequence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from core.errors import InputError
from core.jobs import Job
from core.sequence import Clip, Sequence
from gui.library_model import LibraryRole
from gui.queue_model import JobRole, model_label
from gui.safety import guarded
from gui.thumbs import ThumbnailCache

Index = QModelIndex | QPersistentModelIndex
#: A drag of strip rows (their positions) and a drag of finished videos (their job ids).
STRIP_MIME = "application/x-reeldeck-sequence-rows"
JOBS_MIME = "application/x-reeldeck-job-ids"

JobLookup = Callable[[str], Job | None]


def clip_span_text(clip: Clip) -> str:
    """'0.00–4.00 s', or 'whole' for an untrimmed clip, '1.50 s–end' for an open out point."""
    if clip.start == 0 and clip.end is None:
        return "whole clip"
    end = "end" if clip.end is None else f"{clip.end:.2f} s"
    return f"{clip.start:.2f} s – {end}"


class StripModel(QAbstractListModel):
    """The clips of the current sequence, in order."""

    edited = Signal()
    rejected = Signal(str)  # why a drop or an edit was refused

    def __init__(self, job_for: JobLookup, thumbs: ThumbnailCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_for = job_for
        self.thumbs = thumbs
        self.sequence: Sequence | None = None
        self._labels: dict[str, str] = {}
        if thumbs is not None:
            thumbs.ready.connect(self._thumbnail_ready)

    def set_sequence(self, sequence: Sequence | None) -> None:
        self.beginResetModel()
        self.sequence = sequence
        self._labels.clear()
        self.endResetModel()

    def reload(self) -> None:
        """The sequence changed outside the model (a continuation arrived): show it again."""
        self.set_sequence(self.sequence)

    def clip(self, row: int) -> Clip | None:
        clips = self.sequence.clips if self.sequence is not None else []
        return clips[row] if 0 <= row < len(clips) else None

    def label(self, job_id: str) -> str:
        if job_id not in self._labels:
            job = self.job_for(job_id)
            self._labels[job_id] = model_label(job) if job is not None else f"job {job_id}"
        return self._labels[job_id]

    # --- editing ---------------------------------------------------------------------------------------------

    def move(self, source: int, target: int) -> bool:
        """Move a clip so it lands before the clip now at ``target`` (``rowCount()``: the end)."""
        if self.sequence is None or not 0 <= source < len(self.sequence.clips):
            return False
        final = target - 1 if target > source else target
        if final == source:
            return False
        if not self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), target):
            return False
        self.sequence.move(source, final)
        self.endMoveRows()
        self.edited.emit()
        return True

    def insert_jobs(self, jobs: list[Job], at: int) -> int:
        """Put finished videos into the sequence at ``at``; returns how many went in."""
        if self.sequence is None:
            return 0
        placed = 0
        for job in jobs:
            row = max(0, min(at + placed, len(self.sequence.clips)))
            self.beginInsertRows(QModelIndex(), row, row)
            try:
                self.sequence.add(job, row)
            except InputError as exc:
                self.endInsertRows()
                self.rejected.emit(exc.message)
                break
            self.endInsertRows()
            placed += 1
        if placed:
            self.edited.emit()
        return placed

    def remove(self, row: int) -> Clip | None:
        if self.clip(row) is None or self.sequence is None:
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        clip = self.sequence.remove(row)
        self.endRemoveRows()
        self.edited.emit()
        return clip

    def clip_changed(self, row: int) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)
        self.edited.emit()

    # --- Qt model --------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.sequence is None else len(self.sequence.clips)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)

    @guarded()
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        clip = self.clip(index.row()) if index.isValid() else None
        if clip is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1} · {self.label(clip.job_id)}\n{clip_span_text(clip)}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbs.icon(clip.path) if self.thumbs is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.label(clip.job_id)} — job {clip.job_id}\n{clip.path}\nDrag to reorder."
        if role == JobRole.ID:
            return clip.job_id
        return None

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [STRIP_MIME, JOBS_MIME]

    @guarded()
    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data.setData(STRIP_MIME, json.dumps(rows).encode())
        return data

    @guarded(default=False)
    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                        parent: Index) -> bool:
        return self.sequence is not None and (data.hasFormat(STRIP_MIME) or data.hasFormat(JOBS_MIME))

    @guarded(default=False)
    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        if self.sequence is None or action == Qt.DropAction.IgnoreAction:
            return False
        target = row if row >= 0 else (parent.row() if parent.isValid() else self.rowCount())
        if data.hasFormat(STRIP_MIME):
            rows = json.loads(bytes(data.data(STRIP_MIME).data()).decode())
            if len(rows) != 1:
                return False
            self.move(int(rows[0]), target)
            return False  # the move is done here: the view must not remove the source row as well
        if data.hasFormat(JOBS_MIME):
            ids = json.loads(bytes(data.data(JOBS_MIME).data()).decode())
            jobs = [j for j in (self.job_for(str(i)) for i in ids) if j is not None]
            return self.insert_jobs(jobs, target) > 0
        return False

    def _thumbnail_ready(self, path: str) -> None:
        for row in range(self.rowCount()):
            clip = self.clip(row)
            if clip is not None and clip.path == path:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class FinishedClips(QSortFilterProxyModel):
    """The library's finished videos that are on disk, draggable into the strip."""

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        index = self.sourceModel().index(source_row, 0, source_parent)
        return bool(index.data(LibraryRole.ON_DISK))

    def flags(self, index: Index) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else Qt.ItemFlag.NoItemFlags

    def job_at(self, row: int) -> Job | None:
        job = self.index(row, 0).data(JobRole.JOB)
        return job if isinstance(job, Job) else None

    def mimeTypes(self) -> list[str]:
        return [JOBS_MIME]

    @guarded()
    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        data = QMimeData()
        ids = [i.data(JobRole.ID) for i in sorted(indexes, key=lambda i: i.row()) if i.isValid()]
        data.setData(JOBS_MIME, json.dumps([str(i) for i in ids if i]).encode())
        return data

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction
