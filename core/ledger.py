"""The charge ledger: for every job, what was estimated, what the provider reported, and how it ended.

Where a provider's poll answer says what a task cost, that figure is read here (``reported_charge``) and kept in
the store beside the job. The providers' pages and notes name these fields:

* GoAPI: ``data.meta.usage`` = ``{type, frozen, consume}`` (REFERENCE.md section 1, the unified task envelope):
  ``consume`` is what the task used, ``frozen`` what is held while it runs; ``type`` names the unit ("point").
* AI/ML API: ``meta.usage`` (REFERENCE.md section 2; its docs say tokens are consumed by the generation step):
  ``tokens_used``.
* Video gateway (Vidu): Vidu's own task object carries ``credits`` — "the credits this task consumed"
  (FIELD-NOTES "Gateway"; Vidu's get-generation page) — either at the top (passed through as is) or inside
  new-api's envelope at ``data.data`` (the upstream task object).
* AIHubMix (Sora) and Novita document no cost field: their jobs show the estimate only.

A job the provider accepted (it has a task id) and that then failed is flagged: it may have been charged, and the
ledger keeps the task id, the times and the provider's words to claim a refund with. ``month_csv`` writes a month.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.jobs import Job, JobState, iso

#: The flag of a job the provider accepted and then failed.
ACCEPTED_THEN_FAILED = "failed after the provider accepted it — may have been charged"

USD = "USD"


@dataclass(frozen=True)
class ReportedCharge:
    """What a provider said a task cost: an amount in the provider's own unit, and where the answer said it."""

    amount: float
    unit: str  # "points", "tokens", "Vidu credits", "USD"
    field: str  # the answer's field it came from, e.g. "credits" or "data.meta.usage.consume"

    def describe(self) -> str:
        if self.unit == USD:
            return f"${self.amount:.2f}"
        amount = f"{self.amount:,.0f}" if self.amount == int(self.amount) else f"{self.amount:,g}"
        return f"{amount} {self.unit}"


def _at(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number >= 0 else None
    return None


def _goapi(body: Any) -> ReportedCharge | None:
    usage = _at(body, "data.meta.usage")
    amount = _number(_at(usage, "consume")) if isinstance(usage, Mapping) else None
    if amount is None:
        return None
    kind = str(usage.get("type") or "point").strip() or "point"
    return ReportedCharge(amount, kind if kind.endswith("s") else f"{kind}s", "data.meta.usage.consume")


def _aimlapi(body: Any) -> ReportedCharge | None:
    amount = _number(_at(body, "meta.usage.tokens_used"))
    return ReportedCharge(amount, "tokens", "meta.usage.tokens_used") if amount is not None else None


def _gateway(body: Any) -> ReportedCharge | None:
    for path in ("credits", "data.data.credits"):
        amount = _number(_at(body, path))
        if amount is not None:
            return ReportedCharge(amount, "Vidu credits", path)
    return None


#: Per provider, how its poll answer says what a task cost (providers not named here report nothing).
CHARGE_READERS: dict[str, Callable[[Any], ReportedCharge | None]] = {
    "goapi": _goapi,
    "aimlapi": _aimlapi,
    "gateway": _gateway,
}


def reported_charge(provider: str, body: Any) -> ReportedCharge | None:
    """The charge a provider's poll answer reports, or None when it says nothing (or nothing readable)."""
    reader = CHARGE_READERS.get(provider)
    return reader(body) if reader is not None else None


@dataclass(frozen=True)
class LedgerEntry:
    """One job in the ledger."""

    job: Job
    reported: ReportedCharge | None

    @property
    def accepted(self) -> bool:
        """True when the provider took the job (it holds a task for it)."""
        return bool(self.job.remote_id)

    @property
    def outcome(self) -> str:
        job = self.job
        if job.state == JobState.COMPLETED:
            return "completed"
        if job.state in (JobState.FAILED, JobState.CANCELED):
            return f"{job.state.value} {'after' if self.accepted else 'before'} the provider accepted it"
        if job.needs_decision:
            return "waiting for your decision"
        return "in progress"

    @property
    def flag(self) -> str:
        if self.job.state != JobState.FAILED or not self.accepted:
            return ""
        if self.reported is not None and self.reported.amount == 0:
            return f"{ACCEPTED_THEN_FAILED} (the provider reports 0 {self.reported.unit})"
        return ACCEPTED_THEN_FAILED

    @property
    def spend_usd(self) -> float | None:
        """What the job cost in dollars: the provider's figure when it reported dollars, else the estimate."""
        if self.reported is not None and self.reported.unit == USD:
            return self.reported.amount
        return self.job.cost_usd


def entries(jobs: Iterable[Job], charges: Mapping[str, ReportedCharge]) -> list[LedgerEntry]:
    """Every job with its reported charge, oldest first."""
    ordered = sorted(jobs, key=lambda j: (j.submitted_at or j.created_at, j.id))
    return [LedgerEntry(job, charges.get(job.id)) for job in ordered]


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_bounds(month: str) -> tuple[float, float]:
    """Local-time start and end (exclusive) of a ``YYYY-MM`` month as timestamps; ValueError when malformed."""
    found = _MONTH.fullmatch(month.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"{month!r} is not a month; write it as YYYY-MM, e.g. 2026-11.")
    year, number = int(found.group(1)), int(found.group(2))
    start = dt.datetime(year, number, 1)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1)
    return start.timestamp(), end.timestamp()


