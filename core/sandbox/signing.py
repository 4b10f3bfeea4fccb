"""HMAC-signed, expiring CDN URLs: ``/files/{token}.{ext}?expires=<unix>&sig=<hmac>``."""

from __future__ import annotations

import hashlib
import hmac


class UrlSigner:
    """Signs and verifies CDN file names with an expiry time."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, name: str, expires: int) -> str:
        """The signature of ``name`` valid until ``expires``."""
        message = f"{name}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:40]

    def verify(self, name: str, expires: int, sig: str) -> bool:
        """True when ``sig`` is the signature of ``name`` and ``expires``."""
        return hmac.compare_digest(self.sign(name, expires), sig)

    def query(self, name: str, expires: int) -> str:
        """The query string of a signed URL."""
        return f"expires={expires}&sig={self.sign(name, expires)}"
