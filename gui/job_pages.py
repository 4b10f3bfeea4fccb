"""Listing the store's jobs in pages from the event loop, so the window paints before 10,000 jobs are read.

``JobPages`` lists every job id newest first at the loop's first turn (one query, no row decoded), then per page:
reads those jobs on the GUI thread (the store's connection belongs to it; a page is a few milliseconds), checks in
a worker thread which of their videos are on disk, and hands the page over with ``page(jobs, on_disk_ids)``; the
next page follows from the loop, so input and painting go on in between. ``finished()`` comes after the last
page. Jobs created meanwhile reach the window through engine events; a job deleted meanwhile is not in its page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from core.jobs import Job
from gui import work
from gui.job_list import videos_on_disk

if TYPE_CHECKING:
    from core.store import JobStore

log = logging.getLogger(__name__)

#: Jobs per page: reading, checking and inserting one page keeps the loop busy for roughly 10-20 ms.
PAGE_SIZE = 250


class JobPages(QObject):
    """Reads every job of a store, newest first, one page per loop turn; ``start()`` once."""

    page = Signal(object, object)  # list[Job] newest first, set[str] of the ids whose video is on disk
    finished = Signal()

    def __init__(self, store: JobStore, *, page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.page_size = max(1, page_size)
        self._ids: list[str] = []
        self._next_index = 0
        self._running = False
        self.done = False
        self.pages = 0

    def start(self) -> None:
        """Begin at the loop's next turn (after the window's first paint when it is shown right after)."""
        if self._running or self.done:
            return
        self._running = True
        QTimer.singleShot(0, self._list_ids)

    def _list_ids(self) -> None:
        if not self._running:
            return
        try:
            self._ids = self.store.ids_newest_first()
        except Exception:
            log.exception("could not list the jobs")
            self._ids = []
        self._read_page()

    def stop(self) -> None:
        """Read no more pages (the window is closing; the store may close next)."""
        self._running = False

    def _read_page(self) -> None:
        if not self._running:
            return
        ids = self._ids[self._next_index:self._next_index + self.page_size]
        self._next_index += len(ids)
        if not ids:
            self._finish()
            return
        try:
            jobs = self.store.some(ids)
        except Exception:
            log.exception("could not read a page of jobs")
            self._finish()
            return
        work.run(videos_on_disk, jobs, owner=self, on_done=lambda found: self._checked(jobs, found),
                 on_error=lambda error: self._checked(jobs, set(), error))

    def _checked(self, jobs: list[Job], found: set[str], error: BaseException | None = None) -> None:
        if not self._running:
            return
        if error is not None:
            log.error("could not check which videos are on disk: %s", error)
        self.pages += 1
        self.page.emit(jobs, found)
        QTimer.singleShot(0, self._read_page)

    def _finish(self) -> None:
        self._running = False
        self.done = True
        self._ids = []
        self.finished.emit()
