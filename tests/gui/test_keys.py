"""API keys: the dialog over an in-memory keyring, no keyring at all, key tests, and a real Secret Service."""

from __future__ import annotations

import uuid
from pathlib import Path

import keyring.backends.fail
import pytest
from guikit import MemoryKeyring, until
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from core.keycheck import check_key
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import SERVICE, KeyStore
from core.settings import Settings
from gui.keys_dialog import KeysDialog

SECRET = "sk-test-0123456789abcdef"


def every_text(dialog: KeysDialog) -> str:
    labels = [w.text() for w in dialog.findChildren(QLabel)]
    tips = [w.toolTip() for w in dialog.findChildren(QLineEdit)]
    return "\n".join(labels + tips)


def dialog_for(qtbot: QtBot, tmp_path: Path, keys: KeyStore, *, sandbox: bool = False) -> KeysDialog:
    runtime = Runtime(DataDir(tmp_path / "data"), sandbox_mode=sandbox, keys=keys)
    dialog = KeysDialog(runtime)
    qtbot.addWidget(dialog)
    return dialog


def test_set_and_remove_with_a_keyring(qtbot: QtBot, tmp_path: Path) -> None:
    backend = MemoryKeyring()
    dialog = dialog_for(qtbot, tmp_path, KeyStore(environ={}, backend=backend))
    assert "MemoryKeyring" in dialog.backend_label.text()
    row = dialog.rows["aihubmix"]
    assert row.status.text() == "No key set."
    row.field.setText(SECRET)
    assert row.save_button.text() == "Save"
    row.save_button.click()
    assert backend.passwords[(SERVICE, "aihubmix")] == SECRET
    assert "…cdef" in row.status.text()
    assert row.field.text() == ""
    assert SECRET not in every_text(dialog)  # never shown back in full
    assert row.remove_button.isEnabled()
    row.remove_button.click()
    assert (SERVICE, "aihubmix") not in backend.passwords
    assert row.status.text() == "No key set."


def test_bad_key_is_refused_inline(qtbot: QtBot, tmp_path: Path) -> None:
    backend = MemoryKeyring()
    dialog = dialog_for(qtbot, tmp_path, KeyStore(environ={}, backend=backend))
    row = dialog.rows["goapi"]
    row.field.setText("has a space")
    row.save_button.click()
    assert "spaces" in row.result.text()
    assert backend.passwords == {}


def test_environment_key_wins_and_cannot_be_removed_here(qtbot: QtBot, tmp_path: Path) -> None:
    keys = KeyStore(environ={"REELDECK_NOVITA_API_KEY": SECRET}, backend=MemoryKeyring())
    dialog = dialog_for(qtbot, tmp_path, keys)
    row = dialog.rows["novita"]
    assert "REELDECK_NOVITA_API_KEY" in row.status.text() and "…cdef" in row.status.text()
    assert not row.remove_button.isEnabled()
    assert SECRET not in every_text(dialog)


def test_no_keyring_offers_session_keys(qtbot: QtBot, tmp_path: Path) -> None:
    keys = KeyStore(environ={}, backend=keyring.backends.fail.Keyring())
    dialog = dialog_for(qtbot, tmp_path, keys)
    assert "No keyring is available" in dialog.backend_label.text()
    assert dialog.backend_label.property("role") == "error"
    row = dialog.rows["aimlapi"]
    row.field.setText(SECRET)
    assert row.save_button.text() == "Use for this session"
    row.save_button.click()
    assert keys.get("aimlapi") == SECRET and keys.source("aimlapi") == "session"
    assert "this session only" in row.status.text()
    row.remove_button.click()
    assert keys.get("aimlapi") is None


def test_sandbox_says_keys_are_not_needed(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = dialog_for(qtbot, tmp_path, KeyStore(environ={}, backend=MemoryKeyring()), sandbox=True)
    assert not dialog.sandbox_label.isHidden()
    row = dialog.rows["gateway"]
    assert row.test_button.isEnabled()
    row.test_button.click()
    assert "not needed" in row.result.text()


async def test_key_check_against_the_emulator(tmp_path: Path) -> None:
    from core.sandbox import Sandbox

    sandbox = Sandbox(tmp_path / "sandbox", valid_keys={"aihubmix": SECRET, "novita": SECRET})
    await sandbox.start()
    try:
        settings = Settings(None, environ=sandbox.endpoints())
        good = await check_key("aihubmix", SECRET, settings)
        bad = await check_key("aihubmix", "sk-wrong-key-000000", settings)
        novita = await check_key("novita", SECRET, settings)
    finally:
        await sandbox.stop()
    assert good.ok is True, good.message
    assert bad.ok is False and "refused" in bad.message
    assert novita.ok is True, novita.message
    unreachable = await check_key("aihubmix", SECRET, Settings(None, environ={
        "REELDECK_AIHUBMIX_BASE_URL": "http://127.0.0.1:9"}))
    assert unreachable.ok is None and "reach" in unreachable.message


async def test_test_button_reports_the_check(qtbot: QtBot, tmp_path: Path) -> None:
    from core.keycheck import KeyCheck

    calls: list[tuple[str, str]] = []

    async def fake_check(provider_id: str, key: str) -> KeyCheck:
        calls.append((provider_id, key))
        return KeyCheck(False, "AIHubMix refused this key.")

    runtime = Runtime(DataDir(tmp_path / "data"), keys=KeyStore(environ={}, backend=MemoryKeyring()))
    dialog = KeysDialog(runtime, checker=fake_check)
    qtbot.addWidget(dialog)
    row = dialog.rows["aihubmix"]
    row.field.setText(SECRET)
    row.test_button.click()
    await until(lambda: "refused" in row.result.text(), what="the test result")
    assert calls == [("aihubmix", SECRET)]
    assert row.result.property("role") == "error"


def secret_service_unavailable() -> str | None:
    """Why a real Secret Service cannot be used here, or None when it can."""
    try:
        from keyring.backends import SecretService

        backend = SecretService.Keyring()
        if backend.priority <= 0:  # raises when no D-Bus session / no secrets daemon
            return "the Secret Service backend reports no priority"
        backend.get_password("reeldeck-probe", "probe")
    except Exception as exc:
        return f"no Secret Service reachable ({type(exc).__name__}: {exc}); `./dev test` provides one"
    return None


@pytest.mark.skipif(secret_service_unavailable() is not None, reason=str(secret_service_unavailable()))
def test_real_secret_service_stores_reads_and_deletes(qtbot: QtBot, tmp_path: Path) -> None:
    from keyring.backends import SecretService

    provider = "aihubmix"
    keys = KeyStore(environ={}, backend=SecretService.Keyring())
    assert keys.available
    previous = keys.get(provider)
    secret = f"sk-real-{uuid.uuid4().hex}"
    try:
        dialog = dialog_for(qtbot, tmp_path, keys)
        assert "SecretService" in dialog.backend_label.text()
        row = dialog.rows[provider]
        row.field.setText(secret)
        row.save_button.click()
        assert SecretService.Keyring().get_password(SERVICE, provider) == secret
        assert keys.get(provider) == secret
        assert secret not in every_text(dialog)
        row.remove_button.click()
        assert SecretService.Keyring().get_password(SERVICE, provider) is None
    finally:
        if previous:
            keys.set(provider, previous)
