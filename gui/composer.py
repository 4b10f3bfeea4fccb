"""The composer: provider and model pickers, the generated parameter form, the input slots and Submit.

Validation is live: every edit runs ``core.params.validate`` to compute the mode and the problems. While the form
is invalid, Submit (Ctrl+Enter) is disabled and the reason is shown beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.costs import Estimate, PriceTable
from core.errors import InputError
from core.jobs import Job
from core.params import ModelSpec, ParamType, ProviderSpec, validate
from core.providers import all_specs
from core.submission import JobRequest
from gui.cost import estimate_request, estimate_text
from gui.form import ModelForm
from gui.preview_item import PRESET_PREFIX
from gui.slots import SlotsPanel


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Composer(QWidget):
    """Builds a ``JobRequest`` from the declarations of every provider; emits ``submitRequested``."""

    submitRequested = Signal(object)  # JobRequest
    batchRequested = Signal(object)  # JobRequest: the base of a batch
    validityChanged = Signal(bool)

    def __init__(self, specs: list[ProviderSpec] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = list(specs if specs is not None else all_specs())
        self.form: ModelForm | None = None
        self.slots: SlotsPanel | None = None
        self.mode = ""
        self.problems: list[str] = []
        self._busy = False
        self._form_provider = ""
        #: The prices estimates use (the window passes the engine's, which follow Settings).
        self.prices: Callable[[], PriceTable] = PriceTable

        self.provider_combo = QComboBox(self)
        self.provider_combo.setObjectName("ProviderCombo")
        for spec in self.specs:
            self.provider_combo.addItem(spec.name, spec.id)
            self.provider_combo.setItemData(self.provider_combo.count() - 1, spec.key_help,
                                            Qt.ItemDataRole.ToolTipRole)
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("ModelCombo")
        self.model_help = QLabel(self)
        self.model_help.setWordWrap(True)
        self.model_help.setProperty("role", "note")

        pickers = QFormLayout()
        pickers.addRow("&Provider", self.provider_combo)
        pickers.addRow("&Model", self.model_combo)
        pickers.addRow("", self.model_help)

        self.form_box = QGroupBox("Parameters", self)
        self.form_layout = QVBoxLayout(self.form_box)
        self.slots_box = QGroupBox("Inputs", self)
        self.slots_layout = QVBoxLayout(self.slots_box)

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(pickers)
        body_layout.addWidget(self.form_box)
        body_layout.addWidget(self.slots_box)
        body_layout.addStretch(1)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)

        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("ModeLabel")
        self.mode_label.setWordWrap(True)  # the footer also holds the estimate and two buttons
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("ReasonLabel")
        self.reason_label.setWordWrap(True)
        self.reason_label.setProperty("role", "error")
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.submit_button = QPushButton("Submit", self)
        self.submit_button.setObjectName("SubmitButton")
        self.submit_button.setToolTip("Queue this job (Ctrl+Enter)")
        self.submit_button.clicked.connect(self.submit)
        self.cost_label = QLabel(self)
        self.cost_label.setObjectName("CostLabel")
        self.cost_label.setProperty("role", "note")
        self.cost_label.setWordWrap(True)
        self.batch_button = QPushButton("Batch…", self)
        self.batch_button.setObjectName("BatchButton")
        self.batch_button.setToolTip("Run this prompt and inputs on several providers/models and seeds at once")
        self.batch_button.clicked.connect(self.request_batch)
        footer = QHBoxLayout()
        footer.addWidget(self.mode_label, 1)
        footer.addWidget(self.cost_label)
        footer.addWidget(self.batch_button)
        footer.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.reason_label)
        layout.addLayout(footer)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.submit)

        self._revalidate_timer = QTimer(self)
        self._revalidate_timer.setSingleShot(True)
        self._revalidate_timer.setInterval(0)
        self._revalidate_timer.timeout.connect(self.revalidate)

        self.provider_combo.currentIndexChanged.connect(self._on_provider)
        self.model_combo.currentIndexChanged.connect(self._on_model)
        if self.specs:
            self._on_provider()
        else:
            self.revalidate()

    # --- selection -------------------------------------------------------------------------------------------

    @property
    def provider_id(self) -> str:
        return str(self.provider_combo.currentData() or "")

    @property
    def spec(self) -> ProviderSpec | None:
        return next((s for s in self.specs if s.id == self.provider_id), None)

    @property
    def model(self) -> ModelSpec | None:
        spec = self.spec
        model_id = self.model_combo.currentData()
        return next((m for m in spec.models if m.id == model_id), None) if spec else None

    def select(self, provider_id: str, model_id: str | None = None) -> bool:
        """Pick a provider (and model); False when it is not known."""
        index = self.provider_combo.findData(provider_id)
        if index < 0:
            return False
        self.provider_combo.setCurrentIndex(index)
        if model_id is not None:
            model_index = self.model_combo.findData(model_id)
            if model_index < 0:
                return False
            self.model_combo.setCurrentIndex(model_index)
        return True

    def _on_provider(self) -> None:
        spec = self.spec
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in spec.models if spec else ():
            self._add_model_item(model)
        self.model_combo.blockSignals(False)
        self._on_model()

    def _add_model_item(self, model: ModelSpec) -> None:
        """A model in the list; a deprecated or retired one greyed, its lifecycle note as the tooltip."""
        life = model.lifecycle
        label = model.label if life.usable else f"{model.label} — {life.status}"
        self.model_combo.addItem(label, model.id)
        index = self.model_combo.count() - 1
        self.model_combo.setItemData(index, life.note or model.help if not life.usable else model.help,
                                     Qt.ItemDataRole.ToolTipRole)
        if not life.usable:
            grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            self.model_combo.setItemData(index, grey, Qt.ItemDataRole.ForegroundRole)

    def reload_models(self, provider_id: str | None = None, model_id: str | None = None) -> None:
        """Read the catalog again (a model was added) and pick ``provider_id``/``model_id`` when given."""
        current = self.provider_id, self.model_combo.currentData()
        self.specs = all_specs()
        self._on_provider()
        self.select(provider_id or current[0], model_id if provider_id else current[1])

    def _on_model(self) -> None:
        previous_values = self.form.values() if self.form else {}
        previous_inputs = self.slots.inputs() if self.slots else {}
        for old in (self.form, self.slots):
            if old is not None:
                old.setParent(None)
                old.deleteLater()
        self.form, self.slots = None, None
        model = self.model
        if model is None:
            self.model_help.setText("")
            self.revalidate()
            return
        self.model_help.setText(model.help)
        self.model_help.setVisible(bool(model.help))
        self.form = ModelForm(model, self.form_box)
        self.form_layout.addWidget(self.form)
        same_provider = self._form_provider == self.provider_id
        carried = {k: v for k, v in previous_values.items()
                   if (same_provider or _is_text(model, k)) and _fits(model, k, v)}
        self._form_provider = self.provider_id
        self.form.set_values(carried, reset_others=True)
        self.slots = SlotsPanel(self.provider_id, model.slots, self.slots_box)
        self.slots_layout.addWidget(self.slots)
        self.slots_box.setVisible(bool(model.slots))
        self.form.changed.connect(self._on_form_changed)
        self.slots.changed.connect(self._schedule_revalidate)
        self.slots.set_params(self.form.values())
        self.slots.set_inputs({k: v for k, v in previous_inputs.items() if model.slot(k) is not None})
        self.revalidate()

    def _on_form_changed(self) -> None:
        if self.form is not None and self.slots is not None:
            self.slots.set_params(self.form.values())
        self._schedule_revalidate()

    def _schedule_revalidate(self) -> None:
        self._revalidate_timer.start()

    # --- validation ------------------------------------------------------------------------------------------

    def request(self) -> JobRequest | None:
        """The request the form describes now, or None when no model is selected."""
        model = self.model
        if model is None or self.form is None or self.slots is None:
            return None
        return JobRequest(self.provider_id, model.id, self.form.values(), self.slots.inputs())

    def revalidate(self) -> list[str]:
        """Validate now: update mode, problems, the reason text and the Submit button; returns the problems."""
        problems: list[str] = []
        mode = ""
        request = self.request()
        model = self.model
        if request is None or model is None:
            problems.append("Choose a provider and a model." if self.specs else "No provider is available.")
        else:
            try:
                mode = validate(model, request.params, request.inputs).mode
            except InputError as exc:
                problems.append(friendly(exc.message, model))
            if self.slots is not None:
                problems += self.slots.problems()
        if self._busy:
            problems.append("Submitting…")
        self.problems, self.mode = problems, mode
        self._show_state(model)
        return problems

    def _show_state(self, model: ModelSpec | None) -> None:
        valid = not self.problems
        label = next((m.label for m in model.modes if m.name == self.mode), "") if model else ""
        if valid:
            self.mode_label.setText(f"Mode: {label}" if label else "Ready to submit")
            self.reason_label.setText("")
        else:
            self.mode_label.setText("Cannot submit yet")
            self.reason_label.setText("\n".join(self.problems))
        self.reason_label.setVisible(not valid)
        self.update_estimate()
        self.batch_button.setEnabled(model is not None and not self._busy)
        self.submit_button.setEnabled(valid)
        self.submit_button.setToolTip("Queue this job (Ctrl+Enter)" if valid else "\n".join(self.problems))
        self.validityChanged.emit(valid)

    @property
    def valid(self) -> bool:
        return not self.problems

    def update_estimate(self) -> Estimate | None:
        """Show what the job would cost beside Submit (the engine records the same estimate)."""
        request = self.request()
        if request is None:
            self.cost_label.setText("")
            return None
        estimate = estimate_request(self.prices(), request)
        self.cost_label.setText(estimate_text(estimate))
        self.cost_label.setToolTip(estimate.explanation)
        return estimate

    # --- actions ---------------------------------------------------------------------------------------------

    def submit(self) -> None:
        """Emit ``submitRequested`` when the form is valid (Submit button, Ctrl+Enter)."""
        self._revalidate_timer.stop()
        if self.revalidate():
            return
        request = self.request()
        if request is not None:
            self.submitRequested.emit(request)

    def request_batch(self) -> None:
        """Ask for the batch dialog with this form as its base."""
        request = self.request()
        if request is not None:
            self.batchRequested.emit(request)

    def set_busy(self, busy: bool) -> None:
        """While a submission is being prepared, Submit stays disabled."""
        self._busy = busy
        self.revalidate()

    def show_error(self, message: str) -> None:
        """Show a submission error (from the engine) where the reason goes."""
        self.reason_label.setText(message)
        self.reason_label.setVisible(True)

    def load_job(self, job: Job) -> bool:
        """Fill the form from a job (Duplicate): provider, model, parameters and inputs."""
        return self.load_request(JobRequest(job.provider, job.model, dict(job.params), dict(job.inputs)))

    def load_request(self, request: JobRequest) -> bool:
        """Fill the form from a request (Duplicate, Reuse settings from a sidecar); False for an unknown model."""
        if not self.select(request.provider, request.model) or self.form is None or self.slots is None:
            return False
        self.form.set_values(dict(request.params), reset_others=True)
        inputs = {slot: [_from_stored(v) for v in values] for slot, values in request.inputs.items()}
        self.slots.set_params(self.form.values())
        self.slots.set_inputs(inputs)
        self.revalidate()
        return True

    def fill_first_empty(self, items: list[str]) -> int:
        """A drop anywhere on the window: fill the first empty slots."""
        return self.slots.fill_first_empty(items) if self.slots is not None else 0

    def set_prompt(self, text: str) -> None:
        """Convenience for tests and scripts: set the ``prompt`` parameter when the model has one."""
        if self.form is not None and (editor := self.form.editor("prompt")) is not None:
            editor.set_value(text)


def friendly(message: str, model: ModelSpec) -> str:
    """Core messages name inputs as CLI flags (``--ref-image``); the window uses the labels people see."""
    names = {s.name: s.label for s in model.slots} | {p.name: p.label for p in model.params}
    for name in sorted(names, key=len, reverse=True):
        message = re.sub(rf"--{re.escape(name.replace('_', '-'))}\b", f"“{names[name]}”", message)
    return message


def _from_stored(value: str) -> str:
    return value.removeprefix(PRESET_PREFIX)


def _is_text(model: ModelSpec, name: str) -> bool:
    param = model.param(name)
    return param is not None and param.type == ParamType.TEXT


def _fits(model: ModelSpec, name: str, value: Any) -> bool:
    param = model.param(name)
    if param is None:
        return False
    try:
        param.coerce(value)
    except InputError:
        return False
    return True
