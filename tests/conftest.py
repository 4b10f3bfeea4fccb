"""Shared test fixtures: every test gets its own data dir and no provider keys from the real environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROVIDERS = ("goapi", "aimlapi", "aihubmix", "gateway", "novita")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """REELDECK_HOME in a temp dir; no REELDECK_* variables leak in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("REELDECK_") and name != "REELDECK_IN_DBUS":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("REELDECK_HOME", str(home))
    return home
