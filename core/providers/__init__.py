"""The provider registry: every provider's spec and class, by id; their models come from the catalog."""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError
from core.params import ProviderSpec
from core.providers import catalog
from core.providers.aihubmix import AIHubMixProvider
from core.providers.aimlapi import AIMLAPIProvider
from core.providers.base import Provider
from core.providers.gateway import GatewayProvider
from core.providers.goapi import GoAPIProvider
from core.providers.novita import NovitaProvider

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    AIHubMixProvider.spec.id: AIHubMixProvider,
    GoAPIProvider.spec.id: GoAPIProvider,
    AIMLAPIProvider.spec.id: AIMLAPIProvider,
    GatewayProvider.spec.id: GatewayProvider,
    NovitaProvider.spec.id: NovitaProvider,
}

PROVIDER_IDS = ("goapi", "aimlapi", "aihubmix", "gateway", "novita")
#: Providers added at run time (``register``), in the order they came.
_REGISTERED: list[str] = []


def available_ids() -> list[str]:
    """Provider ids that have an implementation: the shipped ones in the documented order, then registered ones."""
    return [pid for pid in (*PROVIDER_IDS, *_REGISTERED) if pid in PROVIDER_CLASSES]


def register(cls: type[Provider], catalog_file: Path) -> None:
    """Add a provider Reeldeck does not ship: its client class (with its ``spec``) and its catalog file, which is
    checked like every other. The extension point: nothing else in the code names a provider."""
    provider_id = cls.bare_spec.id
    if provider_id in PROVIDER_CLASSES:
        raise InputError(f"A provider {provider_id!r} exists already.")
    catalog.add_provider_file(provider_id, catalog_file)
    PROVIDER_CLASSES[provider_id] = cls
    _REGISTERED.append(provider_id)


def unregister(provider_id: str) -> None:
    """Remove a provider added with ``register`` (shipped providers stay)."""
    if provider_id in _REGISTERED:
        _REGISTERED.remove(provider_id)
        PROVIDER_CLASSES.pop(provider_id, None)
        catalog.remove_provider_file(provider_id)


def provider_class(provider_id: str) -> type[Provider]:
    try:
        return PROVIDER_CLASSES[provider_id]
    except KeyError:
        known = ", ".join(available_ids())
        raise InputError(f"Unknown provider {provider_id!r}. Known providers: {known}.") from None


def provider_spec(provider_id: str) -> ProviderSpec:
    """A provider's declaration with its models from the catalog (shipped and the user's files)."""
    return provider_class(provider_id).declared()


def all_bare_specs() -> list[ProviderSpec]:
    """Every provider's own declaration (identity, hosts, auth, options), without reading the catalog."""
    return [PROVIDER_CLASSES[pid].bare_spec for pid in available_ids()]


def all_specs() -> list[ProviderSpec]:
    return [PROVIDER_CLASSES[pid].declared() for pid in available_ids()]
