"""Fault injection for the emulator.

A :class:`Fault` matches requests by provider and/or request kind and/or origin, and fires ``times`` times
(None = every time). Where it fires depends on its kind:

* ``status`` / ``reset`` / ``reset_after`` / ``slow`` - any request, before it is processed
  (``reset_after`` processes it normally, then drops the connection instead of answering);
* ``body`` - any request: a misbehaving answer. With ``body`` set, the request is not processed and the answer is
  that body (``bytes``/``str`` as is, anything else as JSON; sent ``repeat`` times, streamed) with ``status``
  (default 200) and ``headers`` — or, with ``processed``, the request is processed first (a task is made) and
  then answered with that body, as a proxy does that fails after the vendor took the task. Without ``body``,
  the request is processed and its answer altered: ``patch``
  sets dotted fields of its JSON (``{"data.status": "thinking"}``), ``headers`` are added (``Content-Type``,
  ``Content-Disposition``, ``Location``, ...) and ``status`` replaces its status (file answers included);
* ``after`` - any request: processed normally (a create makes its task), then answered with ``status`` (default
  502; 429 is never used here, as a rate limit is checked before anything is made) and a proxy's HTML error page,
  as proxies do when the vendor took the task but the answer is lost (FIELD-NOTES "Proxies and duplicate charges");
* ``truncate`` - a response carrying a file body (CDN download, Sora ``content``);
* ``cut_chunked`` - a file body sent without ``Content-Length`` (chunked) that ends cleanly after ``fraction`` of
  the file: nothing at the HTTP level says it is incomplete;
* ``drip`` - a file body (with its true ``Content-Length``) sent 16 bytes every ``delay`` seconds: a host that
  never stalls long enough for a read timeout yet never finishes;
* ``expire_url`` - a CDN download, answered 403 as if the signed URL had expired;
* ``fail_job`` - task creation: the new task ends in the provider's failed status;
* ``echo_key`` - any request: an error answer in the provider's shape (``status``, default 401) whose message
  quotes the key the request carried, like services that answer ``401 Invalid API key: <key>``. ``message`` is
  a template: ``{key}`` is the whole key, ``{key_part}`` twelve characters from its middle
  (default ``"Invalid API key: {key}"``).

``FaultSet.random(rate, seed, kinds)`` additionally fires random faults, for soak tests.
"""

from __future__ import annotations

import random as _random
from dataclasses import dataclass, field
from typing import Any

from .records import REQUEST_KINDS

FAULT_KINDS = ("status", "reset", "reset_after", "slow", "truncate", "fail_job", "expire_url", "body", "echo_key",
               "cut_chunked", "drip", "after")

#: Fault kinds checked at each point of request handling.
REQUEST_HOOK = frozenset({"status", "reset", "reset_after", "slow", "body", "echo_key", "after"})
BODY_HOOK = frozenset({"truncate", "cut_chunked", "drip"})
CDN_HOOK = frozenset({"expire_url"})
CREATE_HOOK = frozenset({"fail_job"})


@dataclass
class Fault:
    """One injected fault.

    ``kind`` is the fault kind (see :data:`FAULT_KINDS`); ``provider``, ``request_kind`` and ``origin``
    restrict which requests it matches (None = any). ``status``/``retry_after`` apply to ``status`` faults
    (``status`` defaults to 503 there), ``delay`` to ``slow``, ``fraction`` to ``truncate``, ``message`` to
    ``fail_job`` (and ``status``); ``body``, ``repeat``, ``patch``, ``headers`` and ``status`` to ``body`` faults.
    Every field is plain data, so a fault can be given as JSON (``Fault(**json.loads(...))``).
    """

    kind: str
    provider: str | None = None
    request_kind: str | None = None
    origin: str | None = None
    times: int | None = 1
    status: int | None = None
    retry_after: float | None = None
    delay: float = 1.0
    fraction: float = 0.5
    message: str | None = None
    body: Any = None
    repeat: int = 1
    patch: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    #: ``body`` faults: process the request (make the task) before answering with ``body``.
    processed: bool = False
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.request_kind is not None and self.request_kind not in REQUEST_KINDS:
            raise ValueError(f"unknown request kind {self.request_kind!r}; expected one of {REQUEST_KINDS}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fraction must be within 0..1")
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status (100..599)")

    @property
    def exhausted(self) -> bool:
        """True once the fault has fired ``times`` times."""
        return self.times is not None and self.fired >= self.times

    def matches(self, hook: frozenset[str], provider: str, request_kind: str, origin: str) -> bool:
        """True when this fault applies at ``hook`` to a request with these properties."""
        return (
            self.kind in hook
            and not self.exhausted
            and self.provider in (None, provider)
            and self.request_kind in (None, request_kind)
            and self.origin in (None, origin)
        )


