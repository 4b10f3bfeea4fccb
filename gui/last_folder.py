"""File dialogs open where the person last was: one remembered folder per purpose (inputs, exports).

The folders live in the GUI's own preferences (``gui.ini`` in the data dir), so they survive a restart. A folder
that no longer exists falls back to the platform's Pictures (inputs) or Movies (exports) folder, then the home
folder — never the folder the app happens to run from.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from gui.prefs import GuiPrefs


class Purpose(Enum):
    """What a file dialog is for; each has its own remembered folder (the value is its key in ``gui.ini``)."""

    INPUTS = "last_folder/inputs"  # images and motion videos for the form
    EXPORTS = "export/folder"  # where videos are exported to (the key the export has always used)


_FALLBACK = {
    Purpose.INPUTS: QStandardPaths.StandardLocation.PicturesLocation,
    Purpose.EXPORTS: QStandardPaths.StandardLocation.MoviesLocation,
}


class LastFolders:
    """Remembers the last folder used per purpose; without prefs it remembers for this run only."""

    def __init__(self, prefs: GuiPrefs | None = None) -> None:
        self.prefs = prefs
        self._memory: dict[Purpose, str] = {}

    def start(self, purpose: Purpose) -> str:
        """Where a dialog for ``purpose`` opens: the last folder used, when it still exists."""
        remembered = self._memory.get(purpose) or (str(self.prefs.get(purpose.value, "") or "") if self.prefs else "")
        if remembered and Path(remembered).is_dir():
            return remembered
        fallback = QStandardPaths.writableLocation(_FALLBACK[purpose])
        return fallback if fallback and Path(fallback).is_dir() else str(Path.home())

    def remember(self, purpose: Purpose, chosen: str | Path, *, is_folder: bool | None = None) -> None:
        """Note the folder of what was chosen: a file's folder, or the folder itself (``is_folder``: it is one, even
        if it does not exist yet)."""
        path = Path(chosen)
        folder = path if (path.is_dir() if is_folder is None else is_folder) else path.parent
        self._memory[purpose] = str(folder)
        if self.prefs is not None:
            self.prefs.set(purpose.value, str(folder))


_current = LastFolders()


def last_folders() -> LastFolders:
    """The window's remembered folders (installed with ``use``), or this run's when no window set them."""
    return _current


def use(folders: LastFolders) -> None:
    """Make ``folders`` the ones every file dialog asks (the window does this with its prefs)."""
    global _current
    _current = folders
