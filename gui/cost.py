"""Costs in the window: estimates of a request, the price table editor (Settings), and the spend summary (Library).

Prices, estimates, spend and the budget check all come from ``core.costs``; this module only shows and edits them.
The editor writes the user's prices to ``settings.data["prices"]`` and the cap to ``settings.data["budget_daily_usd"]``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.costs import DEFAULT_PRICES, Estimate, Price, PriceTable, spend
from core.jobs import Job
from core.providers import all_specs, provider_spec
from gui.queue_model import provider_name

USER_SOURCE = "your settings"
UNITS = {"second": "per second", "video": "per video"}
SPEND_DAYS = 7


def format_usd(usd: float | None) -> str:
    return "—" if usd is None else f"${usd:,.2f}"


def estimate_text(estimate: Estimate) -> str:
    """Short text for beside the Submit button."""
    return f"≈ {format_usd(estimate.usd)}" if estimate.usd is not None else "Price unknown"


def model_name(provider: str, model: str) -> str:
    try:
        return f"{provider_name(provider)} · {provider_spec(provider).model(model).label}"
    except Exception:
        return f"{provider} · {model}"


# --- the price table editor (Settings) ---------------------------------------------------------------------------


class PriceDelegate(QStyledItemDelegate):
    """Prices are edited with four decimals (Sora costs $0.10 a second)."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        spin = QDoubleSpinBox(parent)
        spin.setDecimals(4)
        spin.setRange(0.0, 10_000.0)
        spin.setSingleStep(0.01)
        spin.setPrefix("$")
        return spin


