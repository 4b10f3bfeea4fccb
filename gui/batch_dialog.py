"""The batch dialog: the form's prompt and inputs × several providers/models × several seeds, in one action.

A checklist of every provider and model, a seeds field ("1, 2, 3" or "10-13"), and a live table of what the batch
would queue: jobs per model, the estimate, and anything a model cannot take. The jobs come from
``core.batch.expand_batch`` and share a group id, so the queue shows them as one batch.

When the form's prompt is a template (``core.templates``), a Template box lists its placeholders, each with the
values to run over (typed separated by commas; the template's own list, or the form's value, to start with), and
how several lists combine: every combination (the cross product) or in step. The prompts are previewed and the job
count and estimate include them before anything is queued; a malformed template, or a placeholder with no value,
is said plainly and nothing can be queued.
"""

from __future__ import annotations

import html
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.batch import Target, expand_batch
from core.costs import Estimate, PriceTable, total
from core.errors import InputError
from core.params import ProviderSpec, validate
from core.providers import all_specs, provider_spec
from core.submission import JobRequest, estimate_request
from core.templates import Combine, Filled, Template, TemplateError, expand, parse_template, parse_values
from core.words import count
from gui.composer import in_form_words
from gui.cost import format_usd
from gui.safety import guarded
from gui.wheel_guard import guard_wheel

MAX_SEEDS = 16
MAX_JOBS = 48
PREVIEW = 6  # the template's prompts listed by their values before "and N more"
SEED_TOKEN = re.compile(r"^(-?\d+)(?:(?:\.\.|-)(-?\d+))?$")


NOTES_COLUMN = 3


