"""Shared test fixtures: every test gets its own data dir and no provider keys from the real environment."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def sora_still_served_catalog() -> str:
    """AIHubMix's shipped catalog with Sora re-declared as available: the user catalog of someone whose gateway
    still serves the retired model. Tests of Sora-only features (remix, an image fitted to an exact ``size``, the
    hand-written Sora emulation) run with it; everything else uses a current model."""
    from core import catalog as data

    shipped = data.SHIPPED_DIR.joinpath("aihubmix.toml").read_text(encoding="utf-8")
    retired = re.compile(r'^lifecycle = \{ status = "retired", date = "2026-09-24".*$', re.MULTILINE)
    assert len(retired.findall(shipped)) == 2, "the shipped catalog no longer retires sora-2 and sora-2-pro"
    return retired.sub('lifecycle = { status = "available", note = "My gateway still serves Sora." }', shipped)


@pytest.fixture
def sora_served(isolated_env: Path, tmp_path: Path) -> Path:
    """Sora still served, for this test: the override goes in every catalog folder the test's app and emulators
    read — REELDECK_HOME's (the app), ``tmp_path`` (the core ``sandbox`` fixture's emulator, whose user catalog is
    its state dir's sibling) and ``tmp_path/data`` (the GUI ``runtime`` fixture's data dir)."""
    text = sora_still_served_catalog()
    for folder in (isolated_env, tmp_path, tmp_path / "data"):
        (folder / "catalog").mkdir(parents=True, exist_ok=True)
        (folder / "catalog" / "sora-still-served.toml").write_text(text, encoding="utf-8")
    return isolated_env / "catalog" / "sora-still-served.toml"


@dataclass
class ScriptWorld:
    """A provider (the emulator, standing for the real service) and the environment a person's shell would have:
    the real world on ``home``, the provider's address and a key. Set in this process too (an engine process started
    from here inherits it)."""

    provider: Any
    home: Path
    env: dict[str, str]

    async def submit_from_the_command_line(self, model: str, prompt: str) -> str:
        """``python main.py submit`` (no --wait) as a separate process; the job's id once it exits."""
        import asyncio
        import json
        import sys

        cli = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "submit", "--provider", "aihubmix", "--model", model, "--prompt", prompt,
            "--json", cwd=Path(__file__).resolve().parents[1], env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(cli.communicate(), 120)
        assert cli.returncode == 0, err.decode()[-2000:]
        return str(json.loads(out)["id"])


@pytest.fixture
async def script_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ScriptWorld]:
    from core.sandbox import Sandbox

    provider = Sandbox(tmp_path / "provider", job_seconds=2)
    await provider.start()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= provider.endpoints() | {"REELDECK_HOME": str(home), "REELDECK_AIHUBMIX_API_KEY": "sk-script-0123456789ab"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        yield ScriptWorld(provider, home, env)
    finally:
        await provider.stop()