class PricesEditor(QGroupBox):
    """The price table with each price's source and date; edit a price, add one, remove yours; the daily cap."""

    COLUMNS = ("Provider / model", "Unit", "Price (USD)", "Only when", "Source", "As of")
    USD_COLUMN = 2
    CONDITION_COLUMN = 3

    def __init__(self, data: Mapping[str, Any], parent: QWidget | None = None, *, today: str | None = None) -> None:
        super().__init__("Prices and budget", parent)
        self.setObjectName("PricesEditor")
        self.today = today or dt.date.today().isoformat()
        self.rows: list[tuple[Price, bool]] = []  # (price, shipped)
        self.user: list[Price] = list(_overrides(data))

        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("PriceTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(self.USD_COLUMN, PriceDelegate(self.table))
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(150)
        header = self.table.horizontalHeader()
        for column, width in enumerate((175, 80, 80, 100, 0, 85)):
            if width:
                header.resizeSection(column, width)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("PriceModel")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(18)
        self.model_keys: list[tuple[str, str]] = []
        for spec in all_specs():
            for model in spec.models:
                self.model_combo.addItem(f"{spec.name} · {model.label}", len(self.model_keys))
                self.model_keys.append((spec.id, model.id))
        self.unit_combo = QComboBox(self)
        for unit, text in UNITS.items():
            self.unit_combo.addItem(text, unit)
        self.price_spin = QDoubleSpinBox(self)
        self.price_spin.setDecimals(4)
        self.price_spin.setRange(0.0, 10_000.0)
        self.price_spin.setSingleStep(0.01)
        self.price_spin.setPrefix("$")
        self.add_button = QPushButton("Add price", self)
        self.add_button.clicked.connect(self.add_from_fields)
        self.remove_button = QPushButton("Remove yours", self)
        self.remove_button.setToolTip("Remove a price you added or changed (the shipped price comes back)")
        self.remove_button.clicked.connect(self.remove_selected)
        add_row = QHBoxLayout()
        add_row.addWidget(self.model_combo, 2)
        add_row.addWidget(self.unit_combo)
        add_row.addWidget(self.price_spin)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.remove_button)

        self.budget = QDoubleSpinBox(self)
        self.budget.setObjectName("BudgetSpin")
        self.budget.setDecimals(2)
        self.budget.setRange(0.0, 100_000.0)
        self.budget.setSingleStep(1.0)
        self.budget.setPrefix("$")
        self.budget.setSpecialValueText("No cap")
        self.budget.setMaximumWidth(180)
        self.budget.setToolTip("Refuse a submission that would take today's estimated spend past this. "
                               "0 means no cap.")
        cap = data.get("budget_daily_usd")
        self.budget.setValue(float(cap) if isinstance(cap, int | float) and cap > 0 else 0.0)
        budget_form = QFormLayout()
        budget_form.addRow("Daily budget", self.budget)

        note = QLabel("Estimates use these prices. Shipped prices name where they were read; a price you change or "
                      "add is marked “your settings”. Models with no price show “Price unknown”.", self)
        note.setWordWrap(True)
        note.setProperty("role", "note")
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        self.detail = QLabel(self)
        self.detail.setObjectName("PriceDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.table)
        layout.addWidget(self.detail)
        layout.addLayout(add_row)
        layout.addLayout(budget_form)
        self._rebuild()

    # --- rows ------------------------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        shadowed = {(p.provider, p.model, p.condition) for p in self.user}
        self.rows = [(p, False) for p in self.user]
        self.rows += [(p, True) for p in DEFAULT_PRICES if (p.provider, p.model, p.condition) not in shadowed]
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for row, (price, shipped) in enumerate(self.rows):
            cells = (model_name(price.provider, price.model), UNITS.get(price.unit, price.unit), None,
                     price.condition, price.source, price.as_of or "—")
            for column, text in enumerate(cells):
                item = QTableWidgetItem()
                if column == self.USD_COLUMN:
                    item.setData(Qt.ItemDataRole.EditRole, price.usd)
                    item.setData(Qt.ItemDataRole.DisplayRole, f"${price.usd:.4g}")
                else:
                    item.setText(str(text))
                editable = column == self.USD_COLUMN or (column == self.CONDITION_COLUMN and not shipped)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if editable else flags)
                tips = {0: f"{price.provider} / {price.model}",
                        4: f"{price.source}{' (shipped with Reeldeck)' if shipped else ''}", 3: price.condition}
                item.setToolTip(tips.get(column, ""))
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        self._on_selection()

    def _on_item(self, item: QTableWidgetItem) -> None:
        row = item.row()
        if not 0 <= row < len(self.rows):
            return
        price, shipped = self.rows[row]
        if item.column() == self.USD_COLUMN:
            try:
                usd = float(item.data(Qt.ItemDataRole.EditRole))
            except (TypeError, ValueError):
                usd = price.usd
            changed = Price(price.provider, price.model, price.unit, usd, USER_SOURCE, self.today, price.condition)
        elif item.column() == self.CONDITION_COLUMN and not shipped:
            changed = Price(price.provider, price.model, price.unit, price.usd, USER_SOURCE, self.today,
                            item.text().strip())
        else:
            return
        self._replace(price, shipped, changed)

    def _replace(self, old: Price, shipped: bool, new: Price) -> None:
        if shipped:
            self.user.insert(0, new)
        else:
            self.user[self.user.index(old)] = new
        self._rebuild()

    def set_price(self, row: int, usd: float) -> None:
        """Edit a row's price (what typing in the cell does)."""
        item = self.table.item(row, self.USD_COLUMN)
        if item is not None:
            item.setData(Qt.ItemDataRole.EditRole, usd)

    def add(self, provider: str, model: str, unit: str, usd: float, condition: str = "") -> None:
        self.user.insert(0, Price(provider, model, unit, usd, USER_SOURCE, self.today, condition))
        self._rebuild()

    def pick_model(self, provider: str, model: str) -> None:
        """Choose the model of the next price to add."""
        self.model_combo.setCurrentIndex(self.model_keys.index((provider, model)))

    def add_from_fields(self) -> None:
        provider, model = self.model_keys[int(self.model_combo.currentData())]
        self.add(provider, model, str(self.unit_combo.currentData()), self.price_spin.value())

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.rows) and not self.rows[row][1]:
            self.user.remove(self.rows[row][0])
            self._rebuild()

    def _on_selection(self) -> None:
        row = self.table.currentRow()
        self.remove_button.setEnabled(0 <= row < len(self.rows) and not self.rows[row][1])
        if not 0 <= row < len(self.rows):
            self.detail.setText("Select a price to see where it comes from.")
            return
        price, shipped = self.rows[row]
        when = f" when {price.condition}" if price.condition else ""
        read = f", read {price.as_of}" if price.as_of else ""
        origin = "shipped with Reeldeck" if shipped else "set by you"
        self.detail.setText(f"<b>{html.escape(model_name(price.provider, price.model))}</b>: ${price.usd:g} "
                            f"{UNITS.get(price.unit, price.unit)}{html.escape(when)} — source: "
                            f"{html.escape(price.source)}{read} ({origin}).")

    # --- saving ----------------------------------------------------------------------------------------------

    def budget_cap(self) -> float | None:
        return self.budget.value() or None

    def apply(self, data: dict[str, Any]) -> None:
        """Write the user's prices and the cap into settings data (``Settings.save()`` writes the file)."""
        if self.user:
            data["prices"] = [asdict(p) for p in self.user]
        else:
            data.pop("prices", None)
        cap = self.budget_cap()
        if cap:
            data["budget_daily_usd"] = round(cap, 2)
        else:
            data.pop("budget_daily_usd", None)


