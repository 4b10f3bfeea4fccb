"""Where the GUI's bundled resources live (icons, theme) and helpers to load them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
ICONS = RESOURCES / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def app_icon() -> QIcon:
    """The application icon with every size that exists on disk (an empty icon when none do)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = ICONS / f"reeldeck-{size}.png"
        if path.exists():
            icon.addFile(str(path), QSize(size, size))
    return icon
