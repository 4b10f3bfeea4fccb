"""The window around the form as a creator expects it: a missing key said at provider choice with a button to set
it; the draft kept across restarts; sandbox mode switched from the menu without a restart; the theme chosen and
remembered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, memory_keys, open_window, sandbox_runtime, until
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.jobs import JobState
from core.paths import DataDir
from core.runtime import Runtime
from core.submission import JobRequest
from gui.keys_dialog import KeysDialog
from gui.main_window import MainWindow
from gui.prefs import GuiPrefs
from gui.theme import DARK, LIGHT, theme_manager

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


async def test_missing_key_is_said_at_provider_choice_and_set_from_the_form(qtbot: QtBot, tmp_path: Path) -> None:
    rt = Runtime(DataDir(tmp_path / "data"), sandbox_mode=False, keys=memory_keys())
    await rt.start()
    try:
        window = await open_window(qtbot, rt)
        composer = window.composer
        composer.select("aihubmix", "veo-3.1-generate-preview")
        assert not composer.setup_notice.isHidden()
        assert composer.setup_label.text() == "AIHubMix needs an API key before it can make videos."
        composer.set_prompt("A fox at dusk")
        await until(lambda: composer.mode_label.text() == "Set the key above first.", what="the reason")
        assert not composer.submit_button.isEnabled()  # nothing to find out after Submit any more
        assert composer.reason_label.isHidden()  # said once, in the notice
        with qtbot.assertNotEmitted(composer.submitRequested):
            composer.submit()
        composer.setup_button.click()
        await until(lambda: window.findChild(KeysDialog) is not None, what="the keys dialog")
        dialog = window.findChild(KeysDialog)
        assert dialog is not None and dialog.isVisible()
        row = dialog.rows["aihubmix"]
        await until(lambda: dialog.focusWidget() is row.field, what="the AIHubMix key field focused")
        row.field.setText("sk-aihubmix-test-0123456789")
        row.save()
        assert composer.setup_notice.isHidden()
        await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
        composer.select("gateway")
        assert composer.setup_button.text() == "Set key…"  # each provider its own key
        dialog.close()
        window.close()
    finally:
        await rt.close()


async def test_draft_survives_a_restart_and_a_crash(qtbot: QtBot, runtime: Runtime, image_file: Path) -> None:
    window = await open_window(qtbot, runtime)
    composer = window.composer
    composer.select("gateway", "viduq3p-1080p")
    composer.set_prompt("Lanterns drifting over a river")
    composer.form.editors["seed"].set_value("7")  # type: ignore[union-attr]
    composer.slots.widgets["image"].set_values([str(image_file)])  # type: ignore[union-attr]
    # Saved a moment after the edit, without closing: a crash now loses nothing.
    await until(lambda: "Lanterns" in str(GuiPrefs(runtime.data.root).get("form/draft", "")), what="draft saved")
    window.close()
    again = await open_window(qtbot, runtime)
    form = again.composer
    assert (form.provider_id, form.model.id) == ("gateway", "viduq3p-1080p")  # type: ignore[union-attr]
    assert form.form.values()["prompt"] == "Lanterns drifting over a river"  # type: ignore[union-attr]
    assert form.form.values()["seed"] == "7"  # type: ignore[union-attr]
    assert form.slots.inputs() == {"image": [str(image_file)]}  # type: ignore[union-attr]
    again.close()


async def test_sandbox_mode_switches_from_the_menu_and_the_worlds_stay_apart(qtbot: QtBot, tmp_path: Path) -> None:
    rt = sandbox_runtime(tmp_path / "data", job_seconds=2.0)
    await rt.start()
    try:
        window = await open_window(qtbot, rt)
        assert window.sandbox_action.isChecked() and not window.banner.isHidden()
        request = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a sandbox fox"}, {})
        job = await rt.engine.submit(request)  # type: ignore[union-attr]
        await until(lambda: window.queue_model.row_of(job.id) >= 0, what="the job in the queue")

        window.sandbox_action.trigger()  # off: the real providers
        await until(lambda: rt.world == "real" and window.sandbox_action.isEnabled(), what="the real world")
        assert window.banner.isHidden() and window.windowTitle() == "Reeldeck"
        assert not window.sandbox_action.isChecked()
        await until(lambda: window.job_list.loaded, what="the library listed")
        assert window.queue_model.rowCount() == 0 and window.job_list.rowCount() == 0
        assert not window.composer.setup_notice.isHidden()  # real providers need keys
        assert not GuiPrefs(rt.data.root).sandbox_mode  # kept for the next start
        assert rt.store.find(job.id) is None  # type: ignore[union-attr]

        window.sandbox_action.trigger()  # on again: the sandbox job is there and finishes
        await until(lambda: rt.world == "sandbox" and window.sandbox_action.isEnabled(), what="the sandbox")
        assert not window.banner.isHidden() and window.composer.setup_notice.isHidden()
        await until(lambda: window.queue_model.row_of(job.id) >= 0, what="the sandbox job listed again")
        await until(lambda: rt.store.get(job.id).state == JobState.COMPLETED, timeout=60,  # type: ignore[union-attr]
                    what="the sandbox job completed")
        await until(lambda: window.queue_model.find(job.id).state == JobState.COMPLETED,  # type: ignore[union-attr]
                    what="the queue told")
        window.close()
        await asyncio.sleep(0)
    finally:
        await rt.close()


async def test_theme_is_chosen_from_the_menu_and_remembered(qtbot: QtBot, runtime: Runtime) -> None:
    manager = theme_manager()
    try:
        window = await open_window(qtbot, runtime)
        window.theme_actions["dark"].trigger()
        assert manager.mode == "dark" and manager.dark
        assert QApplication.palette().color(QPalette.ColorRole.Window).name() == DARK["window"]
        window.close()
        manager.set_mode("light")  # something else meanwhile; the next window puts the choice back
        again = await open_window(qtbot, runtime)
        assert manager.mode == "dark" and again.theme_actions["dark"].isChecked()
        assert QApplication.palette().color(QPalette.ColorRole.Window).name() == DARK["window"]
        again.theme_actions["light"].trigger()
        assert QApplication.palette().color(QPalette.ColorRole.Window).name() == LIGHT["window"]
        assert GuiPrefs(runtime.data.root).theme == "light"
        again.close()
    finally:
        manager.set_mode("system")


async def test_submitted_prompts_are_kept_and_found_again(qtbot: QtBot, runtime: Runtime) -> None:
    from gui.prompt_history import PromptHistoryDialog

    window = await open_window(qtbot, runtime)
    composer = window.composer
    composer.select("aihubmix", "veo-3.1-generate-preview")
    for prompt in ("A paper boat in the rain", "A heron over the marsh"):
        composer.set_prompt(prompt)
        await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
        composer.submit()
        await until(lambda p=prompt: any(j.prompt == p for j in window.queue_model.jobs()), what="queued")
    composer.select("novita")  # no prompt here: the history button goes away with the prompt
    assert composer.history_button.isHidden()
    composer.select("gateway", "viduq3p-720p")
    assert not composer.history_button.isHidden()
    composer.history_button.click()
    dialog = window.findChild(PromptHistoryDialog)
    assert dialog is not None
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
        "A heron over the marsh", "A paper boat in the rain"]
    dialog.search.setText("BOAT rain")
    assert dialog.list.count() == 1 and "1 prompt found" in dialog.summary.text()
    with qtbot.waitSignal(dialog.chosen):
        dialog.use_button.click()
    assert composer.form.values()["prompt"] == "A paper boat in the rain"  # type: ignore[union-attr]
    window.close()
    # the history is in the data dir, for the next start and the prompt library to come
    from core.prompts import PromptHistory

    kept = PromptHistory.in_data_dir(runtime.data.root)
    assert [e.text for e in kept.search("heron")] == ["A heron over the marsh"]
    kept.close()


@pytest.mark.parametrize("provider_id", ["aihubmix", "gateway", "novita", "goapi", "aimlapi"])
async def test_everything_fits_at_1024_by_700(qtbot: QtBot, runtime: Runtime, provider_id: str) -> None:
    from PySide6.QtWidgets import QToolButton

    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.confirm_close = lambda title, text: True
    window.resize(1024, 700)
    window.show()
    await until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), what="exposure")
    composer = window.composer
    for model in next(s for s in composer.specs if s.id == provider_id).models:
        composer.select(provider_id, model.id)
        await until(lambda: composer.scroll_area.minimumWidth() >= composer.fit_width(), what="the form fitted")
        await asyncio.sleep(0.05)
        body, viewport = composer.scroll_area.widget(), composer.scroll_area.viewport()
        assert body.width() <= viewport.width(), model.id  # nothing cut off or sideways
    overflow = window.queue_view.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert overflow is None or not overflow.isVisible()  # every queue action shown, no "»"
    assert window.width() <= 1024
    window.close()


async def test_the_queue_fits_its_width_at_1024_by_700_and_fills_it_at_1600_by_1000(qtbot: QtBot,
                                                                                  runtime: Runtime) -> None:
    from guikit import make_job
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyleOptionViewItem

    from gui.queue_model import Column

    store = runtime.store
    assert store is not None
    words = {"decide": "Needs your decision", "running": "42% · 0:31 left", "elapsed": "1:02:05"}
    takes = [make_job(f"take{n}", JobState.PENDING, model="veo-3.1-generate-preview", group_id="batch1",
                      created_at=1002 + n) for n in range(2)]  # a batch: its column shows too
    for job in (make_job("decide03", JobState.SUBMITTING, model="veo-3.1-generate-preview", needs_decision=True,
                         error="Lost answer.", created_at=1000),
                make_job("running03", JobState.RUNNING, provider="gateway", model="viduq3p-540p", progress=42.0,
                         eta=31.0, remote_status="processing", created_at=1001), *takes):
        store.add(job)
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.confirm_close = lambda title, text: True
    window.resize(1024, 700)
    window.show()
    await until(lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), what="exposure")
    table = window.queue_view.table
    header = table.horizontalHeader()
    await until(lambda: window.queue_view.model.rowCount() == 4 and not header.isSectionHidden(Column.GROUP),
                what="the jobs and their batch column")

    def shown() -> list[int]:
        return [c for c in range(header.count()) if not header.isSectionHidden(c)]

    def fills() -> bool:
        return sum(header.sectionSize(c) for c in shown()) == table.viewport().width()

    # Narrow: every column fits beside the others, no sideways scrolling, and each still reads its words.
    await until(fills, what="the columns fitting the table at 1024 px")
    assert shown() == list(Column) and table.horizontalScrollBar().maximum() == 0
    fm = table.fontMetrics()
    assert header.sectionSize(Column.STATE) > fm.horizontalAdvance("Downloading")
    assert header.sectionSize(Column.PROGRESS) > fm.horizontalAdvance(words["running"])
    assert header.sectionSize(Column.ELAPSED) > fm.horizontalAdvance(words["elapsed"])
    assert header.sectionSize(Column.COST) > header.fontMetrics().horizontalAdvance("Est. cost")
    assert header.sectionSize(Column.PROMPT) >= 100 and header.sectionSize(Column.MODEL) >= 90
    narrow = {c: header.sectionSize(c) for c in shown()}
    option = QStyleOptionViewItem()
    table.itemDelegateForColumn(Column.PROMPT).initStyleOption(option, table.model().index(0, Column.PROMPT))
    assert option.textElideMode == Qt.TextElideMode.ElideRight  # a prompt keeps its beginning
    # Wide: the columns have their full room, the prompt takes the rest, still no sideways scrolling.
    window.resize(1600, 1000)
    await until(lambda: window.width() == 1600 and fills()
                and header.sectionSize(Column.PROMPT) > narrow[Column.PROMPT],
                what="the columns filling the wide table")
    assert table.horizontalScrollBar().maximum() == 0
    assert max(shown(), key=header.sectionSize) == Column.PROMPT  # the prompt is what a row is about
    assert header.sectionSize(Column.MODEL) >= 160 and header.sectionSize(Column.STATE) > fm.horizontalAdvance(
        words["decide"])
    assert all(header.sectionSize(c) >= narrow[c] for c in shown())
    window.close()


def test_the_first_run_window_fits_the_screen() -> None:
    from PySide6.QtCore import QSize

    from gui.main_window import first_run_size

    assert first_run_size(QSize(1280, 760)) == QSize(1280, 760)  # a small laptop: the window it can see
    assert first_run_size(QSize(2560, 1400)) == QSize(1400, 900)
