"""The queue's gate: each provider's slots handed out in queue order, and a pause for new work.

A job holds one of its provider's slots (the concurrency setting) for its whole life at the provider. When a slot
frees, the gate gives it to the waiting job that comes first: a job that already has (or may have) a task at the
provider before any job not yet sent — a paid job is never kept waiting behind new ones — then the lowest queue
position. While the queue is paused, jobs not yet sent get no slot at all; jobs at the provider still do, so they
keep being polled and downloaded. No I/O here: the engine stores positions and asks the gate.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class _Waiter:
    sent_rank: int  # 0: has (or may have) a remote task; 1: not yet sent
    position: float
    seq: int
    job_id: str = field(compare=False)
    provider: str = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)


class QueueGate:
    """Slots per provider, granted in queue order; ``paused`` holds back jobs that were not sent yet."""

    def __init__(self, capacity: Callable[[str], int]) -> None:
        self._capacity = capacity
        self._busy: Counter[str] = Counter()
        self._waiters: dict[str, _Waiter] = {}
        self._seq = itertools.count()
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """No job that was not sent yet gets a slot until ``resume``."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._grant()

    def capacity_changed(self) -> None:
        """The concurrency settings changed: hand out any slots that are now free."""
        self._grant()

    def waiting(self) -> list[str]:
        """Ids of the jobs waiting for a slot, in the order they would get one."""
        return [w.job_id for w in sorted(self._waiters.values())]

    async def acquire(self, job_id: str, provider: str, position: float, *, sent: bool) -> None:
        """Wait for a slot of ``provider``; the caller must ``release`` it (also when this is cancelled after)."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(0 if sent else 1, position, next(self._seq), job_id, provider, loop.create_future())
        self._waiters[job_id] = waiter
        self._grant(provider)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if self._waiters.get(job_id) is waiter:
                del self._waiters[job_id]
            elif waiter.future.done() and not waiter.future.cancelled():
                self.release(provider)  # granted just as it was cancelled: give the slot back
            raise

    def release(self, provider: str) -> None:
        self._busy[provider] -= 1
        self._grant(provider)

    def reorder(self, positions: dict[str, float]) -> None:
        """New queue positions for some jobs (waiting ones take them into account at once)."""
        for job_id, position in positions.items():
            waiter = self._waiters.get(job_id)
            if waiter is not None:
                waiter.position = position

    def _grant(self, only: str | None = None) -> None:
        """Hand free slots to the first eligible waiters (of ``only`` that provider when given)."""
        if only is not None and self._busy[only] >= self._capacity(only):
            return
        by_provider: dict[str, list[_Waiter]] = {}
        for waiter in self._waiters.values():
            if (only is None or waiter.provider == only) and (waiter.sent_rank == 0 or not self._paused):
                by_provider.setdefault(waiter.provider, []).append(waiter)
        for provider, waiters in by_provider.items():
            free = self._capacity(provider) - self._busy[provider]
            if free <= 0:
                continue
            for waiter in sorted(waiters)[:free]:
                del self._waiters[waiter.job_id]
                self._busy[provider] += 1
                waiter.future.set_result(None)
