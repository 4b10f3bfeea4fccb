"""The queue's order and pause: waiting jobs start in the order a person set (also after a restart), and a
paused queue sends no new create while the jobs already at the provider go on to their videos."""

from __future__ import annotations

import pytest
from harness import Harness, wait_until

from core.engine import Engine, EngineConfig
from core.jobs import JobState
from core.store import JobStore
from core.submission import JobRequest


def veo(prompt: str) -> JobRequest:
    return JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": prompt, "seconds": "4"})


def sent_order(engine: Engine) -> list[str]:
    """Job ids in the order their creates are sent (the state 'submitting' is written just before)."""
    order: list[str] = []
    engine.subscribe(lambda job: order.append(job.id)
                     if job.state == JobState.SUBMITTING and job.id not in order else None)
    return order


def one_at_a_time(h: Harness) -> None:
    h.hub.settings.data["concurrency"] = {"aihubmix": 1}


async def test_waiting_jobs_start_in_the_order_set(harness: Harness) -> None:
    h = harness
    one_at_a_time(h)
    a, b, c = [await h.engine.submit(veo(p), start=False) for p in "abc"]
    moved = h.engine.reorder([c.id, a.id, b.id])
    assert [j.id for j in sorted(moved, key=lambda j: j.queue_pos or 0)] == [c.id, a.id, b.id]
    order = sent_order(h.engine)
    h.engine.resume_all()
    finals = await h.engine.wait([a.id, b.id, c.id], timeout=120)
    assert all(j.state == JobState.COMPLETED for j in finals), [j.error for j in finals]
    assert order == [c.id, a.id, b.id]


async def test_the_order_is_kept_in_the_store_for_the_next_process(harness: Harness) -> None:
    h = harness
    one_at_a_time(h)
    a, b, c = [await h.engine.submit(veo(p), start=False) for p in "abc"]
    h.engine.reorder([b.id, c.id, a.id])
    store = JobStore(h.engine.store.path, clock=h.engine._clock)  # the next start, or the CLI
    try:
        assert [j.id for j in store.unfinished()] == [b.id, c.id, a.id]
        later = Engine(store, h.hub, library_dir=h.tmp / "library", inputs_dir=h.tmp / "inputs",
                       config=EngineConfig(poll_interval=0.5), clock=h.engine._clock, sleep=h.hub.transport.sleep)
        order = sent_order(later)
        later.resume_all()
        finals = await later.wait([a.id, b.id, c.id], timeout=120)
        await later.close()
    finally:
        store.close()
    assert all(j.state == JobState.COMPLETED for j in finals)
    assert order == [b.id, c.id, a.id]


async def test_a_reorder_while_waiting_for_a_slot_counts(harness: Harness) -> None:
    h = harness
    one_at_a_time(h)
    order = sent_order(h.engine)
    a, b, c = [await h.engine.submit(veo(p)) for p in "abc"]
    await wait_until(h, a.id, lambda j: j.state == JobState.RUNNING)  # a holds the one slot; b and c wait
    h.engine.reorder([c.id, b.id])
    finals = await h.engine.wait([a.id, b.id, c.id], timeout=120)
    assert all(j.state == JobState.COMPLETED for j in finals)
    assert order == [a.id, c.id, b.id]


async def test_jobs_already_sent_do_not_move(harness: Harness) -> None:
    h = harness
    a = await h.engine.submit(veo("a"))
    await wait_until(h, a.id, lambda j: j.state == JobState.RUNNING)
    b = await h.engine.submit(veo("b"), start=False)
    before = h.engine.store.get(a.id).queue_pos
    assert [j.id for j in h.engine.reorder([b.id, a.id])] == [b.id]
    assert h.engine.store.get(a.id).queue_pos == before


async def test_a_paused_queue_sends_no_create_but_finishes_the_paid_jobs(harness: Harness) -> None:
    h = harness
    running = await h.engine.submit(veo("already at the provider"))
    await wait_until(h, running.id, lambda j: j.state == JobState.RUNNING)
    h.engine.pause()
    held = await h.engine.submit(veo("held back"))
    (done,) = await h.engine.wait([running.id], timeout=120)
    assert done.state == JobState.COMPLETED  # polled and downloaded while paused
    for _ in range(2000):  # the paused job gets no slot however long the engine runs
        await h.engine._sleep(0.05)
    assert h.engine.store.get(held.id).state == JobState.PENDING
    assert h.sandbox.count("aihubmix", "create") == 1
    h.engine.unpause()
    (final,) = await h.engine.wait([held.id], timeout=120)
    assert final.state == JobState.COMPLETED and h.sandbox.count("aihubmix", "create") == 2


async def test_a_resumed_job_with_a_task_is_polled_while_paused(harness: Harness) -> None:
    h = harness
    one_at_a_time(h)
    job = await h.engine.submit(veo("a"))
    await wait_until(h, job.id, lambda j: j.state == JobState.RUNNING)
    await h.engine.close()  # the window closed mid-job
    h.engine.pause()
    waiting = await h.engine.submit(veo("b"), start=False)
    started = h.engine.resume_all()
    assert set(started) == {job.id, waiting.id}
    (final,) = await h.engine.wait([job.id], timeout=120)
    assert final.state == JobState.COMPLETED
    assert h.engine.store.get(waiting.id).state == JobState.PENDING


@pytest.mark.parametrize("ids", [[], ["no-such-job"]])
def test_reordering_nothing_changes_nothing(harness: Harness, ids: list[str]) -> None:
    assert harness.engine.reorder(ids) == []
