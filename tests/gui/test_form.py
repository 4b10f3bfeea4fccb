"""Forms are generated from every provider's declaration; invalid input disables Submit and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from guikit import OFFSCREEN_NOISE
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox
from pytestqt.qtbot import QtBot

from core.params import ParamType
from core.providers import all_specs
from gui.composer import Composer
from gui.form import BoolEditor, EnumEditor, FreeNumberEditor, IntEditor, ModelForm, NumberEditor, TextEditor

#: Sora's prices, sizes and exact-size image fitting, with a user catalog that still serves it (it is retired;
#: tests/gui/test_catalog_gui.py shows the window refusing it).
pytestmark = pytest.mark.usefixtures("sora_served")

ALL_MODELS = [(spec.id, model.id) for spec in all_specs() for model in spec.models]


@pytest.mark.parametrize(("provider_id", "model_id"), ALL_MODELS)
def test_a_form_for_every_model(qtbot: QtBot, provider_id: str, model_id: str) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    assert composer.select(provider_id, model_id)
    model = composer.model
    assert model is not None and model.id == model_id
    form = composer.form
    assert form is not None and set(form.editors) == {p.name for p in model.params}
    fresh_form = ModelForm(model)  # defaults: the composer carries shared values over from the last model
    qtbot.addWidget(fresh_form)
    for param in model.params:
        editor = form.editors[param.name]
        assert editor.toolTip() == param.help
        expected = {ParamType.ENUM: EnumEditor, ParamType.BOOLEAN: BoolEditor, ParamType.TEXT: TextEditor}
        if param.type in expected:
            assert isinstance(editor, expected[param.type])
        if param.type == ParamType.INTEGER:
            bounded = param.minimum is not None and param.maximum is not None
            assert isinstance(editor, IntEditor if bounded else FreeNumberEditor)
        if param.type == ParamType.NUMBER:
            bounded = param.minimum is not None and param.maximum is not None
            assert isinstance(editor, NumberEditor if bounded else FreeNumberEditor)
        fresh = fresh_form.editors[param.name]
        if param.default is not None:
            assert str(fresh.value()) == str(param.default), param.name
    assert composer.slots is not None
    assert set(composer.slots.widgets) == {s.name for s in model.slots}


@pytest.mark.parametrize(("provider_id", "model_id"), ALL_MODELS)
def test_empty_form_explains_what_is_missing(qtbot: QtBot, provider_id: str, model_id: str) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select(provider_id, model_id)
    model = composer.model
    assert model is not None
    needs_something = any(p.required for p in model.params) or bool(model.modes)
    if needs_something:
        assert not composer.submit_button.isEnabled()
        assert composer.reason_label.text().startswith("To submit, ")
        assert not composer.reason_label.isHidden()
        assert composer.reason_label.property("role") == "note"  # a hint, not an error: nothing was done yet
        assert "--" not in composer.reason_label.text() and "Valid combinations" not in composer.reason_label.text()
        composer.submit()
        assert composer.reason_label.property("role") == "error"  # the person tried: now it is an error


def test_widget_kinds(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-720p")
    form = composer.form
    assert isinstance(form, ModelForm)
    assert form.findChild(QPlainTextEdit) is not None  # prompt
    assert isinstance(form.editors["aspect_ratio"].findChild(QComboBox), QComboBox)
    assert isinstance(form.editors["duration"].findChild(QSpinBox), QSpinBox)
    assert isinstance(form.editors["audio"].findChild(QCheckBox), QCheckBox)
    assert isinstance(form.editors["seed"].findChild(QLineEdit), QLineEdit)  # 0.. unbounded above
    assert form.editors["aspect_ratio"].value() is None  # optional, no default: "provider default"
    assert form.editors["audio"].value() is None
    assert form.editors["duration"].value() == 5


def test_prompt_counts_characters_and_over_limit_blocks_submit(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("aimlapi", "video-01-live2d")
    editor = composer.form.editors["prompt"]  # type: ignore[union-attr]
    assert isinstance(editor, TextEditor)
    editor.set_value("a" * 2001)
    assert "2,001 / 2,000" in editor.count.text()
    assert editor.count.property("role") == "error"
    composer.revalidate()
    assert not composer.submit_button.isEnabled()
    assert "limit is 2000" in composer.reason_label.text()


def test_valid_text_job_enables_submit_and_emits_request(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("aihubmix", "sora-2")
    assert not composer.submit_button.isEnabled()
    assert composer.reason_label.text() == "To submit, fill in “Prompt”."
    composer.set_prompt("A red fox in the snow")
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    assert composer.reason_label.isHidden()
    with qtbot.waitSignal(composer.submitRequested) as signal:
        composer.submit()
    request = signal.args[0]
    assert request.provider == "aihubmix" and request.model == "sora-2"
    assert request.params["prompt"] == "A red fox in the snow"
    assert request.params["seconds"] == "4"


def test_invalid_free_number_shows_reason(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-720p")
    composer.set_prompt("A lighthouse at night")
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    assert composer.mode_label.text().startswith("Mode:")
    seed = composer.form.editors["seed"]  # type: ignore[union-attr]
    seed.set_value("-5")
    qtbot.waitUntil(lambda: not composer.submit_button.isEnabled())
    assert "“Seed” must be at least 0" in composer.reason_label.text()
    assert composer.reason_label.property("role") == "error"  # the person typed it


def test_mode_follows_from_inputs(qtbot: QtBot, image_file: Path) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-720p")
    composer.set_prompt("Waves")
    qtbot.waitUntil(lambda: composer.mode == "text")
    composer.slots.widgets["image"].set_values([str(image_file)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: composer.mode == "image")
    composer.slots.widgets["last_image"].set_values([str(image_file)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: composer.mode == "first_last")
    assert "First" in composer.mode_label.text() or composer.mode_label.text().startswith("Mode:")


def test_switching_model_carries_the_prompt(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("aihubmix", "sora-2")
    composer.set_prompt("Keep me")
    composer.select("aihubmix", "sora-2-pro")
    assert composer.form.values()["prompt"] == "Keep me"  # type: ignore[union-attr]


def test_number_spin_box_optional(qtbot: QtBot) -> None:
    from core.params import Param

    param = Param("strength", ParamType.NUMBER, "Strength", "How strong.", minimum=0.0, maximum=1.0)
    editor = NumberEditor(param)
    qtbot.addWidget(editor)
    assert editor.value() is None
    assert isinstance(editor.findChild(QDoubleSpinBox), QDoubleSpinBox)
    editor.set_value(0.5)
    assert editor.value() == 0.5


@pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE)
def test_ctrl_enter_submits_from_the_prompt(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    qtbot.waitExposed(composer)
    composer.select("aihubmix", "sora-2")
    composer.set_prompt("hello")
    qtbot.waitUntil(lambda: composer.submit_button.isEnabled())
    edit = composer.form.editors["prompt"].edit  # type: ignore[union-attr]
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    with qtbot.waitSignal(composer.submitRequested, timeout=2000):
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert edit.toPlainText() == "hello"  # the shortcut, not a new line


def test_ctrl_enter_does_nothing_while_invalid(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("aihubmix", "sora-2")
    with qtbot.assertNotEmitted(composer.submitRequested):
        composer.submit()
    assert "fill in “Prompt”" in composer.reason_label.text()


def test_reasons_name_inputs_by_their_labels(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-mix-720p")
    assert composer.reason_label.text() == "To submit, fill in “Prompt” and add “Reference images”."
    composer.select("novita", "img2video-motion")
    assert composer.reason_label.text() == "To submit, add “Image” and “Motion video”."


def test_a_last_frame_alone_asks_for_the_first(qtbot: QtBot, image_file: Path) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-720p")
    composer.set_prompt("A last frame but no first")
    composer.slots.widgets["last_image"].set_values([str(image_file)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: composer.reason_label.text() == "To submit, add “First frame”.")
    assert not composer.submit_button.isEnabled()
    assert composer.reason_label.property("role") == "error"


def test_the_prompt_survives_a_provider_without_one(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("aihubmix", "sora-2")
    composer.set_prompt("A heron lifts off the lake")
    composer.select("goapi")  # GoAPI's model takes no prompt
    assert composer.form is not None and "prompt" not in composer.form.editors
    composer.select("novita")
    composer.select("gateway", "viduq3p-720p")
    assert composer.form.values()["prompt"] == "A heron lifts off the lake"  # type: ignore[union-attr]
    composer.set_prompt("")  # emptied on purpose: stays empty
    composer.select("aihubmix", "sora-2")
    assert "prompt" not in composer.form.values()  # type: ignore[union-attr]


def test_a_draft_round_trips_through_plain_data(qtbot: QtBot, image_file: Path) -> None:
    import json

    composer = Composer()
    qtbot.addWidget(composer)
    composer.select("gateway", "viduq3p-1080p")
    composer.set_prompt("Dawn over the harbour")
    composer.form.editors["seed"].set_value("42")  # type: ignore[union-attr]
    composer.slots.widgets["image"].set_values([str(image_file)])  # type: ignore[union-attr]
    draft = json.loads(json.dumps(composer.draft()))  # it must survive being written as JSON
    other = Composer()
    qtbot.addWidget(other)
    assert other.restore_draft(draft)
    assert (other.provider_id, other.model.id) == ("gateway", "viduq3p-1080p")  # type: ignore[union-attr]
    assert other.form.values()["prompt"] == "Dawn over the harbour"  # type: ignore[union-attr]
    assert other.form.values()["seed"] == "42"  # type: ignore[union-attr]
    assert other.slots.inputs() == {"image": [str(image_file)]}  # type: ignore[union-attr]
    assert not other.acted  # restored, not typed: problems stay hints
    assert not other.restore_draft({"provider": "gateway", "model": "no-such-model"})
    assert not other.restore_draft({"nonsense": 1})
    assert other.model.id == "viduq3p-1080p"  # type: ignore[union-attr]


def test_a_provider_without_a_key_says_so_when_chosen_and_offers_to_set_it(qtbot: QtBot) -> None:
    from core.runtime import SetupNeed

    keys: set[str] = set()
    composer = Composer()
    qtbot.addWidget(composer)
    composer.setup_check = lambda pid: None if pid in keys else SetupNeed(pid, "key", f"{pid} needs an API key.")
    composer.select("gateway", "viduq3p-720p")
    composer.select("aihubmix", "sora-2")
    assert not composer.setup_notice.isHidden()
    assert composer.setup_label.text() == "aihubmix needs an API key."
    assert composer.setup_button.text() == "Set key…"
    composer.set_prompt("ready but no key")
    composer.revalidate()
    assert not composer.submit_button.isEnabled() and not composer.valid
    assert composer.mode_label.text() == "Set the key above first." and composer.reason_label.isHidden()
    with qtbot.assertNotEmitted(composer.submitRequested):
        composer.submit()
    with qtbot.waitSignal(composer.setupRequested) as asked:
        composer.setup_button.click()
    assert asked.args == ["key", "aihubmix"]
    keys.add("aihubmix")
    composer.refresh_setup()
    assert composer.setup_notice.isHidden()
    assert composer.submit_button.isEnabled()
