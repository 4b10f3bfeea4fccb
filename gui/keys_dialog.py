"""The API keys dialog: per provider set, test and remove a key, stored in the OS keyring via ``core.secrets``.

It says which keyring backend is in use. When there is none it says so plainly and offers session-only keys
(kept in memory until Reeldeck closes). A key is never shown back in full, only masked (``…abcd``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.errors import ReeldeckError
from core.keycheck import KeyCheck, check_key
from core.params import ProviderSpec
from core.providers import all_specs
from core.runtime import Runtime
from core.secrets import KeyStore, env_var, mask
from core.settings import Settings
from gui import work
from gui.wheel_guard import guard_wheel


def _restyle(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def forget_provider(runtime: Runtime, provider_id: str) -> None:
    """Make the engine build the provider again with the new key (the hub caches built providers); jobs waiting
    for a key try again."""
    runtime.apply_settings(provider_id=provider_id)


def describe_backend(keys: KeyStore) -> str:
    """'Secret Service (keyring.backends.SecretService.Keyring)' and the like."""
    backend = keys.backend
    name = " ".join(str(getattr(backend, "name", "") or type(backend).__name__).split())
    return f"{name} ({keys.backend_name})"


class KeyRow(QGroupBox):
    """One provider: its key's status, a field for a new one, Save / Test / Remove."""

    changed = Signal()

    def __init__(self, spec: ProviderSpec, dialog: KeysDialog) -> None:
        super().__init__(spec.name, dialog)
        self.spec = spec
        self.dialog = dialog
        self.setObjectName(f"keys_{spec.id}")
        self.status = QLabel(self)
        self.status.setObjectName("KeyStatus")
        self.field = QLineEdit(self)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("Paste a new key")
        self.field.setToolTip(spec.key_help)
        self.help = QLabel(spec.key_help, self)
        self.help.setWordWrap(True)
        self.help.setProperty("role", "note")
        self.save_button = QPushButton(self)
        self.test_button = QPushButton("Test", self)
        self.remove_button = QPushButton("Remove", self)
        self.result = QLabel(self)
        self.result.setObjectName("KeyResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid = QGridLayout(self)
        grid.addWidget(self.status, 0, 0, 1, 4)
        grid.addWidget(self.field, 1, 0)
        grid.addWidget(self.save_button, 1, 1)
        grid.addWidget(self.test_button, 1, 2)
        grid.addWidget(self.remove_button, 1, 3)
        grid.addWidget(self.help, 2, 0, 1, 4)
        grid.addWidget(self.result, 3, 0, 1, 4)
        grid.setColumnStretch(0, 1)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.remove)
        self.field.textChanged.connect(lambda _t: self.refresh())
        self.field.returnPressed.connect(self.save)
        self.refresh()

    @property
    def keys(self) -> KeyStore:
        return self.dialog.keys

    def refresh(self) -> None:
        source = self.keys.source(self.spec.id)
        key = self.keys.get(self.spec.id)
        shown = mask(key) if key else ""
        texts = {
            "environment": f"Key {shown} from the {env_var(self.spec.id)} environment variable (it wins over "
                           "the keyring).",
            "session": f"Key {shown} for this session only (forgotten when Reeldeck closes).",
            "keyring": f"Key {shown} stored in the keyring.",
        }
        self.status.setText(texts.get(source or "", "No key set."))
        self.save_button.setText("Save" if self.keys.available else "Use for this session")
        self.save_button.setEnabled(bool(self.field.text().strip()))
        self.remove_button.setEnabled(source in ("keyring", "session"))
        self.remove_button.setToolTip("" if source != "environment" else
                                      f"Unset {env_var(self.spec.id)} to remove this key.")
        self.test_button.setEnabled(bool(self.field.text().strip() or key) or self.dialog.sandbox)

    def _say(self, text: str, role: str) -> None:
        self.result.setText(text)
        _restyle(self.result, role)

    def save(self) -> None:
        key = self.field.text().strip()
        if not key:
            return
        try:
            if self.keys.available:
                self.keys.set(self.spec.id, key)
                said = f"Saved {mask(key)} in the keyring."
            else:
                if any(ch.isspace() for ch in key) or not key.isprintable():
                    raise ReeldeckError("The key contains spaces or control characters; nothing was kept.")
                self.keys.set_session(self.spec.id, key)
                said = f"Using {mask(key)} for this session only."
        except ReeldeckError as exc:
            self._say(exc.message, "error")
            return
        self.field.clear()
        self.dialog.key_changed(self.spec.id)
        self._say(said, "ok")
        self.refresh()
        self.changed.emit()

    def remove(self) -> None:
        try:
            removed = self.keys.delete(self.spec.id)
        except ReeldeckError as exc:
            self._say(exc.message, "error")
            return
        self.dialog.key_changed(self.spec.id)
        self._say("Key removed." if removed or self.keys.source(self.spec.id) is None else "No key was stored.",
                  "note")
        self.refresh()
        self.changed.emit()

    def test(self) -> None:
        if self.dialog.sandbox:
            self._say("Sandbox mode: keys are not needed; the built-in emulator accepts every request.", "ok")
            return
        key = self.field.text().strip() or self.keys.get(self.spec.id)
        if not key:
            self._say("Enter a key to test.", "error")
            return
        self._say("Testing…", "note")
        self.test_button.setEnabled(False)
        work.spawn(self.dialog.checker(self.spec.id, key), on_done=self._tested, owner=self,
                   on_error=lambda error: self._tested(KeyCheck(None, f"The test failed: {error}")))

    def _tested(self, result: KeyCheck) -> None:
        role = {True: "ok", False: "error", None: "note"}[result.ok]
        self._say(result.message, role)
        self.refresh()
        self.dialog.tested.emit(self.spec.id, result)


