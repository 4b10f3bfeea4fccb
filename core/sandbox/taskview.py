"""``sb.tasks``: a read-only view of the emulator's tasks for tests and tools."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .records import TaskInput, TaskRecord

if TYPE_CHECKING:
    from .engine import Engine
    from .lifecycle import Snapshot


class TaskView:
    """Look up tasks (all providers, restarts included), their stored inputs, status and result files."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, task_id: str) -> TaskRecord | None:
        """The task with this id (deleted ones included), or None."""
        return self._engine.store.get_task(task_id)

    def __getitem__(self, task_id: str) -> TaskRecord:
        task = self.get(task_id)
        if task is None:
            raise KeyError(task_id)
        return task

    def __contains__(self, task_id: object) -> bool:
        return isinstance(task_id, str) and self.get(task_id) is not None

    def list(self, provider: str | None = None) -> builtins.list[TaskRecord]:
        """Every task (of one provider), oldest first."""
        return self._engine.store.list_tasks(provider)

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())

    def inputs(self, task_id: str) -> builtins.list[TaskInput]:
        """The stored inputs of a task (``path`` relative to the state dir; None for external URLs)."""
        return builtins.list(self[task_id].inputs)

    def input_paths(self, task_id: str) -> builtins.list[Path]:
        """Absolute paths of a task's stored input files, in the order they were given."""
        return [self._engine.state_dir / item.path for item in self[task_id].inputs if item.path]

    def snapshot(self, task_id: str) -> Snapshot:
        """Where the task stands now (status, progress, remaining seconds)."""
        return self._engine.status(self[task_id])

    def status(self, task_id: str) -> str:
        """The task's provider-native status now."""
        return self.snapshot(task_id).status

    def video_path(self, task_id: str) -> Path:
        """Where the task's result video is (or will be) cached."""
        return self._engine.renders.outputs(task_id).video

    async def wait_rendered(self, task_id: str) -> Path:
        """Render the task's result now if needed and return the video path."""
        return (await self._engine.renders.ensure(self[task_id])).video