@dataclass
class RandomFaults:
    """Settings of the random fault mode."""

    rate: float
    rng: _random.Random
    kinds: tuple[str, ...]
    providers: tuple[str, ...] | None = None
    statuses: tuple[int, ...] = (429, 500, 502, 503)
    retry_after: float | None = None
    delay: float = 0.05
    fraction: float = 0.5

    def roll(self, hook: frozenset[str], provider: str, request_kind: str, origin: str) -> Fault | None:
        """Maybe create a fault for this hook point."""
        candidates = [kind for kind in self.kinds if kind in hook]
        if not candidates or (self.providers is not None and provider not in self.providers):
            return None
        if self.rng.random() >= self.rate:
            return None
        return Fault(
            self.rng.choice(candidates),
            provider=provider,
            request_kind=request_kind,
            origin=origin,
            status=self.rng.choice(self.statuses),
            retry_after=self.retry_after,
            delay=self.delay,
            fraction=self.fraction,
            message="random fault",
        )


@dataclass
class FiredFault:
    """A log entry: a fault fired on a request."""

    kind: str
    provider: str
    request_kind: str
    origin: str


@dataclass
class FaultSet:
    """The emulator's active faults (``sb.faults``)."""

    faults: list[Fault] = field(default_factory=list)
    history: list[FiredFault] = field(default_factory=list)
    random_mode: RandomFaults | None = None

    def add(self, fault: Fault) -> Fault:
        """Activate a fault; returns it so tests can check ``fired``."""
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault and switch random mode off."""
        self.faults.clear()
        self.random_mode = None

    def random(
        self,
        rate: float = 0.2,
        seed: int | None = None,
        kinds: list[str] | tuple[str, ...] | None = None,
        *,
        providers: list[str] | tuple[str, ...] | None = None,
        statuses: tuple[int, ...] = (429, 500, 502, 503),
        retry_after: float | None = None,
        delay: float = 0.05,
        fraction: float = 0.5,
    ) -> None:
        """Fire a random fault of one of ``kinds`` with probability ``rate`` at each matching hook point."""
        chosen = tuple(kinds) if kinds is not None else ("status", "reset", "reset_after", "slow")
        unknown = [kind for kind in chosen if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        self.random_mode = RandomFaults(
            rate=rate,
            rng=_random.Random(seed),
            kinds=chosen,
            providers=tuple(providers) if providers is not None else None,
            statuses=statuses,
            retry_after=retry_after,
            delay=delay,
            fraction=fraction,
        )

    def take(self, hook: frozenset[str], provider: str, request_kind: str, origin: str) -> Fault | None:
        """The fault firing at this hook point for this request, if any (counted as fired)."""
        fault = next((f for f in self.faults if f.matches(hook, provider, request_kind, origin)), None)
        if fault is None and self.random_mode is not None:
            fault = self.random_mode.roll(hook, provider, request_kind, origin)
        if fault is None:
            return None
        fault.fired += 1
        if fault.exhausted:
            self.faults[:] = [f for f in self.faults if f is not fault]
        self.history.append(FiredFault(fault.kind, provider, request_kind, origin))
        return fault

    def fired_count(self, kind: str | None = None) -> int:
        """How many faults (of one kind) have fired."""
        return sum(1 for entry in self.history if kind in (None, entry.kind))
