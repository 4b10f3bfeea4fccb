"""The job queue panel: a table over ``QueueModel`` with a progress delegate, job actions and decisions.

Actions: cancel, retry, duplicate into the form, reveal the file, delete (to the trash when the system has one),
and for a job whose submission had an unknown outcome, the two choices the engine offers, explained. The queue can
be paused (no new job is sent; jobs at the provider go on) and waiting jobs dragged into another order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QFile,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core import words
from core.abilities import new_job_problem, remix_problem, retry_problem
from core.engine import Engine
from core.errors import ReeldeckError
from core.jobs import Job, JobState
from gui import work
from gui.engine_bridge import INLINE, EngineCalls
from gui.queue_model import HEADERS, Column, GroupSummary, JobRole, QueueModel
from gui.safety import guarded
from gui.stall_box import StallBox

log = logging.getLogger(__name__)

THUMB_ROW_HEIGHT = 54
#: The room the Prompt column gets before the other columns give up any of theirs; above it, it takes the rest.
PROMPT_FULL_WIDTH = 280
#: Each column's width (px) when the queue has room for all of them.
FULL_WIDTHS = {Column.THUMB: 90, Column.MODEL: 180, Column.PROMPT: PROMPT_FULL_WIDTH, Column.STATE: 140,
               Column.PROGRESS: 150, Column.ELAPSED: 70, Column.COST: 80, Column.GROUP: 110}
#: What a column still shows whole when a narrow queue squeezes it (its header too, but for the Provider / model
#: column's, which may be cut): the font decides the width. Longer texts are elided; a cell's tooltip keeps them.
LEAST_TEXTS = {Column.MODEL: "AIHubMix · Veo", Column.PROMPT: "A red fox trots", Column.STATE: "Downloading",
               Column.PROGRESS: "42% · 0:31 left", Column.ELAPSED: "1:02:05", Column.COST: "$12.40",
               Column.GROUP: "7a3c · 3/4"}
#: The thumbnail's least column width (the picture shrinks with it).
THUMB_LEAST_WIDTH = 64
#: Room around a cell's text: the cell's margins; a progress bar's inset and frame.
CELL_PADDING = 12
BAR_PADDING = 16
Ask = Callable[[str, str], bool]


#: Where a line may break in a cell's text before it breaks between words (a model label's parts, a batch's).
PART_BREAK = " · "


class WrappingDelegate(QStyledItemDelegate):
    """A cell whose text does not fit on one line takes the lines the row holds: broken between its parts
    (``break_parts``: 'AIHubMix · Veo 3.1' → two lines), then between words, the last line cut at its end."""

    def __init__(self, parent: QObject | None = None, *, break_parts: bool = True) -> None:
        super().__init__(parent)
        self.break_parts = break_parts

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight
        if option.text and option.fontMetrics.horizontalAdvance(option.text) > option.rect.width() - CELL_PADDING:
            option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
            if self.break_parts:
                option.text = option.text.replace(PART_BREAK, "\u2028")  # a line separator: Qt breaks there


class PromptDelegate(WrappingDelegate):
    """A prompt on the lines its row holds, cut at its end (its beginning says what it is)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent, break_parts=False)


