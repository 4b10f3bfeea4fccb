"""Provider answers that are wrong: HTML instead of JSON, wrong types, missing fields, 100 MB bodies, statuses
never seen before, result URLs with odd schemes, server-suggested file names. Each ends in a clear message (or,
when it is a passing hiccup, is simply survived); nothing crashes, nothing is written where it should not be."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Harness, wait_until

from core.engine import video_file_name
from core.errors import ReeldeckError
from core.hub import ProviderHub
from core.jobs import Job, JobState
from core.providers import PROVIDER_IDS
from core.providers.base import RemoteStatus
from core.sandbox import Fault
from core.secrets import KeyStore
from core.settings import Settings
from core.submission import JobRequest

URL = "https://images.example/face.jpg"
AIML = JobRequest("aimlapi", "video-01-live2d", {"prompt": "wave"}, {"image": [URL]})
HUG = JobRequest("goapi", "Qubico/hug-video", {}, {"image": [URL]})


async def run(h: Harness, request: JobRequest) -> Job:
    job = await h.engine.submit(request)
    (final,) = await h.engine.wait([job.id], timeout=120)
    return final


def library_files(h: Harness) -> list[Path]:
    library = h.tmp / "library"
    return sorted(p for p in library.iterdir() if p.suffix in (".mp4", ".part")) if library.exists() else []


# --- malformed JSON, unit level: every provider, thousands of shapes ------------------------------------------------

_VALUES = (None, True, 0, 7, -1.5, float("nan"), "", "x", "../../etc", "a b", [], [1], {}, {"a": 1}, "completed",
           "SUCCESS", "TASK_STATUS_SUCCEED", "file:///etc/passwd", "ftp://host/v.mp4")
_KEYS = ("id", "status", "data", "task", "task_id", "generation_id", "video", "videos", "progress", "error", "output",
         "code", "message", "metadata", "url", "eta", "progress_percent", "video_url", "result_url")


def _bodies() -> list[Any]:
    bodies: list[Any] = [None, [], "text", 42, {}, True, {"data": None}, {"task": None}]
    for key, value in itertools.product(_KEYS, _VALUES):
        bodies += [
            {key: value},
            {"data": {key: value}},
            {"task": {key: value}, "videos": value},
            {"status": "completed", key: value},
            {"code": 200, "data": {"status": "completed", "task_id": "t1", key: value}},
            {"task": {"status": "TASK_STATUS_SUCCEED"}, key: value},
            {"code": "success", "data": {"status": "SUCCESS", key: value}},
        ]
    return bodies


ENDPOINTS = {f"REELDECK_{p.upper()}_BASE_URL": "http://127.0.0.1:9" for p in PROVIDER_IDS} | {
    "REELDECK_GOAPI_UPLOAD_URL": "http://127.0.0.1:9/upload", "REELDECK_NOVITA_ASSETS_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize("provider_id", PROVIDER_IDS)
def test_malformed_answers_give_a_typed_error_never_a_crash_or_a_bogus_id(provider_id: str) -> None:
    provider = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints=ENDPOINTS).get(provider_id)
    created = polled = refused = 0
    for body in _bodies():
        try:
            remote_id = provider.parse_create(body)
        except ReeldeckError as exc:
            assert exc.message and provider.spec.name in exc.message
            refused += 1
        else:  # an id is only taken when it is a plain token that can go into a URL
            assert isinstance(remote_id, str) and remote_id.strip() == remote_id and remote_id
            assert not set(remote_id) & set("/?#% \\") and remote_id not in ("None", "True", "False")
            created += 1
        try:
            status = provider.parse_poll(body, httpx.Headers())
        except ReeldeckError as exc:
            assert exc.message
            refused += 1
        else:
            assert isinstance(status, RemoteStatus) and isinstance(status.raw, str)
            assert status.progress is None or 0 <= status.progress <= 100
            assert status.eta is None or status.eta >= 0
            assert status.video_url is None or isinstance(status.video_url, str)
            polled += 1
    assert created and polled and refused  # all three outcomes were exercised


# --- end to end -----------------------------------------------------------------------------------------------------

HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


async def test_html_instead_of_json_on_a_poll_is_survived(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=2, body=HTML,
                               headers={"Content-Type": "text/html"}))
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=1, status=502, body=HTML,
                               headers={"Content-Type": "text/html"}))
    job = await run(h, AIML)
    assert job.state == JobState.COMPLETED, job.error


async def test_html_instead_of_json_for_good_waits_with_the_reason_then_resumes(harness: Harness) -> None:
    h = harness
    fault = h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=None, body=HTML,
                                       headers={"Content-Type": "text/html; charset=utf-8"}))
    job = await h.engine.submit(AIML)
    waiting = await wait_until(h, job.id, lambda j: h.sandbox.count("aimlapi", "poll") >= 30)
    assert waiting.state == JobState.RUNNING and waiting.waiting == (
        "waiting: AI/ML API answered with something that is not data (HTTP 200, text/html; charset=utf-8). "
        "The service may be having trouble.")
    polls = h.received("aimlapi", "poll")
    assert len(polls) / ((polls[-1].time - polls[0].time) / 60) <= 10 and library_files(h) == []
    h.sandbox.faults.faults.remove(fault)
    final = await wait_until(h, job.id, lambda j: j.terminal)
    assert final.state == JobState.COMPLETED and h.sandbox.count("aimlapi", "create") == 1


async def test_an_html_create_answer_is_not_sent_again_and_the_task_can_be_attached(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="create", body=HTML, processed=True,
                               headers={"Content-Type": "text/html"}))
    job = await run(h, AIML)
    # A 200 HTML page from a proxy: the task may exist (here it does), so nothing is sent again.
    assert job.needs_decision and job.state == JobState.SUBMITTING and job.remote_id is None
    assert h.sandbox.count("aimlapi", "create") == 1
    (task,) = h.sandbox.tasks.list("aimlapi")
    h.engine.decide(job.id, task_id_found=task.id)  # found on the provider's dashboard
    (final,) = await h.engine.wait([job.id], timeout=120)
    assert final.state == JobState.COMPLETED and final.remote_id == task.id
    assert h.sandbox.count("aimlapi", "create") == 1


@pytest.mark.parametrize("body", [
    {"status": "queued"}, {"generation_id": None, "id": None}, {"generation_id": {"id": 5}},
    {"generation_id": "../../v1/keys"}, [1, 2, 3],
])
async def test_a_create_answer_without_a_usable_id_is_an_unknown_outcome(harness: Harness, body: Any) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="create", body=body))
    job = await run(h, AIML)
    assert job.needs_decision and job.remote_id is None and job.state == JobState.SUBMITTING
    assert job.error and "charged twice" in job.error and "AI/ML API" in job.error
    assert h.sandbox.count("aimlapi", "create") == 1  # not re-sent: it may have been created


async def test_poll_answers_with_wrong_types_are_survived_or_waited_out(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="goapi", request_kind="poll", times=2,
                               body={"code": 200, "data": "not an object"}))
    ok = await run(h, HUG)
    assert ok.state == JobState.COMPLETED, ok.error
    h.sandbox.faults.add(Fault("body", provider="goapi", request_kind="poll", times=None,
                               body={"code": 200, "data": {"task_id": ok.remote_id, "output": []}}))
    bad = await h.engine.submit(HUG)
    waiting = await wait_until(h, bad.id, lambda j: j.waiting is not None)
    assert waiting.waiting == "waiting: GoAPI sent an answer without 'status'; it could not be understood."
    assert not waiting.terminal and waiting.remote_id
    h.sandbox.faults.clear()
    final = await wait_until(h, bad.id, lambda j: j.terminal)
    assert final.state == JobState.COMPLETED and final.waiting is None


def most_polls(h: Harness, seconds: float) -> float:
    """The most polls the engine's policy allows in ``seconds``: never more often than its shortest interval."""
    policy = h.engine.config.poll.scaled(h.engine.config.poll_interval or 10.0)
    return seconds / policy.min_interval + 2


