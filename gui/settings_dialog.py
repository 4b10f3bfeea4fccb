"""Settings: base URL and concurrency per provider, extra endpoints, the download folder, sandbox mode, and the
price table with the daily budget.

Base URLs are checked live with ``core.settings.check_url`` (https, or plain http only to this machine). Values
go to core's ``settings.json``; the sandbox toggle to the GUI's preferences. Prices, the budget, "send original
images" and the providers' addresses and options apply at once (the running engine reads them from its settings);
the download folder and how many jobs run at once take effect the next time Reeldeck starts, and the dialog says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConfigError
from core.providers import all_specs
from core.runtime import Runtime
from core.settings import Settings, check_url, extra_endpoints, provider_options
from gui.cost import PricesEditor
from gui.prefs import GuiPrefs
from gui.slots import image_sending
from gui.wheel_guard import guard_wheel

MAX_CONCURRENCY = 16


#: How each per-provider option value reads in the dialog, and its tooltip.
OPTION_LABELS = {
    ("gateway", "dialect", "page"): "The page's fields (image, last_image, reference_image_urls, aspect_ratio, "
                                    "extra_body)",
    ("gateway", "dialect", "new-api"): "new-api gateways (images[], size, duration, metadata)",
}
OPTION_HELP = {
    ("gateway", "dialect"): "Which request fields this gateway reads. Gateways built on new-api drop the page's "
                            "last_image, reference_image_urls, aspect_ratio and extra_body, so pick new-api for them. "
                            "Each job's details show the dialect it was sent in.",
}


def _restyle(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class UrlField(QWidget):
    """A URL line edit with its live verdict underneath."""

    def __init__(self, what: str, placeholder: str, env_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self.env_name = env_name
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.verdict)
        self.edit.textChanged.connect(lambda _t: self.check())

    def check(self) -> str | None:
        """The problem with the URL, or None when it is fine (empty means "the default")."""
        text = self.edit.text().strip()
        problem = None
        if text:
            try:
                check_url(text, self.what)
            except ConfigError as exc:
                problem = exc.message
        overridden = os.environ.get(self.env_name)
        if problem:
            self.verdict.setText(problem)
            _restyle(self.verdict, "error")
        elif overridden:
            self.verdict.setText(f"{self.env_name} is set in the environment ({overridden}); it wins over this.")
            _restyle(self.verdict, "note")
        else:
            self.verdict.setText("")
        self.verdict.setVisible(bool(self.verdict.text()))
        return problem

    def value(self) -> str:
        return self.edit.text().strip()


class SettingsDialog(QDialog):
    """Edit settings.json and the GUI preferences."""

    def __init__(self, runtime: Runtime, prefs: GuiPrefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.runtime = runtime
        self.prefs = prefs
        self.settings = Settings.load(runtime.data.settings_file)
        self.urls: dict[str, UrlField] = {}
        self.endpoints: dict[str, UrlField] = {}
        self.concurrency: dict[str, QSpinBox] = {}
        self.options: dict[tuple[str, str], QComboBox] = {}

        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        general = QGroupBox("General", body)
        general_form = QFormLayout(general)
        self.download_dir = QLineEdit(general)
        self.download_dir.setPlaceholderText(str(runtime.data.library))
        self.download_dir.setText(str(self.settings.data.get("download_dir") or ""))
        browse = QPushButton("Browse…", general)
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.download_dir, 1)
        folder_row.addWidget(browse)
        self.folder_verdict = QLabel(general)
        self.folder_verdict.setWordWrap(True)
        general_form.addRow("Download folder", folder_row)
        general_form.addRow("", self.folder_verdict)
        self.sandbox_box = QCheckBox("Start in sandbox mode (the built-in emulator; no keys, nothing charged)",
                                     general)
        self.sandbox_box.setChecked(prefs.sandbox_mode)
        general_form.addRow("", self.sandbox_box)
        self.originals_box = QCheckBox("Send original images (full size, only the provider's own limits applied)",
                                       general)
        self.originals_box.setToolTip(
            "Off: each image is scaled down to the most its model can use (about the size of the video), which "
            "is much faster to prepare and upload and looks the same. On: images go at full size.")
        self.originals_box.setChecked(self.settings.send_original_images())
        general_form.addRow("", self.originals_box)
        body_layout.addWidget(general)
        self.prices = PricesEditor(self.settings.data, body)
        body_layout.addWidget(self.prices)

        for spec in all_specs():
            group = QGroupBox(spec.name, body)
            form = QFormLayout(group)
            env_name = f"REELDECK_{spec.id.upper()}_BASE_URL"
            placeholder = spec.default_base_url or "Required: https://your-gateway.example"
            url = UrlField(f"The {spec.name} base URL", placeholder, env_name, group)
            url.edit.setText(str(self.settings.data.get("base_urls", {}).get(spec.id, "")))
            url.edit.setToolTip(f"Scheme + host[:port][/prefix]; the documented path is appended. Empty: "
                                f"{spec.default_base_url or 'not set'}.")
            self.urls[spec.id] = url
            form.addRow("Base URL", url)
            for extra_env, (pid, setting, default) in extra_endpoints().items():
                if pid != spec.id:
                    continue
                field = UrlField(f"{spec.name} {setting}", default, extra_env, group)
                field.edit.setText(str(self.settings.data.get("endpoints", {}).get(extra_env, "")))
                self.endpoints[extra_env] = field
                form.addRow(setting.replace("_", " ").capitalize(), field)
            for (pid, option), (default, allowed) in provider_options().items():
                if pid != spec.id:
                    continue
                choice = QComboBox(group)
                choice.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                for value in allowed:
                    choice.addItem(OPTION_LABELS.get((pid, option, value), value), value)
                stored = self.settings.data.get("options", {}).get(pid, {}).get(option, default)
                choice.setCurrentIndex(max(0, choice.findData(stored)))
                choice.setToolTip(OPTION_HELP.get((pid, option), ""))
                self.options[(pid, option)] = choice
                form.addRow(option.replace("_", " ").capitalize(), choice)
            spin = QSpinBox(group)
            spin.setRange(1, MAX_CONCURRENCY)
            spin.setValue(self.settings.concurrency(spec.id))
            spin.setToolTip("How many of this provider's jobs run at the same time.")
            self.concurrency[spec.id] = spin
            form.addRow("Jobs at once", spin)
            body_layout.addWidget(group)
        body_layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.restart_note = QLabel("Prices, the budget, sending original images and the providers' addresses apply "
                                   "at once; the download folder and jobs at once take effect the next time "
                                   "Reeldeck starts.", self)
        self.restart_note.setWordWrap(True)
        _restyle(self.restart_note, "note")
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        _restyle(self.error, "error")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.restart_note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        for field in [*self.urls.values(), *self.endpoints.values()]:
            field.edit.textChanged.connect(lambda _t: self.validate())
        self.download_dir.textChanged.connect(lambda _t: self.validate())
        self.resize(720, 760)
        guard_wheel(self)
        self.validate()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Download folder", self.download_dir.text())
        if folder:
            self.download_dir.setText(folder)

    def _folder_problem(self) -> str | None:
        text = self.download_dir.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a folder."
        if not path.is_absolute():
            return "Use a full path (starting at the root of the disk or ~)."
        return None

    def validate(self) -> list[str]:
        """Check every field; Save is enabled only when all are fine."""
        problems = [p for f in [*self.urls.values(), *self.endpoints.values()] if (p := f.check())]
        folder = self._folder_problem()
        self.folder_verdict.setText(folder or "")
        _restyle(self.folder_verdict, "error")
        self.folder_verdict.setVisible(bool(folder))
        if folder:
            problems.append(folder)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problems)
        self.error.setText("Fix the fields marked in red to save." if problems else "")
        self.error.setVisible(bool(problems))
        return problems

    def save(self) -> None:
        """Write settings.json and the sandbox preference, then close."""
        if self.validate():
            return
        try:
            for provider_id, field in self.urls.items():
                self.settings.set_base_url(provider_id, field.value() or None)
            endpoints = self.settings.data.setdefault("endpoints", {})
            for env_name, field in self.endpoints.items():
                if field.value():
                    endpoints[env_name] = check_url(field.value(), env_name)
                else:
                    endpoints.pop(env_name, None)
            self.settings.data["concurrency"] = {pid: spin.value() for pid, spin in self.concurrency.items()}
            for (pid, option), choice in self.options.items():
                self.settings.set_option(pid, option, choice.currentData())
            self.prices.apply(self.settings.data)
            if self.originals_box.isChecked():
                self.settings.data["send_original_images"] = True
            else:
                self.settings.data.pop("send_original_images", None)
            folder = self.download_dir.text().strip()
            if folder:
                self.settings.data["download_dir"] = str(Path(folder).expanduser())
            else:
                self.settings.data.pop("download_dir", None)
            self.settings.save()
        except (ConfigError, OSError) as exc:
            self.error.setText(getattr(exc, "message", None) or f"The settings could not be saved: {exc}")
            self.error.setVisible(True)
            return
        self._apply_now()
        self.prefs.sandbox_mode = self.sandbox_box.isChecked()
        self.prefs.sync()
        self.accept()

    def _apply_now(self) -> None:
        """The running engine reads prices, the budget, image sending and the providers' addresses and options from
        its settings: hand it the new ones (the input previews follow at once too), and have it build its providers
        again with them."""
        image_sending().set_originals(self.settings.send_original_images())
        keys = ("prices", "budget_daily_usd", "send_original_images", "base_urls", "endpoints", "options")
        self.runtime.apply_settings({key: self.settings.data.get(key) for key in keys})
