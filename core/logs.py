"""Logging to a rotating file in the data dir, with secrets and inline images scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

from core.redact import KEYS, KeyRedactor

_BASE64_RUN = re.compile(r"(data:[\w/+.-]+;base64,)?[A-Za-z0-9+/]{200,}={0,2}")


class RedactingFilter(logging.Filter):
    """Replaces known keys (whole, or 8+ consecutive characters of one) and long base64 runs in log messages."""

    def __init__(self, secrets: Iterable[str] = (), *, keys: KeyRedactor | None = None) -> None:
        super().__init__()
        self.keys = keys if keys is not None else KeyRedactor()
        for secret in secrets:
            self.keys.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        return self.keys.keys

    def add(self, secret: str) -> None:
        self.keys.add(secret)

    def scrub(self, text: str) -> str:
        return _BASE64_RUN.sub("[base64 data]", self.keys.scrub(text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.scrub(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


#: The log filter, sharing the process's registry of keys in use (``core.redact.KEYS``).
REDACTOR = RedactingFilter(keys=KEYS)


def setup_logging(log_dir: Path, *, verbose: bool = False) -> None:
    """Log to ``log_dir/reeldeck.log`` (rotated, 5 × 2 MB) through the redacting filter."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_reeldeck", False):
            root.removeHandler(handler)
    handler = logging.handlers.RotatingFileHandler(log_dir / "reeldeck.log", maxBytes=2_000_000, backupCount=5,
                                                   encoding="utf-8")
    handler._reeldeck = True  # type: ignore[attr-defined]
    handler.addFilter(REDACTOR)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
