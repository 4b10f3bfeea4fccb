"""The main window: composer, queue and player in the Studio tab; the library and the compare view in their own tabs.

It subscribes to the engine's job events and forwards them to the queue and library models. It remembers its
geometry and splitters, notifies when a job ends while it is in the background, accepts image drops anywhere
(filling the first empty slot) — and a Reeldeck sidecar, or an MP4 with one beside it, fills the form with the
settings it was made with — and on close says that running jobs resume at the next start. It also routes the
review-and-iterate actions: compare, use a frame, batch, reuse settings, export.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConfigError, InputError, ReeldeckError
from core.paths import DataDir
from core.words import count, have
from gui.dropdata import dropped_items, is_web_url
from gui.last_folder import LastFolders, Purpose, last_folders
from gui.last_folder import use as use_last_folders
from gui.prefs import GuiPrefs
from gui.resources import app_icon
from gui.safety import guarded
from gui.theme import THEME_MODES, theme_manager
from gui.wheel_guard import guard_wheel

if TYPE_CHECKING:  # the window's content and the core are imported when the core is up (``attach``)
    from core.engine import Engine
    from core.jobs import Job
    from core.prompts import PromptHistory
    from core.runtime import Runtime
    from core.submission import JobRequest
    from gui.engine_bridge import EngineBridge
    from gui.ledger_view import LedgerView
    from gui.queue_model import GroupSummary

log = logging.getLogger(__name__)

#: The window's size on first run, when the screen has room for it.
FIRST_RUN_SIZE = QSize(1400, 900)


def first_run_size(available: QSize) -> QSize:
    """The first-run size, kept within the screen's available area (a 1280×800 laptop gets a window it can see)."""
    return FIRST_RUN_SIZE.boundedTo(available)

#: The provider the form shows on first run.
DEFAULT_PROVIDER = "aihubmix"

RECENT_SECONDS = 3 * 24 * 3600
SANDBOX_TEXT = ("SANDBOX MODE — jobs go to Reeldeck's built-in emulator on this computer. Nothing is sent to real "
                "providers, no keys are used and nothing is charged. The videos are test renders.")

Ask = Callable[[str, str], bool]


