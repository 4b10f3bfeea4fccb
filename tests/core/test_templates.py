"""Prompt templates: placeholders in Python format-style braces, filled per job; a batch runs over lists of values
(every combination, or in step). Bad templates are refused with a plain reason."""

from __future__ import annotations

import pytest
from harness import VEO_31

from core.batch import Target, expand_batch
from core.submission import JobRequest
from core.templates import (
    Combine,
    Placeholder,
    TemplateError,
    expand,
    fill,
    is_template,
    parse_template,
    parse_values,
)


@pytest.mark.parametrize(("text", "placeholders"), [
    ("A red fox in the snow", []),
    ("A red {animal} in the snow", [Placeholder("animal")]),
    ("A {colour} {animal|fox,owl, elk} at {time_of_day}",
     [Placeholder("colour"), Placeholder("animal", ("fox", "owl", "elk")), Placeholder("time_of_day")]),
    ("{animal} chases {animal}", [Placeholder("animal")]),  # one placeholder, used twice
    ("{animal|fox,owl} and {animal}", [Placeholder("animal", ("fox", "owl"))]),  # the list may be given once
    ("A sign reading {{hello}}", []),  # doubled braces are literal braces
    ("{{{animal}}}", [Placeholder("animal")]),
    ("{ animal }", [Placeholder("animal")]),
    ("{Tier2|a,b,a}", [Placeholder("Tier2", ("a", "b"))]),  # repeats dropped, order kept
])
def test_placeholders_are_found_in_order(text: str, placeholders: list[Placeholder]) -> None:
    assert list(parse_template(text).placeholders) == placeholders
    assert is_template(text) == bool(placeholders)


@pytest.mark.parametrize(("text", "reason"), [
    ("A red {animal in the snow", "not closed"),
    ("A red animal} in the snow", "no “{” before it"),
    ("An empty {} here", "empty placeholder"),
    ("A {red fox}", "is not a placeholder name"),
    ("A {0}", "is not a placeholder name"),
    ("A {animal!r}", "is not a placeholder name"),
    ("A {animal:>10}", "is not a placeholder name"),
    ("A {a{b}}", "not closed"),
    ("A {animal|}", "an empty value"),
    ("A {animal|fox,,owl}", "an empty value"),
    ("{animal|fox} and {animal|owl}", "two different lists"),
])
def test_bad_templates_are_refused_with_a_plain_reason(text: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason) as caught:
        parse_template(text)
    assert any(hint in caught.value.message for hint in ("{{", "}}", "like {"))  # it says how to write it
    assert not is_template(text)


@pytest.mark.parametrize(("text", "values", "filled"), [
    ("A red {animal} in the snow", {"animal": "fox"}, "A red fox in the snow"),
    ("{animal} chases {animal|fox,owl}", {"animal": "owl"}, "owl chases owl"),
    ("A sign reading {{{word}}}", {"word": "hi"}, "A sign reading {hi}"),
    ("No placeholders, {{braces}}", {}, "No placeholders, {braces}"),
    ("{a}{b}", {"a": "x", "b": "{y}"}, "x{y}"),  # a value is used as it is, never parsed again
])
def test_fill_puts_each_value_in_its_place(text: str, values: dict[str, str], filled: str) -> None:
    assert fill(parse_template(text), values) == filled


def test_fill_refuses_a_missing_or_blank_value() -> None:
    template = parse_template("A {colour} {animal}")
    with pytest.raises(TemplateError, match=r"\{animal\}"):
        fill(template, {"colour": "red"})
    with pytest.raises(TemplateError, match=r"\{colour\}"):
        fill(template, {"colour": "  ", "animal": "fox"})


