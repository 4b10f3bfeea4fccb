"""The charge ledger: the provider's reported figures (as the emulator reports them), the flag on jobs that failed
after the provider accepted them, the month's CSV and the ``ledger`` command."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from clikit import run_cli
from harness import Harness

from core.jobs import Job, JobState
from core.ledger import (
    ACCEPTED_THEN_FAILED,
    CSV_COLUMNS,
    ReportedCharge,
    entries,
    month_bounds,
    month_csv,
    reported_charge,
    totals,
)
from core.sandbox import Fault
from core.store import JobStore


async def emulator_poll(h: Harness, path: str) -> Any:
    """The emulator's own answer to a poll, read the way a provider client reads it."""
    base = h.sandbox.endpoints()
    async with httpx.AsyncClient() as client:
        answer = await client.get(base[path.split(" ")[0]] + path.split(" ")[1],
                                  headers={"Authorization": "Bearer k", "X-API-Key": "k"})
    return answer.json()


def ledger_of(h: Harness) -> dict[str, Any]:
    store = h.engine.store
    return {e.job.id: e for e in entries(store.all(), store.charges())}


async def test_vidu_credits_the_emulator_reports_are_in_the_ledger(harness: Harness) -> None:
    h = harness
    h.sandbox.gateway_shape = "vidu"
    job = await h.run("gateway", "viduq3p-720p", {"prompt": "a red fox", "duration": "3"})
    assert job.state == JobState.COMPLETED
    said = await emulator_poll(h, f"REELDECK_GATEWAY_BASE_URL /v1/video/generations/{job.remote_id}")
    entry = ledger_of(h)[job.id]
    assert entry.reported == ReportedCharge(float(said["credits"]), "Vidu credits", "credits")
    assert entry.reported.amount > 0 and entry.outcome == "completed" and entry.flag == ""


