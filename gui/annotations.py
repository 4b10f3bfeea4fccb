"""Favourites, ratings and notes on library videos — kept in the job store (its ``annotations`` table).

A thin adapter so the library can be given either the running app's store or, in tests and tools, a data dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.jobs import Annotation
from core.runtime import open_store

if TYPE_CHECKING:
    from core.store import JobStore

__all__ = ["Annotation", "AnnotationStore"]


class AnnotationStore:
    """Read and write annotations through a JobStore; every write is committed at once."""

    def __init__(self, source: JobStore | Path) -> None:
        self._owns = isinstance(source, Path)
        self._store = open_store(source) if isinstance(source, Path) else source
        self.closed = False

    def close(self) -> None:
        """Stop using the store (and close it when this adapter opened it)."""
        if self._owns and not self.closed:
            self._store.close()
        self.closed = True

    def get(self, job_id: str) -> Annotation:
        return Annotation() if self.closed else self._store.annotation(job_id)

    def all(self) -> dict[str, Annotation]:
        return {} if self.closed else self._store.annotations()

    def put(self, job_id: str, annotation: Annotation) -> None:
        if not self.closed:
            self._store.annotate(job_id, annotation)
