"""The prompt history: recorded once per prompt, searchable by words, newest first, kept in the data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import StoreError
from core.prompts import FILE_NAME, PromptHistory


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
