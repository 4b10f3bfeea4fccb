"""Testing an API key with one cheap authenticated request, before or after storing it.

The check itself is the core's (``ProviderHub.check_key``: a request that creates nothing and costs nothing);
this runs it with a key that is not stored yet, through a throw-away hub that tries once (the keys dialog and
its tests use it).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.http import RetryPolicy
from core.hub import KeyCheck, ProviderHub
from core.secrets import KeyStore, env_var
from core.settings import Settings

__all__ = ["KeyCheck", "check_key"]


async def check_key(provider_id: str, key: str, settings: Settings,
                    environ: Mapping[str, str] | None = None) -> KeyCheck:
    """Check ``key`` for ``provider_id`` with the current settings (base URLs); nothing is stored."""
    env = dict(environ or {})
    env[env_var(provider_id)] = key
    hub = ProviderHub(Settings(settings.path, dict(settings.environ) | env, dict(settings.data)),
                      KeyStore(environ=env), retry=RetryPolicy(max_attempts=1))
    try:
        return await hub.check_key(provider_id)
    finally:
        await hub.close()
