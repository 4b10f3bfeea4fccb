"""The window's one way to run work off the GUI thread (``gui.work``): one callback shape on every path — a blocking
function in the pool, a coroutine on the window's loop, an engine operation on the engine's thread — and one owner
rule: an owner deleted meanwhile skips the callbacks (its failure is logged, never lost).

Also here: the pool never frees a Qt object in a worker thread (Qt warns "Timers cannot be stopped from another
thread", or crashes), and gui/ makes threads, pools and tasks only through ``gui.work``."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import shiboken6
from guikit import until
from PySide6.QtCore import QCoreApplication, QObject, QTimer
from pytestqt.qtbot import QtBot

from core.runtime import Runtime
from gui import work
from gui.engine_bridge import INLINE, EngineBridge
from gui.work import Work

GUI = Path(__file__).resolve().parents[2] / "gui"


class Outcomes:
    """What the callbacks of one call saw."""

    def __init__(self) -> None:
        self.done: list[Any] = []
        self.errors: list[BaseException] = []

    def on_done(self, result: Any) -> None:
        self.done.append(result)

    def on_error(self, error: BaseException) -> None:
        self.errors.append(error)

    @property
    def called(self) -> bool:
        return bool(self.done or self.errors)


def deleted_owner() -> QObject:
    owner = QObject()
    shiboken6.delete(owner)
    assert not shiboken6.isValid(owner)
    return owner


def fail(message: str) -> None:
    raise ValueError(message)


# --- the pool ---------------------------------------------------------------------------------------------------------


def test_a_pool_call_hands_its_result_or_its_failure_to_the_gui_thread(qtbot: QtBot) -> None:
    runner = Work(workers=2)
    worked, failed = Outcomes(), Outcomes()
    threads: list[str] = []
    runner.run(lambda: threading.current_thread().name, on_done=lambda name: (threads.append(
        threading.current_thread().name), worked.on_done(name)), on_error=worked.on_error)
    runner.run(fail, "no frame there", on_done=failed.on_done, on_error=failed.on_error)
    qtbot.waitUntil(lambda: worked.called and failed.called, timeout=5_000)
    assert worked.done[0].startswith("reeldeck-gui") and not worked.errors
    assert threads == [threading.main_thread().name]
    assert failed.done == [] and [str(e) for e in failed.errors] == ["no frame there"]
    assert runner.pending == 0
    runner.shutdown()


def test_a_pool_call_whose_owner_was_deleted_skips_its_callbacks_and_logs_its_failure(
        qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    runner = Work(workers=2)
    release = threading.Event()
    worked, failed = Outcomes(), Outcomes()
    runner.run(release.wait, 5, on_done=worked.on_done, on_error=worked.on_error, owner=deleted_owner())
    runner.run(lambda: (release.wait(5), fail("the disk is full")), on_done=failed.on_done,
               on_error=failed.on_error, owner=deleted_owner())
    assert runner.pending == 2
    release.set()
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)  # both outcomes came back to the GUI thread
    assert not worked.called and not failed.called
    assert "the disk is full" in caplog.text  # never lost
    runner.shutdown()


def test_a_failure_without_a_handler_and_a_failing_callback_are_logged(
        qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    runner = Work(workers=2)
    runner.run(fail, "nobody listens")
    runner.run(lambda: 1, on_done=lambda _result: fail("the callback broke"))
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert "nobody listens" in caplog.text and "the callback broke" in caplog.text
    runner.shutdown()


class Holder(QObject):
    """A Python-owned QObject with a running timer, like a model with its flush timer."""

    freed_in: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.start(10_000)

    def work(self, value: int) -> int:
        time.sleep(0.05)
        if value == 2:
            raise ValueError("boom")
        return value

    def __del__(self) -> None:
        Holder.freed_in.append(threading.current_thread().name)


def test_qt_objects_are_freed_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = Work(workers=3)
    results: list[tuple[object, str]] = []
    Holder.freed_in = []
    for value in range(4):
        holder = Holder()
        runner.run(holder.work, value, on_done=lambda result: results.append((result, "None")),
                   on_error=lambda error: results.append((None, repr(error))))
        del holder  # the caller lets go at once: only the call still holds the object
    qtbot.waitUntil(lambda: len(results) == 4, timeout=5_000)
    qtbot.waitUntil(lambda: len(Holder.freed_in) == 4, timeout=5_000)
    assert Holder.freed_in == ["MainThread"] * 4
    assert sorted(results, key=str) == sorted([(0, "None"), (1, "None"), (None, "ValueError('boom')"),
                                              (3, "None")], key=str)
    runner.shutdown()


def test_shutdown_drops_queued_work_and_what_was_not_delivered(qtbot: QtBot) -> None:
    runner = Work(workers=1)
    release = threading.Event()
    late = Outcomes()
    running = runner.run(release.wait, 5, on_done=late.on_done, on_error=late.on_error)
    queued = runner.run(lambda: "queued", on_done=late.on_done)  # the one worker is busy: it waits
    reported = threading.Event()
    running.add_done_callback(lambda _future: reported.set())  # runs after the runner's own done callback
    runner.shutdown()
    release.set()
    assert reported.wait(5) and queued.cancelled()
    QCoreApplication.processEvents()  # what the worker would have sent back is delivered now, if anything
    assert not late.called and runner.pending == 0


def test_the_shared_runner_is_made_again_after_a_shutdown(qtbot: QtBot) -> None:
    first = work.shared()
    work.shutdown()
    second = work.shared()
    assert second is not first and not second.closed
    seen = Outcomes()
    work.run(lambda: 7, on_done=seen.on_done)
    qtbot.waitUntil(lambda: seen.done == [7], timeout=5_000)


# --- coroutines on the window's loop ----------------------------------------------------------------------------------


async def test_a_coroutine_hands_its_result_or_its_failure_to_the_callbacks() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def broken() -> None:
        await asyncio.sleep(0)
        fail("the key was refused")

    worked, failed = Outcomes(), Outcomes()
    await work.spawn(answer(), on_done=worked.on_done, on_error=worked.on_error)
    task = work.spawn(broken(), on_done=failed.on_done, on_error=failed.on_error)
    await asyncio.wait([task])
    await asyncio.sleep(0)  # the done callbacks run one loop step after the task ends
    assert worked.done == [42] and not worked.errors
    assert not failed.done and [str(e) for e in failed.errors] == ["the key was refused"]


async def test_a_coroutine_whose_owner_was_deleted_skips_its_callbacks_and_logs_its_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def later(value: int) -> int:
        await release.wait()
        if value < 0:
            fail("the world switch failed")
        return value

    worked, failed = Outcomes(), Outcomes()
    owner, other = QObject(), QObject()
    tasks = [work.spawn(later(1), on_done=worked.on_done, on_error=worked.on_error, owner=owner),
             work.spawn(later(-1), on_done=failed.on_done, on_error=failed.on_error, owner=other)]
    shiboken6.delete(owner)
    shiboken6.delete(other)
    release.set()
    await asyncio.wait(tasks)
    await asyncio.sleep(0)
    assert not worked.called and not failed.called
    assert "the world switch failed" in caplog.text


# --- engine operations ------------------------------------------------------------------------------------------------


async def test_an_engine_call_runs_on_the_engine_thread_and_answers_on_the_gui_thread(threaded: Runtime) -> None:
    bridge = EngineBridge(threaded, lambda job: None)
    worked, failed = Outcomes(), Outcomes()
    answered_on: list[str] = []
    bridge.send(lambda: threading.current_thread().name,
                on_done=lambda name: (answered_on.append(threading.current_thread().name), worked.on_done(name)))
    bridge.send(fail, "the provider refused", on_done=failed.on_done, on_error=failed.on_error)
    await until(lambda: worked.called and failed.called, what="both answers")
    assert worked.done == ["reeldeck-engine"] and answered_on == [threading.main_thread().name]
    assert [str(e) for e in failed.errors] == ["the provider refused"]
    assert await bridge.call(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ValueError, match="awaited and refused"):
        await bridge.call(fail, "awaited and refused")


async def test_an_engine_call_whose_owner_was_deleted_skips_its_callbacks_and_logs_its_failure(
        threaded: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    bridge = EngineBridge(threaded, lambda job: None)
    release = threading.Event()
    worked, failed, after = Outcomes(), Outcomes(), Outcomes()
    owner, other = QObject(), QObject()
    bridge.send(release.wait, 5, on_done=worked.on_done, on_error=worked.on_error, owner=owner)
    bridge.send(lambda: (release.wait(5), fail("cancel refused")), on_done=failed.on_done, on_error=failed.on_error,
                owner=other)
    shiboken6.delete(owner)
    shiboken6.delete(other)
    release.set()
    bridge.send(lambda: "after", on_done=after.on_done)  # the engine's loop runs calls in order; so does delivery
    await until(lambda: after.called, what="the later answer")
    assert not worked.called and not failed.called
    assert "cancel refused" in caplog.text


async def test_an_inline_engine_call_follows_the_same_rules() -> None:
    async def later() -> str:
        await asyncio.sleep(0)
        return "later"

    now, awaited, gone, refused = Outcomes(), Outcomes(), Outcomes(), Outcomes()
    INLINE.send(lambda: "now", on_done=now.on_done)
    assert now.done == ["now"]  # a plain function on this loop answers at once
    INLINE.send(later, on_done=awaited.on_done)
    INLINE.send(lambda: "unseen", on_done=gone.on_done, owner=deleted_owner())
    INLINE.send(fail, "no such job", on_done=refused.on_done, on_error=refused.on_error)
    await until(lambda: awaited.called, what="the coroutine's answer")
    assert awaited.done == ["later"] and not gone.called
    assert [str(e) for e in refused.errors] == ["no such job"]


# --- one idiom in gui/ ------------------------------------------------------------------------------------------------

#: What only ``gui/work.py`` may use to leave the GUI thread.
FORBIDDEN = {
    "a thread pool": r"ThreadPoolExecutor|ProcessPoolExecutor",
    "asyncio.to_thread": r"\bto_thread\b",
    "a bare task": r"\bcreate_task\b|\bensure_future\b|run_coroutine_threadsafe",
    "a thread of its own": r"threading\.Thread\b|\bQThread\b|QThreadPool|QRunnable|QtConcurrent",
    "the old runners": r"gui\.background|gui\.asyncs|\bbackground\(\)",
}


def test_gui_leaves_the_gui_thread_only_through_gui_work() -> None:
    found = []
    for path in sorted(GUI.glob("*.py")):
        if path.name == "work.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            found += [f"{path.name}:{number}: {what}" for what, pattern in FORBIDDEN.items()
                      if re.search(pattern, code)]
    assert found == []
    assert not (GUI / "background.py").exists() and not (GUI / "asyncs.py").exists()


def test_the_idiom_is_told_in_one_module_docstring_and_in_the_architecture() -> None:
    assert work.__doc__ is not None and "on_done" in work.__doc__ and "owner" in work.__doc__
    architecture = (GUI.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert "gui/work.py" in architecture

