"""Plain words for counts: "1 job", "2 jobs" — never "job(s)"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and the noun in the right form ("1 seed", "3 seeds", "2 batches" with ``plural``)."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def have(number: int) -> str:
    """The verb that goes with ``number`` things: "has" or "have"."""
    return "has" if number == 1 else "have"
