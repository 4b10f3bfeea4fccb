"""Export: copy the selected videos, with readable names and their provenance sidecars, to a folder.

The person picks the folder; ``core.export.export_jobs`` copies in a worker thread (videos can be large), and the
result — what was copied where, or why not — comes back as one plain sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from core.errors import ReeldeckError
from core.export import Exported, export_jobs
from core.jobs import Job, JobState
from core.words import count
from gui import work
from gui.last_folder import LastFolders, Purpose
from gui.prefs import GuiPrefs

FolderPicker = Callable[[str], str | None]


def exportable(jobs: list[Job]) -> list[Job]:
    """The jobs that have a finished video."""
    return [j for j in jobs if j.state == JobState.COMPLETED and j.video_path]


def report(done: list[Exported], folder: Path) -> str:
    """'Copied 2 videos and their sidecars to /x: a.mp4, b.mp4'."""
    names = ", ".join(e.video.name for e in done)
    return f"Copied {count(len(done), 'video')} and their sidecars to {folder}: {names}"


class Exporter(QObject):
    """Runs one export at a time; ``finished`` carries the report (or the reason it failed)."""

    finished = Signal(str, bool)  # report, ok

    def __init__(self, prefs: GuiPrefs | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.folders = LastFolders(prefs)
        self.busy = False
        self.last: list[Exported] = []
        #: Asks for the target folder; replaceable (tests answer without a dialog).
        self.pick_folder: FolderPicker = self._ask

    def export(self, jobs: list[Job]) -> bool:
        """Pick a folder and copy; False when there is nothing to do or the person cancels."""
        chosen = exportable(jobs)
        if self.busy:
            self.finished.emit("An export is still running.", False)
            return False
        if not chosen:
            self.finished.emit("Select finished videos to export.", False)
            return False
        folder = self.pick_folder(self.folders.start(Purpose.EXPORTS))
        if not folder:
            return False
        target = Path(folder)
        self.folders.remember(Purpose.EXPORTS, target, is_folder=True)
        self.busy = True
        work.run(export_jobs, chosen, target, owner=self, on_done=lambda result: self._done(target, result),
                 on_error=self._failed)
        return True

    def _failed(self, error: BaseException) -> None:
        self.busy = False
        reason = error.message if isinstance(error, ReeldeckError) else (getattr(error, "strerror", None) or str(error))
        self.finished.emit(f"Nothing more was exported: {reason}", False)

    def _done(self, folder: Path, result: list[Exported]) -> None:
        self.busy = False
        self.last = result
        self.finished.emit(report(result, folder), True)

    def _ask(self, start: str) -> str | None:
        parent = self.parent()
        folder = QFileDialog.getExistingDirectory(parent if isinstance(parent, QWidget) else None,
                                                  "Export videos to…", start)
        return folder or None
