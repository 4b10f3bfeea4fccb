"""Error classification is data each provider declares (``ProviderSpec.errors``), read by one function.

Every registered provider's rules are walked: an answer crafted from each rule, sent back to a real ``ApiClient``
(built by the hub, on an ``httpx.MockTransport``) for a request of the rule's scope, must become the rule's error
kind in the rule's words; the same answer to another kind of request, with another status or without the rule's
code, must not. No provider class classifies errors in code.
"""

from __future__ import annotations

import string
from dataclasses import replace
from typing import Any

import httpx
import pytest

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
from core.http import ErrorAnswer, HttpRequest, RetryPolicy
from core.hub import ProviderHub
from core.params import ProviderSpec
from core.providers import PROVIDER_CLASSES, available_ids, provider_spec, wire
from core.providers.base import Provider
from core.providers.errors import PLAIN_RULES, ErrorRule, Scope, Wording, classify_error, declared_errors
from core.secrets import KeyStore
from core.settings import Settings, extra_endpoints

BASE = "https://api.rules.test"
UPLOAD_HOST = "https://upload.rules.test/put"


def _declared_rules() -> list[tuple[str, int]]:
    return [(pid, index) for pid in available_ids()
            for index, _rule in enumerate(declared_errors(provider_spec(pid)).rules)]


def test_no_provider_classifies_errors_in_code() -> None:
    """The rules stay data: neither the base nor any provider class reads or words error answers itself."""
    for name in ("parse_error", "error_text", "error_code"):
        assert not hasattr(Provider, name), name
        assert [pid for pid, cls in PROVIDER_CLASSES.items() if hasattr(cls, name)] == [], name


def test_every_shipped_provider_declares_where_its_answers_say_what_went_wrong() -> None:
    for pid in ("goapi", "aimlapi", "aihubmix", "gateway", "novita"):
        declared = declared_errors(provider_spec(pid))
        assert declared.message_paths and declared.code_paths, pid


def test_the_special_wordings_are_declared_where_the_issue_found_them() -> None:
    """The rules the providers had in code are now in their declarations (one each, at least)."""
    kinds = {pid: {(rule.becomes.__name__, rule.scope, rule.wording) for rule in declared_errors(
        provider_spec(pid)).rules} for pid in available_ids()}
    assert ("BadRequestError", Scope.ANY, Wording.RETIRED_MODEL) in kinds["aihubmix"]
    assert ("VideoNotFoundError", Scope.ANY, Wording.GENERIC) in kinds["aihubmix"]
    assert ("NoCreditsError", Scope.UPLOAD, Wording.TEMPLATE) in kinds["goapi"]
    assert ("NotFoundError", Scope.ANY, Wording.TEMPLATE) in kinds["gateway"]
    assert ("NotFoundError", Scope.CREATE, Wording.TEMPLATE) in kinds["novita"]


@pytest.mark.parametrize(("provider_id", "index"), _declared_rules())
async def test_each_declared_rule_gives_its_error_through_the_api_client(provider_id: str, index: int) -> None:
    spec = provider_spec(provider_id)
    rule = declared_errors(spec).rules[index]
    status, body = _matching_answer(spec, rule)
    error = await _answered(provider_id, status, body, rule.scope)
    assert isinstance(error, rule.becomes), (type(error), error.message)
    assert _worded_by(rule, spec, error, status, body), error.message
    assert error.status_code == status


@pytest.mark.parametrize(("provider_id", "index"), _declared_rules())
async def test_each_declared_rule_holds_only_for_its_requests_statuses_and_codes(provider_id: str,
                                                                                 index: int) -> None:
    spec = provider_spec(provider_id)
    rule = declared_errors(spec).rules[index]
    status, body = _matching_answer(spec, rule)
    others: list[tuple[int, Any, Scope]] = []
    if rule.scope != Scope.ANY:
        others.append((status, body, Scope.ANY))
    if rule.statuses:
        others.append((next(s for s in (422, 400, 409) if s not in rule.statuses), body, rule.scope))
    if rule.markers:
        others.append((status, _body_saying(spec, rule, "something else went wrong"), rule.scope))
    if rule.shape:  # the same words outside the API's own error object
        others.append((status, {"detail": _matching_answer(spec, rule)[1]}, rule.scope))
    assert others, "a rule that matches every error answer would hide the plain wording"
    for other_status, other_body, scope in others:
        error = await _answered(provider_id, other_status, other_body, scope)
        assert not _worded_by(rule, spec, error, other_status, other_body), (other_status, scope, error.message)


