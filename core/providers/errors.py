"""Error answers as data: what each provider declares about them, and the one function that reads it.

A provider's declaration (``ProviderSpec.errors``, an ``ErrorSpec``) says where its error answers hold the message
and the code (dotted JSON paths) and lists ``ErrorRule``s: which statuses, which requests (any answer, a create's,
an upload's), which codes or words (case-insensitive, in the answer's code and message) and what the answer becomes
— an error kind from ``core.errors`` with its message. ``classify_error`` tries the rules in order and otherwise
words the answer plainly by ``PLAIN_RULES``, rules of the same kind that every provider shares. The ``ApiClient`` of
every provider gets it bound to the provider's declaration (``classifier``); providers hold no error code of their
own.
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

    #: The rule's own ``message``, its placeholders filled (see ``ErrorRule``).
    TEMPLATE = "template"
    #: The plain words (``PLAIN_RULES``) for the answer; the rule only makes the kind finer (a subclass of the plain
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
    placeholders: ``{name}`` and ``{id}`` the provider's, ``{key_variable}`` its key's environment variable,
    ``{text}`` the answer's message (``text_when_empty`` when it has none), ``{said}`` " <name> said: <text>" (empty
    without a message), ``{code}`` the answer's code (the first marker without one), ``{status}`` the HTTP status,
    ``{wait}`` how long Reeldeck waits before trying again (``Retry-After``).
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
    plain = plain_error(spec, answer, text, code)
    for rule in declared.rules:
        if rule.holds_for(answer, text, code) and (rule.wording != Wording.GENERIC
                                                   or issubclass(rule.becomes, type(plain))):
            return _worded(rule, spec, answer, text, code, plain.message)
    return plain


def classifier(declaration: Callable[[], ProviderSpec]) -> ErrorClassifier:
    """``classify_error`` bound to a provider's declaration, read at each answer (its models come from the catalog,
    which may change while Reeldeck runs): what the hub gives the provider's ``ApiClient``."""
    return lambda answer: classify_error(declaration(), answer)


def _worded(rule: ErrorRule, spec: ProviderSpec, answer: ErrorAnswer, text: str, code: str,
            plain_message: str = "") -> ProviderError:
    """The rule's error for the answer (an error inside a 200 envelope has no HTTP error status)."""
    if rule.wording == Wording.GENERIC:
        message = plain_message
    elif rule.wording == Wording.RETIRED_MODEL:
        message = retired_model_message(spec, text, code)
    else:
        message = rule.message.format_map(_template_fields(rule, spec, answer, text, code))
    return rule.becomes(message, status_code=answer.status if answer.status >= 400 else None)


def _template_fields(rule: ErrorRule, spec: ProviderSpec, answer: ErrorAnswer, text: str,
                     code: str) -> dict[str, object]:
    said = text or rule.text_when_empty
    retry_after = retry_after_seconds(answer.headers)
    wait = (f" Reeldeck waits {retry_after:.0f} s, as {spec.name} asked, and tries again." if retry_after
            else " Reeldeck waits a little and tries again.")
    return {"name": spec.name, "id": spec.id, "key_variable": f"REELDECK_{spec.id.upper()}_API_KEY", "text": said,
            "said": f" {spec.name} said: {said}" if said else "", "code": code or next(iter(rule.markers), ""),
            "status": answer.status, "wait": wait}


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
_NO_CREDITS = ("Your {name} account has run out of credits (or its balance is too low for this job). Top up on "
               "{name}'s website, then try again; nothing was made.{said}")

#: The plain words for an error answer no rule of its provider holds for: the first that holds wins (a create's 404
#: means the endpoint or model is gone, not the task; a 429 tells the wait the server asked for).
PLAIN_RULES = (
    ErrorRule(ModerationError, "{name} rejected the prompt or an input under its content rules. Change the prompt or "
              "image and try again.{said}", markers=_MODERATION_WORDS),
    ErrorRule(AuthError, "{name} did not accept the API key. Set a valid key with `python main.py keys set {id}` or "
              "the {key_variable} environment variable.{said}", statuses=(401,)),
    ErrorRule(NoCreditsError, "Your {name} plan does not include this. Upgrade the plan on {name}'s website, or use "
              "an input that does not need it.{said}", statuses=(402, 403, 429), markers=_PLAN_WORDS),
    ErrorRule(NoCreditsError, _NO_CREDITS, statuses=(402,)),
    ErrorRule(NoCreditsError, _NO_CREDITS, statuses=(400, 403, 429), markers=_CREDIT_WORDS),
    ErrorRule(AuthError, "{name} refused access with this key (HTTP 403): the key may lack permission for this model, "
              "or the account may need verification on {name}'s website.{said}", statuses=(403,)),
    ErrorRule(NotFoundError, "{name} no longer offers this model or endpoint (HTTP 404 on create); nothing was made. "
              "Pick another model or provider.{said}", statuses=(404,), scope=Scope.CREATE),
    ErrorRule(NotFoundError, "{name} does not know this task (HTTP 404).{said}", statuses=(404,)),
    ErrorRule(RateLimitedError, "{name} is rate limiting requests (too many at once).{wait}{said}", statuses=(429,)),
    ErrorRule(ServerError, "{name} had a problem on its side (HTTP {status}).{said}",
              statuses=(408, 409, *range(500, 1000))),
    ErrorRule(BadRequestError, "{name} rejected the request as invalid.{said}", statuses=tuple(range(400, 500))),
    ErrorRule(ProtocolError, "{name} answered with an unexpected HTTP {status}.{said}"),
)


def plain_error(spec: ProviderSpec, answer: ErrorAnswer, text: str, code: str = "") -> ProviderError:
    """The plain words (``PLAIN_RULES``) for an error answer whose message is ``text`` and code ``code``."""
    rule = next(rule for rule in PLAIN_RULES if rule.holds_for(answer, text, code))
    return _worded(rule, spec, answer, text, code)
