"""No double charge, no lost paid job: the engine under the faults real services show (FIELD-NOTES "Proxies and
duplicate charges"). Faults come *after* the provider made the task; lists lag and clocks drift; passing problems
never end a job that has a task; the job keeps its world and its origin."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from harness import REAL_KEYS, Harness, request_for, wait_until

import core.http
from core.jobs import Job, JobState
from core.sandbox import Fault

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
PROVIDERS = ["goapi", "aimlapi", "aihubmix", "gateway", "novita"]


async def settle(h: Harness, job: Job) -> Job:
    """Run until the job ends or waits for the person."""
    return await wait_until(h, job.id, lambda j: j.terminal or j.needs_decision)


AFTER_CREATE = {
    "502 page": dict(kind="body", processed=True, status=502, body=HTML_502, headers={"Content-Type": "text/html"}),
    "504": dict(kind="body", processed=True, status=504, body={"error": {"message": "upstream timed out"}}),
    "four 503s": dict(kind="body", processed=True, status=503, body="Service Unavailable", times=4),
    "reset": dict(kind="reset_after"),
    "200 HTML": dict(kind="body", processed=True, body="<html>Welcome!</html>", headers={"Content-Type": "text/html"}),
}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", list(AFTER_CREATE))
async def test_a_create_that_failed_after_the_task_was_made_is_never_sent_again(
    harness: Harness, provider: str, fault: str
) -> None:
    h = harness
    h.sandbox.faults.add(Fault(provider=provider, request_kind="create", **AFTER_CREATE[fault]))  # type: ignore[arg-type]
    job = await settle(h, await h.engine.submit(request_for(h, provider)))
    (task,) = h.sandbox.tasks.list(provider)  # the provider made exactly one task
    assert h.sandbox.count(provider, "create") == 1
    if provider == "aihubmix":  # found through the list: nothing to decide
        job = await wait_until(h, job.id, lambda j: j.terminal)
    else:  # no way to look it up: the person gives the task id from the provider's dashboard
        assert job.needs_decision and job.state == JobState.SUBMITTING and job.remote_id is None
        h.engine.decide(job.id, task_id_found=task.id)
        job = await wait_until(h, job.id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED and job.remote_id == task.id
    assert len(h.sandbox.tasks.list(provider)) == 1 and h.sandbox.count(provider, "create") == 1


async def test_a_lagging_list_is_read_again_before_anything_is_decided(harness: Harness) -> None:
    h = harness
    h.sandbox.list_lag_seconds = 40  # a new task shows in the list only 40 s after it was made
    h.sandbox.faults.add(Fault("reset_after", provider="aihubmix", request_kind="create"))
    job = await wait_until(h, (await h.engine.submit(request_for(h, "aihubmix"))).id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED
    lists = h.received("aihubmix", "list")
    assert len(lists) >= 2 and lists[-1].time - lists[0].time >= 30  # several reads, spaced out
    assert len(h.sandbox.tasks.list("aihubmix")) == 1


@pytest.mark.parametrize("offset", [-400, 400])
async def test_a_provider_clock_minutes_off_still_matches(harness: Harness, offset: float) -> None:
    h = harness
    h.sandbox.provider_clock_offset = offset
    h.sandbox.faults.add(Fault("reset_after", provider="aihubmix", request_kind="create"))
    job = await wait_until(h, (await h.engine.submit(request_for(h, "aihubmix"))).id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED and len(h.sandbox.tasks.list("aihubmix")) == 1


async def test_no_list_endpoint_means_a_decision_not_a_failure(harness: Harness) -> None:
    h = harness
    h.sandbox.aihubmix_list_endpoint = False
    h.sandbox.faults.add(Fault("reset_after", provider="aihubmix", request_kind="create"))
    job = await settle(h, await h.engine.submit(request_for(h, "aihubmix")))
    assert job.needs_decision and job.state == JobState.SUBMITTING and "charged twice" in (job.error or "")
    assert [r.status for r in h.received("aihubmix", "list")] == [404]
    h.engine.decide(job.id, send_again=True)  # the person chooses: one more create, knowingly
    job = await wait_until(h, job.id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED and h.sandbox.count("aihubmix", "create") == 2


@pytest.mark.parametrize("status", [404, 401, 500])
async def test_one_bad_poll_answer_does_not_end_a_job_the_provider_is_making(harness: Harness, status: int) -> None:
    h = harness
    h.sandbox.faults.add(Fault("status", provider="gateway", request_kind="poll", status=status))
    job = await wait_until(h, (await h.engine.submit(request_for(h, "gateway"))).id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED and job.waiting is None
    assert h.sandbox.count("gateway", "create") == 1


async def test_a_completed_answer_without_a_url_yet_is_polled_again(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", patch={"status": "completed",
                                                                                     "video": None}))
    job = await wait_until(h, (await h.engine.submit(request_for(h, "aimlapi"))).id, lambda j: j.terminal)
    assert job.state == JobState.COMPLETED and h.sandbox.count("aimlapi", "create") == 1


async def test_a_result_host_down_for_a_while_is_waited_out(harness: Harness) -> None:
    h = harness
    down = h.sandbox.faults.add(Fault("status", origin="cdn", status=503, times=None))
    job = await h.engine.submit(request_for(h, "aimlapi"))
    waiting = await wait_until(h, job.id, lambda j: j.waiting is not None and j.state == JobState.DOWNLOADING)
    assert not waiting.terminal and not waiting.waiting_on_you
    h.sandbox.faults.faults.remove(down)
    done = await wait_until(h, job.id, lambda j: j.terminal)
    assert done.state == JobState.COMPLETED and done.waiting is None


async def test_a_dripping_answer_is_abandoned_at_its_deadline_and_polled_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    monkeypatch.setattr(core.http, "ANSWER_DEADLINE_SECONDS", 1.0)
    h.sandbox.faults.add(Fault("drip", provider="aimlapi", request_kind="poll", delay=0.3))
    job = await h.engine.submit(request_for(h, "aimlapi"))
    (done,) = await h.engine.wait([job.id], timeout=30)
    assert done.state == JobState.COMPLETED
    assert h.sandbox.count("aimlapi", "create") == 1 and h.sandbox.count("aimlapi", "poll") >= 2


async def test_a_missing_key_makes_a_job_wait_for_it_then_it_resumes(real_harness: Harness) -> None:
    h = real_harness
    environ = h.hub.settings.environ  # the process environment (keys and base URLs), as the user's shell sets it
    assert isinstance(environ, dict)
    job = await h.engine.submit(request_for(h, "gateway"))
    await wait_until(h, job.id, lambda j: j.remote_id is not None)
    key = environ.pop("REELDECK_GATEWAY_API_KEY")  # e.g. `wait` run in a shell without the key
    h.engine.apply_settings()
    (waiting,) = await h.engine.wait([job.id], timeout=30)
    assert not waiting.terminal and waiting.waiting_on_you and waiting.error is None
    assert waiting.waiting and "No API key for Video gateway" in waiting.waiting
    environ["REELDECK_GATEWAY_API_KEY"] = key
    h.engine.apply_settings()  # the key is back: the job goes on by itself
    done = await wait_until(h, job.id, lambda j: j.terminal)
    assert done.state == JobState.COMPLETED and h.sandbox.count("gateway", "create") == 1


async def test_a_real_job_is_polled_where_it_was_created_when_the_base_url_changes(real_harness: Harness) -> None:
    h = real_harness
    environ = h.hub.settings.environ
    assert isinstance(environ, dict)
    job = await h.engine.submit(request_for(h, "gateway"))
    running = await wait_until(h, job.id, lambda j: j.remote_id is not None)
    assert running.origin == environ["REELDECK_GATEWAY_BASE_URL"] and running.world == "real"
    environ["REELDECK_GATEWAY_BASE_URL"] = "http://127.0.0.1:9"  # the setting changes; nothing listens there
    h.engine.apply_settings()
    done = await wait_until(h, job.id, lambda j: j.terminal)
    assert done.state == JobState.COMPLETED and done.origin == running.origin


async def test_the_two_worlds_never_touch_each_others_jobs(real_harness: Harness, harness: Harness) -> None:
    real = await real_harness.engine.submit(request_for(real_harness, "gateway"))
    await real_harness.engine.close()  # a real job left unfinished, as after a crash
    assert real_harness.engine.store.get(real.id).world == "real"
    sandbox_engine = harness.engine  # on the same database file: it sees the real job...
    assert sandbox_engine.store.get(real.id).state == JobState.PENDING
    assert sandbox_engine.resume_all() == [] and sandbox_engine.start(real.id) is None  # ...and does not work it
    assert REAL_KEYS  # the real world had keys; the sandbox needed none


async def test_a_busy_database_is_waited_out(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    h.engine.store._db.execute("PRAGMA busy_timeout=20")  # each locked write gives up after 20 ms here
    job = await h.engine.submit(request_for(h, "gateway"))
    await wait_until(h, job.id, lambda j: j.remote_id is not None)
    locker = sqlite3.connect(h.engine.store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        start = h.sandbox.clock()
        locked = await wait_until(h, job.id, lambda j: h.sandbox.clock() > start + 120)
        assert not locked.terminal  # two minutes of a locked database did not end it
        assert "busy" in caplog.text  # (the engine did run into the lock)
    finally:
        locker.execute("COMMIT")
        locker.close()
    done = await wait_until(h, job.id, lambda j: j.terminal)
    assert done.state == JobState.COMPLETED and h.sandbox.count("gateway", "create") == 1


async def test_deleting_a_job_while_its_create_is_in_flight_cancels_the_task_made(harness: Harness) -> None:
    h = harness
    slow = h.sandbox.faults.add(Fault("slow", provider="aihubmix", request_kind="create", delay=0.3))
    job = await h.engine.submit(request_for(h, "aihubmix"))
    await wait_until(h, job.id, lambda j: slow.fired == 1)  # the create is at the provider
    await h.engine.delete(job.id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not h.received("aihubmix", "cancel"):  # the create's answer arrives after the delete
        assert loop.time() < deadline, "the task made for the deleted job was never canceled"
        await asyncio.sleep(0.02)
    (task,) = h.sandbox.tasks.list("aihubmix")
    assert [r.path for r in h.received("aihubmix", "cancel")] == [f"/v1/videos/{task.id}"]
    assert h.engine.store.find(job.id) is None
