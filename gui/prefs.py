"""The window's own preferences (geometry, splitters, the form's draft, sandbox mode, the theme) in ``gui.ini`` in
the data dir.

Kept next to the jobs so that every data dir (and every test's temp dir) has its own, and nothing leaks between.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

FILE_NAME = "gui.ini"


class GuiPrefs:
    """Typed access to the GUI's QSettings."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / FILE_NAME
        self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return self.qsettings.value(key, default)

    @property
    def theme(self) -> str:
        """View → Theme: "system", "light" or "dark"."""
        value = str(self.qsettings.value("view/theme", "system"))
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.qsettings.setValue("view/theme", value)

    @property
    def sandbox_mode(self) -> bool:
        """Start in sandbox mode (View → Sandbox mode switches it at once and keeps it for the next start)."""
        return str(self.qsettings.value("sandbox_mode", "false")).lower() == "true"

    @sandbox_mode.setter
    def sandbox_mode(self, value: bool) -> None:
        self.qsettings.setValue("sandbox_mode", "true" if value else "false")

    def sync(self) -> None:
        self.qsettings.sync()
