"""A guard for Python overrides of Qt virtual methods (events, paint, model ``data``).

An exception escaping such an override is handed to PySide's override error path; with PySide6 6.11.3 on
Python 3.11 some exception types (``sqlite3.ProgrammingError`` for one) crash the process there with a
segmentation fault. Overrides therefore catch everything, log it, and return a safe default.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def guarded(default: Any = None) -> Callable[[F], F]:
    """Decorate a Qt override so that it logs any exception and returns ``default`` instead of raising."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception:
                log.exception("%s failed", method.__qualname__)
                return default

        return wrapper  # type: ignore[return-value]

    return decorate
