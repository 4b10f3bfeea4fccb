"""The prompt history: recorded once per prompt, searchable by words, newest first, kept in the data dir."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.errors import StoreError
from core.prompts import FILE_NAME, MIGRATIONS, PromptHistory, record_quietly


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_prompts_are_recorded_once_and_used_again_move_to_the_top(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / FILE_NAME, clock=Clock())
    history.record("A red fox in the snow", "aihubmix", "sora-2")
    history.record("Waves on a black beach", "gateway", "viduq3p-720p")
    again = history.record("A red fox in the snow", "gateway", "viduq3t-1080p")
    assert again is not None and again.uses == 2 and again.model == "viduq3t-1080p"
    assert again.last_used > again.first_used
    assert [e.text for e in history.search()] == ["A red fox in the snow", "Waves on a black beach"]
    assert history.record("   ") is None and len(history.search()) == 2


def test_search_finds_every_word_in_any_case(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / FILE_NAME, clock=Clock())
    for text in ("A red fox in the snow", "A red kite over hills", "Snow falling on a FOX den", "50% off: a_b"):
        history.record(text)
    assert [e.text for e in history.search("fox snow")] == ["Snow falling on a FOX den", "A red fox in the snow"]
    assert [e.text for e in history.search("RED")] == ["A red kite over hills", "A red fox in the snow"]
    assert [e.text for e in history.search("50%")] == ["50% off: a_b"]  # no LIKE wildcards
    assert [e.text for e in history.search("a_b")] == ["50% off: a_b"]
    assert history.search("whale") == []
    assert len(history.search(limit=2)) == 2


def test_the_history_outlives_the_process_and_can_forget(tmp_path: Path) -> None:
    first = PromptHistory.in_data_dir(tmp_path)
    first.record("Lanterns over a river", "aihubmix", "sora-2")
    first.close()
    second = PromptHistory.in_data_dir(tmp_path)
    [entry] = second.search("lantern")
    assert (entry.text, entry.provider, entry.uses) == ("Lanterns over a river", "aihubmix", 1)
    assert second.remove("Lanterns over a river") and not second.remove("Lanterns over a river")
    assert second.search() == []
    second.close()


def test_an_unusable_file_is_a_clear_store_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="prompt history"):
        PromptHistory.in_data_dir(tmp_path)


def test_favourites_come_first_and_can_be_filtered(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / FILE_NAME, clock=Clock())
    for text in ("Owl at dusk", "A red fox", "Waves at dawn"):
        history.record(text)
    starred = history.set_favourite("Owl at dusk")
    assert starred is not None and starred.favourite and starred.uses == 1
    assert [e.text for e in history.search()] == ["Owl at dusk", "Waves at dawn", "A red fox"]
    assert [e.text for e in history.search(favourites=True)] == ["Owl at dusk"]
    assert [e.text for e in history.search("at", favourites=True)] == ["Owl at dusk"]
    assert history.search("fox", favourites=True) == []
    unstarred = history.set_favourite("Owl at dusk", False)
    assert unstarred is not None and not unstarred.favourite
    assert history.search(favourites=True) == []


def test_a_prompt_never_used_can_be_kept_as_a_favourite(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / FILE_NAME, clock=Clock())
    kept = history.set_favourite("A {colour} {animal|fox,owl} in the snow", provider="aihubmix", model="sora-2")
    assert kept is not None and (kept.favourite, kept.uses, kept.provider) == (True, 0, "aihubmix")
    used = history.record("A {colour} {animal|fox,owl} in the snow", "gateway", "viduq3p-720p")
    assert used is not None and used.favourite and used.uses == 1  # using it keeps the star
    assert history.set_favourite("Never seen", False) is None and history.get("Never seen") is None
    assert history.set_favourite("   ") is None


def test_templates_are_a_filter_of_their_own(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path / FILE_NAME, clock=Clock())
    for text in ("A {colour} fox", "A sign reading {{hello}}", "A plain owl", "A broken {fox", "An {animal|owl,elk}"):
        history.record(text)
    assert [e.text for e in history.search(templates=True)] == ["An {animal|owl,elk}", "A {colour} fox"]
    assert [e.text for e in history.search("fox", templates=True)] == ["A {colour} fox"]
    entry = history.get("An {animal|owl,elk}")
    assert entry is not None and entry.is_template and entry.placeholders == ["animal"]
    plain = history.get("A sign reading {{hello}}")
    assert plain is not None and not plain.is_template and plain.placeholders == []


def test_favourites_persist_across_a_restart_and_are_never_pruned(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.prompts.KEEP", 3)
    first = PromptHistory.in_data_dir(tmp_path)
    first.record("The oldest prompt, starred")
    first.set_favourite("The oldest prompt, starred")
    for index in range(5):
        first.record(f"Prompt number {index}")
    first.close()
    second = PromptHistory.in_data_dir(tmp_path)
    texts = [e.text for e in second.search()]
    assert texts[0] == "The oldest prompt, starred" and len(texts) == 4  # 3 kept + the favourite
    [favourite] = second.search(favourites=True)
    assert favourite.text == "The oldest prompt, starred" and favourite.favourite
    second.close()


def test_a_history_of_the_first_schema_gains_favourites(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    old = sqlite3.connect(str(path))
    old.executescript(MIGRATIONS[0])
    old.execute("INSERT INTO prompts (text, first_used, last_used) VALUES ('Kept from before', 1.0, 2.0)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    history = PromptHistory(path)
    [entry] = history.search()
    assert (entry.text, entry.uses, entry.favourite) == ("Kept from before", 1, False)
    assert history.set_favourite("Kept from before") is not None
    assert [e.text for e in history.search(favourites=True)] == ["Kept from before"]
    history.close()


def test_record_quietly_keeps_a_prompt_and_never_raises(tmp_path: Path) -> None:
    assert record_quietly(tmp_path, "Lanterns at night", "aihubmix", "sora-2")
    history = PromptHistory.in_data_dir(tmp_path)
    assert [e.text for e in history.search()] == ["Lanterns at night"]
    history.close()
    assert not record_quietly(tmp_path, "   ", "aihubmix", "sora-2")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / FILE_NAME).write_bytes(b"not a database" * 100)
    assert not record_quietly(tmp_path / "broken", "Lanterns", "aihubmix", "sora-2")
