"""Testing an API key with one cheap authenticated request, before or after storing it.

The core has no dedicated "check key" call yet, so this asks the provider for the status of a task that cannot
exist: an authentication error means the key was refused; "not found" (or "bad request") means the provider
accepted the key and looked. Nothing is created and nothing is charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    NetworkError,
    NoCreditsError,
    NotFoundError,
    ProviderError,
)
from core.http import RetryPolicy
from core.hub import ProviderHub
from core.secrets import KeyStore, env_var
from core.settings import Settings

PROBE_TASK_ID = "reeldeck-key-check-0000"


@dataclass(frozen=True)
class KeyCheck:
    """The outcome: ``ok`` is True (accepted), False (refused) or None (could not tell)."""

    ok: bool | None
    message: str


async def check_key(provider_id: str, key: str, settings: Settings,
                    environ: Mapping[str, str] | None = None) -> KeyCheck:
    """Send one status request for a made-up task with ``key``; interpret the answer."""
    env = dict(environ or {})
    env[env_var(provider_id)] = key
    hub = ProviderHub(Settings(settings.path, dict(settings.environ) | env, dict(settings.data)),
                      KeyStore(environ=env), retry=RetryPolicy(max_attempts=1))
    name = provider_id
    try:
        provider = hub.get(provider_id)
        name = provider.spec.name
        await provider.api.send(provider.build_poll(PROBE_TASK_ID))
    except AuthError:
        return KeyCheck(False, f"{name} refused this key.")
    except NoCreditsError:
        return KeyCheck(True, f"{name} accepted the key, but the account has no credits left.")
    except (NotFoundError, BadRequestError):
        return KeyCheck(True, f"{name} accepted the key.")
    except NetworkError as exc:
        return KeyCheck(None, f"Could not reach {name}: {exc.message}")
    except ConfigError as exc:
        return KeyCheck(None, exc.message)
    except ProviderError as exc:
        return KeyCheck(None, f"Could not tell: {exc.message}")
    finally:
        await hub.close()
    return KeyCheck(True, f"{name} accepted the key.")