class KeysDialog(QDialog):
    """Keys for every provider."""

    tested = Signal(str, object)  # provider id, KeyCheck
    keyChanged = Signal(str)  # provider id: a key was set or removed

    def __init__(self, runtime: Runtime, parent: QWidget | None = None,
                 checker: Callable[[str, str], Awaitable[KeyCheck]] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("API keys")
        self.setObjectName("KeysDialog")
        self.runtime = runtime
        self.keys = runtime.keys
        self.sandbox = runtime.sandbox_mode
        self.checker = checker or self._check
        self.backend_label = QLabel(self)
        self.backend_label.setObjectName("BackendLabel")
        self.backend_label.setWordWrap(True)
        self.sandbox_label = QLabel("Sandbox mode is on: keys are not needed now. Keys you store here are used "
                                    "when you run Reeldeck without sandbox mode.", self)
        self.sandbox_label.setWordWrap(True)
        self.sandbox_label.setVisible(self.sandbox)
        _restyle(self.sandbox_label, "ok")
        self.rows: dict[str, KeyRow] = {}
        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        for spec in all_specs():
            row = KeyRow(spec, self)
            self.rows[spec.id] = row
            body_layout.addWidget(row)
        body_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.scroll_area = scroll
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.backend_label)
        layout.addWidget(self.sandbox_label)
        layout.addWidget(scroll, 1)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(buttons)
        layout.addLayout(footer)
        self.resize(640, 720)
        guard_wheel(self)
        self._show_backend()

    def _show_backend(self) -> None:
        if self.keys.available:
            self.backend_label.setText(f"Keys are stored in your system keyring: {describe_backend(self.keys)}.")
            _restyle(self.backend_label, "note")
        else:
            self.backend_label.setText(
                "<b>No keyring is available on this system</b>, so keys cannot be stored safely and will not be "
                "saved. You can use a key for this session only (it is forgotten when Reeldeck closes), or set "
                "REELDECK_&lt;PROVIDER&gt;_API_KEY in the environment. On Linux, installing and unlocking "
                f"gnome-keyring or KWallet fixes this. (Backend found: {self.keys.backend_name})")
            _restyle(self.backend_label, "error")

    async def _check(self, provider_id: str, key: str) -> KeyCheck:
        settings = Settings.load(self.runtime.data.settings_file)
        return await check_key(provider_id, key, settings)

    def key_changed(self, provider_id: str) -> None:
        """A key was set or removed: the engine must use it from now on, and logs must never show it."""
        self.runtime.remember_secret(provider_id)  # first: the engine's process holds an in-memory key before
        forget_provider(self.runtime, provider_id)  # it builds the provider again
        self.keyChanged.emit(provider_id)

    def focus_provider(self, provider_id: str) -> KeyRow | None:
        """Open at one provider (the form's "Set key…"): its row in view, the cursor in its key field."""
        row = self.rows.get(provider_id)
        if row is not None:
            self.scroll_area.ensureWidgetVisible(row)
            row.field.setFocus()
        return row
