"""Light and dark themes on the Fusion style: the person's choice (View → Theme: system, light or dark), where
"system" follows the desktop's colour scheme (``QStyleHints.colorScheme``) as it changes."""

from __future__ import annotations

from string import Template

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from gui.resources import RESOURCES

LIGHT = {
    "window": "#f4f5f8", "base": "#ffffff", "alt": "#eef0f4", "text": "#1d2130", "button": "#e9ebf0",
    "highlight": "#e2573f", "highlight_text": "#ffffff", "link": "#2b63c7", "disabled": "#9097a6",
    "accent": "#e2573f", "error": "#c0271a", "ok": "#1f7a3a", "muted": "#5b6272",
    "banner_bg": "#ffd23f", "banner_fg": "#1d1600", "banner_edge": "#c79a00",
    "slot_bg": "#fbfbfd", "slot_edge": "#a9afbd", "slot_drag": "#fde7e2",
    "warn_bg": "#fff4d6", "warn_edge": "#d9a400",
    "field_edge": "#b3b9c6", "notice_bg": "#eef3fd", "notice_edge": "#9fb7e6",
}
DARK = {
    "window": "#1f2230", "base": "#171a24", "alt": "#242838", "text": "#e6e8ef", "button": "#2c3042",
    "highlight": "#eb6a52", "highlight_text": "#ffffff", "link": "#7aa7ff", "disabled": "#6c7284",
    "accent": "#eb6a52", "error": "#ff7b6b", "ok": "#6fd08c", "muted": "#a3a9b8",
    "banner_bg": "#ffd23f", "banner_fg": "#1d1600", "banner_edge": "#c79a00",
    "slot_bg": "#1b1e2a", "slot_edge": "#5a6073", "slot_drag": "#3a2a2a",
    "warn_bg": "#3b3220", "warn_edge": "#b58900",
    "field_edge": "#4c5368", "notice_bg": "#232c42", "notice_edge": "#4a6290",
}


def is_dark(app: QGuiApplication | None = None) -> bool:
    """True when the system asks for a dark colour scheme."""
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    return app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def colors(dark: bool) -> dict[str, str]:
    """The colour set for a scheme."""
    return DARK if dark else LIGHT


def current_dark() -> bool:
    """Whether the theme in use is the dark one (the theme manager's choice, or the system's before it exists)."""
    manager = getattr(QApplication.instance(), "_reeldeck_theme", None)
    return bool(manager.dark) if manager is not None else is_dark()


def palette(dark: bool) -> QPalette:
    """A complete palette for the scheme."""
    c = colors(dark)
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["window"], QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["base"], QPalette.ColorRole.AlternateBase: c["alt"],
        QPalette.ColorRole.Text: c["text"], QPalette.ColorRole.Button: c["button"],
        QPalette.ColorRole.ButtonText: c["text"], QPalette.ColorRole.Highlight: c["highlight"],
        QPalette.ColorRole.HighlightedText: c["highlight_text"], QPalette.ColorRole.Link: c["link"],
        QPalette.ColorRole.ToolTipBase: c["base"], QPalette.ColorRole.ToolTipText: c["text"],
        QPalette.ColorRole.PlaceholderText: c["muted"], QPalette.ColorRole.BrightText: c["error"],
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["disabled"]))
    return pal


def style_sheet(dark: bool) -> str:
    """resources/theme.qss with the scheme's colours and the icons' folder filled in (empty when the file is
    missing)."""
    path = RESOURCES / "theme.qss"
    if not path.exists():
        return ""
    return Template(path.read_text(encoding="utf-8")).safe_substitute(colors(dark),
                                                                      icons=(RESOURCES / "icons").as_posix())


#: The choices of View → Theme, in menu order.
THEME_MODES = ("system", "light", "dark")


class ThemeManager(QObject):
    """Applies the chosen theme now, and again whenever the system switches between light and dark while the
    choice is "system"."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self.mode = "system"
        app.setStyle("Fusion")
        self.apply()
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self._system_changed())

    def set_mode(self, mode: str) -> None:
        """"system", "light" or "dark" (anything else means "system")."""
        self.mode = mode if mode in THEME_MODES else "system"
        self.apply({"light": False, "dark": True}.get(self.mode))

    def _system_changed(self) -> None:
        if self.mode == "system":
            self.apply()

    def apply(self, dark: bool | None = None) -> None:
        """Apply the light or dark theme (default: what the system asks for)."""
        dark = is_dark(self._app) if dark is None else dark
        self.dark = dark
        colours, sheet = palette(dark), style_sheet(dark)
        if self._app.palette() != colours:
            self._app.setPalette(colours)
        if self._app.styleSheet() != sheet:  # setting it again would re-polish every widget for nothing
            self._app.setStyleSheet(sheet)


def theme_manager(app: QApplication | None = None) -> ThemeManager:
    """The application's theme manager (made on first use; ``gui.app.make_application`` makes it at start)."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    assert isinstance(app, QApplication)
    manager = getattr(app, "_reeldeck_theme", None)
    if not isinstance(manager, ThemeManager):
        manager = ThemeManager(app)
        app._reeldeck_theme = manager  # type: ignore[attr-defined]
    return manager
