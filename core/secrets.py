"""API keys: the OS keyring (through ``keyring``), or ``REELDECK_<ID>_API_KEY`` which overrides it.

Keys are never written anywhere else, never logged, and never shown back in full.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import keyring
import keyring.backend
import keyring.errors

from core.errors import ConfigError
from core.logs import REDACTOR
from core.redact import remember_key

SERVICE = "Reeldeck"


def env_var(provider_id: str) -> str:
    return f"REELDECK_{provider_id.upper()}_API_KEY"


def mask(key: str) -> str:
    """A key shown safely: its last four characters only."""
    return "…" + key[-4:] if len(key) > 8 else "…"


class KeyStore:
    """Reads and writes provider keys; the environment wins over the keyring."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._env = os.environ if environ is None else environ
        self._backend = backend
        self._session: dict[str, str] = {}

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        return self._backend or keyring.get_keyring()

    @property
    def backend_name(self) -> str:
        backend = self.backend
        return f"{type(backend).__module__}.{type(backend).__name__}"

    @property
    def available(self) -> bool:
        """False when keyring found no usable backend (common on headless Linux)."""
        backend = self.backend
        name = type(backend).__module__
        return not (name.startswith("keyring.backends.fail") or name.startswith("keyring.backends.null")
                    or (getattr(backend, "priority", 1) <= 0 and name.startswith("keyring.backends.chainer")))

    def get(self, provider_id: str) -> str | None:
        """The key for a provider, or None."""
        key = self._lookup(provider_id)
        remember_key(key)  # a key in use is redacted from every text that leaves Reeldeck
        return key

    def _lookup(self, provider_id: str) -> str | None:
        from_env = self._env.get(env_var(provider_id))
        if from_env:
            return from_env.strip()
        if provider_id in self._session:
            return self._session[provider_id]
        if not self.available:
            return None
        try:
            return self.backend.get_password(SERVICE, provider_id)
        except keyring.errors.KeyringError:
            return None

    def source(self, provider_id: str) -> str | None:
        """Where the key comes from: 'environment', 'session', 'keyring' or None."""
        if self._env.get(env_var(provider_id)):
            return "environment"
        if provider_id in self._session:
            return "session"
        return "keyring" if self.get(provider_id) else None

    def set(self, provider_id: str, key: str) -> None:
        key = key.strip()
        if not key:
            raise ConfigError("The key is empty; nothing was stored.")
        if any(ch.isspace() for ch in key) or not key.isprintable():
            raise ConfigError("The key contains spaces or control characters; nothing was stored.")
        if not self.available:
            raise ConfigError(
                "No keyring backend is available on this system (on headless Linux, install and unlock "
                f"gnome-keyring or KWallet). Use the {env_var(provider_id)} environment variable instead."
            )
        REDACTOR.add(key)
        try:
            self.backend.set_password(SERVICE, provider_id, key)
        except keyring.errors.KeyringError as exc:
            raise ConfigError(f"The keyring refused to store the key: {type(exc).__name__}.") from None

    def set_session(self, provider_id: str, key: str) -> None:
        """Keep a key in memory only, for this run (when no keyring is available)."""
        REDACTOR.add(key.strip())
        self._session[provider_id] = key.strip()

    def session_keys(self) -> dict[str, str]:
        """The keys kept in memory for this run (the engine's process is handed them: it has no other way)."""
        return dict(self._session)

    def use_session_keys(self, keys: dict[str, str]) -> None:
        """Hold exactly these in-memory keys (the window's, in the engine's process); the keyring is not touched."""
        for key in keys.values():
            REDACTOR.add(key)
        self._session = dict(keys)

    def delete(self, provider_id: str) -> bool:
        """Remove a stored key; False when there was none."""
        self._session.pop(provider_id, None)
        if not self.available:
            return False
        try:
            self.backend.delete_password(SERVICE, provider_id)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise ConfigError(f"The keyring refused to delete the key: {type(exc).__name__}.") from None
        return True
