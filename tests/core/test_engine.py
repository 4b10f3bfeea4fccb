"""Engine behaviour on the sandbox: unknown outcomes, cancel, leases between processes, full disks, resumes."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from harness import Harness

from core import download
from core.engine import Engine, EngineConfig
from core.errors import InputError
from core.jobs import Annotation, JobState
from core.sandbox import Fault
from core.store import JobStore, make_owner
from core.submission import JobRequest

VEO = JobRequest("aihubmix", "veo-3.1-generate-preview", {"prompt": "a red fox", "seconds": "4"})
HUG = JobRequest("goapi", "Qubico/hug-video", {}, {"image": ["https://images.example/two.jpg"]})


async def test_lost_sora_create_answer_waits_for_the_user_without_a_list_endpoint(harness: Harness) -> None:
    h = harness  # AIHubMix documents no GET /v1/videos (FIELD-NOTES): one read answers 404, nothing is re-sent
    h.sandbox.aihubmix_list_endpoint = False
    fault = h.sandbox.faults.add(Fault("reset_after", provider="aihubmix", request_kind="create"))
    job = await h.engine.submit(VEO)
    (waiting,) = await h.engine.wait([job.id], timeout=60)
    assert fault.fired == 1
    assert waiting.needs_decision and waiting.state == JobState.SUBMITTING and waiting.remote_id is None
    assert h.sandbox.count("aihubmix", "create") == 1 and h.sandbox.count("aihubmix", "list") == 1


async def test_lost_create_without_a_list_endpoint_asks_the_user(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("reset_after", provider="goapi", request_kind="create"))
    job = await h.engine.submit(HUG)
    (waiting,) = await h.engine.wait([job.id], timeout=60)
    assert waiting.needs_decision and waiting.state == JobState.SUBMITTING
    assert "answer was lost" in (waiting.error or "") and "charged twice" in (waiting.error or "")
    assert h.sandbox.count("goapi", "create") == 1  # never re-sent on its own

    canceled = h.engine.resolve(job.id, resend=False)
    assert canceled.state == JobState.CANCELED and not canceled.needs_decision
    assert h.sandbox.count("goapi", "create") == 1


async def test_resend_after_a_lost_answer_is_the_users_choice(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("reset_after", provider="goapi", request_kind="create"))
    job = await h.engine.submit(HUG)
    await h.engine.wait([job.id], timeout=60)
    h.engine.resolve(job.id, resend=True)
    (final,) = await h.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    assert h.sandbox.count("goapi", "create") == 2


async def test_cancel_a_running_job_cancels_remotely(harness: Harness) -> None:
    h = harness
    job = await h.engine.submit(VEO)
    seen = []
    h.engine.subscribe(lambda j: seen.append(j.state))
    while h.engine.store.get(job.id).state != JobState.RUNNING:
        await h.engine._sleep(0.1)  # advance the manual clock until the create was answered
    canceled = await h.engine.cancel(job.id)
    assert canceled.state == JobState.CANCELED
    assert [r.method for r in h.received("aihubmix", "cancel")] == ["DELETE"]
    assert JobState.CANCELED in seen


async def test_a_second_process_does_not_work_a_leased_job(harness: Harness, tmp_path: Path) -> None:
    h = harness
    job = await h.engine.submit(VEO, start=False)
    other_store = JobStore(h.engine.store.path, clock=h.engine._clock)
    assert other_store.claim(job.id, "another-host:1:gui", ttl=3600)  # e.g. the GUI on this data dir
    assert h.engine.resume_all() == []
    assert h.sandbox.count("aihubmix") == 0
    other_store.release(job.id, "another-host:1:gui")
    assert h.engine.resume_all() == [job.id]
    (final,) = await h.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED


async def test_full_disk_waits_cleanly_and_retry_resumes_the_same_task(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    real_write = download._write_all

    def no_space(handle: object, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "_write_all", no_space)
    job = await h.engine.submit(VEO)
    (waiting,) = await h.engine.wait([job.id], timeout=60)
    # The provider made the video: the job is not given up, it waits for space, saying so.
    assert waiting.state == JobState.DOWNLOADING and waiting.waiting_on_you and waiting.remote_id
    assert "disk is full" in (waiting.waiting or "") and waiting.error is None
    library = h.tmp / "library"
    assert not library.exists() or list(library.iterdir()) == []  # no .part, no broken .mp4

    monkeypatch.setattr(download, "_write_all", real_write)  # space is back
    h.engine.retry(job.id)
    (final,) = await h.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    assert final.remote_id == waiting.remote_id and len(h.received("aihubmix", "create")) == 1
    assert sorted(p.suffix for p in library.iterdir()) == [".json", ".mp4", ".webp"]  # video, sidecar, still


async def test_truncated_download_resumes_with_range(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("truncate", provider="aimlapi", fraction=0.4))
    job = await h.engine.submit(JobRequest("aimlapi", "video-01-live2d", {"prompt": "wave"},
                                           {"image": ["https://images.example/face.jpg"]}))
    (final,) = await h.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    downloads = [r for r in h.sandbox.requests if r.origin == "cdn" and r.kind == "download"]
    assert len(downloads) == 2
    assert "range" not in [n.lower() for n in downloads[0].header_names]
    assert "range" in [n.lower() for n in downloads[1].header_names]


async def test_jobs_resume_in_a_new_engine(harness: Harness) -> None:
    """A job left running by one engine (closed mid-poll) is finished by the next one on the same store."""
    h = harness
    job = await h.engine.submit(VEO)
    while h.engine.store.get(job.id).state != JobState.RUNNING:
        await h.engine._sleep(0.1)
    await h.engine.close()
    assert h.engine.store.get(job.id).state == JobState.RUNNING
    fresh = Engine(h.engine.store, h.hub, library_dir=h.tmp / "library", inputs_dir=h.tmp / "inputs",
                   config=EngineConfig(poll_interval=0.5), clock=h.engine._clock, sleep=h.engine._sleep,
                   owner=make_owner())
    assert fresh.resume_all() == [job.id]
    (final,) = await fresh.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED
    assert h.sandbox.count("aihubmix", "create") == 1
    await fresh.close()


async def test_remix_of_a_finished_sora_video(harness: Harness, sora_served: Path) -> None:
    h = harness  # remix is Sora's (a gateway that still serves it: a user catalog re-declares it)
    source = await h.run("aihubmix", "sora-2", {"prompt": "a red fox", "seconds": "8", "size": "1280x720"})
    remix = await h.engine.remix(source.id, "the same fox, in the rain")
    (final,) = await h.engine.wait([remix.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    (request,) = h.received("aihubmix", "remix")
    assert request.method == "POST" and request.path == f"/v1/videos/{source.remote_id}/remix"
    assert request.body == {"prompt": "the same fox, in the rain"}
    assert final.params["seconds"] == "8" and final.prepared == {"remix_of": source.remote_id}
    assert h.sandbox.count("aihubmix", "create") == 1  # the remix did not go through /v1/videos


async def test_only_finished_videos_of_providers_that_can_remix(harness: Harness, sora_served: Path) -> None:
    h = harness
    pending = await h.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "a red fox"}), start=False)
    with pytest.raises(InputError, match="Only a finished video"):
        await h.engine.remix(pending.id, "x")
    hug = await h.run("goapi", "Qubico/hug-video", image=["https://images.example/two.jpg"])
    with pytest.raises(InputError, match="cannot remix"):
        await h.engine.remix(hug.id, "x")


async def test_a_finished_video_of_a_model_that_cannot_be_remixed_is_refused_before_anything_is_sent(
        harness: Harness) -> None:
    h = harness  # AIHubMix remixes Sora only: a finished Veo video is not offered to /remix
    veo = await h.run("aihubmix", "veo-3.1-generate-preview", {"prompt": "a red fox", "seconds": "4"})
    assert veo.state == JobState.COMPLETED, veo.error
    before = [j.id for j in h.engine.store.all()]
    with pytest.raises(InputError) as refused:
        await h.engine.remix(veo.id, "the same fox, in the rain")
    assert refused.value.message == ("Veo 3.1 videos cannot be remixed: on AIHubMix only Sora 2 and Sora 2 Pro "
                                     "videos can.")
    assert [j.id for j in h.engine.store.all()] == before and not h.received("aihubmix", "remix")


async def test_the_providers_thumbnail_is_kept_beside_the_video(harness: Harness) -> None:
    job = await harness.run("aihubmix", "veo-3.1-generate-preview", {"prompt": "thumb"})
    thumb = Path(job.video_path or "").with_suffix(".thumbnail.webp")
    assert thumb.read_bytes()[8:12] == b"WEBP"
    assert [r.query for r in harness.received("aihubmix", "content") if r.query.get("variant") == "thumbnail"]


async def test_forget_refuses_a_working_job_and_remember_brings_a_finished_one_back(harness: Harness) -> None:
    h = harness
    job = await h.engine.submit(VEO, start=False)
    with pytest.raises(InputError, match="still working"):
        h.engine.forget(job.id)
    assert h.engine.store.find(job.id) is not None
    finished = await h.engine.cancel(job.id)
    h.engine.store.annotate(job.id, Annotation(favourite=True, rating=4, note="keep"))
    forgotten = h.engine.forget(job.id)
    assert h.engine.store.find(job.id) is None
    back = h.engine.remember(forgotten)
    assert back == finished
    assert h.engine.store.annotation(job.id) == Annotation(favourite=True, rating=4, note="keep")


async def test_wait_tries_a_job_stored_as_waiting_on_the_person_again(harness: Harness) -> None:
    """The CLI says "it resumes with `wait` once that is fixed": a job an earlier process left waiting on a key is
    tried again by `wait` (not reported at once from the stored flag), and its first step forward clears the note."""
    h = harness
    job = await h.engine.submit(VEO)
    while h.engine.store.get(job.id).state != JobState.RUNNING:
        await h.engine._sleep(0.1)
    await h.engine.close()
    h.engine.store.update(job.id, waiting="waiting: the key was refused", waiting_on_you=True)  # the earlier verdict
    fresh = Engine(h.engine.store, h.hub, library_dir=h.tmp / "library", inputs_dir=h.tmp / "inputs",
                   config=EngineConfig(poll_interval=0.5), clock=h.engine._clock, sleep=h.engine._sleep,
                   owner=make_owner())
    (final,) = await fresh.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED
    assert final.waiting is None and not final.waiting_on_you
    await fresh.close()
