"""The worker pool never frees a Qt object in a worker thread (Qt warns "Timers cannot be stopped from another
thread", or crashes): what a call holds — a bound method of a QObject, a lambda over a widget — dies on the GUI
thread, even when the caller has let go of it before the result came back."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from PySide6.QtCore import QObject, QTimer
from pytestqt.qtbot import QtBot

from gui.background import Background


class Worker(QObject):
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
        Worker.freed_in.append(threading.current_thread().name)


def test_qt_objects_are_freed_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = Background(workers=3)
    results: list[tuple[object, str]] = []
    Worker.freed_in = []
    for value in range(4):
        worker = Worker()
        runner.run(worker.work, value, callback=lambda result, error: results.append((result, repr(error))))
        del worker  # the caller lets go at once: only the call still holds the object
    qtbot.waitUntil(lambda: len(results) == 4, timeout=5_000)
    qtbot.waitUntil(lambda: len(Worker.freed_in) == 4, timeout=5_000)
    assert Worker.freed_in == ["MainThread"] * 4
    assert sorted(results, key=str) == sorted([(0, "None"), (1, "None"), (None, "ValueError('boom')"),
                                              (3, "None")], key=str)
    runner.shutdown()
