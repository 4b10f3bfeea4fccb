"""The composer: provider and model pickers, the generated parameter form, the input slots and Submit.

Validation is live: every edit runs ``core.params.validate`` to compute the mode and the problems. While the form
is invalid, Submit (Ctrl+Enter) is disabled and the reason is shown beside it: as a quiet hint until the person
acts (edits the form or presses Submit), in red after. What is missing is said from the declaration's data (the
labels people see), not from the command line's words.

A provider that lacks a key or a base URL says so as soon as it is chosen, with a button to set it
(``setup_check``, ``setupRequested``). Text typed into a prompt is kept across models and providers, even through
one without a prompt; ``draft()`` and ``restore_draft()`` keep the whole form across restarts.

A prompt with placeholders (a template, ``core.templates``) shows a field per placeholder under it; Submit sends the
prompt filled in (``sent_request``), while Batch… gets the template itself to run over lists of values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.costs import Estimate, PriceTable
from core.errors import InputError
from core.jobs import Job
from core.params import LifecycleStatus, Mode, ModelSpec, ParamType, ProviderSpec, RequestProblems, validate
from core.providers import all_specs
from core.runtime import SetupNeed
from core.submission import JobRequest, check_usable, estimate_request
from core.templates import TemplateError, fill, is_template, parse_template
from gui.cost import estimate_text
from gui.form import ModelForm, TextEditor
from gui.layouts import column, vertical_scroll
from gui.preview_item import PRESET_PREFIX
from gui.slots import SlotsPanel
from gui.template_fields import TemplateFields


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Composer(QWidget):
    """Builds a ``JobRequest`` from the declarations of every provider; emits ``submitRequested``."""

    submitRequested = Signal(object)  # JobRequest
    batchRequested = Signal(object)  # JobRequest: the base of a batch
    validityChanged = Signal(bool)
    setupRequested = Signal(str, str)  # what ("key" | "base_url"), provider id
    historyRequested = Signal()  # the prompt history, to pick a prompt used before
    edited = Signal()  # the form's request changed (a draft worth keeping)

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
        #: What a provider lacks before it can be used (the window passes the runtime's ``setup_need``).
        self.setup_check: Callable[[str], SetupNeed | None] = lambda _provider_id: None
        self.setup_need: SetupNeed | None = None
        #: Text typed into text parameters (the prompt), kept across models and providers.
        self.texts: dict[str, str] = {}
        #: The values typed for a template's placeholders, by name (kept across models, like the texts).
        self.fill_values: dict[str, str] = {}
        self.template_fields: TemplateFields | None = None
        self._acted = False
        self._baseline: tuple[str, str, str] | None = None

        self.provider_combo = QComboBox(self)
        self.provider_combo.setObjectName("ProviderCombo")
        for spec in self.specs:
            self.provider_combo.addItem(spec.name, spec.id)
            self.provider_combo.setItemData(self.provider_combo.count() - 1, spec.key_help,
                                            Qt.ItemDataRole.ToolTipRole)
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("ModelCombo")
        for combo in (self.provider_combo, self.model_combo):  # long names elide rather than widen the form
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        self.model_help = QLabel(self)
        self.model_help.setWordWrap(True)
        self.model_help.setProperty("role", "note")

        pickers = QFormLayout()
        pickers.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        pickers.addRow("&Provider", self.provider_combo)
        pickers.addRow("&Model", self.model_combo)
        pickers.addRow("", self.model_help)
        self.setup_notice = self._make_setup_notice()

        self.form_box = QGroupBox("Parameters", self)
        self.form_layout = QVBoxLayout(self.form_box)
        self.history_button = QPushButton("History…", self)
        self.history_button.setObjectName("PromptHistoryButton")
        self.history_button.setToolTip("Search the prompts you used before and put one in the form")
        self.history_button.clicked.connect(self.historyRequested)
        self.history_button.setVisible(False)
        self.slots_box = QGroupBox("Inputs", self)
        self.slots_layout = QVBoxLayout(self.slots_box)

        body = column(self, pickers, self.setup_notice, self.form_box, self.slots_box, 1)
        self.scroll_area = vertical_scroll(self, body, framed=False)

        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("ModeLabel")
        self.mode_label.setWordWrap(True)  # the footer also holds the estimate and two buttons
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("ReasonLabel")
        self.reason_label.setWordWrap(True)
        self.reason_label.setProperty("role", "note")
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

    def _make_setup_notice(self) -> QFrame:
        notice = QFrame(self)
        notice.setObjectName("SetupNotice")
        self.setup_label = QLabel(notice)
        self.setup_label.setObjectName("SetupText")
        self.setup_label.setWordWrap(True)
        self.setup_button = QPushButton(notice)
        self.setup_button.setObjectName("SetupButton")
        self.setup_button.clicked.connect(self._ask_setup)
        row = QHBoxLayout(notice)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.setup_label, 1)
        row.addWidget(self.setup_button, 0, Qt.AlignmentFlag.AlignVCenter)
        notice.setVisible(False)
        return notice

    def refresh_setup(self) -> SetupNeed | None:
        """Ask again what the chosen provider lacks (after keys or settings changed, or the world switched)."""
        provider_id = self.provider_id
        need = self.setup_check(provider_id) if provider_id else None
        self.setup_need = need
        if need is not None:
            self.setup_label.setText(need.message)
            self.setup_button.setText("Set key…" if need.what == "key" else "Settings…")
            self.setup_button.setToolTip("Edit → API keys…" if need.what == "key" else "Edit → Settings…")
        self.setup_notice.setVisible(need is not None)
        self.revalidate()
        return need

    def _ask_setup(self) -> None:
        if self.setup_need is not None:
            self.setupRequested.emit(self.setup_need.what, self.setup_need.provider_id)

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
        models = spec.models if spec else ()
        for model in models:
            self._add_model_item(model)
        # A provider opens on a model that takes new jobs (AIHubMix lists retired Sora first).
        self.model_combo.setCurrentIndex(next((i for i, m in enumerate(models) if not _retired(m)), 0))
        self.model_combo.blockSignals(False)
        self._on_model()
        self.refresh_setup()

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
        self._remember_texts()
        self.history_button.setParent(self)  # out of the old prompt editor before it goes
        self.history_button.setVisible(False)
        for old in (self.form, self.slots):
            if old is not None:
                old.setParent(None)
                old.deleteLater()
        self.form, self.slots, self.template_fields = None, None, None
        self._acted = False
        model = self.model
        if model is None:
            self.model_help.setText("")
            self.revalidate()
            return
        self.model_help.setText(model.help)
        self.model_help.setVisible(bool(model.help))
        self.form = ModelForm(model, self.form_box)
        self.form_layout.addWidget(self.form)
        prompt = self.form.editor("prompt")
        if isinstance(prompt, TextEditor):  # Prompt history… under the prompt, beside its character count
            prompt.footer.addWidget(self.history_button)
            self.history_button.setVisible(True)
            self.template_fields = TemplateFields(self.fill_values, prompt)
            if (below := prompt.layout()) is not None:
                below.addWidget(self.template_fields)
            self.template_fields.changed.connect(self._on_fill_changed)
        same_provider = self._form_provider == self.provider_id
        carried = {k: v for k, v in previous_values.items()
                   if same_provider and not _is_text(model, k) and _fits(model, k, v)}
        carried |= {k: v for k, v in self.texts.items() if _is_text(model, k) and _fits(model, k, v)}
        self._form_provider = self.provider_id
        self.form.set_values(carried, reset_others=True)
        self.slots = SlotsPanel(self.provider_id, model.slots, self.slots_box, model_id=model.id)
        self.slots_layout.addWidget(self.slots)
        self.slots_box.setVisible(bool(model.slots))
        self.form.changed.connect(self._on_form_changed)
        self.slots.changed.connect(self._schedule_revalidate)
        self.slots.set_params(self.form.values())
        self.slots.set_inputs({k: v for k, v in previous_inputs.items() if model.slot(k) is not None})
        self._show_placeholders()
        self._settle_baseline()
        QTimer.singleShot(0, self.fit_width)

    def fit_width(self) -> int:
        """Never narrower than the form needs (it wraps its rows first): nothing is cut off or scrolls sideways."""
        body = self.scroll_area.widget()
        if body is None or (layout := body.layout()) is None:
            return self.scroll_area.minimumWidth()
        layout.activate()
        need = body.minimumSizeHint().width() + self.scroll_area.verticalScrollBar().sizeHint().width() + 2
        self.scroll_area.setMinimumWidth(need)
        return need

    def _remember_texts(self) -> None:
        """Keep what is typed into text parameters (the prompt) for the next model, whatever it takes."""
        if self.form is None:
            return
        for name, editor in self.form.editors.items():
            if editor.param.type == ParamType.TEXT:
                value = editor.value()
                self.texts[name] = "" if value is None else str(value)

    def _snapshot(self) -> tuple[str, str, str]:
        request = self.request()
        if request is None:
            return (self.provider_id, "", "")
        return (request.provider, request.model, repr((sorted(request.params.items()),
                                                       sorted(request.inputs.items()))))

    def _settle_baseline(self) -> None:
        """The form as filled by the program: problems stay quiet hints until the person changes it."""
        self._baseline = self._snapshot()
        self.revalidate()

    @property
    def acted(self) -> bool:
        """True once the person changed this form or pressed Submit (problems are then shown as errors)."""
        return self._acted or (self._baseline is not None and self._snapshot() != self._baseline)

    def _on_form_changed(self) -> None:
        if self.form is not None and self.slots is not None:
            self.slots.set_params(self.form.values())
        self._remember_texts()
        self._show_placeholders()
        self._schedule_revalidate()

    def _on_fill_changed(self) -> None:
        self._acted = True  # a value typed for a placeholder is the person acting on the form
        self._schedule_revalidate()

    def _show_placeholders(self) -> None:
        if self.template_fields is not None and self.form is not None:
            self.template_fields.set_text(str(self.form.values().get("prompt") or ""))

    def _schedule_revalidate(self) -> None:
        self._revalidate_timer.start()

    # --- validation ------------------------------------------------------------------------------------------

    def request(self) -> JobRequest | None:
        """The request the form describes now, or None when no model is selected."""
        model = self.model
        if model is None or self.form is None or self.slots is None:
            return None
        return JobRequest(self.provider_id, model.id, self.form.values(), self.slots.inputs())

    def sent_request(self) -> JobRequest | None:
        """The request Submit sends: ``request()`` with a template prompt's placeholders filled in from the fields
        under it (``{{``/``}}`` become braces). Raises TemplateError for a malformed template or a missing value."""
        request = self.request()
        prompt = request.params.get("prompt") if request is not None else None
        if request is None or not isinstance(prompt, str) or ("{" not in prompt and "}" not in prompt):
            return request
        values = self.template_fields.values() if self.template_fields is not None else {}
        return replace(request, params=request.params | {"prompt": fill(parse_template(prompt), values)})

    def prompt_template(self) -> str | None:
        """The form's prompt when it is a template (a prompt with placeholders), else None."""
        request = self.request()
        prompt = request.params.get("prompt") if request is not None else None
        return prompt if isinstance(prompt, str) and is_template(prompt) else None

    def revalidate(self) -> list[str]:
        """Validate now: update mode, problems, the reason text and the Submit button; returns the problems."""
        problems: list[str] = []
        mode = ""
        request = self.request()
        model = self.model
        if request is None or model is None:
            problems.append("Choose a provider and a model." if self.specs else "No provider is available.")
        elif (retired := self._retired_problem(model)) is not None:
            problems.append(retired)  # nothing else to fix: the model takes no new job
        else:
            try:
                request = self.sent_request() or request
            except TemplateError as exc:
                problems.append(exc.message)
            try:
                mode = validate(model, request.params, request.inputs).mode
            except InputError as exc:
                problems += plain_problems(model, request.params, request.inputs) or [in_form_words(exc, model)]
            if self.slots is not None:
                problems += self.slots.problems()
        if self._busy:
            problems.append("Submitting…")
        self.problems, self.mode = problems, mode
        self._show_state(model)
        self.edited.emit()
        return problems

    def _retired_problem(self, model: ModelSpec) -> str | None:
        """Why a retired model takes no new job, and a current one of the provider to use (core's rule)."""
        spec = self.spec
        try:
            if spec is not None:
                check_usable(spec, model)
        except InputError as exc:
            return exc.message
        return None

    def _show_state(self, model: ModelSpec | None) -> None:
        blocked = not self.problems and self.setup_need is not None  # the notice above says what to set
        valid = not self.problems and not blocked
        label = next((m.label for m in model.modes if m.name == self.mode), "") if model else ""
        waiting = "Set the key above first." if self.setup_need and self.setup_need.what == "key" else (
            "Set the address above first.")
        self.mode_label.setText((f"Mode: {label}" if label else "Ready to submit") if valid else
                                waiting if blocked else "")
        self.mode_label.setVisible(valid or blocked)
        self.reason_label.setText("\n".join(self.problems))
        self.reason_label.setProperty("role", "error" if self.acted and not self._busy else "note")
        _restyle(self.reason_label)
        self.reason_label.setVisible(bool(self.problems))
        self.update_estimate()
        self.batch_button.setEnabled(model is not None and not self._busy)
        self.submit_button.setEnabled(valid)
        self.submit_button.setToolTip("Queue this job (Ctrl+Enter)" if valid else
                                      "\n".join(self.problems) or self.mode_label.text())
        self.validityChanged.emit(valid)

    @property
    def valid(self) -> bool:
        return not self.problems and self.setup_need is None

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
        self._acted = True
        if self.revalidate() or self.setup_need is not None:
            return
        try:
            request = self.sent_request()
        except TemplateError as exc:  # revalidate said so already; never send a template unfilled
            self.show_error(exc.message)
            return
        if request is not None:
            self.submitRequested.emit(request)

    def request_batch(self) -> None:
        """Ask for the batch dialog with this form as its base (a template prompt unfilled: the batch fills it)."""
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
        self.reason_label.setProperty("role", "error")
        _restyle(self.reason_label)
        self.reason_label.setVisible(True)

    def load_job(self, job: Job) -> bool:
        """Fill the form from a job (Duplicate): provider, model, parameters and inputs."""
        return self.load_request(JobRequest(job.provider, job.model, dict(job.params), dict(job.inputs)))

    def load_request(self, request: JobRequest, *, acted: bool = True) -> bool:
        """Fill the form from a request (Duplicate, Reuse settings from a sidecar); False for an unknown model.

        ``acted`` False (a draft restored at start) keeps the form's problems quiet hints until the person acts.
        """
        if not self.select(request.provider, request.model) or self.form is None or self.slots is None:
            return False
        self.form.set_values(dict(request.params), reset_others=True)
        inputs = {slot: [_from_stored(v) for v in values] for slot, values in request.inputs.items()}
        self.slots.set_params(self.form.values())
        self.slots.set_inputs(inputs)
        self._remember_texts()
        self._settle_baseline()
        self._acted = acted
        self.revalidate()
        return True

    def draft(self) -> dict[str, Any]:
        """The form as plain data (provider, model, params, inputs, typed texts) to keep across restarts."""
        request = self.request()
        self._remember_texts()
        if request is None:
            return {}
        return {"provider": request.provider, "model": request.model, "params": dict(request.params),
                "inputs": {k: list(v) for k, v in request.inputs.items()}, "texts": dict(self.texts)}

    def restore_draft(self, draft: dict[str, Any]) -> bool:
        """Put a ``draft()`` back; False when its model is not available (the form is left as it is)."""
        try:
            inputs = {str(k): [str(v) for v in values] for k, values in (draft.get("inputs") or {}).items()}
            request = JobRequest(str(draft["provider"]), str(draft["model"]), dict(draft.get("params") or {}), inputs)
            texts = {str(k): str(v) for k, v in (draft.get("texts") or {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return False
        self.texts |= texts
        return self.load_request(request, acted=False)

    def fill_first_empty(self, items: list[str]) -> int:
        """A drop anywhere on the window: fill the first empty slots."""
        return self.slots.fill_first_empty(items) if self.slots is not None else 0

    def set_prompt(self, text: str) -> None:
        """Convenience for tests and scripts: set the ``prompt`` parameter when the model has one."""
        if self.form is not None and (editor := self.form.editor("prompt")) is not None:
            editor.set_value(text)


def in_form_words(error: InputError, model: ModelSpec) -> str:
    """A core refusal in the form's words: a request's problems (data) name fields by the labels people see;
    any other refusal is already plain."""
    if not isinstance(error, RequestProblems):
        return error.message
    labels = {s.name: s.label for s in model.slots} | {p.name: p.label for p in model.params}
    return error.words(lambda field: f"“{labels.get(field, field)}”")


def plain_problems(model: ModelSpec, params: dict[str, Any], inputs: dict[str, list[str]]) -> list[str]:
    """What stops this request, in the form's words, worked out from the declaration's data: values a field does
    not take ("“Seed” must be at least 0") and what is missing ("To submit, fill in “Prompt” and add “Image”").

    Empty when the trouble is something else (two inputs that cannot go together): the core's message says it then.
    """
    problems = []
    for name, value in params.items():
        param = model.param(name)
        if param is None:
            continue
        try:
            param.coerce(value)
        except InputError as exc:
            problems.append(f"“{param.label}” {exc.message.removeprefix(param.name).strip()}")
    missing = _missing(model, params, inputs)
    if missing is not None and (missing[0] or missing[1]):
        fill, add = missing
        parts = ([f"fill in {_and(fill)}"] if fill else []) + ([f"add {_and(add)}"] if add else [])
        problems.append("To submit, " + " and ".join(parts) + ".")
    return problems


def _missing(model: ModelSpec, params: dict[str, Any],
             inputs: dict[str, list[str]]) -> tuple[list[str], list[str]] | None:
    """(labels of fields to fill in, labels of inputs to add) for the nearest way to use the model; None when the
    inputs given conflict with every way (the core explains that)."""
    filled = {k for k, v in params.items() if v is not None and str(v).strip()} | {k for k, v in inputs.items() if v}
    needed = [p.name for p in model.params if p.required and p.name not in filled]
    if model.modes and not any(mode.matches(filled) for mode in model.modes):
        nearest = min(model.modes, key=lambda mode: _distance(mode, filled))
        if any(name in filled for name in nearest.forbids):
            return None
        needed += [name for name in nearest.requires if name not in filled and name not in needed]
    fill = [f"“{p.label}”" for name in needed if (p := model.param(name)) is not None]
    add = [f"“{s.label}”" for name in needed if (s := model.slot(name)) is not None]
    return fill, add


def _distance(mode: Mode, filled: set[str]) -> tuple[int, int]:
    return sum(name in filled for name in mode.forbids), sum(name not in filled for name in mode.requires)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


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


def _retired(model: ModelSpec) -> bool:
    return model.lifecycle.status == LifecycleStatus.RETIRED
