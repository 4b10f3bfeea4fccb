"""The one exception type provider handlers raise; each origin renders it in its provider's error shape."""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error answer: status, human message and, for schema violations, the offending field.

    ``code`` is a short machine code (``invalid_value``, ``missing_required_parameter``, ...), used by the
    providers whose error shape has one. ``retry_after`` (seconds) adds ``Retry-After`` headers;
    ``headers`` are added to the answer as they are.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r}, field={self.field!r})"


def bad_request(field: str, problem: str, code: str = "invalid_value") -> ApiError:
    """A 400 schema violation naming ``field``."""
    return ApiError(400, f"{field}: {problem}", field=field, code=code)


def not_found(message: str, code: str = "not_found") -> ApiError:
    """A 404 answer."""
    return ApiError(404, message, code=code)