@pytest.mark.parametrize(("text", "lists", "combine", "prompts"), [
    ("A red {animal}", {"animal": ["fox", "owl", "elk"]}, Combine.EVERY,
     ["A red fox", "A red owl", "A red elk"]),
    ("A {colour} {animal}", {"colour": ["red", "white"], "animal": ["fox", "owl", "elk"]}, Combine.EVERY,
     ["A red fox", "A red owl", "A red elk", "A white fox", "A white owl", "A white elk"]),
    ("A {colour} {animal}", {"colour": ["red", "white", "grey"], "animal": ["fox", "owl", "elk"]}, Combine.PAIRED,
     ["A red fox", "A white owl", "A grey elk"]),
    ("A {colour} {animal}", {"colour": ["red"], "animal": ["fox", "owl"]}, Combine.PAIRED,  # one value: every job
     ["A red fox", "A red owl"]),
    ("A {colour} {animal|fox,owl}", {"colour": ["red"]}, Combine.EVERY,  # the template's own list by default
     ["A red fox", "A red owl"]),
    ("A {animal|fox,owl}", {"animal": ["elk"]}, Combine.EVERY, ["A elk"]),  # values given win over the list
    ("No placeholders", {}, Combine.EVERY, ["No placeholders"]),
])
def test_templates_expand_into_the_right_prompts(text: str, lists: dict[str, list[str]], combine: Combine,
                                                 prompts: list[str]) -> None:
    assert [f.prompt for f in expand(parse_template(text), lists, combine)] == prompts


def test_each_expanded_prompt_says_which_values_made_it() -> None:
    [first, *_rest, last] = expand(parse_template("A {colour} {animal}"),
                                   {"colour": ["red", "white"], "animal": ["fox", "owl"]}, Combine.EVERY)
    assert first.values == {"colour": "red", "animal": "fox"}
    assert last.values == {"colour": "white", "animal": "owl"}


@pytest.mark.parametrize(("lists", "combine", "reason"), [
    ({"colour": ["red"]}, Combine.EVERY, r"Give \{animal\} at least one value"),
    ({"colour": ["red"], "animal": []}, Combine.EVERY, r"Give \{animal\} at least one value"),
    ({"colour": ["red", "white"], "animal": ["fox", "owl", "elk"]}, Combine.PAIRED,
     r"\{colour\} has 2 values and \{animal\} has 3"),
    ({"colour": ["red"], "animal": ["fox"], "time": ["dawn"]}, Combine.EVERY, r"\{time\} is not in the template"),
])
def test_expansion_refuses_what_cannot_be_filled(lists: dict[str, list[str]], combine: Combine,
                                                 reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        expand(parse_template("A {colour} {animal}"), lists, combine)


@pytest.mark.parametrize(("text", "values"), [
    ("fox, owl,elk", ["fox", "owl", "elk"]),
    ("  fox ,, owl, fox ", ["fox", "owl"]),  # blanks and repeats dropped
    ("", []),
    ("red fox", ["red fox"]),
])
def test_values_are_typed_separated_by_commas(text: str, values: list[str]) -> None:
    assert parse_values(text) == values


def test_templates_expand_into_the_right_jobs() -> None:
    base = JobRequest("gateway", "viduq3p-720p", {"prompt": "A {colour} {animal|fox,owl}", "duration": 5})
    prompts = [f.prompt for f in expand(parse_template(str(base.params["prompt"])), {"colour": ["red", "white"]},
                                        Combine.EVERY)]
    targets = [Target("gateway", "viduq3p-720p"), Target("aihubmix", VEO_31), Target("goapi", "Qubico/hug-video")]
    jobs = expand_batch(base, targets, seeds=[1, 2], prompts=prompts)
    gateway = [(j.params["prompt"], j.params["seed"]) for j in jobs if j.provider == "gateway"]
    assert gateway == [(p, s) for p in ("A red fox", "A red owl", "A white fox", "A white owl") for s in (1, 2)]
    sora = [j.params["prompt"] for j in jobs if j.provider == "aihubmix"]
    assert sora == ["A red fox", "A red owl", "A white fox", "A white owl"]  # no seed parameter: one per prompt
    goapi = [j for j in jobs if j.provider == "goapi"]
    assert len(goapi) == 1 and "prompt" not in goapi[0].params  # takes no prompt: one job, values irrelevant
    assert len({j.group_id for j in jobs}) == 1 and all(j.params.get("duration") in (5, None) for j in jobs)
    assert len(jobs) == 8 + 4 + 1


def test_expansion_stops_before_making_too_many_prompts() -> None:
    template = parse_template("{a} {b} {c}")
    lists = {"a": [str(i) for i in range(100)], "b": [str(i) for i in range(100)], "c": [str(i) for i in range(100)]}
    with pytest.raises(TemplateError, match="That would be 1,000,000 prompts; a batch holds at most 48"):
        expand(template, lists, Combine.EVERY, limit=48)
    assert len(expand(template, lists, Combine.PAIRED, limit=100)) == 100
