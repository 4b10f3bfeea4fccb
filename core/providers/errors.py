"""Error answers as data: what each provider declares about them, and the one function that reads it.

A provider's declaration (``ProviderSpec.errors``, an ``ErrorSpec``) says where its error answers hold the message
and the code (dotted JSON paths) and lists ``ErrorRule``s: which statuses, which requests (any answer, a create's,
an upload's), which codes or words (case-insensitive, in the answer's code and message) and what the answer becomes
— an error kind from ``core.errors`` with its message. ``classify_error`` tries the rules in order and otherwise
words the answer plainly (``http_error``). The ``ApiClient`` of every provider gets it bound to the provider's
declaration (``classifier``); providers hold no error code of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.errors import (
    AuthError,
    BadRequestError,
    ModerationError,
    NoCreditsError,
    NotFoundError,
    ProtocolError,
    ProviderError,
    RateLimitedError,
    ServerError,
)
from core.http import ErrorAnswer, ErrorClassifier, retry_after_seconds
from core.params import ProviderSpec
from core.providers.base import current_model


class Scope(StrEnum):
    """Which answers a rule reads."""

    ANY = "any"
    CREATE = "create"  # the answer to a create (``ErrorAnswer.creating``)
    UPLOAD = "upload"  # the answer to an input upload, from an upload host (``ErrorAnswer.upload``)


class Wording(StrEnum):
    """Where a rule's message comes from."""

    #: The rule's own ``message``, its placeholders filled (``{name}``, ``{text}``, ``{said}``, ``{code}``,
    #: ``{status}``; see ``ErrorRule``).
    TEMPLATE = "template"
    #: The plain words ``http_error`` gives the answer; the rule only makes the kind finer (a subclass of the plain
    #: error's kind), and holds only when the plain error is of that kind.
    GENERIC = "generic"
    #: The retired-model sentence ``retired_model_message`` builds from the provider's catalog: the model the
    #: answer names, its lifecycle note and a current model to pick instead.
    RETIRED_MODEL = "retired-model"


@dataclass(frozen=True)
class ErrorRule:
    """One kind of error answer a provider words its own way.

    It holds for an answer whose status is one of ``statuses`` (none: any), to a request of ``scope``, whose code
    or message holds one of ``markers`` (case-insensitive; none: any) and, with ``shape``, whose body holds text at
    that dotted path (the API's own error object). The answer becomes ``becomes(message)``. A template's
    placeholders: ``{name}`` the provider's name, ``{text}`` the answer's message (``text_when_empty`` when it has
    none), ``{said}`` " <name> said: <text>" (empty without a message), ``{code}`` the answer's code (the first
    marker without one), ``{status}`` the HTTP status.
    """

    becomes: type[ProviderError]
    message: str = ""
    wording: Wording = Wording.TEMPLATE
    statuses: tuple[int, ...] = ()
    scope: Scope = Scope.ANY
    markers: tuple[str, ...] = ()
    shape: str = ""
    text_when_empty: str = ""

    def holds_for(self, answer: ErrorAnswer, text: str, code: str) -> bool:
        """True when the answer is one this rule is about (the kind check of ``Wording.GENERIC`` aside)."""
        if self.statuses and answer.status not in self.statuses:
            return False
        if (self.scope == Scope.CREATE and not answer.creating) or (self.scope == Scope.UPLOAD and not answer.upload):
            return False
        said = f"{code} {text}".lower()
        if self.markers and not any(marker.lower() in said for marker in self.markers):
            return False
        return not self.shape or isinstance(_at(answer.body, self.shape), str)


@dataclass(frozen=True)
class ErrorSpec:
    """Where a provider's error answers say what went wrong, and the rules that word them its own way."""

    #: Dotted paths of the message, the first holding text wins (a list of texts is joined with "; ").
    message_paths: tuple[str, ...] = ()
    #: Dotted paths of the error code or type, the first holding text wins.
    code_paths: tuple[str, ...] = ()
    rules: tuple[ErrorRule, ...] = ()


#: A declaration without an error description: messages are not read, every answer is worded plainly.
NO_ERROR_SPEC = ErrorSpec()


def declared_errors(spec: ProviderSpec) -> ErrorSpec:
    """The provider's error description (``ProviderSpec.errors``), or the plain one when it declares none."""
    return spec.errors or NO_ERROR_SPEC


def classify_error(spec: ProviderSpec, answer: ErrorAnswer) -> ProviderError:
    """The typed error for an error answer: the first of the provider's rules that holds, else the plain words."""
    declared = declared_errors(spec)
    text = answer_text(answer.body, declared.message_paths)
    code = answer_text(answer.body, declared.code_paths)
    plain = http_error(spec, answer.status, text, code, creating=answer.creating,
                       retry_after=retry_after_seconds(answer.headers))
    for rule in declared.rules:
        if rule.holds_for(answer, text, code) and (rule.wording != Wording.GENERIC
                                                   or issubclass(rule.becomes, type(plain))):
            status = answer.status if answer.status >= 400 else None  # an error inside a 200 envelope has none
            return rule.becomes(_rule_message(rule, spec, answer, text, code, plain), status_code=status)
    return plain


def classifier(declaration: Callable[[], ProviderSpec]) -> ErrorClassifier:
    """``classify_error`` bound to a provider's declaration, read at each answer (its models come from the catalog,
    which may change while Reeldeck runs): what the hub gives the provider's ``ApiClient``."""
    return lambda answer: classify_error(declaration(), answer)


