"""Closing never hangs: each step (the engine, HTTP, the emulator) has a time limit, and what one leaves unfinished
resumes next time. (A window's Quit must not freeze on a stuck step.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import core.runtime
from core.paths import DataDir
from core.runtime import Runtime
from core.secrets import KeyStore


async def test_a_step_that_never_ends_does_not_hold_closing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    rt = Runtime(DataDir(tmp_path / "data"), sandbox_mode=True, keys=KeyStore(environ={}))
    await rt.start()
    assert rt.engine is not None and rt.store is not None
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    monkeypatch.setattr(rt.engine, "close", stuck)
    monkeypatch.setattr(core.runtime, "CLOSE_STEP_SECONDS", 0.2)
    await asyncio.wait_for(rt.close(), 10)  # returns: the stuck step was given up on, the rest closed
    assert rt.sandbox is None
    assert "closing the engine took over" in caplog.text
