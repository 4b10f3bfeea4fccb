"""The stall notice in a job's details: "Taking longer than usual (usually 2–4 min)", with Keep waiting and Cancel.

The rule is ``core.stalls``; this box only shows it for the selected job, looks again every few seconds while the
job works (time passes without any event), and asks. *Keep waiting* hides the notice for that job until the window
closes; *Cancel the job* cancels it as the queue's Cancel does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from core.engine import Engine
from core.errors import ReeldeckError
from core.jobs import Job
from core.stalls import Stall, span, stall_of
from gui.engine_bridge import INLINE, EngineCalls
from gui.layouts import add_parts, button_row

#: How often the notice is looked at again while a working job is shown.
REFRESH_MS = 5000


class StallBox(QFrame):
    """Says when the shown job is past its model's usual duration, and offers to cancel it or keep waiting."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time,
                 refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self.setObjectName("StallBox")
        self.engine: Engine | None = None
        #: How calls reach the engine (the window's bridge when it runs on a thread of its own).
        self.calls: EngineCalls = INLINE
        self._clock = clock
        self._job: Job | None = None
        self._kept: set[str] = set()
        self.text = QLabel(self)
        self.text.setObjectName("StallText")
        self.text.setWordWrap(True)
        self.keep_button = QPushButton("Keep waiting", self)
        self.keep_button.setToolTip("Hide this notice; the job goes on and its video is downloaded when it is ready")
        self.cancel_button = QPushButton("Cancel the job", self)
        self.cancel_button.setToolTip("Stop waiting for this job (and cancel it at the provider where it can); a "
                                      "task already running there may still be charged")
        self.keep_button.clicked.connect(self.keep_waiting)
        self.cancel_button.clicked.connect(self.cancel)
        add_parts(QVBoxLayout(self), self.text, button_row(self.keep_button, self.cancel_button))
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.hide()

    def show_job(self, job: Job | None, engine: Engine | None) -> None:
        """Show the notice for this job (None: nothing selected), now and as time passes."""
        self._job, self.engine = job, engine
        if job is not None and not job.terminal:
            self.timer.start()
        else:
            self.timer.stop()
        self.refresh()

    def stall(self) -> Stall | None:
        job, engine = self._job, self.engine
        if job is None or engine is None or job.id in self._kept:
            return None
        return stall_of(job, engine.durations.get(job.provider, job.model), self._clock())

    def refresh(self) -> None:
        stall = self.stall()
        if stall is None:
            self.hide()
            return
        self.text.setText(f"<b>{stall.message}.</b> It has been working for {span(stall.elapsed, stall.elapsed)}; "
                          f"{stall.usual.samples} earlier jobs of this model took {stall.usual.describe()}. The "
                          "provider may be busy: keep waiting, or cancel it.")
        self.show()

    def keep_waiting(self) -> None:
        if self._job is not None:
            self._kept.add(self._job.id)
            self.message.emit("Still waiting for the job; its video is downloaded when it is ready.")
        self.refresh()

    def cancel(self) -> None:
        job, engine = self._job, self.engine
        if job is None or engine is None:
            return
        self.calls.send(engine.cancel, job.id, on_error=self._report, owner=self)
        self.message.emit("Canceling the job…")
        self.hide()

    def _report(self, error: BaseException) -> None:
        self.message.emit(error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}")
