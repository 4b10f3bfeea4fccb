"""A running task's provider status in plain words, from the status names each provider's client declares.

The queue shows these ("Queued at AIHubMix", "Generating"); a status no client declares is quoted as the provider
sent it, so nothing is hidden.
"""

from __future__ import annotations

import sys

from core.providers import provider_class
from core.providers.base import Phase, classify_status

#: ``remote_status`` of a task a person gave (core.engine.ATTACHED) before its first poll answer.
ATTACHED = "attached"
#: What the gateway adds to a queued off-peak task's status (core.providers.gateway.OFF_PEAK_NOTE).
OFF_PEAK = "(waiting for off-peak)"


def provider_name(provider_id: str) -> str:
    """The provider's display name (its id when this version does not know it)."""
    try:
        return provider_class(provider_id).spec.name
    except Exception:  # a provider from a newer version: show its id
        return provider_id


def status_in_words(provider_id: str, raw: str) -> str:
    """A running job's provider status in plain words."""
    if raw == ATTACHED:
        return "Looking up the task"
    if raw.endswith(OFF_PEAK):
        return "Waiting for off-peak"
    phase = remote_phase(provider_id, raw)
    if phase == Phase.PENDING:
        return f"Queued at {provider_name(provider_id)}"
    if phase == Phase.RUNNING:
        return "Generating"
    if phase == Phase.SUCCEEDED:
        return "Finishing"
    return f"Running (“{raw}”)"  # unknown: shown verbatim, as the provider said it


def remote_phase(provider_id: str, raw: str) -> Phase:
    """Where the provider's status puts the task, from the status names its client declares."""
    try:
        names = vars(sys.modules[provider_class(provider_id).__module__])
        return classify_status(raw, names["PENDING"], names["RUNNING"], names["SUCCEEDED"], names["FAILED"])
    except Exception:  # a provider from a newer version, or one that names its statuses otherwise
        return Phase.UNKNOWN
