"""Contract tests: a real Engine drives every provider × mode end to end against the sandbox emulator.

Each test checks the exact requests that arrived (method, path, auth header present or absent, body fields and
types, uploaded image sizes) and that the job completed with a real, decodable MP4. Time is simulated: the
engine's sleep advances the emulator's manual clock, so nothing waits for real.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from harness import Harness
from PIL import Image

from core.errors import NotFoundError
from core.jobs import Job, JobState
from core.plans import build_create
from core.providers import provider_spec
from core.providers.base import JobInput
from core.sandbox import Fault

MOTION_PRESETS = provider_spec("novita").model("img2video-motion").slot("motion_video").presets


def assert_completed_mp4(job: Job) -> tuple[int, int]:
    assert job.state == JobState.COMPLETED, job.error
    assert job.video_path and Path(job.video_path).stat().st_size > 0
    with av.open(job.video_path) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def assert_downloads_without_auth(h: Harness, provider: str) -> None:
    downloads = [r for r in h.sandbox.requests if r.origin == "cdn" and r.provider == provider]
    assert downloads, "the result was not downloaded from the CDN"
    for request in downloads:
        assert request.method == "GET" and not request.auth_present
        assert not {"authorization", "x-api-key"} & {n.lower() for n in request.header_names}


def assert_polls(h: Harness, provider: str, method: str, path: str, query: dict[str, str] | None = None) -> None:
    polls = h.received(provider, "poll")
    assert polls
    for poll in polls:
        assert (poll.method, poll.path) == (method, path) and poll.auth_present
        if query is not None:
            assert poll.query == query


def inline(value: Any) -> tuple[int, int, str]:
    """(width, height, format) of an inline image as the emulator summarised it."""
    assert isinstance(value, dict) and "width" in value, value
    return value["width"], value["height"], value["format"]


def tiny_mp4(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 64), (index * 40, 100, 100)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


# --- GoAPI ---------------------------------------------------------------------------------------------------


async def test_goapi_local_file_is_uploaded_then_used(harness: Harness) -> None:
    h = harness
    image = h.image("couple.jpg", (900, 600), "JPEG")
    job = await h.run("goapi", "Qubico/hug-video", {"service_mode": "private"}, image=[image])
    assert_completed_mp4(job)

    upload = h.only("goapi", "upload")
    assert (upload.origin, upload.method, upload.path) == ("goapi_upload", "POST", "/api/ephemeral_resource")
    assert upload.auth_present and "x-api-key" in {n.lower() for n in upload.header_names}
    assert set(upload.body) == {"file_name", "file_data"}
    assert isinstance(upload.body["file_name"], str) and upload.body["file_name"].endswith((".png", ".jpg"))
    assert inline(upload.body["file_data"])[:2] == (900, 600)
    assert upload.status == 200

    create = h.only("goapi", "create")
    assert (create.origin, create.method, create.path, create.auth_present) == ("goapi", "POST", "/api/v1/task",
                                                                                True)
    assert "authorization" not in {n.lower() for n in create.header_names}
    body = create.body
    assert set(body) == {"model", "task_type", "input", "config"}
    assert (body["model"], body["task_type"], body["config"]) == ("Qubico/hug-video", "image_to_video",
                                                                  {"service_mode": "private"})
    assert body["input"] == {"image_url": job.prepared["image_url"]}
    assert job.prepared["image_url"].startswith(h.sandbox.origins["cdn"])
    assert_polls(h, "goapi", "GET", f"/api/v1/task/{job.remote_id}")
    assert_downloads_without_auth(h, "goapi")


async def test_goapi_url_passes_through_and_config_is_omitted(harness: Harness) -> None:
    h = harness
    job = await h.run("goapi", "Qubico/hug-video", image=["https://images.example/people.jpg"])
    assert_completed_mp4(job)
    assert not h.received("goapi", "upload")
    assert h.only("goapi", "create").body == {"model": "Qubico/hug-video", "task_type": "image_to_video",
                                              "input": {"image_url": "https://images.example/people.jpg"}}


async def test_goapi_low_plan_upload_fails_plainly_and_creates_nothing(harness: Harness) -> None:
    h = harness
    h.sandbox.goapi_upload_plan_ok = False
    job = await h.run("goapi", "Qubico/hug-video", image=[h.image("a.png", (400, 300))])
    assert job.state == JobState.FAILED and job.remote_id is None
    assert job.error and "Insufficient plan level" in job.error and "public image URL" in job.error
    assert h.sandbox.count("goapi", "create") == 0


async def test_goapi_cancel_is_a_delete(harness: Harness) -> None:
    h = harness
    provider = h.hub.get("goapi")
    answer = await provider.api.send(build_create(provider,
        _job_input("Qubico/hug-video", {"image": ["https://images.example/p.jpg"]})))
    remote_id = provider.parse_create(answer.body)
    cancel = provider.build_cancel(remote_id)
    assert cancel is not None
    assert (await provider.api.send(cancel)).body["code"] == 200
    request = h.only("goapi", "cancel")
    assert (request.method, request.path, request.auth_present) == ("DELETE", f"/api/v1/task/{remote_id}", True)
    status = provider.parse_poll((await provider.api.send(provider.build_poll(remote_id))).body, httpx.Headers())
    assert status.phase.value in ("failed", "canceled")


# --- AI/ML API -----------------------------------------------------------------------------------------------


async def test_aimlapi_local_strip_is_fixed_and_sent_as_data_uri(harness: Harness) -> None:
    h = harness
    job = await h.run("aimlapi", "video-01-live2d", {"prompt": "she waves"}, image=[h.image("strip.png", (3000, 200))])
    assert_completed_mp4(job)
    create = h.only("aimlapi", "create")
    assert (create.method, create.path, create.auth_present) == (
        "POST", "/v2/generate/video/minimax/generation", True)
    body = create.body
    assert set(body) == {"model", "prompt", "prompt_optimizer", "first_frame_image"}
    assert (body["model"], body["prompt"], body["prompt_optimizer"]) == ("video-01-live2d", "she waves", True)
    width, height, fmt = inline(body["first_frame_image"])
    assert body["first_frame_image"]["inline"] == "data_uri" and fmt in ("PNG", "JPEG")
    assert 2 / 5 < width / height < 5 / 2 and min(width, height) > 300
    assert_polls(h, "aimlapi", "GET", "/v2/generate/video/minimax/generation", {"generation_id": job.remote_id})
    assert_downloads_without_auth(h, "aimlapi")


async def test_aimlapi_url_and_optimizer_off(harness: Harness) -> None:
    h = harness
    job = await h.run("aimlapi", "video-01-live2d", {"prompt": "glasses", "prompt_optimizer": "false"},
                      image=["https://images.example/mona.jpg"])
    assert_completed_mp4(job)
    assert h.only("aimlapi", "create").body == {"model": "video-01-live2d", "prompt": "glasses",
                                                "prompt_optimizer": False,
                                                "first_frame_image": "https://images.example/mona.jpg"}


# --- gateway (Vidu) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["a", "b", "c"])
async def test_gateway_text_mode_in_every_poll_shape(harness: Harness, shape: str) -> None:
    h = harness
    h.sandbox.gateway_shape = shape
    job = await h.run("gateway", "viduq3p-540p", {"prompt": "a slow push-in", "aspect_ratio": "9:16",
                                                  "duration": "3", "seed": "42", "audio": "no"})
    width, height = assert_completed_mp4(job)
    assert height > width  # 9:16 was honoured
    create = h.only("gateway", "create")
    assert (create.method, create.path, create.auth_present) == ("POST", "/v1/video/generations", True)
    assert create.body == {"model": "viduq3p-540p", "prompt": "a slow push-in", "aspect_ratio": "9:16",
                           "duration": 3, "extra_body": {"audio": False, "seed": 42}}
    assert_polls(h, "gateway", "GET", f"/v1/video/generations/{job.remote_id}")
    assert_downloads_without_auth(h, "gateway")


async def test_gateway_image_mode_with_a_local_file(harness: Harness) -> None:
    h = harness
    job = await h.run("gateway", "viduq3t-720p-offpeak", {"prompt": "natural motion"},
                      image=[h.image("tall.png", (100, 900))])
    assert_completed_mp4(job)
    body = h.only("gateway", "create").body
    assert set(body) == {"model", "prompt", "image", "duration"} and body["duration"] == 5
    width, height, fmt = inline(body["image"])
    assert body["image"]["inline"] == "data_uri" and fmt in ("PNG", "JPEG", "WEBP")
    assert 1 / 4 <= width / height <= 4 and min(width, height) >= 128


async def test_gateway_first_last_mode(harness: Harness) -> None:
    h = harness
    job = await h.run("gateway", "viduq3p-1080p", {"prompt": "keep identity", "duration": "2"},
                      image=[h.image("head.png", (640, 360), color="red")],
                      last_image=[h.image("tail.jpg", (640, 360), "JPEG", color="green")])
    assert_completed_mp4(job)
    body = h.only("gateway", "create").body
    assert set(body) == {"model", "prompt", "image", "last_image", "duration"}
    assert inline(body["image"]) == (640, 360, "PNG")
    assert inline(body["last_image"])[:2] == (640, 360)


async def test_gateway_reference_mode_keeps_order(harness: Harness) -> None:
    h = harness
    sizes = [(300, 300), (400, 300), (300, 400), (500, 250)]
    refs = [h.image(f"ref{i}.png", size) for i, size in enumerate(sizes)]
    job = await h.run("gateway", "viduq3p-mix-720p", {"prompt": "@Image1 meets @Image2", "bgm": "true"},
                      ref_image=refs)
    assert_completed_mp4(job)
    body = h.only("gateway", "create").body
    assert set(body) == {"model", "prompt", "reference_image_urls", "duration", "extra_body"}
    assert body["extra_body"] == {"bgm": True}
    assert [inline(item)[:2] for item in body["reference_image_urls"]] == sizes


async def test_gateway_unknown_task_is_not_found(harness: Harness) -> None:
    provider = harness.hub.get("gateway")
    with pytest.raises(NotFoundError, match="does not know this task"):
        await provider.api.send(provider.build_poll("task_doesnotexist"))


# --- Novita --------------------------------------------------------------------------------------------------


async def test_novita_local_image_and_preset_motion(harness: Harness) -> None:
    h = harness
    job = await h.run("novita", "img2video-motion", image=[h.image("me.jpg", (480, 640), "JPEG")],
                      motion_video=["demo2"])
    assert_completed_mp4(job)
    upload = h.only("novita", "asset_upload")
    assert (upload.origin, upload.method, upload.path) == ("novita_assets", "PUT", "/image")
    assert not upload.auth_present and upload.auth_sha256 is None
    assert (upload.body["width"], upload.body["height"]) == (480, 640)
    create = h.only("novita", "create")
    assert (create.method, create.path, create.auth_present) == ("POST", "/v3/async/img2video-motion", True)
    assert create.body == {"image_assets_id": job.prepared["image_assets_id"],
                           "motion_video_assets_id": MOTION_PRESETS[1].value, "seed": -1}
    assert_polls(h, "novita", "GET", "/v3/async/task-result", {"task_id": job.remote_id})
    assert_downloads_without_auth(h, "novita")


async def test_novita_local_motion_video_is_uploaded(harness: Harness) -> None:
    h = harness
    video = tiny_mp4(h.tmp / "dance.mp4")
    job = await h.run("novita", "img2video-motion", {"seed": "7"}, image=[h.image("me.png", (300, 400))],
                      motion_video=[str(video)])
    assert_completed_mp4(job)
    uploads = h.received("novita", "asset_upload")
    assert [(u.method, u.path, u.auth_present) for u in uploads] == [("PUT", "/image", False),
                                                                     ("PUT", "/video", False)]
    assert uploads[1].body.get("mp4") is True and uploads[1].body["size"] == video.stat().st_size
    body = h.only("novita", "create").body
    assert body["seed"] == 7 and body["motion_video_assets_id"] == job.prepared["motion_video_assets_id"]
    assert isinstance(body["image_assets_id"], str) and body["image_assets_id"]


async def test_novita_urls_are_downloaded_and_uploaded(harness: Harness, http: httpx.AsyncClient) -> None:
    h = harness
    endpoints = h.sandbox.endpoints()

    async def host(name: str, data: bytes) -> str:  # put a file somewhere reachable over http
        answer = await http.post(endpoints["REELDECK_GOAPI_UPLOAD_URL"], headers={"x-api-key": "k"},
                                 json={"file_name": name, "file_data": base64.b64encode(data).decode()})
        return str(answer.json()["data"]["url"])

    buffer = io.BytesIO()
    Image.new("RGB", (360, 480), "purple").save(buffer, "PNG")
    image_url = await host("me.png", buffer.getvalue())
    video_url = await host("dance.mp4", tiny_mp4(h.tmp / "d.mp4").read_bytes())
    job = await h.run("novita", "img2video-motion", image=[image_url], motion_video=[video_url])
    assert_completed_mp4(job)
    fetched = [r for r in h.sandbox.requests if r.origin == "cdn" and r.provider == "goapi"]
    assert len(fetched) == 2 and not any(r.auth_present for r in fetched)
    uploads = h.received("novita", "asset_upload")
    assert [u.path for u in uploads] == ["/image", "/video"] and not any(u.auth_present for u in uploads)
    assert (uploads[0].body["width"], uploads[0].body["height"]) == (360, 480)


# --- faults ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "model", "params", "inputs", "reason"), [
    ("goapi", "Qubico/hug-video", {}, {"image": ["https://images.example/p.jpg"]}, "two people"),
    ("aimlapi", "video-01-live2d", {"prompt": "x"}, {"image": ["https://images.example/p.jpg"]}, "content filter"),
    ("gateway", "viduq3p-540p", {"prompt": "x"}, {}, "content moderation"),
    ("novita", "img2video-motion", {}, {"image": ["https://images.example/p.jpg"], "motion_video": ["demo1"]},
     "no human pose"),
])
async def test_a_failed_task_ends_failed_with_the_providers_reason(
        harness: Harness, http: httpx.AsyncClient, provider: str, model: str, params: dict[str, Any],
        inputs: dict[str, list[str]], reason: str) -> None:
    h = harness
    if provider == "novita":  # Novita needs a real image to upload: use one hosted on the emulator's CDN
        buffer = io.BytesIO()
        Image.new("RGB", (200, 300), "gray").save(buffer, "PNG")
        answer = await http.post(h.sandbox.endpoints()["REELDECK_GOAPI_UPLOAD_URL"], headers={"x-api-key": "k"},
                                 json={"file_name": "p.png", "file_data": base64.b64encode(buffer.getvalue()).decode()})
        inputs = {**inputs, "image": [answer.json()["data"]["url"]]}
    h.sandbox.faults.add(Fault("fail_job", provider=provider))
    job = await h.run(provider, model, params, **inputs)
    assert job.state == JobState.FAILED and job.video_path is None
    assert job.error and reason in job.error
    assert h.sandbox.count(provider, "create") == 1


@pytest.mark.parametrize("provider", ["aimlapi", "gateway"])
async def test_an_expired_result_url_is_refreshed_by_polling_again(harness: Harness, provider: str) -> None:
    h = harness
    h.sandbox.faults.add(Fault("expire_url", origin="cdn"))
    if provider == "aimlapi":
        job = await h.run("aimlapi", "video-01-live2d", {"prompt": "x"}, image=["https://images.example/p.jpg"])
    else:
        job = await h.run("gateway", "viduq3t-540p", {"prompt": "x"})
    assert_completed_mp4(job)
    downloads = [r for r in h.sandbox.requests if r.origin == "cdn"]
    assert [r.status for r in downloads][:1] == [403] and downloads[-1].status in (200, 206)
    assert h.sandbox.count(provider, "create") == 1


async def test_upload_outage_is_retried(harness: Harness) -> None:
    h = harness
    h.sandbox.faults.add(Fault("status", provider="novita", request_kind="asset_upload", status=503))
    job = await h.run("novita", "img2video-motion", image=[h.image("me.png", (300, 400))], motion_video=["demo5"])
    assert_completed_mp4(job)
    assert [u.status for u in h.received("novita", "asset_upload")] == [503, 200]
    assert h.sandbox.count("novita", "create") == 1


# --- helpers -------------------------------------------------------------------------------------------------


def _job_input(model: str, inputs: dict[str, list[str]]) -> JobInput:
    return JobInput("direct", model, {}, inputs)


# --- gateway dialects, Vidu's own poll object, AIHubMix without a list endpoint (issue 12) -------------------


def use_new_api(h: Harness) -> None:
    h.sandbox.gateway_dialect = "new-api"
    h.hub.settings.data["options"] = {"gateway": {"dialect": "new-api"}}
    h.hub.forget("gateway")


async def test_gateway_new_api_dialect_first_last_frame(harness: Harness) -> None:
    h = harness
    use_new_api(h)
    job = await h.run("gateway", "viduq3p-720p-offpeak", {"prompt": "turn around", "duration": "3", "seed": "9"},
                      image=[h.image("a.png", (640, 360))], last_image=[h.image("b.png", (640, 360), color="red")])
    assert_completed_mp4(job)
    assert job.prepared == {"dialect": "new-api"}  # shown in the job's details (show --json)
    create = h.only("gateway", "create")
    assert (create.method, create.path, create.content_type) == ("POST", "/v1/video/generations",
                                                                 "application/json")
    body = create.body
    assert set(body) == {"model", "prompt", "images", "size", "duration", "metadata"}
    assert (body["model"], body["prompt"], body["size"], body["duration"], body["metadata"]) == (
        "viduq3p-720p-offpeak", "turn around", "720p", 3, {"seed": 9})
    assert [inline(image)[:2] for image in body["images"]] == [(640, 360), (640, 360)]


async def test_gateway_new_api_dialect_references(harness: Harness) -> None:
    h = harness
    use_new_api(h)
    refs = [h.image(f"r{i}.png", (300, 300)) for i in range(3)]
    job = await h.run("gateway", "viduq3p-mix-720p", {"prompt": "@Image1 @Image2 @Image3"}, ref_image=refs)
    assert_completed_mp4(job)
    assert len(h.only("gateway", "create").body["images"]) == 3


async def test_gateway_new_api_dialect_refuses_what_it_cannot_say_and_sends_nothing(harness: Harness) -> None:
    h = harness
    use_new_api(h)
    job = await h.run("gateway", "viduq3p-720p", {"prompt": "p", "aspect_ratio": "9:16"})
    assert job.state == JobState.FAILED and job.error and "aspect_ratio" in job.error
    assert h.sandbox.count("gateway") == 0


async def test_gateway_page_dialect_is_the_default_and_shown(harness: Harness) -> None:
    job = await harness.run("gateway", "viduq3t-540p", {"prompt": "p"})
    assert_completed_mp4(job)
    assert job.prepared == {"dialect": "page"}
    assert harness.only("gateway", "create").content_type == "application/json"


async def test_gateway_vidus_own_task_object_to_the_end(harness: Harness) -> None:
    h = harness
    h.sandbox.gateway_shape = "vidu"
    job = await h.run("gateway", "viduq3p-540p", {"prompt": "p", "duration": "2"})
    assert_completed_mp4(job)
    assert job.remote_status == "success"


async def test_aihubmix_without_a_list_endpoint_text_only_multipart(harness: Harness) -> None:
    h = harness
    h.sandbox.aihubmix_list_endpoint = False
    job = await h.run("aihubmix", "veo-3.1-generate-preview", {"prompt": "a heron", "seconds": "4", "size": "1280x720"})
    width_height = assert_completed_mp4(job)
    assert width_height == (1280, 720)
    create = h.only("aihubmix", "create")
    assert (create.method, create.path, create.content_type) == ("POST", "/v1/videos", "multipart/form-data")
    assert create.body == {"model": "veo-3.1-generate-preview", "prompt": "a heron", "seconds": "4", "size": "1280x720"}
    assert h.sandbox.count("aihubmix", "list") == 0


def test_providers_are_pure_the_engine_does_their_io() -> None:
    """No provider reads a file, fetches a URL or sends a request itself: they plan, the engine (core/plans.py)
    carries the plans out. (Each provider's upload and list plans are run end to end by its own tests.)"""
    root = Path(__file__).resolve().parents[2] / "core" / "providers"
    offenders = [f"{path.name}: {needle}" for path in sorted(root.glob("*.py"))
                 for needle in ("api.send(", "read_bytes(", "to_thread(", "fetch_public(", "async def ", "open(")
                 if needle in path.read_text(encoding="utf-8")]
    assert offenders == []