class MainWindow(QMainWindow):
    """Reeldeck's window over a started ``Runtime``.

    ``MainWindow(runtime)`` builds it whole. At start-up the window is first built as its frame alone —
    ``MainWindow(data=..., sandbox=...)``: menus, tabs, the sandbox banner, its size and theme, painted before the
    core is imported or started — and :meth:`attach` then gives it the started runtime and builds its content.
    """

    closed = Signal()
    #: Jobs per page when the store's jobs are listed at start (None: ``gui.job_pages.PAGE_SIZE``).
    page_size: int | None = None
    runtime: Runtime
    engine: Engine
    bridge: EngineBridge

    def __init__(self, runtime: Runtime | None = None, *, prefs: GuiPrefs | None = None, data: DataDir | None = None,
                 sandbox: bool = False) -> None:
        super().__init__()
        if runtime is not None:
            data, sandbox = runtime.data, runtime.sandbox_mode
        if data is None:
            raise ValueError("the window needs a runtime or a data dir")
        self.attached = False  # True once the runtime is in and the content built
        self.is_closed = False
        self.sandbox = sandbox
        self.prefs = prefs or GuiPrefs(data.root)
        use_last_folders(LastFolders(self.prefs))  # file dialogs open where the person last was
        self.notifications: list[str] = []
        self.confirm_close: Ask = self._confirm_close_dialog
        self._closing = False
        self._switching = False
        self.ledger: LedgerView | None = None  # the charge ledger window, made when first opened
        self._frame_actions: list[QAction] = []  # enabled once the content is there
        self.setWindowIcon(app_icon())
        self._build_frame()
        if runtime is not None:
            self.attach(runtime)

    def _build_frame(self) -> None:
        """What the first frame shows: tabs (their pages come with the content), the banner, menus, size, theme."""
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("MainTabs")
        self.tabs.setDocumentMode(True)
        self.studio = QWidget(self)
        self._studio_layout = QVBoxLayout(self.studio)
        self._studio_layout.setContentsMargins(6, 6, 6, 6)
        self.tabs.addTab(self.studio, "Studio")
        for title in ("Library", "Compare", "Sequence"):
            self.tabs.addTab(QWidget(self), title)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel(SANDBOX_TEXT, central)
        self.banner.setObjectName("SandboxBanner")
        self.banner.setWordWrap(True)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.tray: QSystemTrayIcon | None = None

        self._build_menus()
        self._show_world()
        theme_manager().set_mode(self.prefs.theme)
        geometry = self.prefs.bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(first_run_size(self.screen().availableGeometry().size()))
        state = self.prefs.bytes("window/state")
        if state is not None:
            self.restoreState(state)
        self.statusBar().showMessage("Starting…")

    def attach(self, runtime: Runtime) -> None:
        """The started runtime: build the window's content, list the jobs, follow the engine's events."""
        if runtime.engine is None or runtime.store is None:
            raise RuntimeError("start the runtime before building the window")
        if self.attached:
            raise RuntimeError("the window has its runtime already")
        from gui.annotations import AnnotationStore
        from gui.chain import FrameChainer
        from gui.compare import CompareView
        from gui.composer import Composer
        from gui.engine_bridge import EngineBridge
        from gui.export_action import Exporter
        from gui.job_list import JobListModel
        from gui.library import LibraryPanel
        from gui.library_model import LibraryTiles
        from gui.library_trash import LibraryTrash
        from gui.player import PlayerWidget
        from gui.queue_model import QueueModel
        from gui.queue_view import QueueView
        from gui.sequence_view import SequenceView
        from gui.thumbs import ThumbnailCache

        self.runtime = runtime
        self.engine = runtime.engine
        #: Calls into the engine and its events back (coalesced per frame when it runs on its own thread).
        self.bridge = EngineBridge(runtime, lambda job: self._on_job(job), self)
        self.bridge.engine_stopped.connect(self.engine_stopped)
        self.sandbox = runtime.sandbox_mode
        self.setAcceptDrops(True)

        self.thumbs = ThumbnailCache(runtime.data.root / "thumbnails", self)
        self.annotations = AnnotationStore(runtime.store)
        self.job_list = JobListModel(self.annotations, self.thumbs, parent=self)  # the window's one list of jobs
        self.queue_model = QueueModel(self.job_list, parent=self)
        self.library_tiles = LibraryTiles(self)
        self.library_tiles.setSourceModel(self.job_list)

        self.composer = Composer(parent=self)
        self.composer.prices = lambda: self.engine.prices  # Settings → Prices apply at once
        self.composer.setup_check = self.runtime.setup_need  # a missing key or base URL, said at provider choice
        self.queue_view = QueueView(self.queue_model, self.engine, self)
        self.queue_view.calls = self.queue_view.stall.calls = self.bridge
        self.player = PlayerWidget(self)
        self.library = LibraryPanel(self.job_list, self)
        self.compare = CompareView(self)
        self.chainer = FrameChainer(self.composer, runtime.data.root / "frames", self)
        self.exporter = Exporter(self.prefs, self)
        self.sequence_view = SequenceView(runtime.store, self.library_tiles, self.chainer, self.thumbs, self)
        self.batch_dialog: QDialog | None = None

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
        self._studio_layout.addWidget(self.studio_splitter)
        self._fill_tabs(self.library, self.compare, self.sequence_view)

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("Reeldeck")
            self.tray.show()

        self._show_world()
        guard_wheel(self)  # scrolling a page never changes a value (forms made later guard themselves)
        self._connect()
        if runtime.store is not None:  # deleting in the library: to the trash, with undo
            self.library.set_trash(LibraryTrash(lambda: self.engine, own_trash=runtime.data.root / "trash",
                                                run=self.bridge.run_now))
        self.library.spend.set_budget(self.engine.budget_cap)

        self._load_jobs()
        self.bridge.attach(self.engine)
        self._restore_layout()
        self.composer.edited.connect(self._draft_timer.start)  # after the draft is back: keep every later edit
        for action in self._frame_actions:
            action.setEnabled(True)
        self.attached = True
        self.statusBar().showMessage("Sandbox mode: no keys needed." if self.sandbox else "Ready.")
        from core.providers.catalog import problems as catalog_problems

        skipped = catalog_problems()
        if skipped:  # the window starts with the rest of the catalog; each file that could not be used is named
            self.statusBar().showMessage("Catalog file skipped: " + "; ".join(str(p) for p in skipped))

    def _fill_tabs(self, *pages: QWidget) -> None:
        """Put the content's pages in place of the frame's empty ones (the tab shown stays shown)."""
        shown = self.tabs.currentIndex()
        for index, page in enumerate(pages, start=1):
            title, empty = self.tabs.tabText(index), self.tabs.widget(index)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, page, title)
            if empty is not None:
                empty.deleteLater()
        self.tabs.setCurrentIndex(shown)

    def _connect(self) -> None:
        """The content's signals to the window's actions."""
        self.composer.submitRequested.connect(self.submit)
        self.composer.setupRequested.connect(self.open_setup)
        self.prompts = self._open_prompt_history()
        self.composer.historyRequested.connect(self.open_prompt_history)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(800)
        self._draft_timer.timeout.connect(self.save_draft)
        self.queue_view.jobActivated.connect(self.play_job)
        self.queue_view.duplicateRequested.connect(self.duplicate)
        self.queue_view.message.connect(self.show_message)
        self.job_list.jobEnded.connect(self._job_ended)
        self.job_list.groupFinished.connect(self._group_finished)
        self.library.duplicateRequested.connect(self.duplicate)
        self.tabs.currentChanged.connect(self._on_tab)
        self.composer.batchRequested.connect(self.open_batch)
        for player in (self.player, self.library.player):
            player.frameRequested.connect(self.use_frame)
        self.compare.frameRequested.connect(self.use_frame)
        self.compare.message.connect(self.show_message)
        self.queue_view.compareRequested.connect(self.compare_jobs)
        self.queue_view.lastFrameRequested.connect(self.use_last_frame)
        self.library.compareRequested.connect(self.compare_jobs)
        self.library.lastFrameRequested.connect(self.use_last_frame)
        self.library.reuseRequested.connect(self.reuse_settings)
        self.library.exportRequested.connect(self.exporter.export)
        self.library.message.connect(self.show_message)
        self.exporter.finished.connect(self._exported)
        self.chainer.message.connect(self.show_message)
        self.sequence_view.message.connect(self.show_message)
        self.chainer.placed.connect(lambda _slot, _path: self.tabs.setCurrentIndex(0))

    # --- setup -----------------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._menu_action(file_menu, "&Open image…", self.open_image, QKeySequence.StandardKey.Open)
        self._menu_action(file_menu, "&Track a task by id…", self.open_track, None, fallback="Ctrl+Shift+T")
        self._menu_action(file_menu, "Add a &model…", self.open_add_model, None)
        file_menu.addSeparator()
        self._menu_action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit, needs_content=False)
        edit_menu = bar.addMenu("&Edit")
        self._menu_action(edit_menu, "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences,
                          fallback="Ctrl+,")
        self._menu_action(edit_menu, "API &keys…", self.open_keys, None, fallback="Ctrl+Shift+K")
        view_menu = bar.addMenu("&View")
        self._menu_action(view_menu, "&Studio", lambda: self.tabs.setCurrentIndex(0), None, fallback="Ctrl+1")
        self._menu_action(view_menu, "&Library", lambda: self.tabs.setCurrentIndex(1), None, fallback="Ctrl+2")
        self._menu_action(view_menu, "&Compare", lambda: self.tabs.setCurrentIndex(2), None, fallback="Ctrl+3")
        self._menu_action(view_menu, "Charge &ledger…", self.open_ledger, None, fallback="Ctrl+Shift+L")
        self._menu_action(view_menu, "S&equence", lambda: self.tabs.setCurrentWidget(self.sequence_view), None,
                          fallback="Ctrl+4")
        self._menu_action(view_menu, "&Full screen", self._toggle_full_screen, QKeySequence.StandardKey.FullScreen,
                          fallback="F11", needs_content=False)
        view_menu.addSeparator()
        self.theme_actions = self._theme_menu(view_menu.addMenu("&Theme"))
        self.sandbox_action = self._menu_action(view_menu, "Sa&ndbox mode", lambda: self.set_sandbox_mode(
            self.sandbox_action.isChecked()), None)
        self.sandbox_action.setCheckable(True)
        self.sandbox_action.setToolTip("Jobs go to the built-in emulator: no keys, nothing charged. Real and "
                                       "sandbox jobs are kept apart.")
        help_menu = bar.addMenu("&Help")
        self._menu_action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents,
                          fallback="F1")
        self._menu_action(help_menu, "Open the &data folder", lambda: self._open_path(self.runtime.data.root), None)
        self._menu_action(help_menu, "Open the &log", lambda: self._open_path(self.runtime.data.logs / "reeldeck.log"),
                          None)
        help_menu.addSeparator()
        self._menu_action(help_menu, "&About Reeldeck", self.about, None)

    def _theme_menu(self, menu: QMenu) -> dict[str, QAction]:
        group = QActionGroup(self)
        actions = {}
        for mode in THEME_MODES:
            action = QAction({"system": "Like the &system", "light": "&Light", "dark": "&Dark"}[mode], self)
            action.setCheckable(True)
            action.setChecked(mode == self.prefs.theme)
            action.triggered.connect(lambda _=False, chosen=mode: self.set_theme(chosen))
            group.addAction(action)
            menu.addAction(action)
            actions[mode] = action
        return actions

    def set_theme(self, mode: str) -> None:
        """View → Theme: system, light or dark; applied at once and remembered."""
        theme_manager().set_mode(mode)
        self.prefs.theme = mode
        self.prefs.sync()
        self.theme_actions[mode].setChecked(True)

    def _menu_action(self, menu: object, text: str, slot: Callable[[], object],
                     standard: QKeySequence.StandardKey | None, fallback: str = "", *,
                     needs_content: bool = True) -> QAction:
        action = QAction(text, self)
        keys = QKeySequence.keyBindings(standard) if standard is not None else []
        if not keys and fallback:
            keys = [QKeySequence(fallback)]
        if keys:
            action.setShortcuts(keys)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)  # type: ignore[attr-defined]
        if needs_content and not self.attached:
            action.setEnabled(False)  # until the content is there (Quit works at once)
            self._frame_actions.append(action)
        return action

    def _load_jobs(self) -> None:
        """Unfinished jobs now (few, and their events must find them); every job in pages once the loop runs.

        The window paints first: the pages (``JobPages``) fill the queue (recent jobs) and the library while it is
        up. ``job_list.loaded`` turns true after the last page.
        """
        from gui.job_pages import PAGE_SIZE, JobPages

        store = self.runtime.store
        assert store is not None
        self.job_list.set_jobs(store.unfinished())
        self._notes = self.annotations.all()
        self.job_pages = JobPages(store, page_size=self.page_size or PAGE_SIZE, parent=self)
        self.job_pages.page.connect(self._add_page)
        self.job_pages.finished.connect(self._pages_done)
        self.job_pages.start()

    def _add_page(self, jobs: list[Job], on_disk: set[str]) -> None:
        cutoff = time.time() - RECENT_SECONDS  # the queue lists unfinished and recent jobs; the library every one
        self.job_list.add_jobs(jobs, on_disk, self._notes, in_queue=lambda j: not j.terminal or j.created_at >= cutoff)

    def _pages_done(self) -> None:
        self._notes = {}
        self.job_list.finish_loading()

    def _restore_layout(self) -> None:
        """The splitters, the tab and the form of last time (the window's size and place are the frame's)."""
        for splitter in (self.studio_splitter, self.right_splitter, self.library.splitter):
            saved = self.prefs.bytes(f"splitters/{splitter.objectName()}")
            if saved is not None:
                splitter.restoreState(saved)
        if self.prefs.bytes("splitters/StudioSplitter") is None:
            # A third for the form (it wraps its rows), so the queue's toolbar fits beside it at 1024 px wide.
            self.studio_splitter.setSizes([330, 670])
        self.tabs.setCurrentIndex(int(self.prefs.get("window/tab", 0) or 0))
        # The draft of last time (provider, model, parameters, prompt, inputs); else the last provider and model;
        # on first run the provider's first current model (Veo 3.1), which needs nothing but a prompt.
        if self.composer.restore_draft(self._saved_draft()):
            return
        provider, model = self.prefs.get("form/provider", DEFAULT_PROVIDER), self.prefs.get("form/model")
        if not self.composer.select(str(provider), str(model) if model else None):
            self.composer.select(DEFAULT_PROVIDER)

    def _saved_draft(self) -> dict[str, object]:
        try:
            draft = json.loads(str(self.prefs.get("form/draft", "") or "{}"))
        except ValueError:
            return {}
        return draft if isinstance(draft, dict) else {}

    def save_draft(self) -> None:
        """Keep the form as it is now (restored at the next start; written a moment after each edit)."""
        self.prefs.set("form/draft", json.dumps(self.composer.draft()))
        self.prefs.sync()

    def save_layout(self) -> None:
        self.prefs.set("window/geometry", self.saveGeometry())
        self.prefs.set("window/state", self.saveState())
        for splitter in (self.studio_splitter, self.right_splitter, self.library.splitter):
            self.prefs.set(f"splitters/{splitter.objectName()}", splitter.saveState())
        self.prefs.set("window/tab", self.tabs.currentIndex())
        self.prefs.set("form/provider", self.composer.provider_id)
        if self.composer.model is not None:
            self.prefs.set("form/model", self.composer.model.id)
        self.save_draft()

    def _on_tab(self, index: int) -> None:
        """Only the visible tab's player keeps playing."""
        for tab, hidden in ((0, self.player), (1, self.library.player)):
            if index != tab and hidden.player.playbackState() == hidden.player.PlaybackState.PlayingState:
                hidden.player.pause()
        if index != 2:
            self.compare.pause()
        if self.tabs.widget(index) is not self.sequence_view:
            self.sequence_view.preview.stop()
        elif self.compare.panes:
            self.compare.setFocus()  # keyboard driven

    def resume(self) -> list[str]:
        """Pick up every unfinished job from earlier runs (call once the loop runs); returns their ids — at once when
        the engine runs on this loop, once it has answered when it runs on its own thread."""
        started: list[str] = []

        def resumed(ids: list[str]) -> None:
            started.extend(ids)
            if ids:
                self.show_message(f"{count(len(ids), 'job')} from last time {have(len(ids))} resumed.")

        self.bridge.send(self.engine.resume_all, on_done=resumed, owner=self)
        return started

    # --- sandbox mode or the real providers ------------------------------------------------------------------

    def _show_world(self) -> None:
        """The banner, title and menu tick of the world the window shows."""
        # Qt appends " — Reeldeck" (the display name) unless a title ends with it: "SANDBOX · Reeldeck", never
        # "Reeldeck — SANDBOX — Reeldeck". Latin-1 only, so X's legacy WM_NAME (read by xdotool, pagers) holds it all.
        self.setWindowTitle("SANDBOX · Reeldeck" if self.sandbox else "Reeldeck")
        self.banner.setVisible(self.sandbox)
        self.sandbox_action.setChecked(self.sandbox)

    def set_sandbox_mode(self, on: bool) -> None:
        """View → Sandbox mode: switch worlds now, without a restart; the choice is kept for the next start.

        Jobs of the world left stay as they are (running ones are not canceled): they resume when it is opened again.
        """
        if on == self.sandbox or self._switching:
            self.sandbox_action.setChecked(self.sandbox)
            return
        self._switching = True
        self.sandbox_action.setEnabled(False)
        self.show_message("Switching to sandbox mode…" if on else "Switching to the real providers…")
        from gui import work

        work.spawn(self._switch_world(on), on_error=self._switch_failed, owner=self)

    async def _switch_world(self, on: bool) -> None:
        self.job_pages.stop()
        self.bridge.detach()
        for player in (self.player, self.library.player):
            player.stop()
        self.compare.clear()
        try:
            engine = await self.runtime.switch_world(on)
        finally:
            self._switching = False
            self.sandbox_action.setEnabled(True)
        self._bind_engine(engine)
        self.prefs.sandbox_mode = self.sandbox
        self.prefs.sync()
        self.show_message("Sandbox mode: jobs go to the built-in emulator; nothing is charged." if self.sandbox else
                          "Sandbox mode is off: jobs go to the real providers and use your keys.")

    def _bind_engine(self, engine: Engine) -> None:
        """Show the (new) world's engine and jobs, and pick up its unfinished jobs."""
        self.engine = engine
        self.sandbox = self.runtime.sandbox_mode
        self.queue_view.engine = engine
        self.job_list.load([], check_in_background=False)
        self._load_jobs()
        self.bridge.attach(engine)
        self._show_world()
        self.library.spend.set_budget(engine.budget_cap)
        self.composer.refresh_setup()
        self.resume()

    def _switch_failed(self, error: BaseException) -> None:
        text = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        log.error("switching worlds failed: %s", text)
        QMessageBox.warning(self, "Sandbox mode", f"Reeldeck could not switch: {text}")

    # --- engine events ---------------------------------------------------------------------------------------

    def _on_job(self, job: Job) -> None:
        """An engine event, the window's one way in for them: the job list takes it (the queue and the library are
        its views); endings are told by the job list's signals."""
        from gui.queue_model import model_label

        shown = self.job_list.find(job.id)
        if job.needs_decision and shown is not None and not shown.needs_decision:
            self.notify("A job needs your decision", f"{model_label(job)}: {job.prompt[:60]}")
        self.job_list.on_job(job)
        self.sequence_view.on_job(job)

    def _group_finished(self, group: GroupSummary) -> None:
        text = f"{group.completed} of {group.total} videos made — select the batch in the queue and press Compare."
        if self.in_background():
            self.notify("Batch finished", text)
        else:
            self.show_message("Batch finished: " + text)

    def _job_ended(self, job: Job) -> None:
        from core.jobs import JobState
        from gui.queue_model import model_label

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

    def engine_stopped(self, why: str) -> QMessageBox:
        """The engine is gone for good: say so over the window (not modal: what is shown can still be looked at)."""
        box = QMessageBox(QMessageBox.Icon.Critical, "Reeldeck's engine stopped", why,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("EngineStopped")
        box.open()
        self.show_message(why)
        return box

    # --- actions ---------------------------------------------------------------------------------------------

    def submit(self, request: JobRequest) -> None:
        """Queue a job from the form; errors come back to the form."""
        from gui import work

        self.composer.set_busy(True)
        work.spawn(self._submit(request, self.composer.prompt_template()), on_error=self._submit_failed, owner=self)

    async def _submit(self, request: JobRequest, template: str | None = None) -> None:
        from gui.queue_model import model_label

        try:
            job = await self.bridge.call(self.engine.submit, request)
        finally:
            self.composer.set_busy(False)
        self.job_list.flush()  # the engine's event for it is in: show it now, to select it
        self.queue_view.select_job(job.id)
        self.remember_prompt(request, template)
        self.show_message(f"Queued: {model_label(job)}")
        self.sequence_view.job_submitted(request, job)

    def _submit_failed(self, error: BaseException) -> None:
        message = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        if isinstance(error, ConfigError):
            need = self.composer.refresh_setup()  # the notice with its button says it in the window's words
            message = need.message if need is not None else (
                message + " In Reeldeck: Edit → API keys… for keys, Edit → Settings… for addresses.")
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

    # --- review and iterate --------------------------------------------------------------------------------------

    def compare_jobs(self, jobs: list[Job]) -> None:
        """Open the compare view on these finished videos."""
        from core.jobs import JobState

        shown = self.compare.set_jobs([j for j in jobs if j.state == JobState.COMPLETED and j.video_path])
        if len(shown) < 2:
            self.show_message("Pick two to four finished videos to compare.")
            return
        self.tabs.setCurrentIndex(2)
        self.compare.setFocus()

    def use_frame(self, video: str, seconds: float) -> None:
        """A frame of a video into a slot of the form (the person picks the slot when there are several)."""
        self.chainer.use_frame(video, seconds)

    def use_last_frame(self, job: Job) -> None:
        if job.video_path:
            self.chainer.use_frame(job.video_path, None)

    def open_batch(self, base: JobRequest) -> QDialog:
        """The batch dialog over the form's request; Queue submits every job of it."""
        from gui.batch_dialog import BatchDialog

        engine = self.engine
        dialog = BatchDialog(base, prices=engine.prices,
                             budget=lambda estimate: engine.budget_problem(estimate.usd, what="This batch",
                                                                           unpriced=estimate.unpriced),
                             fills=self.composer.fill_values, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.submit_batch(dialog.requests(), dialog.template_text()))
        self.batch_dialog = dialog
        dialog.open()
        return dialog

    def submit_batch(self, requests: list[JobRequest], template: str | None = None) -> None:
        from gui import work

        if requests:
            self.composer.set_busy(True)
            work.spawn(self._submit_batch(requests, template), on_error=self._submit_failed, owner=self)

    async def _submit_batch(self, requests: list[JobRequest], template: str | None = None) -> None:
        queued: list[Job] = []
        try:
            for request in requests:
                try:
                    queued.append(await self.bridge.call(self.engine.submit, request))
                except ReeldeckError as exc:
                    if queued:
                        raise InputError(f"{len(queued)} of {len(requests)} batch jobs were queued; then: "
                                         f"{exc.message}") from None
                    raise
        finally:
            self.composer.set_busy(False)
            self.job_list.flush()  # the engine's events for them are in
        if queued:
            self.queue_view.select_job(queued[0].id)
            self.remember_prompt(requests[0], template)
            self.show_message(f"Queued a batch of {len(queued)} jobs.")

    def open_ledger(self) -> LedgerView:
        """The charge ledger in its own window (one at a time; opening it again brings it up, refreshed)."""
        if self.ledger is None:
            from gui.ledger_view import LedgerView

            self.ledger = LedgerView(lambda: self.runtime.store, self)
            self.ledger.setWindowFlag(Qt.WindowType.Window)
            self.ledger.resize(1100, 560)
            self.ledger.message.connect(self.show_message)
        else:
            self.ledger.refresh()
        self.ledger.show()
        self.ledger.raise_()
        return self.ledger

    def reuse_settings(self, job: Job) -> None:
        """Fill the form from the sidecar next to a job's video (the job record when there is none)."""
        from core.provenance import sidecar_path

        if job.video_path and sidecar_path(Path(job.video_path)).is_file():
            self.reuse_from_file(job.video_path)
        else:
            self.duplicate(job)

    def reuse_from_file(self, path: str) -> None:
        """Read a sidecar (or the one beside an MP4) off the GUI thread and put its settings in the form."""
        from core.provenance import read_sidecar, request_from_sidecar
        from gui import work

        work.run(lambda: request_from_sidecar(read_sidecar(Path(path))), owner=self,
                 on_done=lambda request: self._reuse(path, request),
                 on_error=lambda error: self.show_message(
                     error.message if isinstance(error, ReeldeckError) else f"Cannot read {path}: {error}"))

    def _reuse(self, path: str, request: JobRequest) -> None:
        self.tabs.setCurrentIndex(0)
        if self.composer.load_request(request):
            self.show_message(f"The settings of {Path(path).name} are in the form; change what you like and "
                              "submit.")
        else:
            self.show_message(f"{request.provider} / {request.model} is not available in this version.")

    def _exported(self, text: str, ok: bool) -> None:
        self.library.show_export_report(text, ok)
        self.show_message(text)

    def open_image(self) -> None:
        from gui.slots import IMAGE_FILTER

        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", last_folders().start(Purpose.INPUTS), IMAGE_FILTER)
        if paths:
            last_folders().remember(Purpose.INPUTS, paths[0])
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
        self.library.spend.set_budget(self.engine.budget_cap)
        self.composer.update_estimate()
        self._setup_changed()

    def open_add_model(self) -> None:
        """Declare a model of an OpenAI-shaped endpoint as data, then pick it in the form."""
        from gui.add_model_dialog import AddModelDialog

        dialog = AddModelDialog(self)
        if dialog.exec() == AddModelDialog.DialogCode.Accepted and dialog.added:
            self.composer.reload_models(*dialog.added)

    def open_track(self) -> None:
        """Follow a task made elsewhere: the engine's ``track``, as `python main.py track` does."""
        from gui.track_dialog import TrackDialog

        dialog = TrackDialog(self)
        if dialog.exec() != TrackDialog.DialogCode.Accepted or self.runtime.engine is None:
            return
        provider_id, model, task = dialog.choice()
        self.bridge.send(self.runtime.engine.track, provider_id, model, task, on_error=self._track_failed, owner=self)
        self.show_message(f"Following task {task}; it appears in the queue.")

    def _track_failed(self, error: BaseException) -> None:
        text = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        QMessageBox.warning(self, "Track a task", text)

    def open_keys(self, provider_id: str | None = None) -> QDialog:
        """The API keys dialog (at one provider when given); the form and waiting jobs follow each change."""
        from gui.keys_dialog import KeysDialog

        dialog = KeysDialog(self.runtime, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.keyChanged.connect(lambda _provider_id: self._setup_changed())
        dialog.open()
        if provider_id:
            dialog.focus_provider(provider_id)
        return dialog

    def _open_prompt_history(self) -> PromptHistory | None:
        from core.prompts import PromptHistory

        try:
            return PromptHistory.in_data_dir(self.runtime.data.root)
        except ReeldeckError as exc:
            log.error("%s", exc.message)
            return None

    def remember_prompt(self, request: JobRequest, template: str | None = None) -> None:
        """A submitted prompt goes into the history (a history that cannot be written never stops a job); for a
        template, the template itself (its fills are the jobs' prompts)."""
        prompt = template or request.params.get("prompt")
        if self.prompts is None or not isinstance(prompt, str):
            return
        try:
            self.prompts.record(prompt, request.provider, request.model)
        except ReeldeckError as exc:
            log.error("%s", exc.message)

    def open_prompt_history(self) -> QDialog | None:
        """The prompt history; the prompt picked goes into the form."""
        from gui.prompt_history import PromptHistoryDialog

        if self.prompts is None:
            self.show_message("The prompt history cannot be read; see the log.")
            return None
        form = self.composer.request()
        dialog = PromptHistoryDialog(self.prompts, self, current=self.composer.texts.get("prompt", ""),
                                     provider=form.provider if form else "", model=form.model if form else "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.composer.set_prompt)
        dialog.open()
        return dialog

    def open_setup(self, what: str, provider_id: str) -> None:
        """The form's "Set key…" / "Settings…" button for a provider that lacks a key or a base URL."""
        if what == "key":
            self.open_keys(provider_id)
        else:
            self.open_settings()

    def _setup_changed(self) -> None:
        self.composer.refresh_setup()
        self.bridge.send(self.engine.wake)  # jobs waiting for a key try again now

    def shortcut_lines(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every menu and queue action that has a shortcut."""
        actions = [a for menu in self.menuBar().findChildren(QMenu) for a in menu.actions()]
        actions += self.queue_view.actions()
        lines = []
        for action in actions:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and action.text():
                lines.append((keys, action.text().replace("&", "").rstrip("…")))
        return sorted(set(lines), key=lambda line: line[1].lower())

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>"
                       for keys, what in self.shortcut_lines())
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def _open_path(self, path: Path) -> None:
        target = path if path.exists() else path.parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))):
            self.show_message(f"Could not open {target}; it is at {target}.")

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
        sidecars = [i for i in items if carries_settings(i)]
        if len(items) == 1 and sidecars:
            self.reuse_from_file(sidecars[0])
            event.acceptProposedAction()
        elif items and self._place(items):
            event.acceptProposedAction()
        else:
            event.ignore()

    # --- closing ---------------------------------------------------------------------------------------------

    def running_jobs(self) -> list[Job]:
        """Jobs that are still working (not ended, not waiting for a decision), as the queue shows them now."""
        self.bridge.flush()
        self.job_list.flush()  # the latest engine events first: a job that just ended is not running
        return [j for j in self.job_list.jobs() if not j.terminal and not j.needs_decision]

    @guarded()
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        if not self.attached:  # closed before the core was up: nothing runs yet, nothing to save but the place
            self._closing = self.is_closed = True
            self.prefs.set("window/geometry", self.saveGeometry())
            self.prefs.sync()
            event.accept()
            QTimer.singleShot(0, self.closed.emit)
            return
        running = self.running_jobs()
        if running and not self.confirm_close(
                "Jobs are still running",
                f"{count(len(running), 'job')} {'is' if len(running) == 1 else 'are'} still running. Reeldeck keeps "
                "them: they resume by themselves the next "
                "time you open it, and nothing is submitted twice.\n\nQuit now?"):
            event.ignore()
            return
        self._closing = self.is_closed = True
        try:
            self.job_pages.stop()
            self.library.flush_note()
            self.save_layout()
            self.player.stop()
            self.library.player.stop()
            self.compare.clear()
            self.sequence_view.shutdown()
            self.bridge.flush()  # the engine's last events, then no more
            self.bridge.detach()
            self.job_list.flush()
            self.annotations.close()
            if self.prompts is not None:
                self.prompts.close()
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


def carries_settings(item: str) -> bool:
    """A dropped Reeldeck sidecar, or a video with its sidecar beside it or its settings inside (a header read)."""
    from core.provenance import carries_provenance

    return not is_web_url(item) and carries_provenance(Path(item))
