"""Novita img2video-motion: asset uploads, presets, request building, poll parsing and errors — no network."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from core.errors import (
    AuthError,
    BadRequestError,
    InputError,
    NoCreditsError,
    NotFoundError,
    ProtocolError,
    ProviderError,
)
from core.http import ErrorAnswer, RetryPolicy
from core.hub import ProviderHub
from core.params import validate
from core.plans import build_create, prepare_inputs
from core.providers import provider_spec
from core.providers.base import JobInput, Phase, RemoteStatus
from core.providers.errors import classify_error
from core.providers.novita import NovitaProvider
from core.secrets import KeyStore
from core.settings import Settings
from core.submission import JobRequest, build_job

MOTION_PRESETS = provider_spec("novita").model("img2video-motion").slot("motion_video").presets

API = "https://api.novita.test"
ASSETS = "https://assets.novita.test"
ENDPOINTS = {"REELDECK_NOVITA_BASE_URL": API, "REELDECK_NOVITA_ASSETS_URL": ASSETS}
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64
PAGE_PRESET_IDS = (
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL3BYTjRDTXpwNzNqa2U2Wm1Na0FiRmVpcGtXRHMyajM4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1BRNlpiRW5jWW1LR1pINk1LWDViMzRCRmo1Yk1jRDY4",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL2JrdE01UEpIY0tIU0ZmUzdINEQ0aTdTZEpTWjhBRWFC",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL0NLd0N3aHJwS0ZyYVduNWVoejVFV0tleGlzN0toNmRq",
    "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1FFcmphdGJCOFI3ODdhR0gzajVUSkJZbTNkaHIzNzRu",
)
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler | None = None) -> NovitaProvider:
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(599)))
    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints=ENDPOINTS,
                      client=httpx.AsyncClient(transport=transport), retry=RetryPolicy(max_attempts=1))
    provider = hub.get("novita")
    assert isinstance(provider, NovitaProvider)
    return provider


def job(inputs: dict[str, list[str]], params: dict[str, object] | None = None,
        prepared: dict[str, object] | None = None) -> JobInput:
    return JobInput("job1", "img2video-motion", dict(params or {"seed": -1}), inputs, dict(prepared or {}))


def _png(path: Path, size: tuple[int, int] = (64, 96)) -> Path:
    Image.new("RGB", size, (10, 200, 30)).save(path)
    return path


# --- spec ----------------------------------------------------------------------------------------------------


def test_spec_has_the_page_presets_and_a_seed() -> None:
    model = NovitaProvider.spec.model("img2video-motion")
    motion = model.slot("motion_video")
    assert motion is not None and motion.field == "motion_video_assets_id" and motion.kind == "video"
    assert [p.name for p in motion.presets] == ["demo1", "demo2", "demo3", "demo4", "demo5"]
    assert tuple(p.value for p in motion.presets) == PAGE_PRESET_IDS
    image = model.slot("image")
    assert image is not None and image.field == "image_assets_id"
    seed = model.param("seed")
    assert seed is not None and seed.default == -1 and seed.minimum == -1


def test_each_preset_links_its_documented_demo_clip() -> None:
    """The page gives each preset's asset id and a demo MP4, nothing else: the declaration carries both as fields."""
    documented = [f"https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo{n}.mp4" for n in range(1, 6)]
    assert [p.preview_url for p in MOTION_PRESETS] == documented
    assert all("http" not in p.help for p in MOTION_PRESETS)  # the link is not buried in the help text
    described = NovitaProvider.spec.model("img2video-motion").describe()
    assert described["slots"][1]["presets"][0]["preview_url"] == documented[0]  # `providers --json` shows it


