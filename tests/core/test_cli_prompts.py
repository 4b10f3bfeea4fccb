"""`python main.py submit` records its prompt in the prompt library the window searches; nothing else changes."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import run_cli

from core.prompts import PromptHistory

VEO = ("--provider", "aihubmix", "--model", "veo-3.1-generate-preview")


def test_a_submitted_prompt_is_in_the_library(isolated_env: Path) -> None:
    code, out, err = run_cli("--sandbox", "submit", *VEO, "--prompt", "Lanterns over a river",
                             "--param", "seconds=4", "--json")
    assert code == 0, err
    assert json.loads(out)["provider"] == "aihubmix"  # stdout still holds only the job
    history = PromptHistory.in_data_dir(isolated_env)
    try:
        [entry] = history.search("lanterns")
        assert (entry.text, entry.provider, entry.model, entry.uses) == \
            ("Lanterns over a river", "aihubmix", "veo-3.1-generate-preview", 1)
    finally:
        history.close()


def test_a_refused_submit_records_nothing(isolated_env: Path) -> None:
    code, out, err = run_cli("--sandbox", "submit", *VEO, "--prompt", "Refused fox", "--param", "seconds=5")
    assert code == 2 and out == "" and "seconds must be one of" in err
    history = PromptHistory.in_data_dir(isolated_env)
    try:
        assert history.search("fox") == []
    finally:
        history.close()