def in_month(entry: LedgerEntry, month: str) -> bool:
    start, end = month_bounds(month)
    when = entry.job.submitted_at or entry.job.created_at
    return start <= when < end


def this_month(now: float) -> str:
    return dt.datetime.fromtimestamp(now).strftime("%Y-%m")


CSV_COLUMNS = ("job_id", "submitted_at", "finished_at", "provider", "model", "remote_id", "state", "outcome",
               "estimate_usd", "reported_amount", "reported_unit", "reported_field", "flag", "provider_said")


def csv_row(entry: LedgerEntry) -> dict[str, str]:
    job, reported = entry.job, entry.reported
    return {
        "job_id": job.id,
        "submitted_at": iso(job.submitted_at) or "",
        "finished_at": iso(job.finished_at) or "",
        "provider": job.provider,
        "model": job.model,
        "remote_id": job.remote_id or "",
        "state": job.state.value,
        "outcome": entry.outcome,
        "estimate_usd": "" if job.cost_usd is None else f"{job.cost_usd:.4f}",
        "reported_amount": "" if reported is None else f"{reported.amount:g}",
        "reported_unit": "" if reported is None else reported.unit,
        "reported_field": "" if reported is None else reported.field,
        "flag": entry.flag,
        "provider_said": job.error or "" if job.state == JobState.FAILED else "",
    }


def to_csv(rows: Iterable[LedgerEntry]) -> str:
    """The entries as CSV text (a header line, then one line per job)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in rows:
        writer.writerow(csv_row(entry))
    return buffer.getvalue()


def month_csv(all_entries: Iterable[LedgerEntry], month: str) -> str:
    """The CSV of one month's jobs (by when they were sent, local time)."""
    month_bounds(month)  # a malformed month fails before anything is written
    return to_csv(e for e in all_entries if in_month(e, month))


def write_csv(path: Path, text: str) -> None:
    """Write CSV text to ``path`` whole or not at all (a temporary file, then a rename); InputError on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"The ledger could not be written to {path}: {exc.strerror or exc}.") from None


@dataclass(frozen=True)
class Totals:
    """A month at a glance."""

    jobs: int
    estimated_usd: float
    reported: dict[str, float]  # unit -> amount
    flagged: int


def totals(rows: Iterable[LedgerEntry]) -> Totals:
    items = list(rows)
    reported: dict[str, float] = {}
    for entry in items:
        if entry.reported is not None:
            reported[entry.reported.unit] = reported.get(entry.reported.unit, 0.0) + entry.reported.amount
    estimated = sum(e.job.cost_usd for e in items if e.job.cost_usd is not None and e.accepted)
    return Totals(len(items), round(estimated, 4), reported, sum(1 for e in items if e.flag))