async def test_a_100_mb_answer_is_capped_not_read(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=1,
                               body=b"[" + b"1," * 512 * 1024, repeat=100))  # 100 MB of JSON-looking bytes
    job = await run(h, AIML)
    assert job.state == JobState.COMPLETED, job.error  # one oversized answer is a hiccup
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="create", body=b"x" * 1024 * 1024,
                               repeat=100))
    unread = await run(h, AIML)
    assert unread.needs_decision and unread.remote_id is None  # its outcome is unknown: never sent again
    assert h.sandbox.count("aimlapi", "create") == 2


async def test_an_unknown_status_is_polled_and_said_out_loud_never_given_up(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=3,
                               patch={"status": "warming_up"}))
    passing = await run(h, AIML)
    assert passing.state == JobState.COMPLETED, passing.error
    h.engine.config.unknown_status_limit = 120
    fault = h.sandbox.faults.add(Fault("body", provider="aimlapi", request_kind="poll", times=None,
                                       patch={"status": "warming_up"}))
    stuck = await h.engine.submit(AIML)
    noted = await wait_until(h, stuck.id, lambda j: j.waiting is not None)
    assert noted.remote_status == "warming_up" and not noted.terminal
    assert noted.waiting and "'warming_up'" in noted.waiting and "still checking" in noted.waiting
    polls = [r for r in h.received("aimlapi", "poll") if r.task_id == noted.remote_id]
    assert 120 <= polls[-1].time - polls[0].time <= 200 and len(polls) <= most_polls(h, 200)
    h.sandbox.faults.faults.remove(fault)
    final = await wait_until(h, stuck.id, lambda j: j.terminal)
    assert final.state == JobState.COMPLETED


