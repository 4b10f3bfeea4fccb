"""The main window: composer, queue and player in the Studio tab; the library in its own tab.

It subscribes to the engine's job events and forwards them to the queue and library models. It remembers its
geometry and splitters, notifies when a job ends while it is in the background, accepts image drops anywhere
(filling the first empty slot), and on close says that running jobs resume at the next start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConfigError, ReeldeckError
from core.jobs import Job, JobState
from core.runtime import Runtime
from core.submission import JobRequest
from gui.annotations import AnnotationStore
from gui.asyncs import spawn
from gui.composer import Composer
from gui.dropdata import dropped_items
from gui.library import LibraryPanel
from gui.library_model import LibraryModel
from gui.player import PlayerWidget
from gui.prefs import GuiPrefs
from gui.queue_model import QueueModel, model_label
from gui.queue_view import QueueView
from gui.resources import app_icon
from gui.safety import guarded
from gui.slots import IMAGE_FILTER
from gui.thumbs import ThumbnailCache

log = logging.getLogger(__name__)

RECENT_SECONDS = 3 * 24 * 3600
SANDBOX_TEXT = ("SANDBOX MODE — jobs go to Reeldeck's built-in emulator on this computer. Nothing is sent to real "
                "providers, no keys are used and nothing is charged. The videos are test renders.")

Ask = Callable[[str, str], bool]


class MainWindow(QMainWindow):
    """Reeldeck's window over a started ``Runtime``."""

    closed = Signal()

    def __init__(self, runtime: Runtime, *, prefs: GuiPrefs | None = None) -> None:
        super().__init__()
        if runtime.engine is None or runtime.store is None:
            raise RuntimeError("start the runtime before building the window")
        self.runtime = runtime
        self.engine = runtime.engine
        self.sandbox = runtime.sandbox_mode
        self.prefs = prefs or GuiPrefs(runtime.data.root)
        self.notifications: list[str] = []
        self.confirm_close: Ask = self._confirm_close_dialog
        self._states: dict[str, JobState] = {}
        self._closing = False
        self.setWindowTitle("Reeldeck" + (" — SANDBOX" if self.sandbox else ""))
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)

        self.thumbs = ThumbnailCache(runtime.data.root / "thumbnails", self)
        self.annotations = AnnotationStore(runtime.store) if runtime.store else AnnotationStore(runtime.data.root)
        self.queue_model = QueueModel(self.thumbs, parent=self)
        self.library_model = LibraryModel(self.annotations, self.thumbs, self)

        self.composer = Composer(parent=self)
        self.queue_view = QueueView(self.queue_model, self.engine, self)
        self.player = PlayerWidget(self)
        self.library = LibraryPanel(self.library_model, self)

        self.right_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.right_splitter.setObjectName("QueuePlayerSplitter")
        self.right_splitter.addWidget(self.queue_view)
        self.right_splitter.addWidget(self.player)
        self.right_splitter.setStretchFactor(0, 1)
        self.right_splitter.setStretchFactor(1, 1)
        self.studio_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.studio_splitter.setObjectName("StudioSplitter")
        self.studio_splitter.addWidget(self.composer)
        self.studio_splitter.addWidget(self.right_splitter)
        self.studio_splitter.setStretchFactor(0, 2)
        self.studio_splitter.setStretchFactor(1, 3)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("MainTabs")
        self.tabs.setDocumentMode(True)
        studio = QWidget(self)
        studio_layout = QVBoxLayout(studio)
        studio_layout.setContentsMargins(6, 6, 6, 6)
        studio_layout.addWidget(self.studio_splitter)
        self.tabs.addTab(studio, "Studio")
        self.tabs.addTab(self.library, "Library")

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel(SANDBOX_TEXT, central)
        self.banner.setObjectName("SandboxBanner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setVisible(self.sandbox)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Reeldeck")
            self.tray.show()

        self._build_menus()
        self.composer.submitRequested.connect(self.submit)
        self.queue_view.jobActivated.connect(self.play_job)
        self.queue_view.duplicateRequested.connect(self.duplicate)
        self.queue_view.message.connect(self.show_message)
        self.queue_view.jobDeleted.connect(self.library_model.remove_job)
        self.library.duplicateRequested.connect(self.duplicate)
        self.tabs.currentChanged.connect(self._on_tab)

        self._load_jobs()
        self._unsubscribe = self.engine.subscribe(self._on_job)
        self._restore_layout()
        self.statusBar().showMessage("Sandbox mode: no keys needed." if self.sandbox else "Ready.")

    # --- setup -----------------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._menu_action(file_menu, "&Open image…", self.open_image, QKeySequence.StandardKey.Open)
        file_menu.addSeparator()
        self._menu_action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit_menu = bar.addMenu("&Edit")
        self._menu_action(edit_menu, "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences,
                          fallback="Ctrl+,")
        self._menu_action(edit_menu, "API &keys…", self.open_keys, None, fallback="Ctrl+Shift+K")
        view_menu = bar.addMenu("&View")
        self._menu_action(view_menu, "&Studio", lambda: self.tabs.setCurrentIndex(0), None, fallback="Ctrl+1")
        self._menu_action(view_menu, "&Library", lambda: self.tabs.setCurrentIndex(1), None, fallback="Ctrl+2")
        self._menu_action(view_menu, "&Full screen", self._toggle_full_screen, QKeySequence.StandardKey.FullScreen,
                          fallback="F11")
        help_menu = bar.addMenu("&Help")
        self._menu_action(help_menu, "&About Reeldeck", self.about, None)

    def _menu_action(self, menu: object, text: str, slot: Callable[[], object],
                     standard: QKeySequence.StandardKey | None, fallback: str = "") -> QAction:
        action = QAction(text, self)
        keys = QKeySequence.keyBindings(standard) if standard is not None else []
        if not keys and fallback:
            keys = [QKeySequence(fallback)]
        if keys:
            action.setShortcuts(keys)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _load_jobs(self) -> None:
        store = self.runtime.store
        assert store is not None
        jobs = store.all()
        cutoff = time.time() - RECENT_SECONDS
        self.queue_model.set_jobs(j for j in jobs if not j.terminal or j.created_at >= cutoff)
        self.library_model.load(jobs)
        self._states = {j.id: j.state for j in jobs}

    def _restore_layout(self) -> None:
        geometry = self.prefs.bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        state = self.prefs.bytes("window/state")
        if state is not None:
            self.restoreState(state)
        for splitter in (self.studio_splitter, self.right_splitter, self.library.splitter):
            saved = self.prefs.bytes(f"splitters/{splitter.objectName()}")
            if saved is not None:
                splitter.restoreState(saved)
        if self.prefs.bytes("splitters/StudioSplitter") is None:
            self.studio_splitter.setSizes([520, 880])
        self.tabs.setCurrentIndex(int(self.prefs.get("window/tab", 0) or 0))

    def save_layout(self) -> None:
        self.prefs.set("window/geometry", self.saveGeometry())
        self.prefs.set("window/state", self.saveState())
        for splitter in (self.studio_splitter, self.right_splitter, self.library.splitter):
            self.prefs.set(f"splitters/{splitter.objectName()}", splitter.saveState())
        self.prefs.set("window/tab", self.tabs.currentIndex())
        self.prefs.sync()

    def _on_tab(self, index: int) -> None:
        """Only the visible tab's player keeps playing."""
        hidden = self.library.player if index == 0 else self.player
        if hidden.player.playbackState() == hidden.player.PlaybackState.PlayingState:
            hidden.player.pause()

    def resume(self) -> list[str]:
        """Pick up every unfinished job from earlier runs (call once the loop runs)."""
        started = self.engine.resume_all()
        if started:
            self.show_message(f"Resumed {len(started)} unfinished job(s) from last time.")
        return started

    # --- engine events ---------------------------------------------------------------------------------------

    def _on_job(self, job: Job) -> None:
        self.queue_model.on_job(job)
        self.library_model.on_job(job)
        previous = self._states.get(job.id)
        self._states[job.id] = job.state
        if job.terminal and previous is not None and not previous.terminal:
            self._job_ended(job)
        if job.needs_decision and previous is not None:
            self.notify("A job needs your decision", f"{model_label(job)}: {job.prompt[:60]}")

    def _job_ended(self, job: Job) -> None:
        titles = {JobState.COMPLETED: "Video ready", JobState.FAILED: "Job failed",
                  JobState.CANCELED: "Job canceled"}
        title = titles.get(job.state, "Job ended")
        text = f"{model_label(job)}: {job.prompt[:60] or job.id}"
        if self.in_background():
            self.notify(title, text)
        else:
            self.show_message(f"{title} — {text}")

    def in_background(self) -> bool:
        return not self.isActiveWindow() or self.isMinimized()

    def notify(self, title: str, text: str) -> None:
        """A desktop notification when the system has a tray; the status bar otherwise."""
        self.notifications.append(f"{title}: {text}")
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, app_icon(), 8000)
        else:
            self.show_message(f"{title} — {text}")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    # --- actions ---------------------------------------------------------------------------------------------

    def submit(self, request: JobRequest) -> None:
        """Queue a job from the form; errors come back to the form."""
        self.composer.set_busy(True)
        spawn(self._submit(request), self._submit_failed)

    async def _submit(self, request: JobRequest) -> None:
        try:
            job = await self.engine.submit(request)
        finally:
            self.composer.set_busy(False)
        self.queue_model.on_job(job)
        self.queue_model.flush()
        self.queue_view.select_job(job.id)
        self.show_message(f"Queued: {model_label(job)}")

    def _submit_failed(self, error: BaseException) -> None:
        message = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        if isinstance(error, ConfigError):
            message += " In Reeldeck: Edit → API keys… for keys, Edit → Settings… for addresses."
        self.composer.show_error(message)
        self.show_message("The job was not queued: " + message)

    def play_job(self, job: Job) -> None:
        if job.video_path:
            self.player.load(job.video_path)

    def duplicate(self, job: Job) -> None:
        self.tabs.setCurrentIndex(0)
        if self.composer.load_job(job):
            self.show_message("The job's settings are in the form; change what you like and submit.")
        else:
            self.show_message(f"{job.provider} / {job.model} is not available in this version.")

    def open_image(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "", IMAGE_FILTER)
        if paths:
            self._place(paths)

    def _place(self, items: list[str]) -> int:
        self.tabs.setCurrentIndex(0)
        placed = self.composer.fill_first_empty(items)
        if not placed:
            self.show_message("No empty slot for that in this model's form.")
        return placed

    def open_settings(self) -> None:
        from gui.settings_dialog import SettingsDialog

        SettingsDialog(self.runtime, self.prefs, self).exec()

    def open_keys(self) -> None:
        from gui.keys_dialog import KeysDialog

        KeysDialog(self.runtime, self).exec()

    def about(self) -> None:
        QMessageBox.about(self, "About Reeldeck",
                          "<b>Reeldeck</b><br>A desktop studio for cloud AI video generation.<br>"
                          f"Data folder: {self.runtime.data.root}")

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # --- drag and drop anywhere --------------------------------------------------------------------------------

    @guarded()
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_items(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    @guarded()
    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if dropped_items(event.mimeData()):
            event.acceptProposedAction()

    @guarded()
    def dropEvent(self, event: QDropEvent) -> None:
        items = dropped_items(event.mimeData())
        if items and self._place(items):
            event.acceptProposedAction()
        else:
            event.ignore()

    # --- closing ---------------------------------------------------------------------------------------------

    def running_jobs(self) -> list[Job]:
        """Unfinished jobs in the store (none when it cannot be read: closing must never fail)."""
        store = self.runtime.store
        try:
            return store.unfinished() if store is not None else []
        except Exception:
            log.exception("could not list unfinished jobs")
            return []

    @guarded()
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        running = [j for j in self.running_jobs() if not j.needs_decision]
        if running and not self.confirm_close(
                "Jobs are still running",
                f"{len(running)} job(s) are still running. Reeldeck keeps them: they resume by themselves the next "
                "time you open it, and nothing is submitted twice.\n\nQuit now?"):
            event.ignore()
            return
        self._closing = True
        try:
            self.library.flush_note()
            self.save_layout()
            self.player.stop()
            self.library.player.stop()
            self._unsubscribe()
            self.queue_model.flush()
            self.library_model.flush()
            self.annotations.close()
            if self.tray is not None:
                self.tray.hide()
        except Exception:  # an exception escaping a Qt override would take the process down
            log.exception("error while closing the window")
        event.accept()
        QTimer.singleShot(0, self.closed.emit)

    def _confirm_close_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def data_root(self) -> Path:
        return self.runtime.data.root
