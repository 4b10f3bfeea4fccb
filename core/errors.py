"""The typed error tree shared by the whole core.

Every error carries a plain-language ``message`` meant for the user (what happened and what to do) and an optional
``detail`` for the log. Neither may contain a secret: callers redact before raising.
"""

from __future__ import annotations

from typing import Any


class ReeldeckError(Exception):
    """Base of every error Reeldeck raises on purpose."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole whatever its constructor asks for: it crosses to the window from the engine's process."""
        return _rebuild, (type(self), self.args, dict(self.__dict__))


def _rebuild(cls: type[ReeldeckError], args: tuple[Any, ...], state: dict[str, Any]) -> ReeldeckError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InputError(ReeldeckError):
    """The user's input is invalid; nothing was sent (CLI exit status 2)."""


class ConfigError(ReeldeckError):
    """Something is not configured (a base URL, a key, a keyring backend)."""


class StoreError(ReeldeckError):
    """The job database cannot be used."""


class ProviderError(ReeldeckError):
    """A provider answered with an error, or could not be reached."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.status_code = status_code
        self.retry_after = retry_after


class AuthError(ProviderError):
    """The key is missing, wrong or revoked (401/403)."""


class NoCreditsError(ProviderError):
    """The account has no credits or its plan does not allow this request."""


class BadRequestError(ProviderError):
    """The provider rejected the request as invalid (400/422)."""


class NotFoundError(ProviderError):
    """The provider does not know the task (404, or a provider-specific 'not exist')."""


class ModerationError(ProviderError):
    """The provider's content moderation rejected the prompt or an input."""


class RateLimitedError(ProviderError):
    """Too many requests (429)."""

    retryable = True


class ServerError(ProviderError):
    """The provider had an outage or an internal error (5xx, 408, 409)."""

    retryable = True


class NetworkError(ProviderError):
    """The request did not complete: connection refused or reset, timeout, TLS failure."""

    retryable = True

    def __init__(self, message: str, *, detail: str = "", maybe_sent: bool = False) -> None:
        super().__init__(message, detail=detail)
        #: True when the request may have reached the server before the failure (outcome unknown).
        self.maybe_sent = maybe_sent


class CertificateError(NetworkError):
    """The server's TLS certificate could not be verified (self-signed, unknown CA, wrong host). Not retried."""

    retryable = False


class ExpiredURLError(ProviderError):
    """A signed result URL has expired (403/404/410 from the result host)."""


class ProtocolError(ProviderError):
    """The provider's answer could not be understood (HTML instead of JSON, missing fields, odd URL)."""


class DownloadError(ReeldeckError):
    """A result could not be downloaded or verified."""


class DiskFullError(DownloadError):
    """The disk filled up while writing a download."""
