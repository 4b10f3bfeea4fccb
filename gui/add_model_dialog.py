"""Add a model… — declare a model of an OpenAI-shaped endpoint (AIHubMix ``/v1/videos``, the video gateway) by its
id and the common fields, without waiting for a release. The dialog only asks; ``core.providers.catalog`` writes
and checks the user's catalog file, and the model list is read again."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from core.errors import InputError
from core.providers import provider_spec
from core.providers.catalog import OPENAI_SHAPED, add_user_model, user_catalog_dir


class AddModelDialog(QDialog):
    """Asks for a provider, a model id, a label, the lengths and sizes it takes and whether it takes a first frame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a model")
        self.added: tuple[str, str] | None = None
        self.provider = QComboBox(self)
        for provider_id in OPENAI_SHAPED:
            self.provider.addItem(provider_spec(provider_id).name, provider_id)
        self.model_id = QLineEdit(self)
        self.model_id.setPlaceholderText("the provider's model id, e.g. veo-3.1-generate-preview")
        self.label = QLineEdit(self)
        self.label.setPlaceholderText("shown in the model list (optional)")
        self.seconds = QLineEdit(self)
        self.seconds.setPlaceholderText("lengths in seconds, comma-separated, e.g. 4, 8")
        self.sizes = QLineEdit(self)
        self.sizes.setPlaceholderText("sizes, comma-separated, e.g. 1280x720, 720x1280 (optional)")
        self.with_image = QCheckBox("Takes a first-frame image", self)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("AddModelProblem")
        form = QFormLayout()
        form.addRow("&Provider", self.provider)
        form.addRow("Model &id", self.model_id)
        form.addRow("&Label", self.label)
        form.addRow("L&engths", self.seconds)
        form.addRow("&Sizes", self.sizes)
        form.addRow("", self.with_image)
        note = QLabel(f"The model is saved as a catalog file in {user_catalog_dir()}; edit it there to add more "
                      "parameters.", self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                   parent=self)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _save(self) -> None:
        provider_id = str(self.provider.currentData())
        model_id = self.model_id.text().strip()
        if not model_id:
            self.problem.setText("Enter the model's id as the provider names it.")
            return
        try:
            add_user_model(provider_id, model_id, self.label.text().strip(), seconds=_items(self.seconds.text()),
                           sizes=_items(self.sizes.text()), with_image=self.with_image.isChecked())
        except InputError as exc:
            self.problem.setText(exc.message)
            return
        self.added = (provider_id, model_id)
        self.accept()


def _items(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
