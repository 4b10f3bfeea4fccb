"""The app's way: the window with its engine in a process of its own (``gui.app.run_window``). A job submitted from
the window is made by the child and shown finished in the window; a killed engine process is replaced and the job
still finishes; closing the window ends the child."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from guikit import MULTIMEDIA_NOISE, OFFSCREEN_NOISE, memory_keys, until
from pytestqt.qtbot import QtBot

from core.engine_process import EngineProcess
from core.jobs import JobState
from core.paths import DataDir
from core.submission import JobRequest

VEO = "veo-3.1-generate-preview"

pytestmark = pytest.mark.qt_log_ignore(*MULTIMEDIA_NOISE, *OFFSCREEN_NOISE)


def shown_window() -> object:
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, MainWindow) and w.isVisible() and getattr(w, "engine", None) is not None), None)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("kill_the_engine", [False, True], ids=["as-is", "engine-killed"])
async def test_the_window_shows_a_job_made_in_the_engines_process(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_the_engine: bool
) -> None:
    import gui.app

    monkeypatch.setenv("REELDECK_SANDBOX_JOB_SECONDS", "2")
    task = asyncio.ensure_future(gui.app.run_window(DataDir(tmp_path / "home"), sandbox=True, keys=memory_keys()))
    await until(lambda: shown_window() is not None, what="the window with its content")
    window = shown_window()
    assert window is not None
    process = window.runtime.thread  # type: ignore[attr-defined]
    assert isinstance(process, EngineProcess) and process.pid not in (None, os.getpid())
    first = process.pid
    job = await window.bridge.call(window.engine.submit,  # type: ignore[attr-defined]
                                   JobRequest("aihubmix", VEO, {"prompt": "a paper boat"}))
    window.queue_model.flush()  # type: ignore[attr-defined]  # the view's own per-frame batching
    assert window.queue_model.find(job.id) is not None  # type: ignore[attr-defined]  # listed when submit returns
    if kill_the_engine:
        store = window.runtime.store  # type: ignore[attr-defined]
        await until(lambda: store.get(job.id).remote_id is not None, what="the remote task")
        os.kill(first, signal.SIGKILL)
        await until(lambda: process.restarts == 1, what="a new engine process")

    def shown_state() -> JobState | None:
        found = window.queue_model.find(job.id)  # type: ignore[attr-defined]
        return found.state if found is not None else None

    await until(lambda: shown_state() == JobState.COMPLETED, timeout=60, what="the job shown finished")
    last = process.pid
    window.confirm_close = lambda title, text: True  # type: ignore[attr-defined]
    window.close()  # type: ignore[attr-defined]
    assert await asyncio.wait_for(task, 60) == 0
    assert last is not None and not alive(last)


async def test_a_job_submitted_from_the_command_line_shows_up_in_the_open_window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A creator's script submits while the window is open on the same data dir: the window lists the job at once
    and its engine finishes it (the script exits once the provider has the task)."""
    import json
    import sys

    import gui.app
    from core.sandbox import Sandbox

    provider = Sandbox(tmp_path / "provider", job_seconds=2)
    await provider.start()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env |= provider.endpoints() | {"REELDECK_HOME": str(home), "REELDECK_AIHUBMIX_API_KEY": "sk-script-0123456789ab"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    task = asyncio.ensure_future(gui.app.run_window(DataDir(home), sandbox=False, keys=memory_keys()))
    try:
        await until(lambda: shown_window() is not None, what="the window with its content")
        window = shown_window()
        assert window is not None
        await window.bridge.call(window.engine.budget_problem, 0.0)  # type: ignore[attr-defined]  # engine is up
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "submit", "--provider", "aihubmix", "--model", VEO, "--prompt", "from a script",
            "--json", cwd=Path(__file__).resolve().parents[2], env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(cli.communicate(), 120)
        assert cli.returncode == 0, err.decode()[-2000:]
        job_id = json.loads(out)["id"]

        def shown_state() -> JobState | None:
            window.queue_model.flush()  # type: ignore[attr-defined]
            found = window.queue_model.find(job_id)  # type: ignore[attr-defined]
            return found.state if found is not None else None

        await until(lambda: shown_state() is not None, what="the script's job in the queue")
        await until(lambda: shown_state() == JobState.COMPLETED, timeout=60, what="the script's job finished")
        assert len(provider.tasks.list("aihubmix")) == 1  # one task, one charge
        window.confirm_close = lambda title, text: True  # type: ignore[attr-defined]
        window.close()  # type: ignore[attr-defined]
        assert await asyncio.wait_for(task, 60) == 0
    finally:
        if not task.done():
            task.cancel()
        await provider.stop()


async def test_an_engine_that_cannot_start_is_told_over_the_window(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    import gui.app

    monkeypatch.setenv("REELDECK_SANDBOX_FAULTS", "not a list")  # only the engine's process starts the emulator
    task = asyncio.ensure_future(gui.app.run_window(DataDir(tmp_path / "home"), sandbox=True, keys=memory_keys()))
    try:
        def told() -> QMessageBox | None:
            return next((w for w in QApplication.topLevelWidgets()
                         if isinstance(w, QMessageBox) and w.objectName() == "EngineStopped" and w.isVisible()), None)

        await until(lambda: told() is not None, what="the engine's failure told")
        box = told()
        assert box is not None and "could not start" in box.text() and "REELDECK_SANDBOX_FAULTS" in box.text()
        box.close()
        window = shown_window()
        assert window is not None
        window.confirm_close = lambda title, text: True  # type: ignore[attr-defined]
        window.close()  # type: ignore[attr-defined]
        assert await asyncio.wait_for(task, 60) == 0  # it still closes cleanly
    finally:
        if not task.done():
            task.cancel()