@pytest.mark.parametrize(("params", "inputs", "needle"), [
    ({}, {"image": ["a.png"]}, "--motion-video"),
    ({}, {"motion_video": ["demo1"]}, "--image"),
    ({"seed": "-2"}, {"image": ["a.png"], "motion_video": ["demo1"]}, "seed must be at least -1"),
    ({"seed": "1.5"}, {"image": ["a.png"], "motion_video": ["demo1"]}, "whole number"),
    ({"prompt": "x"}, {"image": ["a.png"], "motion_video": ["demo1"]}, "no parameter 'prompt'"),
])
def test_validation(params: dict[str, object], inputs: dict[str, list[str]], needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        validate(NovitaProvider.spec.model("img2video-motion"), params, inputs)


def test_submission_turns_a_preset_name_into_its_asset_id(tmp_path: Path) -> None:
    image = _png(tmp_path / "me.png")
    built = build_job(JobRequest("novita", "img2video-motion", {}, {"image": [str(image)],
                                                                     "motion_video": ["demo3"]}), tmp_path / "inputs")
    assert built.inputs["motion_video"] == [f"preset:{MOTION_PRESETS[2].value}"]
    assert built.params == {"seed": -1}


# --- create / poll -------------------------------------------------------------------------------------------


def test_create_body_is_exactly_the_documented_one() -> None:
    prepared = {"image_assets_id": "img-asset", "motion_video_assets_id": PAGE_PRESET_IDS[0]}
    request = build_create(make(), job({"image": ["/x.png"], "motion_video": [f"preset:{PAGE_PRESET_IDS[0]}"]},
                                      {"seed": 20231127}, prepared))
    assert (request.method, request.path, request.idempotent) == ("POST", "/v3/async/img2video-motion", False)
    assert request.json == {"image_assets_id": "img-asset", "motion_video_assets_id": PAGE_PRESET_IDS[0],
                            "seed": 20231127}
    assert build_create(make(), job({}, {}, prepared)).json["seed"] == -1


def test_create_refuses_inputs_that_were_not_uploaded() -> None:
    with pytest.raises(ProtocolError, match="not uploaded"):
        build_create(make(), job({"image": ["/x.png"]}))


def test_parse_create_and_poll_request() -> None:
    provider = make()
    assert provider.parse_create({"task_id": "6469ca5b"}) == "6469ca5b"
    with pytest.raises(ProtocolError):
        provider.parse_create({})
    poll = provider.build_poll("6469ca5b")
    assert (poll.method, poll.path, poll.params) == ("GET", "/v3/async/task-result", {"task_id": "6469ca5b"})
    assert provider.build_cancel("x") is None


def result(status: str, *, eta: object = 0, progress: object = 0, reason: str = "",
           videos: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"task": {"task_id": "t", "task_type": "IMG_TO_VIDEO_MOTION", "status": status, "reason": reason,
                     "eta": eta, "progress_percent": progress}, "images": [], "videos": videos or [], "extra": {}}


@pytest.mark.parametrize(("raw", "phase"), [
    ("TASK_STATUS_QUEUED", Phase.PENDING), ("task_status_queued", Phase.PENDING),
    ("TASK_STATUS_PROCESSING", Phase.RUNNING), ("TASK_STATUS_SUCCEED", Phase.SUCCEEDED),
    ("TASK_STATUS_FAILED", Phase.FAILED), ("TASK_STATUS_PAUSED", Phase.UNKNOWN),
])
def test_statuses(raw: str, phase: Phase) -> None:
    assert make().parse_poll(result(raw), httpx.Headers()).phase == phase


def test_eta_and_progress_feed_the_status() -> None:
    status = make().parse_poll(result("TASK_STATUS_PROCESSING", eta=42, progress=35), httpx.Headers())
    assert (status.eta, status.progress) == (42.0, 35.0)
    odd = make().parse_poll(result("TASK_STATUS_PROCESSING", eta="x", progress=None), httpx.Headers())
    assert (odd.eta, odd.progress) == (None, None)


def test_succeeded_gives_the_presigned_url_without_auth() -> None:
    url = "https://faas-output-video.s3.test/x.mp4?X-Amz-Expires=3600&X-Amz-Signature=abc"
    provider = make()
    status = provider.parse_poll(result("TASK_STATUS_SUCCEED", progress=100,
                                        videos=[{"video_url": url, "video_url_ttl": "3600", "video_type": "mp4"}]),
                                 httpx.Headers())
    assert status.video_url == url and status.error is None
    source = provider.download_source("t", status)
    assert source.url == url and source.with_auth is False
    with pytest.raises(ProtocolError):
        provider.download_source("t", RemoteStatus(Phase.SUCCEEDED, "TASK_STATUS_SUCCEED"))


def test_failed_reason_is_the_message() -> None:
    status = make().parse_poll(result("TASK_STATUS_FAILED", reason="no human pose detected"), httpx.Headers())
    assert status.phase == Phase.FAILED and status.error == "no human pose detected"


@pytest.mark.parametrize(("status", "reason", "kind"), [
    (400, "INVALID_REQUEST_BODY", BadRequestError),
    (401, "INVALID_API_KEY", AuthError),
    (403, "NOT_ENOUGH_BALANCE", NoCreditsError),
])
def test_error_shape(status: int, reason: str, kind: type) -> None:
    body = {"code": status, "reason": reason, "message": "something specific", "metadata": {}}
    error = classify_error(make().spec, ErrorAnswer(status, body))
    assert isinstance(error, kind) and "something specific" in error.message


# --- asset uploads -------------------------------------------------------------------------------------------


class AssetHost:
    """A mock of the asset host (and of a web server holding user files)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.files: dict[str, bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if request.method == "GET":
            data = self.files.get(url)
            return httpx.Response(200, content=data) if data is not None else httpx.Response(404)
        kind = url.rsplit("/", 1)[-1]
        return httpx.Response(200, json={"assets_id": f"asset-{kind}-{len(self.requests)}"})


async def test_local_image_and_video_are_put_raw_without_auth(tmp_path: Path) -> None:
    host = AssetHost()
    image = _png(tmp_path / "image-0.png")
    video = tmp_path / "motion-0.mp4"
    video.write_bytes(MP4)
    prepared = await prepare_inputs(make(host), job({"image": [str(image)], "motion_video": [str(video)]}))
    assert prepared == {"image_assets_id": "asset-image-1", "motion_video_assets_id": "asset-video-2"}
    put_image, put_video = host.requests
    assert (put_image.method, str(put_image.url)) == ("PUT", f"{ASSETS}/image")
    assert (put_video.method, str(put_video.url)) == ("PUT", f"{ASSETS}/video")
    assert put_image.content == image.read_bytes() and put_video.content == MP4
    assert put_image.headers["content-type"] == "image/png" and put_video.headers["content-type"] == "video/mp4"
    for request in host.requests:
        assert "authorization" not in request.headers and "x-api-key" not in request.headers


async def test_a_preset_is_not_uploaded(tmp_path: Path) -> None:
    host = AssetHost()
    prepared = await prepare_inputs(make(host), job({"image": [str(_png(tmp_path / "i.png"))],
                                                    "motion_video": [f"preset:{PAGE_PRESET_IDS[4]}"]}))
    assert prepared["motion_video_assets_id"] == PAGE_PRESET_IDS[4]
    assert [str(r.url) for r in host.requests] == [f"{ASSETS}/image"]


async def test_urls_are_downloaded_without_auth_then_uploaded() -> None:
    host = AssetHost()
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 128)).save(buffer, "PNG")
    host.files["https://files.test/me.png"] = buffer.getvalue()
    host.files["https://files.test/dance.mp4"] = MP4
    prepared = await prepare_inputs(make(host), job({"image": ["https://files.test/me.png"],
                                                    "motion_video": ["https://files.test/dance.mp4"]}))
    assert set(prepared) == {"image_assets_id", "motion_video_assets_id"}
    methods = [(r.method, str(r.url)) for r in host.requests]
    assert methods == [("GET", "https://files.test/me.png"), ("PUT", f"{ASSETS}/image"),
                       ("GET", "https://files.test/dance.mp4"), ("PUT", f"{ASSETS}/video")]
    for request in host.requests:
        assert "authorization" not in request.headers
    uploaded = Image.open(io.BytesIO(host.requests[1].content))
    assert uploaded.mode == "RGB" and uploaded.size == (50, 40)  # prepared: alpha flattened


async def test_bad_urls_give_plain_errors() -> None:
    host = AssetHost()
    host.files["https://files.test/not-a-video.mp4"] = b"<html>hello</html>"
    provider = make(host)
    with pytest.raises(InputError, match="HTTP 404"):
        await prepare_inputs(provider, job({"motion_video": ["https://files.test/missing.mp4"]}))
    with pytest.raises(InputError, match="not an MP4"):
        await prepare_inputs(provider, job({"motion_video": ["https://files.test/not-a-video.mp4"]}))
    assert not [r for r in host.requests if r.method == "PUT"]


async def test_asset_host_error_is_plain(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"code": 400, "reason": "INVALID_REQUEST_BODY",
                                         "message": "body: is not a readable image", "metadata": {}})

    with pytest.raises(BadRequestError, match="not a readable image"):
        image = str(_png(tmp_path / "a.png"))
        await prepare_inputs(make(handler), job({"motion_video": ["preset:x"], "image": [image]}))


def test_upload_request_is_pure() -> None:
    request = make().build_asset_upload("video", MP4, "video/mp4")
    assert (request.method, request.url, request.with_auth, request.content) == ("PUT", f"{ASSETS}/video", False,
                                                                                  MP4)
    assert json.dumps(request.headers) == '{"Content-Type": "video/mp4"}'


# --- plain answers (issue 12) --------------------------------------------------------------------------------


def _novita_error(status: int, body: dict[str, object], method: str = "POST") -> ProviderError:
    """How Novita's declared rules word an error answer to a create (POST) or a poll (GET)."""
    return classify_error(NovitaProvider.declared(), ErrorAnswer(status, body, creating=method == "POST"))


def test_a_404_on_create_means_the_endpoint_is_gone() -> None:
    error = _novita_error(404, {"code": 404, "reason": "NOT_FOUND", "message": "not found"})
    assert isinstance(error, NotFoundError) and not error.retryable
    assert "Novita no longer offers img2video-motion" in error.message
    assert "does not know this task" not in error.message
    poll = _novita_error(404, {"code": 404, "reason": "TASK_NOT_FOUND", "message": "task x not found"}, "GET")
    assert "does not know this task" in poll.message


def test_low_balance_and_403_in_plain_words() -> None:
    low = _novita_error(400, {"code": 400, "reason": "BILLING_BALANCE_NOT_ENOUGH", "message": "balance not enough"})
    assert isinstance(low, NoCreditsError) and "balance" in low.message and "Top up" in low.message
    forbidden = _novita_error(403, {"code": 403, "reason": "FORBIDDEN", "message": "forbidden"})
    assert isinstance(forbidden, AuthError)
    assert "permission" in forbidden.message and "verif" in forbidden.message
