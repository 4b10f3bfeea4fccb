"""Parameter declarations: coercion, limits, required fields, slots and modes."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.params import Mode, ModelSpec, Param, ParamType, Slot, SlotKind, validate

MODEL = ModelSpec(
    id="m",
    label="M",
    params=(
        Param("prompt", ParamType.TEXT, "Prompt", "", required=True, max_length=10),
        Param("duration", ParamType.INTEGER, "Duration", "", default=5, minimum=1, maximum=16),
        Param("audio", ParamType.BOOLEAN, "Audio", "", path="extra_body.audio"),
        Param("size", ParamType.ENUM, "Size", "", choices=("4", "8")),
    ),
    slots=(
        Slot("image", SlotKind.IMAGE, "First frame", "", field="image"),
        Slot("last_image", SlotKind.IMAGE, "Last frame", "", field="last_image"),
        Slot("ref_image", SlotKind.IMAGE, "References", "", field="refs", max_count=2),
    ),
    modes=(
        Mode("first_last", "First and last frame", requires=("image", "last_image")),
        Mode("image", "Image", requires=("image",), forbids=("last_image", "ref_image")),
        Mode("reference", "Reference", requires=("ref_image",), forbids=("image", "last_image")),
        Mode("text", "Text", requires=("prompt",), forbids=("image", "last_image", "ref_image")),
    ),
)


def test_valid_request_is_typed_and_picks_mode() -> None:
    result = validate(MODEL, {"prompt": "hi", "duration": "7", "audio": "false", "size": "8"}, {"image": ["a.png"]})
    assert result.params == {"prompt": "hi", "duration": 7, "audio": False, "size": "8"}
    assert result.mode == "image"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"prompt": "x" * 11}, "limit is 10"),
        ({"prompt": "ok", "duration": "0"}, "at least 1"),
        ({"prompt": "ok", "duration": "17"}, "at most 16"),
        ({"prompt": "ok", "duration": "five"}, "whole number"),
        ({"prompt": "ok", "duration": "5.5"}, "whole number"),
        ({"prompt": "ok", "audio": "maybe"}, "true or false"),
        ({"prompt": "ok", "size": "5"}, "one of 4, 8"),
        ({"prompt": "ok", "colour": "red"}, "no parameter 'colour'"),
        ({"prompt": "bell\x07"}, "control characters"),
        ({}, "prompt is required"),
    ],
)
def test_bad_values_are_refused_with_a_reason(params: dict[str, str], needle: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(MODEL, params, {})
    assert needle in caught.value.message


def test_emoji_and_newlines_are_fine_in_text() -> None:
    assert validate(MODEL, {"prompt": "🦊\nfox"}, {}).params["prompt"] == "🦊\nfox"


def test_last_image_without_image_matches_no_mode() -> None:
    with pytest.raises(InputError) as caught:
        validate(MODEL, {"prompt": "ok"}, {"last_image": ["b.png"]})
    assert "First and last frame: --image + --last-image" in caught.value.message


def test_too_many_references_and_unknown_slot() -> None:
    with pytest.raises(InputError) as caught:
        validate(MODEL, {"prompt": "ok"}, {"ref_image": ["1", "2", "3"], "motion_video": ["v.mp4"]})
    assert "at most 2" in caught.value.message
    assert "takes no --motion-video" in caught.value.message


def test_first_last_mode() -> None:
    assert validate(MODEL, {"prompt": "ok"}, {"image": ["a"], "last_image": ["b"]}).mode == "first_last"


def test_describe_is_json_ready() -> None:
    described = MODEL.describe()
    assert described["params"][2]["path"] == "extra_body.audio"
    assert described["slots"][2]["max_count"] == 2
    assert described["modes"][0]["requires"] == ["image", "last_image"]


def test_validation_problems_are_data_each_front_end_words() -> None:
    """The CLI's words name flags and parameter names; the form names the labels — from the same problems."""
    from core.params import RequestProblems
    from core.providers import provider_spec

    model = provider_spec("gateway").model("viduq3p-540p")
    with pytest.raises(RequestProblems) as caught:
        validate(model, {"duration": "99"}, {"motion_video": ["/tmp/a.mp4"]})
    codes = [(p.code, p.field) for p in caught.value.problems]
    assert ("invalid_value", "duration") in codes and ("required", "prompt") in codes
    assert ("unknown_input", "motion_video") in codes
    cli = caught.value.message
    assert "duration must be at most 16" in cli and "prompt is required" in cli and "--motion-video" in cli
    labels = {p.name: p.label for p in model.params} | {s.name: s.label for s in model.slots}
    form = caught.value.words(lambda field: f"“{labels.get(field, field)}”")
    assert "“Length (s)” must be at most 16" in form and "“Prompt” is required" in form
    assert "--" not in form
