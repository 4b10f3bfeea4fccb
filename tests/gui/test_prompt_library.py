"""The prompt library dialog: favourites first and in their own view, kept across a restart; templates in their own
view; the form's prompt kept as a favourite before it is ever run; forget; use."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import OFFSCREEN_NOISE
from pytestqt.qtbot import QtBot

from core.prompts import PromptHistory
from gui.prompt_history import PromptHistoryDialog

pytestmark = pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 60.0
        return self.now


def texts(dialog: PromptHistoryDialog) -> list[str]:
    return [dialog.list.item(i).text() for i in range(dialog.list.count())]


def test_favourites_are_starred_first_and_persist_across_a_restart(qtbot: QtBot, tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / "prompts.sqlite", clock=Clock())
    for text in ("Owl at dusk", "A red fox", "Waves at dawn"):
        history.record(text, "aihubmix", "sora-2")
    dialog = PromptHistoryDialog(history)
    qtbot.addWidget(dialog)
    assert texts(dialog) == ["Waves at dawn", "A red fox", "Owl at dusk"]
    dialog.list.setCurrentRow(2)
    assert dialog.star_button.text() == "☆ Add to favourites" and not dialog.star_button.isChecked()
    dialog.star_button.click()
    assert texts(dialog) == ["★ Owl at dusk", "Waves at dawn", "A red fox"]  # first, and still selected
    assert dialog.selected() is not None and dialog.selected().text == "Owl at dusk"  # type: ignore[union-attr]
    assert dialog.star_button.isChecked() and dialog.star_button.text() == "★ Favourite"
    dialog.set_view("Favourites")
    assert texts(dialog) == ["★ Owl at dusk"] and "1 favourite" in dialog.summary.text()
    dialog.close()
    history.close()

    again = PromptHistory(tmp_path / "prompts.sqlite")  # a restart: a new process opens the same file
    reopened = PromptHistoryDialog(again)
    qtbot.addWidget(reopened)
    assert texts(reopened)[0] == "★ Owl at dusk"
    reopened.set_view("Favourites")
    assert texts(reopened) == ["★ Owl at dusk"]
    reopened.star_button.click()  # unstar
    assert texts(reopened) == [] and "No favourites yet" in reopened.summary.text()
    reopened.set_view("All")
    assert texts(reopened) == ["Waves at dawn", "A red fox", "Owl at dusk"]
    again.close()


def test_templates_view_and_the_forms_prompt_kept_before_use(qtbot: QtBot, tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / "prompts.sqlite", clock=Clock())
    history.record("A plain owl")
    history.record("A {colour} fox at dawn")
    template = "A {animal|fox,owl,elk} on a {place} at night"
    dialog = PromptHistoryDialog(history, current=template, provider="gateway", model="viduq3p-720p")
    qtbot.addWidget(dialog)
    dialog.set_view("Templates")
    assert texts(dialog) == ["A {colour} fox at dawn"]
    assert "Template with {colour}" in dialog.details.text()
    assert dialog.keep_button.isVisibleTo(dialog)
    dialog.keep_button.click()
    assert texts(dialog) == [f"★ {template}", "A {colour} fox at dawn"]
    assert "Template with {animal}, {place}" in dialog.details.text() and "not used yet" in dialog.details.text()
    assert not dialog.keep_button.isVisibleTo(dialog)  # it is kept now
    kept = history.get(template)
    assert kept is not None and kept.favourite and (kept.uses, kept.provider) == (0, "gateway")

    dialog.set_view("All")
    dialog.search.setText("plain")
    assert texts(dialog) == ["A plain owl"]
    dialog.forget_button.click()
    assert texts(dialog) == [] and history.get("A plain owl") is None
    dialog.search.setText("")
    dialog.set_view("Templates")
    dialog.list.setCurrentRow(1)
    with qtbot.waitSignal(dialog.chosen) as chosen:
        dialog.use_button.click()
    assert chosen.args == ["A {colour} fox at dawn"]
    history.close()


def test_an_empty_library_says_what_each_view_holds(qtbot: QtBot, tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / "prompts.sqlite")
    dialog = PromptHistoryDialog(history)
    qtbot.addWidget(dialog)
    assert "Prompts you submit appear here" in dialog.summary.text()
    assert not dialog.use_button.isEnabled() and not dialog.star_button.isEnabled()
    assert not dialog.keep_button.isVisibleTo(dialog)  # the form has no prompt
    dialog.set_view("Templates")
    assert "{colour}" in dialog.summary.text() and "Batch" in dialog.summary.text()
    history.close()
