"""The charge ledger window: one month of jobs with what was estimated, what the provider reported, and the outcome.

The figures and the rules are ``core.ledger``'s; this window shows a month (the month picker), marks the jobs that
failed after the provider accepted them, sums the month up, and exports it as CSV (written in a worker thread, whole
or not at all). It reads the store of the world shown (sandbox or real) when opened, when the month changes and on
*Refresh*.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import ledger
from core.errors import ReeldeckError
from core.jobs import Job
from gui import work
from gui.cost import model_name
from gui.theme import colors, is_dark

if TYPE_CHECKING:
    from core.store import JobStore

Index = QModelIndex | QPersistentModelIndex


class LedgerColumn(IntEnum):
    """The ledger's columns."""

    SENT = 0
    MODEL = 1
    TASK = 2
    OUTCOME = 3
    ESTIMATE = 4
    REPORTED = 5
    NOTE = 6


HEADERS = {
    LedgerColumn.SENT: "Sent", LedgerColumn.MODEL: "Provider · model", LedgerColumn.TASK: "Task id",
    LedgerColumn.OUTCOME: "Outcome", LedgerColumn.ESTIMATE: "Estimated", LedgerColumn.REPORTED: "Provider reported",
    LedgerColumn.NOTE: "Flag and the provider's words",
}


class LedgerRole(IntEnum):
    """Custom data roles of the ledger model."""

    ENTRY = Qt.ItemDataRole.UserRole + 1
    FLAGGED = Qt.ItemDataRole.UserRole + 2


def local_time(timestamp: float | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else ""


def cell_text(entry: ledger.LedgerEntry, column: LedgerColumn) -> str:
    job: Job = entry.job
    if column == LedgerColumn.SENT:
        return local_time(job.submitted_at or job.created_at)
    if column == LedgerColumn.MODEL:
        return model_name(job.provider, job.model)
    if column == LedgerColumn.TASK:
        return job.remote_id or "—"
    if column == LedgerColumn.OUTCOME:
        return entry.outcome
    if column == LedgerColumn.ESTIMATE:
        return "unknown" if job.cost_usd is None else f"${job.cost_usd:.2f}"
    if column == LedgerColumn.REPORTED:
        return entry.reported.describe() if entry.reported is not None else "not reported"
    words = job.error or ""
    return f"{entry.flag[0].upper()}{entry.flag[1:]}. {words}".strip() if entry.flag else words


class LedgerModel(QAbstractTableModel):
    """The entries of one month, oldest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[ledger.LedgerEntry] = []
        self.flag_color = QColor(colors(is_dark())["error"])

    def set_entries(self, entries: list[ledger.LedgerEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008  (Qt's signature)
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LedgerColumn)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        column = LedgerColumn(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return cell_text(entry, column)
        if role == Qt.ItemDataRole.ForegroundRole and entry.flag and column in (LedgerColumn.OUTCOME,
                                                                                 LedgerColumn.NOTE):
            return self.flag_color
        if role == LedgerRole.ENTRY:
            return entry
        if role == LedgerRole.FLAGGED:
            return bool(entry.flag)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and \
                0 <= section < len(LedgerColumn):
            return HEADERS[LedgerColumn(section)]
        return None


def recent_months(now: float, count: int = 12) -> list[str]:
    """This month and the ones before it, newest first."""
    year, month = dt.datetime.fromtimestamp(now).year, dt.datetime.fromtimestamp(now).month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found


class LedgerView(QWidget):
    """The ledger of one month, its totals, and the CSV export."""

    message = Signal(str)

    def __init__(self, store: Callable[[], JobStore | None], parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        """``store`` gives the store of the world the window shows now (it changes when sandbox mode is switched)."""
        super().__init__(parent)
        self.setObjectName("LedgerView")
        self.setWindowTitle("Charge ledger — Reeldeck")
        self.store_of = store
        self.month = QComboBox(self)
        self.month.addItems(recent_months(clock()))
        self.month.setToolTip("The month whose jobs are shown (by when they were sent)")
        self.month.currentTextChanged.connect(lambda _text: self.refresh())
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Write this month's ledger as a CSV file: task ids, times, estimates, what "
                                      "the provider reported and its words, to claim refunds with")
        self.export_button.clicked.connect(self.choose_export)
        self.summary = QLabel(self)
        self.summary.setObjectName("LedgerSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = LedgerModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((LedgerColumn.SENT, 118), (LedgerColumn.MODEL, 170), (LedgerColumn.TASK, 110),
                              (LedgerColumn.OUTCOME, 215), (LedgerColumn.ESTIMATE, 72),
                              (LedgerColumn.REPORTED, 125)):
            header.resizeSection(column, width)
        top = QHBoxLayout()
        top.addWidget(QLabel("Month:", self))
        top.addWidget(self.month)
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.refresh()

    def selected_month(self) -> str:
        return self.month.currentText()

    def month_entries(self) -> list[ledger.LedgerEntry]:
        store = self.store_of()
        if store is None:
            return []
        start, end = ledger.month_bounds(self.selected_month())
        jobs = [j for j in store.since(start) if (j.submitted_at or j.created_at) < end]
        return ledger.entries(jobs, store.charges())

    def refresh(self) -> None:
        try:
            entries = self.month_entries()
        except ReeldeckError as exc:
            self.summary.setText(exc.message)
            return
        self.model.set_entries(entries)
        self.summary.setText(summary_text(self.selected_month(), ledger.totals(entries)))
        self.export_button.setEnabled(bool(entries))

    def choose_export(self) -> None:
        suggested = str(Path.home() / f"reeldeck-ledger-{self.selected_month()}.csv")
        path, _filter = QFileDialog.getSaveFileName(self, "Export the ledger", suggested, "CSV files (*.csv)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> None:
        """Write the shown month as CSV in a worker thread; says where it went (or why it could not)."""
        text = ledger.to_csv(self.model.entries)
        count, month = len(self.model.entries), self.selected_month()
        work.run(ledger.write_csv, path, text, owner=self,
                 on_done=lambda _result: self.message.emit(f"Wrote {count} jobs of {month} to {path}."),
                 on_error=self._export_failed)

    def _export_failed(self, error: BaseException) -> None:
        self.message.emit(error.message if isinstance(error, ReeldeckError) else f"Export failed: {error}")


def summary_text(month: str, totals: ledger.Totals) -> str:
    reported = ", ".join(ledger.ReportedCharge(amount, unit, "").describe()
                         for unit, amount in sorted(totals.reported.items()))
    text = (f"<b>{month}</b>: {totals.jobs} jobs · estimated ${totals.estimated_usd:.2f} for the jobs the providers "
            f"accepted · providers reported {reported or 'no figures'}")
    if totals.flagged:
        text += (f"<br><b>{totals.flagged} failed after the provider accepted them</b> — they may have been "
                 "charged; the CSV holds their task ids, times and the provider's words for a refund claim.")
    return text