def _overrides(data: Mapping[str, Any]) -> list[Price]:
    table = PriceTable.from_settings(data)
    return table.prices[: len(table.prices) - len(DEFAULT_PRICES)]


# --- the spend summary (Library) ---------------------------------------------------------------------------------


class SpendPanel(QGroupBox):
    """Estimated spend per day (the last week) and per provider, with today's budget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Estimated spend", parent)
        self.setObjectName("SpendPanel")
        self.cap: float | None = None
        self.by_day: dict[str, float] = {}
        self.by_provider: dict[str, float] = {}
        self.summary = QLabel(self)
        self.summary.setObjectName("SpendSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel("Estimates from the price table, for jobs that reached a provider.", self)
        self.note.setProperty("role", "note")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        self._jobs: list[Job] = []
        self.update_jobs([])

    def set_budget(self, cap: float | None) -> None:
        self.cap = cap
        self._show()

    def update_jobs(self, jobs: Iterable[Job], *, today: str | None = None) -> None:
        self._jobs = list(jobs)
        self.today = today or dt.date.today().isoformat()
        self.by_day = spend(self._jobs, by="day")
        self.by_provider = spend(self._jobs, by="provider")
        self._show()

    def today_spent(self) -> float:
        return self.by_day.get(self.today, 0.0)

    def _show(self) -> None:
        spent = self.today_spent()
        if self.cap:
            left = max(0.0, self.cap - spent)
            head = (f"Today <b>{format_usd(spent)}</b> of your {format_usd(self.cap)} daily budget "
                    f"({format_usd(left)} left)")
        else:
            head = f"Today <b>{format_usd(spent)}</b> · no daily budget set (Settings)"
        start = (dt.date.fromisoformat(self.today) - dt.timedelta(days=SPEND_DAYS - 1)).isoformat()
        days = [(day, usd) for day, usd in sorted(self.by_day.items(), reverse=True) if day >= start]
        week = sum(usd for _day, usd in days)
        day_rows = "".join(f"<tr><td>{_day_name(day, self.today)}</td><td align='right'>{format_usd(usd)}</td></tr>"
                           for day, usd in days) or "<tr><td colspan='2'><i>nothing yet</i></td></tr>"
        provider_rows = "".join(
            f"<tr><td>{html.escape(provider_name(p))}</td><td align='right'>{format_usd(usd)}</td></tr>"
            for p, usd in sorted(self.by_provider.items(), key=lambda kv: -kv[1])) \
            or "<tr><td colspan='2'><i>nothing yet</i></td></tr>"
        self.summary.setText(
            f"<p>{head}</p>"
            "<table width='100%'><tr>"
            f"<td valign='top' width='50%'><b>Last {SPEND_DAYS} days</b> ({format_usd(week)})"
            f"<table cellpadding='1'>{day_rows}</table></td>"
            f"<td valign='top'><b>By provider</b> (all time)<table cellpadding='1'>{provider_rows}</table></td>"
            "</tr></table>")


def _day_name(day: str, today: str) -> str:
    if day == today:
        return "Today"
    date = dt.date.fromisoformat(day)
    if (dt.date.fromisoformat(today) - date).days == 1:
        return "Yesterday"
    return date.strftime("%a %d %b")
