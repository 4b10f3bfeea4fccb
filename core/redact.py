"""Keys never leave: text that echoes a key in use, or a long part of one, is redacted before it goes anywhere.

Providers sometimes quote the key they were sent (``401 Invalid API key: sk-…``). Every key Reeldeck uses is
registered here (``KeyStore`` does it when it hands a key out), and :func:`redact` replaces the whole key and any
run of :data:`MIN_FRAGMENT` or more of its consecutive characters with :data:`MASK`. It is applied where provider
text enters Reeldeck (the HTTP layer's error path) and again, as a last line of defence, where text is stored,
printed or logged.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TextIO, TypeVar

#: The shortest run of a key's characters that counts as a leak.
MIN_FRAGMENT = 8
MASK = "[redacted]"
_RUN = re.compile(rf"\S{{{MIN_FRAGMENT},}}")
_SCHEMES = ("bearer ", "basic ", "token ")
E = TypeVar("E", bound=BaseException)


class KeyRedactor:
    """Knows the keys in use and scrubs them (whole or in part) from text. Thread-safe."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._grams: frozenset[str] = frozenset()
        for key in keys:
            self.add(key)

    def add(self, key: str | None) -> None:
        """Remember a key (an auth header value like ``Bearer sk-…`` is reduced to the key itself)."""
        key = bare_key(key or "")
        if len(key) < MIN_FRAGMENT or key in self._keys:
            return  # a few characters cannot be told from ordinary text: no real key is that short
        with self._lock:
            self._keys.add(key)
            self._grams = self._grams | fragments(key)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._keys)

    def scrub(self, text: str) -> str:
        """``text`` with every key, and every run of ``MIN_FRAGMENT``+ characters of a key, replaced by MASK."""
        if not text or not self._keys:
            return text
        for key in self._keys:
            if key in text:
                text = text.replace(key, MASK)
        grams = self._grams
        if not grams:
            return text
        spans = [span for run in _RUN.finditer(text) for span in _leaks(run.group(), run.start(), grams)]
        return _mask(text, spans) if spans else text

    def contains_key(self, text: str) -> bool:
        """True when ``text`` would be changed by :meth:`scrub`."""
        return self.scrub(text) != text


def bare_key(value: str) -> str:
    """The key in an auth header value (``Bearer sk-1`` -> ``sk-1``), or the value itself, stripped."""
    value = value.strip()
    lowered = value.lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            return value[len(scheme):].strip()
    return value


def fragments(key: str) -> frozenset[str]:
    """Every run of ``MIN_FRAGMENT`` consecutive characters of ``key`` that could not be ordinary text.

    A run of one character class only (``aihubmix``, ``12345678``) is a word or a number as often as a piece of
    a key, and masking it would garble names and numbers; the runs around it still catch any longer quote.
    """
    runs = (key[i:i + MIN_FRAGMENT] for i in range(len(key) - MIN_FRAGMENT + 1))
    return frozenset(run for run in runs if _classes(run) >= 2)


def _classes(text: str) -> int:
    return sum((any(c.islower() for c in text), any(c.isupper() for c in text), any(c.isdigit() for c in text)))


def _leaks(run: str, offset: int, grams: frozenset[str]) -> list[tuple[int, int]]:
    return [(offset + i, offset + i + MIN_FRAGMENT) for i in range(len(run) - MIN_FRAGMENT + 1)
            if run[i:i + MIN_FRAGMENT] in grams]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, last = [], 0
    for start, end in merged:
        parts += [text[last:start], MASK]
        last = end
    parts.append(text[last:])
    return "".join(parts)


#: The process's keys: filled by ``KeyStore`` as keys are read or stored.
KEYS = KeyRedactor()


def remember_key(key: str | None) -> None:
    """Register a key in use, so it is redacted everywhere from now on."""
    KEYS.add(key)


def redact(text: str) -> str:
    """``text`` without any key in use (whole or 8+ consecutive characters of one)."""
    return KEYS.scrub(text)


def redact_error(error: E) -> E:
    """Scrub an error's message, detail and arguments in place (provider text may quote the key); returns it."""
    for name in ("message", "detail"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, redact(value))
    error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
    return error


class RedactingWriter:
    """A text stream wrapper that redacts keys from everything written through it.

    Text is passed on a line at a time (and on ``flush``), so a key written in several pieces is still caught.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        head, newline, tail = self._pending.rpartition("\n")
        if newline:
            self.stream.write(redact(head + newline))
            self._pending = tail
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.stream.write(redact(self._pending))
            self._pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())
