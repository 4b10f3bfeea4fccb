"""Templates in the window: the form shows a template's placeholders and sends the prompt filled in; the batch
dialog runs a template over lists of values (every combination or in step) with the job count and estimate shown
first, refuses a bad template with nothing queued, and in sandbox mode submits exactly the jobs it showed."""

from __future__ import annotations

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, until
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.prompts import PromptHistory
from core.runtime import Runtime
from core.submission import JobRequest
from gui.batch_dialog import BatchDialog
from gui.composer import Composer

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = [pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE), pytest.mark.usefixtures("sora_served")]


def test_the_form_shows_placeholders_and_sends_the_prompt_filled_in(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    composer.select("aihubmix", "sora-2")
    fields = composer.template_fields
    assert fields is not None and fields.isHidden()  # a plain prompt has no placeholders
    composer.set_prompt("A {colour} {animal|fox,owl,elk} in the snow, {{sic}}")
    qtbot.waitUntil(lambda: fields.isVisibleTo(composer))
    assert list(fields.editors) == ["colour", "animal"]
    assert isinstance(fields.editors["animal"], QComboBox) and fields.editors["animal"].currentText() == "fox"
    assert isinstance(fields.editors["colour"], QLineEdit)
    qtbot.waitUntil(lambda: "Fill in the placeholder {colour}" in composer.reason_label.text())
    assert not composer.submit_button.isEnabled()
    fields.set_value("colour", "red")
    fields.set_value("animal", "owl")
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    assert composer.prompt_template() == "A {colour} {animal|fox,owl,elk} in the snow, {{sic}}"
    with qtbot.waitSignal(composer.submitRequested) as signal:
        composer.submit()
    assert signal.args[0].params["prompt"] == "A red owl in the snow, {sic}"
    with qtbot.waitSignal(composer.batchRequested) as batch:  # the batch gets the template itself
        composer.batch_button.click()
    assert batch.args[0].params["prompt"] == "A {colour} {animal|fox,owl,elk} in the snow, {{sic}}"

    composer.select("gateway", "viduq3p-720p")  # the values typed go with the prompt to the next model
    assert composer.template_fields is not None and composer.template_fields.values() == {"colour": "red",
                                                                                          "animal": "owl"}
    composer.set_prompt("A {colour fox")
    qtbot.waitUntil(lambda: "not closed" in composer.reason_label.text())
    assert not composer.submit_button.isEnabled() and composer.template_fields.isHidden()
    assert composer.prompt_template() is None
    composer.set_prompt("A plain {{braced}} fox")
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    with qtbot.waitSignal(composer.submitRequested) as plain:
        composer.submit()
    assert plain.args[0].params["prompt"] == "A plain {braced} fox"


TEMPLATE = "A {colour} {animal|fox,owl,elk} at dawn"


def test_the_batch_runs_a_template_over_values_and_says_the_count_and_cost_first(qtbot: QtBot) -> None:
    base = JobRequest("aihubmix", "sora-2", {"prompt": TEMPLATE, "seconds": "4"})
    dialog = BatchDialog(base, fills={"colour": "red"})
    qtbot.addWidget(dialog)
    assert dialog.template_box.isVisibleTo(dialog)
    assert dialog.value_edits["colour"].text() == "red"  # the form's value
    assert dialog.value_edits["animal"].text() == "fox, owl, elk"  # the template's own list
    assert [r.params["prompt"] for r in dialog.requests()] == [
        "A red fox at dawn", "A red owl at dawn", "A red elk at dawn"]
    dialog.value_edits["colour"].setText("red, white")
    assert len(dialog.requests()) == 6 and dialog.queue_button.text() == "Queue 6 jobs"
    assert dialog.estimate.usd == pytest.approx(6 * 0.40)
    assert "6 prompts" in dialog.summary.text() and "$2.40" in dialog.summary.text()
    assert dialog.combine_note.text() == "Every combination: 2 × 3 = 6 prompts."
    dialog.set_combine("paired")
    assert "has 2 values" in dialog.error.text() and not dialog.queue_button.isEnabled()
    dialog.value_edits["colour"].setText("red, white, grey")
    assert [r.params["prompt"] for r in dialog.requests()] == [
        "A red fox at dawn", "A white owl at dawn", "A grey elk at dawn"]
    assert dialog.queue_button.isEnabled() and dialog.queue_button.text() == "Queue 3 jobs"
    assert "3 prompts:</b> red · fox, white · owl, grey · elk<br>" in dialog.preview.text()
    assert dialog.preview.toolTip().splitlines() == ["A red fox at dawn", "A white owl at dawn", "A grey elk at dawn"]
    dialog.value_edits["colour"].setText("")
    assert "Give {colour} at least one value" in dialog.error.text() and not dialog.queue_button.isEnabled()
    assert dialog.requests() == []  # nothing queues while a problem stands


def test_a_bad_template_is_refused_and_nothing_can_be_queued(qtbot: QtBot) -> None:
    dialog = BatchDialog(JobRequest("aihubmix", "sora-2", {"prompt": "A {colour fox", "seconds": "4"}))
    qtbot.addWidget(dialog)
    assert "not closed" in dialog.error.text() and dialog.error.isVisibleTo(dialog)
    assert not dialog.queue_button.isEnabled()
    dialog.accept()
    assert dialog.result() != BatchDialog.DialogCode.Accepted


def test_a_plain_prompt_batch_has_no_template_part(qtbot: QtBot) -> None:
    dialog = BatchDialog(JobRequest("aihubmix", "sora-2", {"prompt": "A plain {{braced}} fox", "seconds": "4"}))
    qtbot.addWidget(dialog)
    assert not dialog.template_box.isVisibleTo(dialog)
    assert [r.params["prompt"] for r in dialog.requests()] == ["A plain {braced} fox"]


async def test_a_template_batch_submits_the_right_jobs_in_sandbox_mode(qtbot: QtBot, runtime: Runtime) -> None:
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("gateway", "viduq3p-720p")
    composer.set_prompt("A {animal|fox,owl} under {light}")
    await until(lambda: composer.template_fields is not None and composer.template_fields.isVisibleTo(composer),
                what="the placeholders")
    composer.template_fields.set_value("light", "the moon")  # type: ignore[union-attr]
    await until(lambda: composer.batch_button.isEnabled(), what="Batch enabled")
    composer.batch_button.click()
    dialog = window.batch_dialog
    assert isinstance(dialog, BatchDialog) and dialog.isVisible()
    dialog.set_targets([("gateway", "viduq3p-720p"), ("aihubmix", "sora-2")])
    dialog.value_edits["light"].setText("the moon, lanterns")
    dialog.seeds.setText("5")
    expected = sorted(f"A {a} under {light}" for a in ("fox", "owl") for light in ("the moon", "lanterns"))
    assert dialog.queue_button.text() == "Queue 8 jobs"  # 4 prompts × (Vidu with 1 seed + Sora)
    dialog.queue_button.click()

    await until(lambda: window.queue_model.rowCount() == 8, what="eight jobs in the queue")
    jobs = window.queue_model.jobs()
    assert len({j.group_id for j in jobs}) == 1
    assert sorted(j.prompt for j in jobs if j.provider == "gateway") == expected
    assert sorted(j.prompt for j in jobs if j.provider == "aihubmix") == expected
    assert {str(j.params.get("seed")) for j in jobs if j.provider == "gateway"} == {"5"}
    await until(lambda: all(j.remote_id for j in window.queue_model.jobs()), timeout=60,
                what="the emulator to accept every job")
    window.close()
    history = PromptHistory.in_data_dir(runtime.data.root)  # the library keeps the template, not each fill
    try:
        assert [e.text for e in history.search()] == ["A {animal|fox,owl} under {light}"]
    finally:
        history.close()


async def test_a_template_submitted_from_the_form_is_kept_as_a_template(qtbot: QtBot, runtime: Runtime) -> None:
    window = await make_window(qtbot, runtime)
    composer = window.composer
    assert composer.select("aihubmix", "sora-2")
    composer.set_prompt("A {animal|heron,crane} over the marsh")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    assert window.queue_model.jobs()[0].prompt == "A heron over the marsh"
    await until(lambda: window.prompts is not None and window.prompts.search(templates=True), what="recorded")
    assert [e.text for e in window.prompts.search()] == ["A {animal|heron,crane} over the marsh"]  # type: ignore
    window.close()