PLAIN_CASES = [  # (status, message, a create's answer, kind, words of the message)
    (400, "prompt flagged by the safety system", False, ModerationError, "under its content rules"),
    (401, "", False, AuthError, "`python main.py keys set goapi` or the REELDECK_GOAPI_API_KEY environment"),
    (403, "Insufficient plan level", False, NoCreditsError, "plan does not include this"),
    (402, "", False, NoCreditsError, "run out of credits"),
    (400, "balance not enough", False, NoCreditsError, "run out of credits"),
    (403, "forbidden", False, AuthError, "refused access with this key (HTTP 403)"),
    (404, "", True, NotFoundError, "no longer offers this model or endpoint (HTTP 404 on create)"),
    (404, "", False, NotFoundError, "does not know this task (HTTP 404)"),
    (429, "", False, RateLimitedError, "waits a little and tries again"),
    (503, "", False, ServerError, "a problem on its side (HTTP 503)"),
    (418, "no teapots", False, BadRequestError, "rejected the request as invalid. GoAPI said: no teapots"),
    (399, "", False, ProtocolError, "unexpected HTTP 399"),
]


@pytest.mark.parametrize(("status", "message", "creating", "kind", "words"), PLAIN_CASES)
def test_the_plain_rules_word_what_no_provider_rule_does(status: int, message: str, creating: bool,
                                                         kind: type[ProviderError], words: str) -> None:
    error = classify_error(provider_spec("goapi"), ErrorAnswer(status, {"message": message}, creating=creating))
    assert type(error) is kind and words in error.message, error.message


def test_every_plain_rule_is_reached_by_some_answer() -> None:
    """No plain rule is shadowed by the ones before it (each case above is worded by a different one)."""
    reached = {next(index for index, rule in enumerate(PLAIN_RULES)
                    if rule.holds_for(ErrorAnswer(status, creating=creating), message, ""))
               for status, message, creating, _kind, _words in PLAIN_CASES}
    assert reached == set(range(len(PLAIN_RULES)))


def test_a_429_tells_the_wait_the_server_asked_for() -> None:
    answer = ErrorAnswer(429, {"message": "slow down"}, httpx.Headers({"Retry-After": "7"}))
    error = classify_error(provider_spec("novita"), answer)
    assert isinstance(error, RateLimitedError) and "waits 7 s, as Novita asked" in error.message


def test_an_answer_no_rule_matches_gets_the_plain_wording() -> None:
    spec = provider_spec("goapi")
    error = classify_error(spec, ErrorAnswer(403, {"code": 403, "message": "Insufficient plan level"}))
    assert "public image URL" not in error.message and "plan does not include this" in error.message


def _matching_answer(spec: ProviderSpec, rule: ErrorRule) -> tuple[int, dict[str, Any]]:
    """An answer the rule is about: its first status (any 4xx when it names none), its first code in the text."""
    status = rule.statuses[0] if rule.statuses else 400
    said = f"{rule.markers[0]}: the crafted answer" if rule.markers else "the crafted answer"
    return status, _body_saying(spec, rule, said)


def _body_saying(spec: ProviderSpec, rule: ErrorRule, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    wire.put(body, rule.shape or declared_errors(spec).message_paths[0], text)
    return body


def _worded_by(rule: ErrorRule, spec: ProviderSpec, error: ProviderError, status: int, body: Any) -> bool:
    """True when ``error`` is the rule's: its kind, and the rule's own words (every literal run of its template, the
    retired-model sentence, or — a finer kind of the plain error — exactly the plain words)."""
    if type(error) is not rule.becomes:
        return False
    if rule.wording == Wording.RETIRED_MODEL:
        return f"{spec.name} no longer serves" in error.message and "Nothing was made or charged" in error.message
    if rule.wording == Wording.GENERIC:
        plain = classify_error(replace(spec, errors=replace(declared_errors(spec), rules=())),
                               ErrorAnswer(status, body, creating=rule.scope == Scope.CREATE))
        return type(plain) is not rule.becomes and error.message == plain.message
    literals = [text.strip() for text, *_ in string.Formatter().parse(rule.message) if len(text.strip()) >= 8]
    assert literals, f"the rule's template says too little of its own: {rule.message!r}"
    return all(literal in error.message for literal in literals)


async def _answered(provider_id: str, status: int, body: Any, scope: Scope) -> ProviderError:
    """The error the provider's ApiClient (built by the hub) raises when ``body`` answers a request of ``scope``."""
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    endpoints = {f"REELDECK_{pid.upper()}_BASE_URL": BASE for pid in available_ids()}
    endpoints |= {env_name: UPLOAD_HOST for env_name in extra_endpoints()}  # upload and asset hosts
    hub = ProviderHub(Settings(environ={}, data={}), KeyStore(environ={}), sandbox_endpoints=endpoints,
                      client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
                      retry=RetryPolicy(max_attempts=1))
    provider = hub.get(provider_id)
    request = {
        Scope.ANY: HttpRequest("GET", "/v1/tasks/t-1"),
        Scope.CREATE: HttpRequest("POST", "/v1/tasks", json={"prompt": "a boat"}, idempotent=False),
        Scope.UPLOAD: HttpRequest("POST", "", url=UPLOAD_HOST, json={"file": "eA=="}, upload=True),
    }[scope]
    try:
        with pytest.raises(ProviderError) as raised:
            await provider.api.send(request)
    finally:
        await hub.close()
    return raised.value