class WrappedNotes(QStyledItemDelegate):
    """Rows as tall as their notes need at the Notes column's width (a tree measures rows without it)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    @guarded(QSize())
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        text = str(index.data() or "")
        if index.column() != NOTES_COLUMN or not text:
            return hint
        width = max(40, self.tree.header().sectionSize(NOTES_COLUMN) - 12)
        bounds = self.tree.fontMetrics().boundingRect(QRect(0, 0, width, 100_000),
                                                      int(Qt.TextFlag.TextWordWrap), text)
        return QSize(hint.width(), max(hint.height(), bounds.height() + 6))


def parse_seeds(text: str) -> list[int]:
    """'1, 2, 5-7' -> [1, 2, 5, 6, 7] (order kept, repeats dropped). Raises InputError with a plain reason."""
    seeds: list[int] = []
    for token in re.split(r"[,\s;]+", text.strip()):
        if not token:
            continue
        match = SEED_TOKEN.match(token)
        if match is None:
            raise InputError(f"“{token}” is not a seed: use whole numbers like 1, 2, 3 or a range like 10-13.")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise InputError(f"The range “{token}” runs backwards.")
        if high - low >= MAX_SEEDS:
            raise InputError(f"At most {MAX_SEEDS} seeds in a batch.")
        seeds.extend(range(low, high + 1))
    unique = list(dict.fromkeys(seeds))
    if len(unique) > MAX_SEEDS:
        raise InputError(f"At most {MAX_SEEDS} seeds in a batch.")
    return unique


class BatchDialog(QDialog):
    """Pick targets and seeds; ``requests()`` are the jobs to queue (one group)."""

    def __init__(self, base: JobRequest, *, prices: PriceTable | None = None,
                 budget: Callable[[Estimate], str | None] | None = None,
                 specs: Sequence[ProviderSpec] | None = None,
                 fills: Mapping[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.setObjectName("BatchDialog")
        self.base = base
        self.prices = prices or PriceTable()
        #: The core's budget rule (``Engine.budget_problem``): why a batch of this estimate (its cost, and how many
        #: of its jobs have no known price) would break the budget.
        self.budget = budget or (lambda estimate: None)
        self.specs = list(specs if specs is not None else all_specs())
        self.planned: list[JobRequest] = []
        self.problems: list[str] = []
        self.estimate = Estimate(None, "")

        prompt = str(base.params.get("prompt") or "")
        self.template: Template | None = None
        self.template_error = ""
        try:
            self.template = parse_template(prompt) if prompt else None
        except TemplateError as exc:
            self.template_error = exc.message
        self.filled: list[Filled] = []  # the template's prompts, with the values that made each
        inputs = sum(len(v) for v in base.inputs.values())
        templated = self.template is not None and bool(self.template.placeholders)
        self.intro = QLabel(
            f"<b>{'Template' if templated else 'Prompt'}:</b> {html.escape(_short(prompt)) or '<i>(none)</i>'}<br>"
            f"<b>Inputs:</b> {count(inputs, 'file')} from the form. Each checked model gets one job per "
            f"{'prompt × ' if templated else ''}seed (models without a seed parameter get one job"
            f"{' per prompt' if templated else ''}).", self)
        self.intro.setWordWrap(True)
        self.template_box = self._make_template_box(dict(fills or {}))

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("BatchTargets")
        self.tree.setHeaderLabels(["Provider / model", "Jobs", "Estimate", "Notes"])
        self.tree.setRootIsDecorated(True)
        self.tree.setWordWrap(True)  # a long note wraps in a taller row instead of being cut off
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NOTES_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 50)
        header.resizeSection(2, 80)
        self.tree.setItemDelegate(WrappedNotes(self.tree))
        header.sectionResized.connect(lambda *_: self.tree.doItemsLayout())  # wrapped rows fit their new width
        self.items: dict[tuple[str, str], QTreeWidgetItem] = {}
        for spec in self.specs:
            top = QTreeWidgetItem(self.tree, [spec.name])
            top.setFlags(top.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            top.setCheckState(0, Qt.CheckState.Unchecked)
            for model in spec.models:
                child = QTreeWidgetItem(top, [model.label])
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = (spec.id, model.id) == (base.provider, base.model)
                child.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                child.setToolTip(0, f"{spec.id} / {model.id}")
                self.items[(spec.id, model.id)] = child
        if (current := self.items.get((base.provider, base.model))) is not None:
            self.tree.setCurrentItem(current)

        self.seeds = QLineEdit(self)
        self.seeds.setObjectName("BatchSeeds")
        self.seeds.setPlaceholderText("e.g. 1, 2, 3 or 10-13 — empty: one job per model")
        seed = base.params.get("seed")
        if seed not in (None, ""):
            self.seeds.setText(str(seed))
        self.random_button = QPushButton("4 random seeds", self)
        self.random_button.clicked.connect(self.random_seeds)
        seeds_row = QHBoxLayout()
        seeds_row.addWidget(QLabel("Seeds", self))
        seeds_row.addWidget(self.seeds, 1)
        seeds_row.addWidget(self.random_button)

        self.summary = QLabel(self)
        self.summary.setObjectName("BatchSummary")
        self.summary.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("BatchError")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.queue_button = self.buttons.addButton("Queue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.queue_button.setObjectName("BatchQueue")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.template_box)
        layout.addWidget(self.tree, 1)
        layout.addLayout(seeds_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.tree.itemChanged.connect(lambda *_: self.refresh())
        self.seeds.textChanged.connect(lambda _t: self.refresh())
        self.resize(760, 620)
        guard_wheel(self)
        self.refresh()

    def _make_template_box(self, fills: dict[str, str]) -> QGroupBox:
        """The placeholders with their lists of values, how the lists combine, and the prompts they make."""
        box = QGroupBox("Template: one job per prompt", self)
        box.setObjectName("BatchTemplate")
        placeholders = self.template.placeholders if self.template is not None else ()
        rows = QFormLayout()
        rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.value_edits: dict[str, QLineEdit] = {}
        for placeholder in placeholders:
            edit = QLineEdit(", ".join(placeholder.values) or fills.get(placeholder.name, ""), box)
            edit.setObjectName(f"BatchValues_{placeholder.name}")
            edit.setPlaceholderText("values separated by commas, e.g. fox, owl, elk")
            edit.setToolTip(f"Each value makes prompts with {placeholder.token} replaced by it")
            edit.textChanged.connect(lambda _t: self.refresh())
            self.value_edits[placeholder.name] = edit
            rows.addRow(placeholder.token, edit)
        self.every_button = QRadioButton("Every combination", box)
        self.every_button.setObjectName("BatchCombineEvery")
        self.every_button.setChecked(True)
        self.paired_button = QRadioButton("In step (1st with 1st, 2nd with 2nd, …)", box)
        self.paired_button.setObjectName("BatchCombinePaired")
        self.combine_group = QButtonGroup(box)
        for button in (self.every_button, self.paired_button):
            self.combine_group.addButton(button)
        self.combine_group.buttonToggled.connect(lambda _button, checked: checked and self.refresh())
        combine_row = QHBoxLayout()
        combine_row.addWidget(self.every_button)
        combine_row.addWidget(self.paired_button)
        combine_row.addStretch(1)
        self.combine_note = QLabel(box)
        self.combine_note.setObjectName("BatchCombineNote")
        self.combine_note.setProperty("role", "note")
        self.combine_note.setWordWrap(True)
        self.preview = QLabel(box)
        self.preview.setObjectName("BatchPrompts")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(box)
        layout.addLayout(rows)
        layout.addLayout(combine_row)
        layout.addWidget(self.combine_note)
        layout.addWidget(self.preview)
        for widget in (self.every_button, self.paired_button):
            widget.setVisible(len(placeholders) > 1)
        box.setVisible(bool(placeholders))
        return box

    # --- choices ---------------------------------------------------------------------------------------------

    @property
    def combine(self) -> Combine:
        return Combine.PAIRED if self.paired_button.isChecked() else Combine.EVERY

    def set_combine(self, combine: Combine | str) -> None:
        (self.paired_button if Combine(combine) == Combine.PAIRED else self.every_button).setChecked(True)

    def targets(self) -> list[Target]:
        return [Target(*key) for key, item in self.items.items() if item.checkState(0) == Qt.CheckState.Checked]

    def set_targets(self, targets: Sequence[tuple[str, str]]) -> None:
        wanted = set(targets)
        self.tree.blockSignals(True)
        for key, item in self.items.items():
            item.setCheckState(0, Qt.CheckState.Checked if key in wanted else Qt.CheckState.Unchecked)
        self.tree.blockSignals(False)
        self.refresh()

    def random_seeds(self) -> None:
        self.seeds.setText(", ".join(str(random.randint(1, 2**31 - 2)) for _ in range(4)))

    def template_text(self) -> str | None:
        """The form's prompt when it is a template the batch runs over, else None."""
        return self.template.text if self.template is not None and self.template.placeholders else None

    def requests(self) -> list[JobRequest]:
        """The jobs to queue (valid only while ``problems`` is empty)."""
        return list(self.planned)

    # --- the plan --------------------------------------------------------------------------------------------

    def refresh(self) -> list[str]:
        """Expand the batch, validate every job against its model, estimate, and show it all."""
        problems: list[str] = []
        try:
            seeds = parse_seeds(self.seeds.text())
        except InputError as exc:
            seeds = []
            problems.append(exc.message)
        prompts, template_problem = self._expand_template()
        if template_problem:
            problems.append(template_problem)
        targets = self.targets()
        planned = expand_batch(self.base, targets, seeds, prompts) if targets and not template_problem else []
        per_target: dict[tuple[str, str], list[JobRequest]] = {}
        for request in planned:
            per_target.setdefault((request.provider, request.model), []).append(request)
        estimates = []
        self.tree.blockSignals(True)
        for key, item in self.items.items():
            jobs = per_target.get(key, [])
            if not jobs:
                for column in (1, 2, 3):
                    item.setText(column, "")
                continue
            model = provider_spec(key[0]).model(key[1])
            notes = self._notes(key, jobs[0], bool(seeds))
            for request in jobs:
                try:
                    validate(model, request.params, request.inputs)
                except InputError as exc:
                    message = f"{provider_spec(key[0]).name} · {model.label}: {in_form_words(exc, model)}"
                    if message not in problems:
                        problems.append(message)
                    notes.insert(0, in_form_words(exc, model))
                    break
            job_estimates = [estimate_request(self.prices, r) for r in jobs]
            estimates += job_estimates
            known = [e.usd for e in job_estimates if e.usd is not None]
            item.setText(1, str(len(jobs)))
            item.setText(2, format_usd(sum(known)) if len(known) == len(jobs) else "unknown")
            item.setToolTip(2, job_estimates[0].explanation)
            item.setText(3, "; ".join(dict.fromkeys(note.rstrip(".") for note in notes)))
            item.setToolTip(3, "\n".join(dict.fromkeys(notes)))
        self.tree.blockSignals(False)
        if not targets:
            problems.append("Check at least one provider / model.")
        if len(planned) > MAX_JOBS:
            problems.append(f"That is {len(planned)} jobs; a batch holds at most {MAX_JOBS}.")
        for item in self.items.values():  # show every provider that has a checked model
            if item.checkState(0) == Qt.CheckState.Checked and (top := item.parent()) is not None:
                top.setExpanded(True)
        self.estimate = total(estimates)
        over_budget = self.budget(self.estimate)
        if over_budget:
            problems.append(over_budget)
        self.planned, self.problems = planned, problems
        models = len(per_target)
        prompt_count = f" × {count(len(prompts), 'prompt')}" if self.template_box.isVisibleTo(self) else ""
        self.summary.setText(
            f"<b>{count(len(planned), 'job')}</b> on {count(models, 'model')}{prompt_count} × "
            f"{count(max(1, len(seeds)), 'seed')} · " + (
                f"estimated <b>{format_usd(self.estimate.usd)}</b> — {self.estimate.explanation}"
                if self.estimate.usd is not None else self.estimate.explanation) if planned else
            "Nothing to queue yet.")
        self.error.setText("\n".join(problems))
        self.error.setVisible(bool(problems))
        self.queue_button.setText(f"Queue {count(len(planned), 'job')}" if planned else "Queue")
        self.queue_button.setEnabled(bool(planned) and not problems)
        return problems

    def _expand_template(self) -> tuple[list[str], str]:
        """The prompts the batch runs (one when the prompt has no placeholders), and what stops them."""
        if self.template_error:
            return [], self.template_error
        if self.template is None:
            return [], ""
        lists = {name: parse_values(edit.text()) for name, edit in self.value_edits.items()}
        try:
            self.filled = expand(self.template, lists, self.combine, limit=MAX_JOBS)
        except TemplateError as exc:
            self.filled = []
            self._show_prompts(lists)
            return [], exc.message
        self._show_prompts(lists)
        return [f.prompt for f in self.filled], ""

    def _show_prompts(self, lists: dict[str, list[str]]) -> None:
        sizes = [len(values) for values in lists.values()]
        if len(sizes) < 2:
            how = "One prompt per value."
        elif self.combine == Combine.EVERY:
            how = f"Every combination: {' × '.join(map(str, sizes))} = {count(math.prod(sizes), 'prompt')}."
        else:
            how = "In step: the first values together, then the second, … (a single value goes with every prompt)."
        self.combine_note.setText(how)
        shown = [" · ".join(f.values.values()) for f in self.filled[:PREVIEW]]
        more = len(self.filled) - len(shown)
        self.preview.setText(
            f"<b>{count(len(self.filled), 'prompt')}:</b> {html.escape(', '.join(shown))}"
            f"{f' and {more} more' if more > 0 else ''}<br><i>{html.escape(_short(self.filled[0].prompt, 140))}</i>"
            if self.filled else "")
        self.preview.setToolTip("\n".join(f.prompt for f in self.filled))
        self.preview.setVisible(bool(self.filled))

    def _notes(self, key: tuple[str, str], request: JobRequest, seeded: bool) -> list[str]:
        model = provider_spec(key[0]).model(key[1])
        notes = []
        dropped = [_slot_label(self.base, n) for n in self.base.inputs if n not in request.inputs]
        if dropped:
            notes.append("not used here: " + ", ".join(dropped).lower())
        if seeded and model.param("seed") is None:
            notes.append("no seed parameter: one job")
        if "prompt" in self.base.params and model.param("prompt") is None:
            notes.append("takes no prompt")
        return notes

    def accept(self) -> None:
        if self.refresh():
            return
        super().accept()


def _slot_label(request: JobRequest, name: str) -> str:
    try:
        slot = provider_spec(request.provider).model(request.model).slot(name)
    except Exception:
        return name
    return slot.label if slot is not None else name


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
