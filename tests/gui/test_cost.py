"""Costs: the price table in Settings (sources, dates, edits), the estimate beside Submit, the budget cap blocking a
submission inline, and the spend summary in the library."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, make_job, until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.costs import OPENAI_PRICING
from core.jobs import JobState
from core.runtime import Runtime
from gui.composer import Composer
from gui.cost import PricesEditor, SpendPanel
from gui.prefs import GuiPrefs
from gui.settings_dialog import SettingsDialog

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]


def table_rows(editor: PricesEditor) -> list[list[str]]:
    table = editor.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


async def test_price_table_in_settings_is_editable_and_applies_at_once(qtbot: QtBot, runtime: Runtime) -> None:
    dialog = SettingsDialog(runtime, GuiPrefs(runtime.data.root))
    qtbot.addWidget(dialog)
    editor = dialog.prices
    rows = table_rows(editor)
    assert ["AIHubMix · Sora 2", "per second", "$0.1", "", OPENAI_PRICING, "2025-10-06"] in rows
    assert any(r[0] == "AIHubMix · Sora 2 Pro" and r[3] == "size in 1024x1792,1792x1024" for r in rows)
    assert editor.budget.value() == 0 and editor.budget.text() == "No cap"
    assert not editor.remove_button.isEnabled()  # shipped prices stay; you override them

    editor.set_price(0, 0.12)  # the shipped Sora 2 price, edited in its cell
    assert table_rows(editor)[0][:3] == ["AIHubMix · Sora 2", "per second", "$0.12"]
    assert table_rows(editor)[0][4:] == ["your settings", editor.today]
    assert sum(1 for r in table_rows(editor) if r[0] == "AIHubMix · Sora 2") == 1  # the edit replaces it
    editor.pick_model("novita", "img2video-motion")
    editor.unit_combo.setCurrentIndex(editor.unit_combo.findData("video"))
    editor.price_spin.setValue(0.25)
    editor.add_button.click()
    assert table_rows(editor)[0][:3] == [editor.model_combo.currentText(), "per video", "$0.25"]
    assert table_rows(editor)[0][0].startswith("Novita")
    editor.budget.setValue(2.5)
    assert "apply at once" in dialog.restart_note.text()
    dialog.save()

    saved = json.loads(runtime.data.settings_file.read_text())
    assert saved["budget_daily_usd"] == 2.5
    assert {(p["provider"], p["model"], p["unit"], p["usd"], p["source"]) for p in saved["prices"]} == {
        ("aihubmix", "sora-2", "second", 0.12, "your settings"), ("novita", "img2video-motion", "video", 0.25,
                                                                  "your settings")}
    engine = runtime.engine
    assert engine is not None and engine.budget_cap == 2.5  # the running engine uses them now
    assert engine.prices.estimate("aihubmix", "sora-2", {"seconds": "4"}).usd == pytest.approx(0.48)
    assert engine.prices.estimate("novita", "img2video-motion", {}).usd == 0.25

    again = SettingsDialog(runtime, GuiPrefs(runtime.data.root))
    qtbot.addWidget(again)
    assert again.prices.budget.value() == 2.5
    again.prices.table.selectRow(0)
    assert again.prices.remove_button.isEnabled()
    before = again.prices.table.rowCount()
    while again.prices.remove_button.isEnabled():
        again.prices.table.selectRow(0)
        again.prices.remove_button.click()
        again.prices.table.selectRow(0)
    assert again.prices.table.rowCount() == before - 1  # the shipped Sora 2 price is back; the Novita one went
    assert ["AIHubMix · Sora 2", "per second", "$0.1", "", OPENAI_PRICING, "2025-10-06"] in table_rows(again.prices)
    again.prices.budget.setValue(0)
    again.save()
    saved = json.loads(runtime.data.settings_file.read_text())
    assert "prices" not in saved and "budget_daily_usd" not in saved
    assert engine.budget_cap is None


def test_estimate_beside_submit(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    assert composer.select("aihubmix", "sora-2")
    composer.set_prompt("A fox")
    assert composer.cost_label.text() == "≈ $0.40"  # the default 4 s
    assert "4 s × $0.10/s" in composer.cost_label.toolTip() and OPENAI_PRICING in composer.cost_label.toolTip()
    composer.form.editor("seconds").set_value("12")  # type: ignore[union-attr]
    composer.revalidate()
    assert composer.cost_label.text() == "≈ $1.20"
    assert composer.select("aihubmix", "sora-2-pro")
    composer.form.editor("size").set_value("1792x1024")  # type: ignore[union-attr]
    composer.revalidate()
    assert composer.cost_label.text() == "≈ $6.00"  # 12 s carried over × $0.50 for the large size
    assert composer.select("gateway", "viduq3p-720p")
    assert composer.cost_label.text() == "Price unknown"
    assert "Settings → Prices" in composer.cost_label.toolTip()


async def test_budget_cap_blocks_submission_inline(qtbot: QtBot, real_runtime: Runtime) -> None:
    runtime = real_runtime  # sandbox renders cost nothing: the budget is about real jobs
    assert runtime.hub is not None and runtime.store is not None
    runtime.hub.settings.data["budget_daily_usd"] = 0.30
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("aihubmix", "sora-2")
    composer.set_prompt("A red fox trots through fresh snow")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    assert composer.cost_label.text() == "≈ $0.40"
    composer.submit_button.click()
    await until(lambda: "budget" in composer.reason_label.text(), what="the inline message")
    assert composer.reason_label.isVisibleTo(composer)
    message = composer.reason_label.text()
    assert "past your daily budget of $0.30" in message and "Settings" in message
    assert runtime.store.all() == [] and window.queue_model.rowCount() == 0  # nothing stored, nothing sent
    assert not any((runtime.data.inputs).iterdir())
    assert composer.submit_button.isEnabled()  # fix it (raise the budget) and try again
    runtime.hub.settings.data["budget_daily_usd"] = 1.0
    composer.submit_button.click()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job once the budget allows it")
    job = window.queue_model.job(0)
    assert job is not None and job.cost_usd == pytest.approx(0.40)
    window.close()


def test_spend_panel_per_day_and_provider(qtbot: QtBot) -> None:
    now = time.time()
    today = time.strftime("%Y-%m-%d", time.localtime(now))
    jobs = [
        make_job("s1", JobState.COMPLETED, provider="aihubmix", remote_id="r1", cost_usd=0.40, submitted_at=now),
        make_job("s2", JobState.RUNNING, provider="aihubmix", remote_id="r2", cost_usd=1.20, submitted_at=now),
        make_job("s3", JobState.COMPLETED, provider="novita", remote_id="r3", cost_usd=0.25,
                 submitted_at=now - 86400),
        make_job("s4", JobState.FAILED, provider="aihubmix", cost_usd=5.0),  # never reached the provider
        make_job("s5", JobState.COMPLETED, provider="gateway", remote_id="r5", cost_usd=None, submitted_at=now),
    ]
    panel = SpendPanel()
    qtbot.addWidget(panel)
    panel.update_jobs(jobs, today=today)
    assert panel.today_spent() == pytest.approx(1.60)
    assert panel.by_provider == {"aihubmix": 1.6, "novita": 0.25}
    text = panel.summary.text()
    assert "Today <b>$1.60</b>" in text and "no daily budget" in text
    assert "Yesterday</td><td align='right'>$0.25" in text and "($1.85)" in text
    assert "AIHubMix</td><td align='right'>$1.60" in text and "Novita</td><td align='right'>$0.25" in text
    panel.set_budget(5.0)
    assert "of your $5.00 daily budget ($3.40 left)" in panel.summary.text()


async def test_library_shows_spend(qtbot: QtBot, real_runtime: Runtime) -> None:
    runtime = real_runtime  # spend counts real jobs only
    assert runtime.store is not None and runtime.hub is not None
    runtime.hub.settings.data["budget_daily_usd"] = 2.0
    runtime.store.add(make_job("spent1", JobState.COMPLETED, remote_id="r", cost_usd=0.8, submitted_at=time.time()))
    window = await make_window(qtbot, runtime)
    spend = window.library.spend
    assert spend.cap == 2.0
    await until(lambda: spend.today_spent() == pytest.approx(0.8), what="the stored job's spend")
    window.job_list.on_job(make_job("spent2", JobState.RUNNING, provider="aihubmix", remote_id="q",
                                         cost_usd=0.4, submitted_at=time.time()))
    window.job_list.flush()
    await until(lambda: spend.today_spent() == pytest.approx(1.2), what="the panel to follow new jobs")
    assert spend.summary.textFormat() == Qt.TextFormat.RichText
    window.close()


def test_prices_editor_skips_malformed_entries(qtbot: QtBot, tmp_path: Path) -> None:
    editor = PricesEditor({"prices": [{"provider": "x"}, {"provider": "novita", "model": "img2video-motion",
                                                           "unit": "video", "usd": 0.3}],
                           "budget_daily_usd": "lots"}, today="2026-01-02")
    qtbot.addWidget(editor)
    assert [p.model for p in editor.user] == ["img2video-motion"] and editor.budget_cap() is None
    data: dict[str, object] = {}
    editor.apply(data)
    assert data["prices"] == [{"provider": "novita", "model": "img2video-motion", "unit": "video", "usd": 0.3,
                               "source": "your settings", "as_of": "", "condition": ""}]
