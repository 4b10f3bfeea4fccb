"""The catalog in the window: a model added with "Add a model…" runs end to end in sandbox mode; retired models
are greyed with their note and refused with a current one suggested; a newcomer makes a Veo 3.1 video on AIHubMix in
the sandbox; a broken user catalog file is named and the window starts with the rest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, sandbox_runtime, until
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from test_window import make_window

from core.jobs import JobState
from gui.add_model_dialog import AddModelDialog
from gui.form import TextEditor

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


@pytest.fixture
async def data_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A sandbox runtime whose data dir is REELDECK_HOME, where the user's catalog files live."""
    home = tmp_path / "data"
    monkeypatch.setenv("REELDECK_HOME", str(home))
    rt = sandbox_runtime(home)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.close()


async def test_a_model_added_in_the_window_runs_end_to_end(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    window = await make_window(qtbot, data_runtime)
    dialog = AddModelDialog(window)
    qtbot.addWidget(dialog)
    dialog.provider.setCurrentIndex(dialog.provider.findData("aihubmix"))
    dialog.model_id.setText("acme-video-2")
    dialog.label.setText("Acme video 2")
    dialog.seconds.setText("4, 8")
    dialog.sizes.setText("1280x720, 720x1280")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.added == ("aihubmix", "acme-video-2"), dialog.problem.text()
    composer = window.composer
    composer.reload_models(*dialog.added)
    assert composer.model is not None and composer.model.id == "acme-video-2"
    composer.set_prompt("A red fox trots through fresh snow")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit_button.click()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    await until(lambda: window.queue_model.job(0).state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the job to complete")
    done = window.queue_model.job(0)
    assert done is not None and done.model == "acme-video-2" and Path(done.video_path or "").is_file()


async def test_an_empty_model_id_is_refused_in_the_dialog(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    dialog = AddModelDialog()
    qtbot.addWidget(dialog)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.added is None and "model's id" in dialog.problem.text()
    assert not (Path(data_runtime.data.root) / "catalog").exists()


async def test_retired_sora_is_greyed_with_its_note_and_cannot_be_submitted(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    window = await make_window(qtbot, data_runtime)
    composer, combo = window.composer, window.composer.model_combo
    composer.provider_combo.setCurrentIndex(composer.provider_combo.findData("aihubmix"))
    for sora in ("sora-2", "sora-2-pro"):
        index = combo.findData(sora)
        assert index >= 0 and combo.itemText(index).endswith("— retired")
        note = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
        assert "2026-09-24" in note and "OpenAI shut the Sora API down" in note
        assert isinstance(combo.itemData(index, Qt.ItemDataRole.ForegroundRole), QColor)
    veo = combo.findData("veo-3.1-generate-preview")
    assert combo.itemData(veo, Qt.ItemDataRole.ForegroundRole) is None and combo.itemText(veo) == "Veo 3.1"
    combo.setCurrentIndex(combo.findData("sora-2"))
    composer.set_prompt("A red fox trots through fresh snow")
    composer.revalidate()
    assert not composer.submit_button.isEnabled()
    why = composer.reason_label.text()
    assert composer.reason_label.isVisible() and "retired sora-2 since 2026-09-24" in why
    assert "new jobs cannot be made with it" in why and "veo-3.1-generate-preview" in why
    composer.submit()  # Ctrl+Enter's way in: still nothing is sent
    await asyncio.sleep(0)
    assert window.queue_model.rowCount() == 0 and data_runtime.sandbox.count("aihubmix", "create") == 0


async def test_a_newcomer_makes_a_veo_video_on_aihubmix_in_the_sandbox(qtbot: QtBot, data_runtime) -> None:  # type: ignore[no-untyped-def]
    window = await make_window(qtbot, data_runtime)  # first run: no saved form
    composer = window.composer
    assert (composer.provider_id, composer.model.id) == ("aihubmix", "veo-3.1-generate-preview")  # type: ignore[union-attr]
    composer.provider_combo.setCurrentIndex(composer.provider_combo.findData("gateway"))
    composer.provider_combo.setCurrentIndex(composer.provider_combo.findData("aihubmix"))  # the newcomer's pick
    assert composer.model is not None and composer.model.id == "veo-3.1-generate-preview"
    composer.model_combo.setCurrentIndex(composer.model_combo.findData("veo-3.1-generate-preview"))
    prompt = composer.form.editor("prompt")  # type: ignore[union-attr]
    assert isinstance(prompt, TextEditor)
    qtbot.keyClicks(prompt.edit, "A red fox trots through fresh snow at dawn")
    await until(lambda: composer.submit_button.isEnabled(), what="Submit enabled")
    composer.submit_button.click()
    await until(lambda: window.queue_model.rowCount() == 1, what="the job in the queue")
    await until(lambda: window.queue_model.job(0).state == JobState.COMPLETED,  # type: ignore[union-attr]
                timeout=60, what="the job to complete")
    done = window.queue_model.job(0)
    assert done is not None and (done.provider, done.model) == ("aihubmix", "veo-3.1-generate-preview")
    assert done.params["prompt"] == "A red fox trots through fresh snow at dawn"
    assert done.video_path and Path(done.video_path).read_bytes()[4:8] == b"ftyp"
    create = next(r for r in data_runtime.sandbox.requests if r.provider == "aihubmix" and r.kind == "create")
    assert create.body["model"] == "veo-3.1-generate-preview" and create.content_type.startswith("multipart/")
    await until(lambda: window.job_list.row_of(done.id) >= 0, what="the video in the library")
    await until(lambda: window.job_list.item_for(done.id).on_disk,  # type: ignore[union-attr]
                what="the library to know the video is on disk")


async def test_a_broken_user_catalog_is_named_and_the_window_starts(qtbot: QtBot, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "data"
    monkeypatch.setenv("REELDECK_HOME", str(home))
    (home / "catalog").mkdir(parents=True)
    (home / "catalog" / "broken.toml").write_text('provider = "gateway"\n[[models]]\nid = "x"\n')
    rt = sandbox_runtime(home)
    await rt.start()
    try:
        window = await make_window(qtbot, rt)
        assert "broken.toml" in window.statusBar().currentMessage() and "label" in window.statusBar().currentMessage()
        assert window.composer.select("gateway", "viduq3p-720p")
    finally:
        await rt.close()
