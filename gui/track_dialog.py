"""File → "Track a task by id…": follow a task made elsewhere (another machine, the provider's dashboard).

The dialog only asks: provider, model and the task id. The engine's ``track`` makes the job (the same operation
as ``python main.py track``); it is then polled, downloaded and kept like any other job.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from core.providers import all_specs


class TrackDialog(QDialog):
    """Asks for a provider, a model and a remote task id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Track a task by id")
        self.provider_box = QComboBox(self)
        self.model_box = QComboBox(self)
        self.task_edit = QLineEdit(self)
        self.task_edit.setPlaceholderText("The task id the provider shows (e.g. on its dashboard)")
        self.task_edit.setClearButtonEnabled(True)
        for spec in all_specs():
            self.provider_box.addItem(spec.name, spec.id)
        self.provider_box.currentIndexChanged.connect(self._fill_models)
        self._fill_models()

        intro = QLabel("Follow a video being made at a provider — started on another computer or on the provider's "
                       "website — and download it into the library when it is ready. Nothing new is created or "
                       "charged.", self)
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Provider", self.provider_box)
        form.addRow("Model", self.model_box)
        form.addRow("Task id", self.task_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        parent=self)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Track")
        ok.setEnabled(False)
        self.task_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(460, self.sizeHint().height())

    def _fill_models(self) -> None:
        provider_id = self.provider_box.currentData()
        self.model_box.clear()
        for spec in all_specs():
            if spec.id == provider_id:
                for model in spec.models:
                    self.model_box.addItem(f"{model.label} ({model.id})", model.id)

    def choice(self) -> tuple[str, str, str]:
        """(provider id, model id, task id) as entered."""
        return str(self.provider_box.currentData()), str(self.model_box.currentData()), self.task_edit.text().strip()