@pytest.mark.parametrize(("request_", "patch", "needle"), [
    (AIML, {"video.url": "file:///etc/passwd"}, "unsupported scheme (file:)"),
    (AIML, {"video.url": "ftp://cdn.example/v.mp4"}, "unsupported scheme (ftp:)"),
    (HUG, {"data.output.video_url": "file:///etc/shadow"}, "unsupported scheme (file:)"),
    (HUG, {"data.output.video_url": "data:video/mp4;base64,AAAAGGZ0eXA="}, "unsupported scheme (data:)"),
    (JobRequest("gateway", "viduq3t-540p", {"prompt": "x", "duration": "1"}),
     {"data.result_url": "file:///etc/passwd", "data.data": None}, "gave no address to download it from"),
])
async def test_odd_result_url_schemes_are_refused(harness: Harness, request_: JobRequest, patch: dict[str, Any],
                                                  needle: str) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", provider=request_.provider, request_kind="poll", times=None, patch=patch))
    job = await h.engine.submit(request_)
    waiting = await wait_until(h, job.id, lambda j: j.waiting is not None and "checking" not in j.waiting)
    # Never opened; the provider made a video, so the job waits (a later answer may carry a usable address).
    assert not waiting.terminal and needle in (waiting.waiting or "")
    assert library_files(h) == [] and not [r for r in h.sandbox.requests if r.origin == "cdn"]


async def test_a_redirect_to_a_file_url_is_refused(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", origin="cdn", status=302, body=b"", headers={"Location": "file:///etc/passwd"}))
    job = await run(h, AIML)  # one redirect to file://: refused, then the next try downloads the video
    assert job.state == JobState.COMPLETED, job.error
    assert library_files(h) == [Path(job.video_path or "")]
    assert [r.status for r in h.sandbox.requests if r.origin == "cdn"] == [302, 200]


async def test_a_server_suggested_file_name_is_ignored(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("body", origin="cdn", times=None, headers={
        "Content-Disposition": "attachment; filename=\"../../../evil.mp4\"; filename*=UTF-8''..%2F..%2Fevil.mp4"}))
    job = await run(h, AIML)
    assert job.state == JobState.COMPLETED, job.error
    assert job.video_path == str(h.tmp / "library" / video_file_name(job))
    assert [p.name for p in library_files(h)] == [video_file_name(job)]
    assert not [p for p in h.tmp.parent.rglob("evil*")]
