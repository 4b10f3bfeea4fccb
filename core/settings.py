"""Per-provider configuration: base URLs (environment, then settings file, then the documented default).

``REELDECK_<ID>_BASE_URL`` is scheme + host[:port][/prefix]; the provider appends the documented path. Plain
``http://`` is accepted only for loopback hosts.

``REELDECK_CA_BUNDLE`` (or ``ca_bundle`` in settings.json) names a PEM file of extra certificate authorities to
trust besides the usual ones (a company proxy, a self-hosted gateway). TLS verification itself is never off.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import ConfigError


#: Extra endpoint settings: env var -> (provider, setting name, default).
def extra_endpoints() -> dict[str, tuple[str, str, str]]:
    """Other hosts per provider, by environment variable (``REELDECK_GOAPI_UPLOAD_URL`` -> ("goapi", "upload_url",
    default URL)), from each provider's declaration (``ProviderSpec.extra_endpoints``)."""
    from core.providers import all_bare_specs

    return {f"REELDECK_{spec.id.upper()}_{name.upper()}": (spec.id, name, default)
            for spec in all_bare_specs() for name, default in spec.extra_endpoints.items()}


def provider_options() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """Per-provider options besides URLs: (provider, option) -> (default, allowed values), from each provider's
    declaration. Stored in settings.json under ``options.<provider>.<option>``; ``REELDECK_<ID>_<OPTION>``
    overrides it."""
    from core.providers import all_bare_specs

    return {(spec.id, name): choice for spec in all_bare_specs() for name, choice in spec.options.items()}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """Validate a base URL: https anywhere, http only to loopback. Returns it without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be a URL like https://host[:port][/prefix] (got {url!r}).")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"{what} uses plain http:// to {parts.hostname}; only https is allowed except on "
                          "this machine (localhost).")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} must not have a query or fragment (got {url!r}).")
    return url.strip().rstrip("/")


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_amount(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _is_price_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


#: The settings a file may hold: name -> (check of a value, what it should be). For tables (``base_urls``,
#: ``endpoints``, ``concurrency``) the check applies to each entry.
SCALARS: dict[str, tuple[Any, str]] = {
    "download_dir": (_is_text, "a folder path (text)"),
    "ca_bundle": (_is_text, "a file path (text)"),
    "budget_daily_usd": (_is_amount, "an amount in US dollars (a number)"),
    "prices": (_is_price_list, "a list of price entries"),
    "send_original_images": (_is_flag, "true or false"),
}
TABLES: dict[str, tuple[Any, str]] = {
    "base_urls": (_is_text, "a URL (text)"),
    "endpoints": (_is_text, "a URL (text)"),
    "concurrency": (_is_count, "a whole number of at least 1"),
}


def checked_settings(data: Any) -> tuple[dict[str, Any], list[str]]:
    """The settings of a parsed file with every wrongly typed one left out, and a plain sentence per problem.

    Unknown names are kept as they are (a newer version may have written them).
    """
    if not isinstance(data, dict):
        return {}, ["settings.json does not hold a set of named settings; the defaults are used."]
    kept: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in data.items():
        if name in SCALARS:
            check, want = SCALARS[name]
            if not check(value):
                problems.append(_problem(name, want, value))
                continue
        elif name in TABLES:
            value = _checked_table(name, value, problems)
        kept[name] = value
    return kept, problems


def _checked_table(name: str, value: Any, problems: list[str]) -> dict[str, Any]:
    check, want = TABLES[name]
    if not isinstance(value, dict):
        problems.append(_problem(name, "a table of named values", value))
        return {}
    table = {}
    for key, item in value.items():
        if check(item):
            table[key] = item
        else:
            problems.append(_problem(f"{name}.{key}", want, item))
    return table


def _problem(name: str, want: str, value: Any) -> str:
    shown = json.dumps(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"The setting {name!r} in settings.json should be {want}, not {shown}; its default is used instead."


@dataclass
class Settings:
    """User settings from settings.json, overridden by the environment.

    A setting of the wrong type is left out (its default applies) and described in ``problems``.
    """

    path: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, environ: Mapping[str, str] | None = None) -> Settings:
        parsed: Any = {}
        if path.exists():
            try:
                parsed = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"The settings file {path} cannot be read ({exc}); fix or delete it.") from None
        data, problems = checked_settings(parsed)
        return cls(path, os.environ if environ is None else environ, data, problems)

    def save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)

    def base_url(self, provider_id: str, default: str | None) -> str | None:
        env_name = f"REELDECK_{provider_id.upper()}_BASE_URL"
        value = self.environ.get(env_name) or self.data.get("base_urls", {}).get(provider_id) or default
        return check_url(value, env_name) if value else None

    def endpoint(self, provider_id: str, name: str) -> str | None:
        for env_name, (pid, setting, default) in extra_endpoints().items():
            if pid == provider_id and setting == name:
                value = self.environ.get(env_name) or self.data.get("endpoints", {}).get(env_name) or default
                return check_url(value, env_name)
        return None

    def option(self, provider_id: str, name: str) -> str:
        """A per-provider option (``provider_options()``): environment, then settings file, then its default."""
        default, allowed = provider_options()[(provider_id, name)]
        env_name = f"REELDECK_{provider_id.upper()}_{name.upper()}"
        value = self.environ.get(env_name) or self.data.get("options", {}).get(provider_id, {}).get(name) or default
        if value not in allowed:
            raise ConfigError(f"{env_name} must be one of {', '.join(allowed)} (got {value!r}).")
        return str(value)

    def set_option(self, provider_id: str, name: str, value: str | None) -> None:
        """Store a per-provider option (None: back to its default)."""
        default, allowed = provider_options()[(provider_id, name)]
        options = self.data.setdefault("options", {}).setdefault(provider_id, {})
        if value is None or value == default:
            options.pop(name, None)
        elif value in allowed:
            options[name] = value
        else:
            raise ConfigError(f"The {provider_id} {name} must be one of {', '.join(allowed)} (got {value!r}).")

    def ca_bundle(self) -> Path | None:
        """The extra CA bundle (REELDECK_CA_BUNDLE), or None; ConfigError when it names no readable file."""
        value = self.environ.get("REELDECK_CA_BUNDLE") or self.data.get("ca_bundle")
        if not value:
            return None
        path = Path(str(value)).expanduser()
        if not path.is_file():
            raise ConfigError(f"REELDECK_CA_BUNDLE names {path}, which is not a file. Point it at a PEM file of CA "
                              "certificates, or unset it.")
        return path

    def send_original_images(self) -> bool:
        """True when images go at full size (only the API's own rules applied), not at the size the model uses."""
        return self.data.get("send_original_images") is True

    def concurrency(self, provider_id: str) -> int:
        value = self.data.get("concurrency", {}).get(provider_id, 4)
        return max(1, int(value))

    def set_base_url(self, provider_id: str, url: str | None) -> None:
        urls = self.data.setdefault("base_urls", {})
        if url:
            urls[provider_id] = check_url(url, f"The {provider_id} base URL")
        else:
            urls.pop(provider_id, None)