async def test_a_job_failed_after_acceptance_is_flagged_with_the_task_times_and_words(harness: Harness) -> None:
    h = harness
    h.sandbox.gateway_shape = "a"  # new-api's envelope: Vidu's task object rides in data.data
    h.sandbox.faults.add(Fault("fail_job", provider="gateway", message="GPU on fire"))
    job = await h.run("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "2"})
    assert job.state == JobState.FAILED and job.remote_id
    said = await emulator_poll(h, f"REELDECK_GATEWAY_BASE_URL /v1/video/generations/{job.remote_id}")
    entry = ledger_of(h)[job.id]
    assert entry.reported == ReportedCharge(float(said["data"]["data"]["credits"]), "Vidu credits",
                                            "data.data.credits")
    assert entry.flag == ACCEPTED_THEN_FAILED
    assert entry.outcome == "failed after the provider accepted it"
    row = next(csv.DictReader(io.StringIO(month_csv([entry], dt.datetime.fromtimestamp(
        job.submitted_at or 0).strftime("%Y-%m")))))
    assert row["remote_id"] == job.remote_id and row["flag"] == ACCEPTED_THEN_FAILED
    assert "GPU on fire" in row["provider_said"]
    assert row["submitted_at"] and row["finished_at"] and row["reported_amount"] == f"{entry.reported.amount:g}"


async def test_goapi_points_consumed_and_a_failed_task_that_consumed_none(harness: Harness) -> None:
    h = harness
    url = "https://images.example/two-people.jpg"
    done = await h.run("goapi", "Qubico/hug-video", {}, image=[url])
    h.sandbox.faults.add(Fault("fail_job", provider="goapi"))
    failed = await h.run("goapi", "Qubico/hug-video", {}, image=[url])
    said = await emulator_poll(h, f"REELDECK_GOAPI_BASE_URL /api/v1/task/{done.remote_id}")
    ledger = ledger_of(h)
    consumed = said["data"]["meta"]["usage"]["consume"]
    assert consumed > 0
    assert ledger[done.id].reported == ReportedCharge(float(consumed), "points", "data.meta.usage.consume")
    assert ledger[failed.id].reported is not None and ledger[failed.id].reported.amount == 0
    assert ledger[failed.id].flag == f"{ACCEPTED_THEN_FAILED} (the provider reports 0 points)"


async def test_providers_that_report_nothing_keep_the_estimate(harness: Harness, sora_served: Path) -> None:
    h = harness  # Sora (at a gateway that still serves it) has a list price; AIHubMix reports no charge
    job = await h.run("aihubmix", "sora-2", {"prompt": "a red fox", "seconds": "4"})
    entry = ledger_of(h)[job.id]
    assert entry.reported is None
    assert entry.spend_usd == job.cost_usd == pytest.approx(0.4)


def test_reported_charges_are_read_tolerantly() -> None:
    assert reported_charge("aimlapi", {"meta": {"usage": {"tokens_used": 420000}}}) == ReportedCharge(
        420000.0, "tokens", "meta.usage.tokens_used")
    assert reported_charge("aimlapi", {"meta": {"usage": {}}}) is None
    assert reported_charge("gateway", {"credits": "12"}) == ReportedCharge(12.0, "Vidu credits", "credits")
    for nonsense in ({"credits": True}, {"credits": -3}, {"credits": "many"}, "html", None, {"data": [1]}):
        assert reported_charge("gateway", nonsense) is None
    assert reported_charge("novita", {"credits": 5}) is None  # Novita documents no cost field


def _job(job_id: str, when: float, **fields: Any) -> Job:
    return Job(job_id, "gateway", "viduq3t-540p", {"prompt": "x"}, {}, created_at=when, submitted_at=when, **fields)


def test_a_month_of_csv_holds_that_month_only() -> None:
    start, end = month_bounds("2026-02")
    assert dt.datetime.fromtimestamp(start) == dt.datetime(2026, 2, 1)
    assert dt.datetime.fromtimestamp(end) == dt.datetime(2026, 3, 1)
    jobs = [_job("jan", start - 1, state=JobState.COMPLETED, remote_id="t0", cost_usd=1.0),
            _job("feb", start, state=JobState.FAILED, remote_id="t1", error="no", cost_usd=2.0),
            _job("feb-local", start + 60, state=JobState.FAILED, error="bad key"),
            _job("mar", end, state=JobState.COMPLETED, remote_id="t2")]
    text = month_csv(entries(jobs, {"feb": ReportedCharge(8, "Vidu credits", "credits")}), "2026-02")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert [r["job_id"] for r in rows] == ["feb", "feb-local"]
    assert rows[0]["flag"] == ACCEPTED_THEN_FAILED and rows[0]["reported_amount"] == "8"
    assert rows[1]["flag"] == "" and rows[1]["outcome"] == "failed before the provider accepted it"
    summary = totals(entries(jobs[1:3], {"feb": ReportedCharge(8, "Vidu credits", "credits")}))
    assert (summary.jobs, summary.estimated_usd, summary.reported, summary.flagged) == (2, 2.0, {"Vidu credits": 8},
                                                                                        1)


@pytest.mark.parametrize("month", ["2026-13", "26-02", "february", ""])
def test_a_malformed_month_is_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_csv([], month)


def test_ledger_command_writes_a_months_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_HOME", str(tmp_path / "home"))
    store = JobStore(tmp_path / "home" / "reeldeck.sqlite", world="real")
    when = dt.datetime(2026, 11, 5, 12).timestamp()
    store.add(_job("j1", when, state=JobState.FAILED, remote_id="task-1", error="moderation", cost_usd=0.5))
    store.record_charge("j1", ReportedCharge(20, "Vidu credits", "credits"))
    store.close()
    target = tmp_path / "nov.csv"
    code, out, err = run_cli("ledger", "--month", "2026-11", "--csv", str(target))
    assert code == 0, err
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["job_id"], r["remote_id"], r["reported_amount"], r["flag"]) for r in rows] == [
        ("j1", "task-1", "20", ACCEPTED_THEN_FAILED)]
    assert str(target) in err
    code, out, err = run_cli("ledger", "--month", "2026-11")
    assert code == 0 and "task-1" in out and "20 Vidu credits" in out and "may have been charged" in out
    code, out, err = run_cli("ledger", "--month", "2026-11", "--csv", "-")
    assert code == 0 and out.splitlines()[0] == ",".join(CSV_COLUMNS)


def test_ledger_command_refuses_a_bad_month_and_writes_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELDECK_HOME", str(tmp_path / "home"))
    target = tmp_path / "out.csv"
    code, out, err = run_cli("ledger", "--month", "2026-13", "--csv", str(target))
    assert code == 2 and "YYYY-MM" in err and not target.exists() and out == ""