class ProgressDelegate(WrappingDelegate):
    """Paints a running job's progress as a bar with its text ('42% · 0:31 left'); other states as text."""

    @guarded()
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        job = index.data(JobRole.JOB)
        if not isinstance(job, Job) or job.state != JobState.RUNNING or job.needs_decision:
            super().paint(painter, option, index)  # only running jobs have a bar; others say where they are
            return
        self.paint_bar(painter, option, index, (job.progress or 0.0) / 100)

    def paint_bar(self, painter: QPainter, option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex, fraction: float) -> None:
        """A rounded bar filled to ``fraction`` with the cell's text on it."""
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        rect: QRect = option.rect
        palette: QPalette = option.palette
        inset = max(4, (rect.height() - 22) // 2)
        bar = QRectF(rect.adjusted(6, inset, -6, -inset))
        fraction = max(0.0, min(1.0, fraction))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(bar, 4, 4)
        if fraction > 0:
            chunk = QRectF(bar.x(), bar.y(), bar.width() * fraction, bar.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(chunk, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(bar, Qt.AlignmentFlag.AlignCenter, str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(160, THUMB_ROW_HEIGHT)


class GroupDelegate(ProgressDelegate):
    """A batch's own progress as a bar while it runs; its outcome as text once every job has ended."""

    @guarded()
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        group = index.data(JobRole.GROUP)
        if not isinstance(group, GroupSummary) or group.finished:
            QStyledItemDelegate.paint(self, painter, option, index)  # its text wraps between parts if narrow
            return
        self.paint_bar(painter, option, index, group.progress / 100)


def trash_or_delete(path: Path, ask: Ask) -> str:
    """Move a file to the trash; when there is no trash, ask before deleting it for good. Returns what happened."""
    if not path.exists():
        return "the file was already gone"
    if QFile(str(path)).moveToTrash():
        return "the video went to the trash"
    if not ask("No trash available",
               f"This system has no trash for {path.name}. Delete the video permanently instead?"):
        return "the video was kept (no trash available)"
    try:
        path.unlink()
    except OSError as exc:
        return f"the video could not be deleted ({exc.strerror or exc})"
    return "the video was deleted permanently"


def column_widths(available: int, full: dict[Column, int], least: dict[Column, int]) -> dict[Column, int]:
    """Widths for the shown columns in ``available`` pixels. With room for every ``full`` width, those, and the
    Prompt column takes what is left; otherwise every column gives up the same share of what it can spare (down to
    its ``least``), the Prompt column taking the pixels rounding leaves. Below the least widths: those (the table
    then scrolls sideways)."""
    full = {c: max(w, least.get(c, 0)) for c, w in full.items()}
    spare = sum(full.values()) - sum(least.values())
    share = 1.0 if spare <= 0 else max(0.0, min(1.0, (available - sum(least.values())) / spare))
    widths = {c: least[c] + int(share * (full[c] - least[c])) for c in full}
    if Column.PROMPT in widths:
        widths[Column.PROMPT] += max(0, available - sum(widths.values()))
    return widths


def can_remix(job: Job) -> bool:
    """A finished video whose model can be remixed (core's rule: ``core.abilities.remix_problem``)."""
    return remix_problem(job) is None


class QueueView(QWidget):
    """The queue table, its actions and the decision box for jobs that need one."""

    jobActivated = Signal(object)  # Job: a completed job was selected (play it)
    duplicateRequested = Signal(object)  # Job
    message = Signal(str)  # for the status bar
    jobDeleted = Signal(str)  # job id
    compareRequested = Signal(list)  # [Job]: play these side by side
    lastFrameRequested = Signal(object)  # Job: its last frame into the form

    def __init__(self, model: QueueModel, engine: Engine | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.engine = engine
        #: How calls reach the engine (the window's bridge when it runs on a thread of its own).
        self.calls: EngineCalls = INLINE
        self.ask: Ask = self._ask_user
        #: Asks for a prompt (title, label, initial text) -> text or None; replaceable in tests.
        self.ask_prompt: Callable[[str, str, str], str | None] = self._ask_prompt_dialog
        self._activated: tuple[str, str] | None = None
        self._tips: dict[QAction, str] = {}  # each action's own tooltip, shown while nothing stands in its way
        self._decision_for: str | None = None
        self.table = QTableView(self)
        self.table.setObjectName("QueueTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # several: Compare
        self.table.setItemDelegateForColumn(Column.PROMPT, PromptDelegate(self.table))
        self.table.setItemDelegateForColumn(Column.MODEL, WrappingDelegate(self.table))
        self.table.setItemDelegateForColumn(Column.STATE, WrappingDelegate(self.table))
        self.table.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self.table))
        self.table.setItemDelegateForColumn(Column.GROUP, GroupDelegate(self.table))
        self.table.setIconSize(QSize(80, THUMB_ROW_HEIGHT - 6))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_ROW_HEIGHT)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the end (a take's seed) stays readable
        self.table.setDragEnabled(True)  # waiting jobs can be dragged to another place in the queue
        self.table.setAcceptDrops(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropOverwriteMode(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.THUMB, QHeaderView.ResizeMode.Fixed)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)  # a squeezed title keeps its beginning
        for column, width in FULL_WIDTHS.items():
            header.resizeSection(column, width)
        self._fitting = False
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._on_selection())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        model.dataChanged.connect(self._on_data_changed)
        model.reorderRequested.connect(self.reorder)
        model.modelReset.connect(self._on_selection)
        model.rowsRemoved.connect(lambda *_: self._on_selection())
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            signal.connect(self._show_group_column)

        self.toolbar = QToolBar(self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.cancel_action = self._action("Cancel", "Stop this job (and at the provider where it can)",
                                          self.cancel_selected, QKeySequence("Ctrl+."))
        self.retry_action = self._action("Retry", "Resume this job now (its video at the provider is not paid for "
                                         "again); a job that never reached the provider is sent again",
                                         self.retry_selected, QKeySequence("Ctrl+R"))
        self.again_action = self._action("Generate again", "A new video with the same settings: a new job at the "
                                         "provider, charged again", self.generate_again_selected,
                                         toolbar=False)  # in the row's menu: a paid action is never one stray click
        self.duplicate_action = self._action("Duplicate", "Copy this job's settings into the form",
                                             self.duplicate_selected, QKeySequence("Ctrl+D"))
        self.reveal_action = self._action("Show file", "Open the folder that holds the video",
                                          self.reveal_selected, toolbar=False)  # in the row's menu
        self.delete_action = self._action("Delete…", "Delete the job and move its video to the trash",
                                          self.delete_selected, QKeySequence(QKeySequence.StandardKey.Delete))
        self.toolbar.addSeparator()
        self.compare_action = self._action("Compare", "Play the selected videos side by side (Ctrl+click to pick "
                                           "two to four), or every video of the selected finished batch",
                                           self.compare_selected, QKeySequence("Ctrl+M"))
        self.last_frame_action = self._action("Use last frame", "Put this video's last frame into the form, to "
                                              "continue the clip", self.last_frame_selected)
        self.remix_action = self._action("Remix…", "A new video from this finished one with a new prompt (where the "
                                         "provider offers remixing, e.g. Sora)", self.remix_selected,
                                         toolbar=False)  # in the row's menu: only some providers remix
        self.toolbar.addSeparator()
        self.pause_action = self._action("Pause queue", "Send no new job until you resume; jobs already at the "
                                         "provider go on and are downloaded", self.toggle_pause)
        self.pause_action.setCheckable(True)
        self.clear_action = self._action("Clear finished", "Take finished jobs off this list (they stay in "
                                         "the library)", self.clear_finished)

        self.pause_note = QLabel("The queue is paused: no new job is sent. Jobs already at the provider go on and "
                                 "are downloaded.", self)
        self.pause_note.setObjectName("QueuePaused")
        self.pause_note.setWordWrap(True)
        self.pause_note.hide()

        self.detail = QLabel(self)
        self.detail.setObjectName("QueueDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setProperty("role", "error")
        self.detail.hide()

        self.decision = QFrame(self)
        self.decision.setObjectName("DecisionBox")
        self.decision_text = QLabel(self.decision)
        self.decision_text.setWordWrap(True)
        self.task_id_edit = QLineEdit(self.decision)
        self.task_id_edit.setPlaceholderText("Task id from the provider's dashboard")
        self.task_id_edit.setClearButtonEnabled(True)
        self.attach_button = QPushButton("Follow this task", self.decision)
        self.attach_button.setToolTip("The job was created after all: follow the task you found at the provider "
                                      "and download its video. Nothing is sent again.")
        self.attach_button.setEnabled(False)
        self.task_id_edit.textChanged.connect(lambda text: self.attach_button.setEnabled(bool(text.strip())))
        self.attach_button.clicked.connect(self.attach_selected)
        self.resend_button = QPushButton("Send again", self.decision)
        self.resend_button.setToolTip("Submit the job once more. If the lost submission did create a job, you may "
                                      "be charged for both.")
        self.giveup_button = QPushButton("Cancel the job", self.decision)
        self.giveup_button.setToolTip("Mark the job canceled. Nothing more is sent; if the lost submission did "
                                      "create a video you will not receive it here.")
        self.resend_button.clicked.connect(lambda: self.resolve_selected(resend=True))
        self.giveup_button.clicked.connect(lambda: self.resolve_selected(resend=False))
        decision_layout = QVBoxLayout(self.decision)
        decision_layout.addWidget(self.decision_text)
        attach_row = QHBoxLayout()
        attach_row.addWidget(self.task_id_edit, 1)
        attach_row.addWidget(self.attach_button)
        decision_layout.addLayout(attach_row)
        decision_buttons = QHBoxLayout()
        decision_buttons.addWidget(self.resend_button)
        decision_buttons.addWidget(self.giveup_button)
        decision_buttons.addStretch(1)
        decision_layout.addLayout(decision_buttons)
        self.decision.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.pause_note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.decision)
        self.stall = StallBox(self)  # "taking longer than usual", with Keep waiting / Cancel
        self.stall.message.connect(self.message)
        layout.addWidget(self.stall)
        layout.addWidget(self.detail)
        self._on_selection()
        self._show_group_column()

    def _action(self, text: str, tip: str, slot: Callable[[], object],
                shortcut: QKeySequence | None = None, *, toolbar: bool = True) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip + (f" ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})"
                                 if shortcut else ""))
        self._tips[action] = action.toolTip()
        action.triggered.connect(lambda _=False: slot())
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        if toolbar:
            self.toolbar.addAction(action)
        return action

    # --- selection -------------------------------------------------------------------------------------------

    def selected_job(self) -> Job | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.job_at(index) if index.isValid() else None

    def selected_jobs(self) -> list[Job]:
        """Every selected job, top to bottom."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [job for row in rows if (job := self.model.job(row)) is not None]

    def compare_candidates(self) -> list[Job]:
        """What Compare would show: the selected finished videos, or the finished batch of the current job."""
        selected = [j for j in self.selected_jobs() if j.state == JobState.COMPLETED and j.video_path]
        if len(selected) >= 2:
            return selected
        job = self.selected_job()
        group = self.model.group(job.group_id) if job is not None else None
        if group is not None and group.finished and job is not None and job.group_id:
            return [j for j in self.model.group_jobs(job.group_id) if j.state == JobState.COMPLETED and j.video_path]
        return []

    def select_job(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, Column.PROMPT))
        return True

    def _on_data_changed(self, top_left: QModelIndex, _bottom_right: QModelIndex, roles: list[int] = ()) -> None:  # type: ignore[assignment]
        current = self.table.selectionModel().currentIndex()
        if current.isValid() and current.row() == top_left.row() and top_left.column() == 0:
            self._on_selection()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if column != Column.PROMPT and not self._fitting:
            self._fit_prompt()  # a person widened or narrowed a column: the prompt gives or takes the room

    def _fit_columns(self) -> None:
        """Every shown column in the table's width: full widths when there is room (the prompt takes the rest),
        else each squeezed alike towards the least that still shows its words (``column_widths``)."""
        header = self.table.horizontalHeader()
        shown = [Column(c) for c in range(header.count()) if not header.isSectionHidden(c)]
        least = self._least_widths()
        widths = column_widths(self.table.viewport().width(), {c: FULL_WIDTHS[c] for c in shown},
                               {c: least[c] for c in shown})
        self._fitting = True
        try:
            for column, width in widths.items():
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False
        thumb = widths.get(Column.THUMB, FULL_WIDTHS[Column.THUMB])
        self.table.setIconSize(QSize(thumb - 10, THUMB_ROW_HEIGHT - 6))

    def _least_widths(self) -> dict[Column, int]:
        cells, titles = self.table.fontMetrics(), self.table.horizontalHeader().fontMetrics()
        least = {Column.THUMB: THUMB_LEAST_WIDTH}
        for column, text in LEAST_TEXTS.items():
            title = 0 if column == Column.MODEL else titles.horizontalAdvance(HEADERS[column])
            padding = BAR_PADDING if column in (Column.PROGRESS, Column.GROUP) else CELL_PADDING
            least[column] = max(cells.horizontalAdvance(text), title) + padding
        return least

    def _fit_prompt(self) -> None:
        """The Prompt column takes the room the other columns leave, but never less than its least width."""
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c != Column.PROMPT and not header.isSectionHidden(c))
        width = max(self._least_widths()[Column.PROMPT], self.table.viewport().width() - others)
        if header.sectionSize(Column.PROMPT) != width:
            header.resizeSection(Column.PROMPT, width)

    def _on_selection(self) -> None:
        job = self.selected_job()
        state = job.state if job else None
        self.cancel_action.setEnabled(job is not None and not job.terminal)
        retryable = job is not None and (state in (JobState.FAILED, JobState.CANCELED)
                                         or bool(job.waiting and not job.terminal))
        self._offer(self.retry_action, retryable, retry_problem(job) if job is not None and retryable else None)
        again = job is not None and job.terminal and not job.prepared.get("remix_of")
        self._offer(self.again_action, again, new_job_problem(job) if job is not None and again else None)
        self.duplicate_action.setEnabled(job is not None)
        has_file = job is not None and bool(job.video_path) and Path(job.video_path or "").exists()
        self.reveal_action.setEnabled(has_file)
        self.delete_action.setEnabled(job is not None)
        self.clear_action.setEnabled(self.model.has_finished())
        self.compare_action.setEnabled(len(self.compare_candidates()) >= 2)
        self.last_frame_action.setEnabled(has_file and job is not None and job.state == JobState.COMPLETED)
        self._offer(self.remix_action, job is not None, remix_problem(job) if job is not None else None)
        self._show_details(job)
        if job is not None and job.state == JobState.COMPLETED and job.video_path:
            if self._activated != (job.id, job.video_path):
                self._activated = (job.id, job.video_path)
                self.jobActivated.emit(job)
        else:
            self._activated = None

    def _offer(self, action: QAction, applies: bool, problem: str | None) -> None:
        """Enable ``action`` when it applies to the selected job and nothing stands in its way; when something
        does, its tooltip says what (core's words), in the toolbar and the row's menu alike."""
        action.setEnabled(applies and problem is None)
        action.setToolTip(problem if problem is not None else self._tips[action])

    def _show_details(self, job: Job | None) -> None:
        self.stall.show_job(job, self.engine)
        if job is not None and job.needs_decision:
            self.decision_text.setText(
                "<b>This job needs your decision.</b><br>" + (job.error or "The submission's outcome is unknown.")
                + "<br><br><b>Follow this task</b>: the job was created after all (you found it at the provider): "
                "nothing is sent again.<br><b>Send again</b>: submit once more — if the lost submission did create "
                "a job you may be charged twice.<br><b>Cancel the job</b>: nothing more is sent and the job ends "
                "here.")
            if self._decision_for != job.id:
                self._decision_for = job.id
                self.task_id_edit.clear()
            self.decision.show()
        else:
            self.decision.hide()
        if job is not None and job.error and not job.needs_decision:
            blocked = retry_problem(job) if job.state in (JobState.FAILED, JobState.CANCELED) else None
            self.detail.setText(f"{job.state.value.capitalize()}: {job.error}" + (f"\n{blocked}" if blocked else ""))
            self.detail.show()
        elif job is not None and job.waiting and not job.terminal:
            self.detail.setText(job.waiting[0].upper() + job.waiting[1:])
            self.detail.show()
        else:
            self.detail.hide()

    def _context_menu(self, position: QPoint) -> None:
        if self.selected_job() is None:
            return
        menu = QMenu(self)
        menu.setToolTipsVisible(True)  # a greyed action says why on hover
        for action in (self.cancel_action, self.retry_action, self.again_action, self.duplicate_action,
                       self.reveal_action,
                       self.delete_action, self.compare_action, self.last_frame_action, self.remix_action):
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(position))

    # --- actions ---------------------------------------------------------------------------------------------

    def _report(self, error: BaseException) -> None:
        text = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        self.message.emit(text)

    def cancel_selected(self) -> None:
        job = self.selected_job()
        if job is None or job.terminal or self.engine is None:
            return
        self.calls.send(self.engine.cancel, job.id, on_error=self._report, owner=self)
        self.message.emit("Canceling the job…")

    def retry_selected(self) -> None:
        job = self.selected_job()
        if job is None or self.engine is None:
            return
        self.calls.send(self.engine.retry, job.id, on_error=self._report, owner=self)

    def generate_again_selected(self) -> None:
        job = self.selected_job()
        if job is None or self.engine is None:
            return
        self.calls.send(self.engine.generate_again, job.id, on_error=self._report, owner=self)
        self.message.emit("A new job with the same settings was queued.")

    def attach_selected(self) -> None:
        job = self.selected_job()
        task = self.task_id_edit.text().strip()
        if job is None or self.engine is None or not job.needs_decision or not task:
            return
        self.calls.send(functools.partial(self.engine.decide, task_id_found=task), job.id, on_error=self._report,
                        owner=self)

    def resolve_selected(self, *, resend: bool) -> None:
        job = self.selected_job()
        if job is None or self.engine is None or not job.needs_decision:
            return
        self.calls.send(functools.partial(self.engine.resolve, resend=resend), job.id, on_error=self._report,
                        owner=self)

    def duplicate_selected(self) -> None:
        job = self.selected_job()
        if job is not None:
            self.duplicateRequested.emit(job)

    def compare_selected(self) -> None:
        jobs = self.compare_candidates()
        if len(jobs) >= 2:
            self.compareRequested.emit(jobs)
        else:
            self.message.emit("Select two to four finished videos (Ctrl+click), or a job of a finished batch.")

    def remix_selected(self) -> None:
        job = self.selected_job()
        if job is None or self.engine is None or not can_remix(job):
            return
        prompt = self.ask_prompt("Remix", "Describe the change (the new prompt for the remix):", job.prompt)
        if prompt is None or not prompt.strip():
            return
        self.calls.send(self.engine.remix, job.id, prompt.strip(), on_error=self._report, owner=self)
        self.message.emit("Remix submitted.")

    def _ask_prompt_dialog(self, title: str, label: str, text: str) -> str | None:
        value, ok = QInputDialog.getMultiLineText(self, title, label, text)
        return value if ok else None

    def last_frame_selected(self) -> None:
        job = self.selected_job()
        if job is not None and job.state == JobState.COMPLETED and job.video_path:
            self.lastFrameRequested.emit(job)

    def _show_group_column(self, *_args: object) -> None:
        """The Batch column shows only while the queue holds a batch (the others make room for it)."""
        hidden = not self.model.groups()
        if hidden != self.table.isColumnHidden(Column.GROUP):
            self.table.setColumnHidden(Column.GROUP, hidden)
            self._fit_columns()

    def reveal_selected(self) -> None:
        job = self.selected_job()
        if job is None or not job.video_path:
            return
        folder = Path(job.video_path).parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.message.emit(f"The video is in {folder}")

    def delete_selected(self) -> None:
        job = self.selected_job()
        if job is None or self.engine is None:
            return
        if not self.ask("Delete job", f"Delete this job ({job.prompt[:60] or job.id})"
                        + (" and move its video to the trash?" if job.video_path else "?")):
            return
        work.spawn(self.delete_job(job.id), on_error=self._report, owner=self)

    async def delete_job(self, job_id: str) -> None:
        """Cancel the job if it is still running, then move its video to the trash and forget it."""
        if self.engine is None:
            return
        job = self.engine.store.find(job_id)
        if job is not None and not job.terminal:
            await self.calls.call(self.engine.cancel, job_id)
        # Questions (no trash?) open dialogs: do that from a Qt event, not inside an asyncio task step.
        QTimer.singleShot(0, lambda: self._forget(job_id))

    def _forget(self, job_id: str) -> None:
        if self.engine is None:
            return
        job = self.engine.store.find(job_id)
        if job is None:
            self.model.remove_job(job_id)
            return
        outcome = trash_or_delete(Path(job.video_path), self.ask) if job.video_path else "it had no video"
        work.spawn(self._delete(job_id, outcome), on_error=self._report, owner=self)

    async def _delete(self, job_id: str, outcome: str) -> None:
        """The engine forgets the job and its prepared inputs (``Engine.delete``); the row goes."""
        assert self.engine is not None
        await self.calls.call(self.engine.delete, job_id)
        self.model.remove_job(job_id)
        self.jobDeleted.emit(job_id)
        self.message.emit(f"Job deleted; {outcome}.")

    def toggle_pause(self) -> None:
        """Pause the queue or resume it (the action's check state says which)."""
        self.set_paused(self.pause_action.isChecked())

    def set_paused(self, paused: bool) -> None:
        if self.engine is not None:
            self.calls.send(self.engine.pause if paused else self.engine.unpause, on_error=self._report,
                            owner=self)
        self.pause_action.setChecked(paused)
        self.pause_action.setText("Resume queue" if paused else "Pause queue")
        self.pause_note.setVisible(paused)
        self.model.set_paused(paused)
        self.message.emit("Queue paused: no new job is sent." if paused else "Queue resumed.")

    def reorder(self, job_ids: list[str]) -> None:
        """Waiting jobs start in this order from now on (stored, so it holds after a restart and for the CLI)."""
        if self.engine is None:
            return
        self.calls.send(self.engine.reorder, job_ids, on_error=self._report, owner=self)

    def clear_finished(self) -> None:
        count = self.model.remove_finished()
        self.message.emit(f"{words.count(count, 'finished job')} cleared from the queue; they stay in the library.")

    def _ask_user(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