def _rule_message(rule: ErrorRule, spec: ProviderSpec, answer: ErrorAnswer, text: str, code: str,
                  plain: ProviderError) -> str:
    if rule.wording == Wording.GENERIC:
        return plain.message
    if rule.wording == Wording.RETIRED_MODEL:
        return retired_model_message(spec, text, code)
    said = text or rule.text_when_empty
    return rule.message.format(name=spec.name, text=said, said=f" {spec.name} said: {said}" if said else "",
                               code=code or (rule.markers[0] if rule.markers else ""), status=answer.status)


def retired_model_message(spec: ProviderSpec, text: str, code: str) -> str:
    """What to tell the person when the provider no longer serves a model: which one (the longest of the
    provider's models the answer names), the catalog's lifecycle note on it, and a current model to pick."""
    named = next((m for m in sorted(spec.models, key=lambda m: len(m.id), reverse=True) if m.id in text), None)
    model = named.id if named else "this model"
    note = f"{named.lifecycle.note}; " if named and named.lifecycle.note else ""
    current = current_model(spec, model)
    instead = f"Pick a current model instead, e.g. {current}." if current else "Pick another provider instead."
    return (f"{spec.name} no longer serves {model} ({note}{spec.name} said: {text or code}). Nothing was made or "
            f"charged. {instead}")


def answer_text(body: Any, paths: tuple[str, ...]) -> str:
    """The first text found at one of the dotted ``paths`` of a decoded JSON answer; a list of texts (validation
    errors) is joined with "; "."""
    for path in paths:
        node = _at(body, path)
        if isinstance(node, list):
            node = "; ".join(str(item) for item in node if item)
        if isinstance(node, str) and node.strip():
            return node.strip()
    return ""


def _at(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


_MODERATION_WORDS = ("moderation", "safety", "content policy", "sensitive", "nsfw", "inappropriate")
#: Words of a credits/balance answer: AI/ML API 403 "You've run out of credits" (api-docs
#: errors-with-status-code-4xx.md), Novita ``BILLING_BALANCE_NOT_ENOUGH`` (FIELD-NOTES "Novita").
_CREDIT_WORDS = ("credit", "balance", "quota", "insufficient_user_quota", "payment required", "top up", "billing")
#: Words of a plan answer: GoAPI 403 "Insufficient plan level" (piapi.ai/docs/tools/file-upload).
_PLAN_WORDS = ("plan level", "insufficient plan", "upgrade your plan", "plan does not")


def http_error(provider: ProviderSpec, status: int, message: str, code: str = "", *, creating: bool = False,
               retry_after: float | None = None) -> ProviderError:
    """A typed error with a plain-language message for an HTTP error answer.

    ``creating`` is True for an answer to a create (a 404 there means the endpoint or model is gone, not the
    task); ``retry_after`` (seconds, from ``Retry-After``) is told the user on a 429.
    """
    name = provider.name
    said = f" {name} said: {message}" if message else ""
    lowered = f"{message} {code}".lower()
    if any(word in lowered for word in _MODERATION_WORDS):
        return ModerationError(
            f"{name} rejected the prompt or an input under its content rules. Change the prompt or image and "
            f"try again.{said}", status_code=status)
    if status == 401:
        return AuthError(
            f"{name} did not accept the API key. Set a valid key with `python main.py keys set {provider.id}` "
            f"or the REELDECK_{provider.id.upper()}_API_KEY environment variable.{said}", status_code=status)
    if status in (402, 403, 429) and any(w in lowered for w in _PLAN_WORDS):
        return NoCreditsError(
            f"Your {name} plan does not include this. Upgrade the plan on {name}'s website, or use an input that "
            f"does not need it.{said}", status_code=status)
    if status == 402 or (status in (400, 403, 429) and any(w in lowered for w in _CREDIT_WORDS)):
        return NoCreditsError(
            f"Your {name} account has run out of credits (or its balance is too low for this job). Top up on "
            f"{name}'s website, then try again; nothing was made.{said}", status_code=status)
    if status == 403:
        return AuthError(
            f"{name} refused access with this key (HTTP 403): the key may lack permission for this model, or the "
            f"account may need verification on {name}'s website.{said}", status_code=status)
    if status == 404 and creating:
        return NotFoundError(
            f"{name} no longer offers this model or endpoint (HTTP 404 on create); nothing was made. Pick another "
            f"model or provider.{said}", status_code=status)
    if status == 404:
        return NotFoundError(f"{name} does not know this task (HTTP 404).{said}", status_code=status)
    if status == 429:
        wait = f" Reeldeck waits {retry_after:.0f} s, as {name} asked, and tries again." if retry_after else (
            " Reeldeck waits a little and tries again.")
        return RateLimitedError(f"{name} is rate limiting requests (too many at once).{wait}{said}",
                                status_code=status)
    if status in (408, 409) or status >= 500:
        return ServerError(f"{name} had a problem on its side (HTTP {status}).{said}", status_code=status)
    if 400 <= status < 500:
        return BadRequestError(f"{name} rejected the request as invalid.{said}", status_code=status)
    return ProtocolError(f"{name} answered with an unexpected HTTP {status}.{said}", status_code=status)
