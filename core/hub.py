"""Builds ready-to-use provider instances from settings, keys and (in sandbox mode) the emulator's endpoints."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import certifi
import httpx

from core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    NetworkError,
    NoCreditsError,
    NotFoundError,
    ProviderError,
)
from core.http import ApiClient, RetryPolicy, Sleep, Transport
from core.providers import provider_class
from core.providers.base import Provider
from core.providers.errors import classifier
from core.secrets import KeyStore, env_var
from core.settings import Settings, extra_endpoints, provider_options

SANDBOX_KEY = "sandbox-key"
#: API requests in flight at once across all providers; below the pool's 64 connections (see Transport._gate).
MAX_IN_FLIGHT = 48
USER_AGENT = "Reeldeck/0.1 (+https://github.com/reeldeck)"


def ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Certificate verification against certifi's CAs, plus the CAs in ``ca_bundle`` (REELDECK_CA_BUNDLE).

    Verification is never switched off: a server whose certificate no trusted CA signed is refused.
    """
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"The CA bundle {ca_bundle} (REELDECK_CA_BUNDLE) cannot be used: it must be a PEM "
                              f"file of CA certificates ({exc}).") from None
    return context


def make_http_client(timeout: float = 60.0, *, ca_bundle: Path | None = None) -> httpx.AsyncClient:
    """The shared HTTP client: TLS verification on, no automatic redirects (we follow them by hand)."""
    return httpx.AsyncClient(
        verify=ssl_context(ca_bundle),
        timeout=httpx.Timeout(timeout, connect=15.0),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of a key check: ``ok`` is True (accepted), False (refused) or None (could not tell)."""

    ok: bool | None
    message: str


class ProviderHub:
    """Owns one HTTP client and one Provider per id, made on first use."""

    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        *,
        sandbox_endpoints: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.sandbox_endpoints = dict(sandbox_endpoints) if sandbox_endpoints is not None else None
        #: The one transport every request of this hub goes through (API calls, downloads, thumbnails, user URLs).
        self.transport = Transport(client or make_http_client(ca_bundle=settings.ca_bundle()), retry=retry,
                                   sleep=sleep, gate=asyncio.Semaphore(MAX_IN_FLIGHT))
        self._providers: dict[tuple[str, str | None], Provider] = {}

    @property
    def sandbox(self) -> bool:
        return self.sandbox_endpoints is not None

    def get(self, provider_id: str, *, origin: str | None = None) -> Provider:
        """The provider, or ConfigError saying what is missing (base URL or key).

        ``origin`` (a real job's recorded API base URL) pins the provider to where the job was created, whatever
        the base URL setting says now; in sandbox mode it is ignored (the emulator's ports change every run).
        """
        pinned = None if self.sandbox else origin
        if (provider_id, pinned) not in self._providers:
            self._providers[provider_id, pinned] = self._build(provider_id, pinned)
        return self._providers[provider_id, pinned]

    def forget(self, provider_id: str | None = None) -> None:
        """Drop cached providers (one, or all) so a changed key, base URL or endpoint is used from now on."""
        for key in [k for k in self._providers if provider_id in (None, k[0])]:
            del self._providers[key]

    async def check_key(self, provider_id: str) -> KeyCheck:
        """One cheap authenticated request that creates nothing (``Provider.build_key_check``), interpreted."""
        try:
            provider = self.get(provider_id)
        except ConfigError as exc:
            return KeyCheck(None, exc.message)
        name = provider.spec.name
        try:
            await provider.api.send(provider.build_key_check())
        except AuthError:
            return KeyCheck(False, f"{name} refused this key (it did not accept the API key).")
        except NoCreditsError:
            return KeyCheck(True, f"{name} accepted the key, but the account has no credits left.")
        except (NotFoundError, BadRequestError) as exc:
            verdict = provider.key_check_accepted(exc)  # the made-up task is unknown: does that prove the key?
            if verdict is None:
                return KeyCheck(None, f"Could not tell whether {name} accepted the key: {exc.message}")
            if verdict is False:
                return KeyCheck(False, f"{name} refused this key: {exc.message}")
        except NetworkError as exc:
            return KeyCheck(None, f"Could not reach {name}: {exc.message}")
        except ProviderError as exc:
            return KeyCheck(None, f"Could not tell: {exc.message}")
        return KeyCheck(True, f"{name} accepted the key.")

    def _build(self, provider_id: str, origin: str | None = None) -> Provider:
        cls = provider_class(provider_id)
        base_url = origin or self._base_url(provider_id, cls.spec.default_base_url)
        key = SANDBOX_KEY if self.sandbox else self.keys.get(provider_id)
        if not key:
            raise ConfigError(
                f"No API key for {cls.spec.name}. Store one with `python main.py keys set {provider_id}` "
                f"(it reads the key from standard input) or set {env_var(provider_id)}. {cls.spec.key_help}"
            )
        api = ApiClient(
            name=cls.spec.name,
            base_url=base_url,
            auth_headers=auth_headers(provider_id, key),
            classify=classifier(cls.declared),  # the provider's declared error rules, not a call back into it
            transport=self.transport,
        )
        return cls(api, self._extra_settings(provider_id))

    def _base_url(self, provider_id: str, default: str | None) -> str:
        env_name = f"REELDECK_{provider_id.upper()}_BASE_URL"
        if self.sandbox_endpoints is not None:
            return self.sandbox_endpoints[env_name]
        url = self.settings.base_url(provider_id, default)
        if not url:
            raise ConfigError(
                f"The {provider_id} provider has no base URL. Set {env_name} (e.g. https://your-gateway.example) "
                "or enter it in Settings."
            )
        return url

    def _extra_settings(self, provider_id: str) -> dict[str, str]:
        extra: dict[str, str] = {}
        for env_name, (pid, name, _default) in extra_endpoints().items():
            if pid != provider_id:
                continue
            if self.sandbox_endpoints is not None:
                extra[name] = self.sandbox_endpoints[env_name]
            else:
                value = self.settings.endpoint(provider_id, name)
                if value:
                    extra[name] = value
        for pid, option in provider_options():  # options hold in the sandbox too: it speaks both gateway dialects
            if pid == provider_id:
                extra[option] = self.settings.option(provider_id, option)
        return extra

    async def close(self) -> None:
        await self.transport.aclose()


def auth_headers(provider_id: str, key: str) -> dict[str, str]:
    """The auth header the provider's declaration names (``ProviderSpec.auth_headers``)."""
    return provider_class(provider_id).bare_spec.auth_headers(key)
