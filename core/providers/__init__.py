"""The provider registry: every provider's spec and class, by id; their models come from the catalog."""

from __future__ import annotations

from core.errors import InputError
from core.params import ProviderSpec
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


def available_ids() -> list[str]:
    """Provider ids that have an implementation, in the documented order."""
    return [pid for pid in PROVIDER_IDS if pid in PROVIDER_CLASSES]


def provider_class(provider_id: str) -> type[Provider]:
    try:
        return PROVIDER_CLASSES[provider_id]
    except KeyError:
        known = ", ".join(available_ids())
        raise InputError(f"Unknown provider {provider_id!r}. Known providers: {known}.") from None


def provider_spec(provider_id: str) -> ProviderSpec:
    """A provider's declaration with its models from the catalog (shipped and the user's files)."""
    return provider_class(provider_id).declared()


def all_specs() -> list[ProviderSpec]:
    return [PROVIDER_CLASSES[pid].declared() for pid in available_ids()]
