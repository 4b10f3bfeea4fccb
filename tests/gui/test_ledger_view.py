"""The charge ledger window: a month of jobs with the credits the emulator reported, the flag on a job that failed
after the provider accepted it, the totals, and the CSV export (written whole, off the GUI thread)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, until
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.jobs import JobState
from core.ledger import ACCEPTED_THEN_FAILED, this_month
from core.runtime import Runtime
from core.sandbox import Fault
from core.submission import JobRequest
from gui.ledger_view import LedgerColumn, LedgerRole

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


async def run_jobs(runtime: Runtime) -> tuple[str, str]:
    """One Vidu job that completes and one the provider accepts, then fails; their ids."""
    engine = runtime.engine
    assert engine is not None
    runtime.sandbox.gateway_shape = "vidu"
    good = await engine.submit(JobRequest("gateway", "viduq3t-720p", {"prompt": "a fox", "duration": "2"}))
    await until(lambda: runtime.store is not None and runtime.store.get(good.id).remote_id is not None,
                what="the first task made")
    runtime.sandbox.faults.add(Fault("fail_job", provider="gateway"))
    bad = await engine.submit(JobRequest("gateway", "viduq3t-720p", {"prompt": "a fox", "duration": "2"}))
    done = await engine.wait([good.id, bad.id], timeout=60)
    assert [j.state for j in done] == [JobState.COMPLETED, JobState.FAILED]
    return good.id, bad.id


async def test_the_ledger_shows_reported_credits_and_flags_and_exports_a_month(
        qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    good, bad = await run_jobs(runtime)
    assert runtime.store is not None
    reported = runtime.store.charges()
    assert reported[good].unit == "Vidu credits" and reported[good].amount > 0
    window = await make_window(qtbot, runtime)
    view = window.open_ledger()
    assert view is not None and view.isVisible() and view.selected_month() == this_month(runtime.store.get(good)
                                                                                           .submitted_at or 0)
    model = view.model
    rows = {model.data(model.index(r, 0), LedgerRole.ENTRY).job.id: r for r in range(model.rowCount())}
    assert set(rows) == {good, bad}
    cell = lambda job_id, column: model.data(model.index(rows[job_id], column))  # noqa: E731
    assert cell(good, LedgerColumn.REPORTED) == f"{reported[good].amount:g} Vidu credits"
    assert cell(bad, LedgerColumn.REPORTED) == f"{reported[bad].amount:g} Vidu credits"
    assert cell(bad, LedgerColumn.TASK) == runtime.store.get(bad).remote_id
    assert model.data(model.index(rows[bad], 0), LedgerRole.FLAGGED) is True
    assert cell(bad, LedgerColumn.NOTE).startswith("Failed after the provider accepted it") and \
        (runtime.store.get(bad).error or "?") in cell(bad, LedgerColumn.NOTE)  # the provider's words
    assert model.data(model.index(rows[good], 0), LedgerRole.FLAGGED) is False
    assert "1 failed after the provider accepted" in view.summary.text()

    messages: list[str] = []
    view.message.connect(messages.append)
    target = tmp_path / "ledger.csv"
    view.export(target)
    await until(lambda: bool(messages), what="the export to finish")
    assert str(target) in messages[0]
    lines = list(csv.DictReader(target.open(encoding="utf-8")))
    flagged = [r for r in lines if r["flag"]]
    assert len(lines) == 2 and [r["job_id"] for r in flagged] == [bad]
    assert flagged[0]["flag"] == ACCEPTED_THEN_FAILED and flagged[0]["reported_unit"] == "Vidu credits"

    view.month.setCurrentIndex(1)  # last month: nothing
    assert model.rowCount() == 0 and not view.export_button.isEnabled()
    window.close()


async def test_an_export_that_cannot_be_written_says_so(qtbot: QtBot, runtime: Runtime, tmp_path: Path) -> None:
    await run_jobs(runtime)
    window = await make_window(qtbot, runtime)
    view = window.open_ledger()
    assert view is not None
    messages: list[str] = []
    view.message.connect(messages.append)
    view.export(tmp_path / "no-such-folder" / "ledger.csv")
    await until(lambda: bool(messages), what="the failure to be told")
    assert "could not be written" in messages[0] and not (tmp_path / "no-such-folder").exists()
    window.close()
