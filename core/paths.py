"""Where Reeldeck keeps its files: the data dir (``REELDECK_HOME`` or platformdirs) and what lives inside it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from core.errors import ConfigError

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
        """Create the folders (idempotent), check the data dir can be written, and return self.

        Raises ConfigError with a plain message when it cannot be made or written (read-only, no permission,
        a file in the way).
        """
        try:
            for folder in (self.root, self.library, self.inputs, self.logs):
                folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as exc:
            raise ConfigError(
                f"The data folder {self.root} cannot be written ({exc.strerror or exc}). Make it writable, or "
                "choose another folder with REELDECK_HOME."
            ) from None
        return self
