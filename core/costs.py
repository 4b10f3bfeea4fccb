"""Prices, estimates, spend and the budget cap.

Prices come from the model catalog (``resources/catalog/``, and the user's catalog files); every price names its
source and date, and the user can override or add prices in settings (``prices`` in settings.json). Where no price
is known the estimate says so instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core import catalog as data
from core.errors import InputError
from core.jobs import Job, JobState
from core.providers import catalog
from core.words import count, have


@dataclass(frozen=True)
class Price:
    """What one model costs: per second of video, or per video."""

    provider: str
    model: str
    unit: str  # "second" | "video"
    usd: float
    source: str
    as_of: str  # ISO date the price was read
    condition: str = ""  # e.g. "size in 1024x1792,1792x1024"

    def applies(self, params: Mapping[str, Any]) -> bool:
        if not self.condition:
            return True
        name, _, values = self.condition.partition(" in ")
        return str(params.get(name.strip())) in {v.strip() for v in values.split(",")}


#: The source the shipped Sora prices name (``resources/catalog/aihubmix.toml``).
OPENAI_PRICING = "OpenAI API pricing page (Sora 2 video, list price; AIHubMix resells at or below it)"


def catalog_prices(shipped_only: bool = False) -> tuple[Price, ...]:
    """Every price the catalog declares (the shipped files only, or with the user's files too), in file order."""
    loaded = data.load() if shipped_only else catalog.current()
    return tuple(Price(m.provider, m.entry.id, p.unit, p.usd, p.source, p.as_of, p.condition)
                 for models in loaded.models.values() for m in models for p in m.entry.prices)


#: The shipped prices. Only prices we could source are listed; other models show "no price known".
DEFAULT_PRICES: tuple[Price, ...] = catalog_prices(shipped_only=True)


@dataclass(frozen=True)
class Estimate:
    """A cost estimate and how it was reached."""

    usd: float | None
    explanation: str
    #: How many of the jobs it covers have no known price (not counted in ``usd``).
    unpriced: int = 0


def video_seconds(provider: str, model: str, params: Mapping[str, Any]) -> float | None:
    """How long the requested video is, when the request or the model says."""
    for name in ("seconds", "duration"):
        value = params.get(name)
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    declared = next((m for m in catalog.models_for(provider) if m.id == model), None)
    return declared.fixed_seconds if declared else None


class PriceTable:
    """The shipped prices with the user's overrides on top."""

    def __init__(self, prices: Iterable[Price] | None = None, overrides: Iterable[Price] = ()) -> None:
        catalog_list = catalog_prices() if prices is None else prices
        self.prices = [*overrides, *catalog_list]  # overrides first: they win

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> PriceTable:
        overrides = []
        for item in data.get("prices", []) or []:
            try:
                overrides.append(Price(**{**item, "source": item.get("source", "your settings"),
                                          "as_of": item.get("as_of", "")}))
            except TypeError:
                continue  # a malformed entry is skipped, not fatal
        return cls(None, overrides)

    def price_for(self, provider: str, model: str, params: Mapping[str, Any]) -> Price | None:
        return next((p for p in self.prices if p.provider == provider and p.model == model and p.applies(params)),
                    None)

    def estimate(self, provider: str, model: str, params: Mapping[str, Any]) -> Estimate:
        price = self.price_for(provider, model, params)
        if price is None:
            return Estimate(None, f"No price known for {provider}/{model}; add one in Settings → Prices.", 1)
        if price.unit == "video":
            return Estimate(price.usd, f"${price.usd:.2f} per video ({price.source}, {price.as_of})")
        seconds = video_seconds(provider, model, params)
        if seconds is None:
            return Estimate(None, f"{provider}/{model} is priced per second, but the length is unknown.", 1)
        usd = round(price.usd * seconds, 4)
        return Estimate(usd, f"{seconds:g} s × ${price.usd:.2f}/s = ${usd:.2f} ({price.source}, {price.as_of})")

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.prices]


def total(estimates: Iterable[Estimate]) -> Estimate:
    """The sum of several estimates (a batch); unknown prices are named, not counted as zero silently."""
    items = list(estimates)
    known = [e.usd for e in items if e.usd is not None]
    unknown = len(items) - len(known)
    usd = round(sum(known), 4)
    note = f"${usd:.2f} for {count(len(known), 'job')}" if known else ""
    if unknown:
        note += ("; " if note else "") + f"{count(unknown, 'job')} {have(unknown)} no known price"
    return Estimate(usd if known else None, note, unknown)


def day_of(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).date().isoformat()


def spend(jobs: Iterable[Job], by: str = "day") -> dict[str, float]:
    """Estimated spend of real jobs that reached the provider, grouped by local day or by provider.

    Sandbox renders cost nothing and never count (docs/ARCHITECTURE.md, "Two worlds")."""
    totals: dict[str, float] = defaultdict(float)
    for job in jobs:
        if job.cost_usd is None or job.remote_id is None or job.state == JobState.PENDING or job.world != "real":
            continue
        key = day_of(job.submitted_at or job.created_at) if by == "day" else job.provider
        totals[key] += job.cost_usd
    return {k: round(v, 4) for k, v in sorted(totals.items())}


def check_budget(jobs: Iterable[Job], new_cost: float | None, cap_usd: float | None, today: str | None = None) -> None:
    """Refuse a submission that would take today's estimated spend past the cap (InputError, nothing sent)."""
    day = today or dt.date.today().isoformat()
    problem = budget_problem(spend(jobs, by="day").get(day, 0.0), new_cost, cap_usd)
    if problem:
        raise InputError(problem)


def budget_problem(spent_today: float, new_cost: float | None, cap_usd: float | None, what: str = "This",
                   unpriced: int = 0) -> str | None:
    """Why ``new_cost`` more today would break the daily cap, or None when it fits (or nothing is capped).
    ``what`` names what is checked ("This", "This batch"); ``unpriced`` jobs of it have no known price: with a cap
    they are refused, since the cap could not be kept (the person can set their price, or clear the cap)."""
    if cap_usd is None:
        return None
    if unpriced:
        their = "its price" if unpriced == 1 else "their prices"
        return (f"{_unpriced_subject(what, unpriced)} no known price, so Reeldeck cannot keep your daily budget of "
                f"${cap_usd:.2f}. Add {their} in Settings → Prices, or clear the daily budget.")
    if new_cost is None or spent_today + new_cost <= cap_usd + 1e-9:
        return None
    return (f"{what} would take today's estimated spend to ${spent_today + new_cost:.2f}, past your daily budget of "
            f"${cap_usd:.2f} (already ${spent_today:.2f}). Raise the budget in Settings or wait until tomorrow.")


def _unpriced_subject(what: str, unpriced: int) -> str:
    """"This job has" for one job; "2 jobs of this batch have" for a batch."""
    if what == "This":
        return "This job has"
    return f"{count(unpriced, 'job')} of {what[0].lower() + what[1:]} {have(unpriced)}"


