"""Where Reeldeck keeps its files: the data dir (``REELDECK_HOME`` or platformdirs) and what lives inside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Reeldeck"


@dataclass(frozen=True)
class DataDir:
    """The layout of one data dir."""

    root: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DataDir:
        """The data dir named by ``REELDECK_HOME``, else the platform's user data dir."""
        env = os.environ if environ is None else environ
        home = env.get("REELDECK_HOME")
        root = Path(home).expanduser() if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(root.resolve())

    @property
    def database(self) -> Path:
        return self.root / "reeldeck.sqlite"

    @property
    def library(self) -> Path:
        return self.root / "library"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def sandbox(self) -> Path:
        return self.root / "sandbox"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    def ensure(self) -> DataDir:
        """Create the folders (idempotent) and return self."""
        for folder in (self.root, self.library, self.inputs, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self
