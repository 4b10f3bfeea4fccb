"""Runs result renders off the event loop and caches them under ``state_dir/renders/{task_id}``.

A render starts as soon as a task is created; a download of a task whose files are missing (for example after
a restart) awaits the running render or starts one on demand.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .records import TaskRecord
from .render import RenderJob, RenderOutput, Source, output_paths, render

log = logging.getLogger(__name__)

#: Input roles that are images the video is made from, in the order they are used.
IMAGE_ROLES = ("image", "first_frame_image", "input_reference", "reference", "last_image")


#: The longest ``close`` waits for renders still running.
RENDER_CLOSE_SECONDS = 30.0


class RenderManager:
    """One render per task at a time, on a small thread pool."""

    def __init__(self, state_dir: Path, workers: int = 2) -> None:
        self.state_dir = state_dir
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._running: dict[str, asyncio.Future[RenderOutput]] = {}

    def out_dir(self, task_id: str) -> Path:
        """Directory of a task's rendered files."""
        return self.state_dir / "renders" / task_id

    def outputs(self, task_id: str) -> RenderOutput:
        """Paths of a task's rendered files (they may not exist yet)."""
        return output_paths(self.out_dir(task_id))

    def is_done(self, task_id: str) -> bool:
        """True when every rendered file of the task exists."""
        out = self.outputs(task_id)
        return all(path.exists() for path in (out.video, out.thumbnail, out.spritesheet))

    def job_for(self, task: TaskRecord) -> RenderJob:
        """The render job of a task, from its stored plan and inputs."""
        sources = [
            Source(path=self.state_dir / item.path if item.path else None, url=item.url)
            for role in IMAGE_ROLES
            for item in task.inputs
            if item.role == role
        ]
        plan = task.plan
        return RenderJob(
            width=plan.width,
            height=plan.height,
            seconds=plan.seconds,
            caption=plan.caption,
            mode=plan.mode,
            label=plan.label,
            sources=tuple(sources),
            out_dir=self.out_dir(task.id),
        )

    def start(self, task: TaskRecord) -> asyncio.Future[RenderOutput]:
        """Start rendering (unless done or running) and return the future of its outputs."""
        running = self._running.get(task.id)
        if running is not None:
            return running
        loop = asyncio.get_running_loop()
        if self.is_done(task.id):
            done: asyncio.Future[RenderOutput] = loop.create_future()
            done.set_result(self.outputs(task.id))
            return done
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox-render")
        future = loop.run_in_executor(self._executor, render, self.job_for(task))
        self._running[task.id] = future
        future.add_done_callback(lambda f: self._finished(task.id, f))
        return future

    def _finished(self, task_id: str, future: asyncio.Future[RenderOutput]) -> None:
        self._running.pop(task_id, None)
        if not future.cancelled() and future.exception() is not None:
            log.error("sandbox render of %s failed", task_id, exc_info=future.exception())

    async def ensure(self, task: TaskRecord) -> RenderOutput:
        """The task's rendered files, rendering now if needed."""
        return await asyncio.shield(self.start(task))

    async def close(self) -> None:
        """Cancel queued renders and wait for running ones."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        pending = list(self._running.values())
        if pending:  # a render runs a few seconds at most; one stuck must not hold the emulator open
            await asyncio.wait(pending, timeout=RENDER_CLOSE_SECONDS)
