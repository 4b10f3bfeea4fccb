"""Reeldeck's PySide6 window: widgets and thin Qt models over the Qt-free ``core`` package."""
