"""Table-driven request checks.

Each provider module lists its rules as data (``RULES = (required("prompt"), string("prompt"), ...)``);
:func:`check` runs them in order and raises :class:`ApiError` 400 naming the field of the first rule
broken. A rule is a field path (``input.image_url``) plus a small predicate returning a problem or None,
so a rule that turns out wrong is a one-line fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .media import ImageLimits, is_data_uri, is_http_url


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

Check = Callable[[Any, dict[str, Any]], str | None]


@dataclass(frozen=True)
class Rule:
    """One check of one field: ``check(value, body)`` returns a problem or None.

    Unless ``when_missing`` is set the check is skipped for an absent or null field (``required`` covers
    that).
    """

    field: str
    check: Check
    code: str = "invalid_value"
    when_missing: bool = False

    def apply(self, body: dict[str, Any]) -> ApiError | None:
        """The error this rule raises for ``body``, or None."""
        value = get_path(body, self.field)
        if (value is MISSING or value is None) and not self.when_missing:
            return None
        problem = self.check(value, body)
        return None if problem is None else bad_request(self.field, problem, self.code)


def get_path(body: Any, path: str) -> Any:
    """The value at a dotted path, or MISSING."""
    value = body
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def check(body: Any, rules: Iterable[Rule], body_name: str = "body") -> None:
    """Run ``rules`` over a JSON object body; raise ApiError 400 for the first one broken."""
    if not isinstance(body, dict):
        raise bad_request(body_name, "must be a JSON object", "invalid_type")
    for rule in rules:
        error = rule.apply(body)
        if error is not None:
            raise error


# -- rule builders ----------------------------------------------------------------------------------------
def required(field: str) -> Rule:
    """The field must be present and not null."""
    return Rule(
        field,
        lambda v, _b: "is required" if v is MISSING or v is None else None,
        code="missing_required_parameter",
        when_missing=True,
    )


def of_type(field: str, kind: type | tuple[type, ...], name: str) -> Rule:
    """The field must have this JSON type (bool never counts as int)."""

    def _check(value: Any, _body: dict[str, Any]) -> str | None:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            return f"must be {name}"
        return None if isinstance(value, kind) else f"must be {name}"

    return Rule(field, _check, code="invalid_type")


def string(field: str) -> Rule:
    """The field must be a string."""
    return of_type(field, str, "a string")


def boolean(field: str) -> Rule:
    """The field must be a boolean."""
    return of_type(field, bool, "a boolean")


def integer(field: str) -> Rule:
    """The field must be an integer (not a bool, not a float)."""
    return of_type(field, int, "an integer")


def obj(field: str) -> Rule:
    """The field must be a JSON object."""
    return of_type(field, dict, "an object")


def one_of(field: str, allowed: Iterable[Any]) -> Rule:
    """The field must be one of the allowed values."""
    values = tuple(allowed)
    shown = ", ".join(repr(v) for v in values)
    return Rule(field, lambda v, _b: None if v in values else f"must be one of {shown}")


def length(field: str, low: int, high: int | None = None) -> Rule:
    """A string's length must be within ``low..high``."""

    def _check(value: Any, _body: dict[str, Any]) -> str | None:
        if not isinstance(value, str):
            return None
        if len(value) < low:
            return "must not be empty" if low == 1 else f"must be at least {low} characters"
        if high is not None and len(value) > high:
            return f"must be at most {high} characters"
        return None

    return Rule(field, _check)


def int_range(field: str, low: int | None = None, high: int | None = None) -> Rule:
    """An integer must be within ``low..high`` (inclusive)."""

    def _check(value: Any, _body: dict[str, Any]) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be between {low} and {high}" if high is not None else f"must be >= {low}"
        return None

    return Rule(field, _check)


def http_url(field: str) -> Rule:
    """A string must be an absolute http(s) URL."""
    return Rule(field, lambda v, _b: None if not isinstance(v, str) or is_http_url(v) else "must be an http(s) URL")


def image(field: str, limits: ImageLimits) -> Rule:
    """A string must be an http(s) URL or an inline image obeying ``limits``."""

    def _check(value: Any, _body: dict[str, Any]) -> str | None:
        if not isinstance(value, str) or is_http_url(value):
            return None
        if not value:
            return "must not be empty"
        return limits.check_inline(value)

    return Rule(field, _check, code="invalid_image")


def rule(field: str, predicate: Callable[[Any, dict[str, Any]], bool], problem: str, **kw: Any) -> Rule:
    """A custom rule: ``predicate(value, body)`` must be true."""
    return Rule(field, lambda v, b: None if predicate(v, b) else problem, **kw)


def looks_inline_or_url(value: str) -> bool:
    """True for http(s) URLs and data URIs (bare base64 is judged by the image rule)."""
    return is_http_url(value) or is_data_uri(value)
