"""Deleting from the library without losing anything: files go to the trash, and an undo brings the jobs back.

A trashed job's video, its provenance sidecar and its prepared inputs are moved to the desktop trash
(``QFile.moveToTrash``: the freedesktop.org trash on Linux, the Recycle Bin on Windows, the Trash on macOS); where the
system has none, into Reeldeck's own ``trash/`` folder in the data dir. Nothing is ever deleted for good here. The
job's record and its annotation are dropped from the store and kept in memory, so ``restore`` can move the files
back to where they were and write the record again exactly as it was.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFile

from core.engine import Engine, ForgottenJob
from core.jobs import Job
from core.provenance import sidecar_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MovedFile:
    """A file (or folder) moved out of the way, and where its desktop-trash info file is (None elsewhere)."""

    original: Path
    trashed: Path
    info: Path | None


@dataclass
class TrashedJob:
    """What it takes to undo one job's deletion."""

    forgotten: ForgottenJob | None
    job: Job
    files: list[MovedFile] = field(default_factory=list)


def _trash_info(trashed: Path) -> Path | None:
    """The freedesktop.org ``info/<name>.trashinfo`` beside a file in ``…/Trash/files/`` (None elsewhere)."""
    if trashed.parent.name != "files":
        return None
    info = trashed.parent.parent / "info" / f"{trashed.name}.trashinfo"
    return info if info.is_file() else None


def _free(path: Path) -> Path:
    """``path``, or ``path (2)``… when something is there already."""
    candidate, counter = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({counter}){path.suffix}")
        counter += 1
    return candidate


class LibraryTrash:
    """Moves jobs' files to the trash and forgets the jobs; ``restore`` undoes it."""

    def __init__(self, engine: Callable[[], Engine], *, own_trash: Path,
                 run: Callable[..., Any] = lambda function, *args: function(*args)) -> None:
        """``engine`` gives the engine of the world shown now; ``run`` calls it where it runs (the window's engine
        bridge: on the engine's own thread)."""
        self.engine_of = engine
        self.run = run
        self.own_trash = own_trash

    @property
    def inputs(self) -> Path:
        return self.engine_of().inputs_dir

    def _move_away(self, path: Path, job_id: str) -> MovedFile:
        mover = QFile(str(path))
        if mover.moveToTrash():
            trashed = Path(mover.fileName())
            return MovedFile(path, trashed, _trash_info(trashed))
        target = _free(self.own_trash / job_id / path.name)  # no desktop trash: Reeldeck's own, never a delete
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        return MovedFile(path, target, None)

    def trash(self, job: Job) -> TrashedJob:
        """Move the job's video, sidecar and prepared inputs to the trash and drop its record. Raises OSError when
        a file cannot be moved (what moved already is put back, and the record stays)."""
        entry = TrashedJob(None, job)
        paths = []
        if job.video_path:
            video = Path(job.video_path)
            paths += [video, sidecar_path(video)]
        paths.append(self.inputs / job.id)
        try:
            for path in paths:
                if path.exists():
                    entry.files.append(self._move_away(path, job.id))
        except OSError:
            self._put_back(entry)
            raise
        try:
            entry.forgotten = self.run(self.engine_of().forget, job.id)
        except Exception:
            self._put_back(entry)
            raise
        return entry

    def restore(self, entry: TrashedJob) -> Job:
        """Put the files back where they were and write the job and its annotation again."""
        self._put_back(entry)
        assert entry.forgotten is not None, "only a finished trash() is undone"
        return self.run(self.engine_of().remember, entry.forgotten)

    def _put_back(self, entry: TrashedJob) -> None:
        for moved in entry.files:
            if moved.original.exists():
                log.warning("%s is in the way; %s stays in the trash", moved.original, moved.trashed)
                continue
            moved.original.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(moved.trashed), str(moved.original))
            if moved.info is not None:
                moved.info.unlink(missing_ok=True)  # the trash would list a file that is no longer there
        entry.files.clear()
