"""The Vidu video gateway: every mode's body, the three poll shapes, validation and errors — no network."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import wire as wire_module
from PIL import Image

from core.errors import AuthError, BadRequestError, InputError, ModerationError, NotFoundError, ProtocolError
from core.http import ErrorAnswer, RetryPolicy
from core.hub import ProviderHub
from core.params import validate
from core.plans import build_create, prepare_inputs
from core.providers import provider_spec
from core.providers.base import JobInput, Phase, RemoteStatus
from core.providers.errors import classify_error
from core.providers.gateway import GatewayProvider
from core.secrets import KeyStore
from core.settings import Settings

API = "https://gw.test/prefix"


def make() -> GatewayProvider:
    transport = httpx.MockTransport(lambda request: httpx.Response(599))
    hub = ProviderHub(Settings(environ={}), KeyStore(environ={}), sandbox_endpoints={"REELDECK_GATEWAY_BASE_URL": API},
                      client=httpx.AsyncClient(transport=transport), retry=RetryPolicy(max_attempts=1))
    provider = hub.get("gateway")
    assert isinstance(provider, GatewayProvider)
    return provider


def model(model_id: str = "viduq3p-720p"):  # type: ignore[no-untyped-def]
    return GatewayProvider.spec.model(model_id)


def job(model_id: str, params: dict[str, object], inputs: dict[str, list[str]] | None = None) -> JobInput:
    return JobInput("job1", model_id, params, inputs or {})


# --- spec ----------------------------------------------------------------------------------------------------


def test_models_are_the_documented_thirteen() -> None:
    ids = [m.id for m in GatewayProvider.spec.models]
    base = [f"viduq3{t}-{r}" for t in "pt" for r in ("540p", "720p", "1080p")]
    assert sorted(ids) == sorted([*base, *(f"{b}-offpeak" for b in base), "viduq3p-mix-720p"])
    assert GatewayProvider.spec.default_base_url is None


def test_params_and_slots() -> None:
    frame = model()
    assert [s.name for s in frame.slots] == ["image", "last_image"]
    assert [(s.field, s.max_count) for s in frame.slots] == [("image", 1), ("last_image", 1)]
    mix = model("viduq3p-mix-720p")
    (refs,) = mix.slots
    assert (refs.name, refs.field, refs.max_count) == ("ref_image", "reference_image_urls", 4)
    duration = frame.param("duration")
    assert duration is not None and (duration.default, duration.minimum, duration.maximum) == (5, 1, 16)
    aspect = frame.param("aspect_ratio")
    assert aspect is not None and {"16:9", "9:16", "1:1"} <= set(aspect.choices) and aspect.default is None
    for name in ("audio", "seed", "bgm"):
        param = frame.param(name)
        assert param is not None and param.body_path == f"extra_body.{name}" and param.default is None


@pytest.mark.parametrize(("model_id", "params", "inputs", "mode"), [
    ("viduq3p-720p", {"prompt": "a fox"}, {}, "text"),
    ("viduq3t-540p", {"prompt": "move"}, {"image": ["https://x.test/a.png"]}, "image"),
    ("viduq3p-1080p-offpeak", {"prompt": "turn"}, {"image": ["https://x.test/a.png"],
                                                    "last_image": ["https://x.test/b.png"]}, "first_last"),
    ("viduq3p-mix-720p", {"prompt": "@Image1 on a beach"}, {"ref_image": ["https://x.test/1.png"] * 4}, "reference"),
])
def test_modes_are_picked_from_the_inputs(model_id: str, params: dict[str, object], inputs: dict[str, list[str]],
                                          mode: str) -> None:
    assert validate(model(model_id), params, inputs).mode == mode


@pytest.mark.parametrize(("model_id", "params", "inputs", "needle"), [
    ("viduq3p-720p", {}, {}, "Text to video: --prompt"),
    ("viduq3p-720p", {"prompt": "x"}, {"last_image": ["https://x.test/b.png"]}, "First and last frame: --image + "
     "--last-image"),
    ("viduq3p-720p", {"prompt": "x"}, {"ref_image": ["https://x.test/1.png"]}, "takes no --ref-image"),
    ("viduq3p-mix-720p", {"prompt": "x"}, {"ref_image": ["https://x.test/1.png"] * 5}, "at most 4"),
    ("viduq3p-mix-720p", {"prompt": "x"}, {"image": ["https://x.test/1.png"]}, "takes no --image"),
    ("viduq3p-mix-720p", {}, {"ref_image": ["https://x.test/1.png"]}, "--ref-image + --prompt"),
    ("viduq3p-720p", {"prompt": "x", "duration": "17"}, {}, "duration must be at most 16"),
    ("viduq3p-720p", {"prompt": "x", "duration": "0"}, {}, "duration must be at least 1"),
    ("viduq3p-720p", {"prompt": "x", "aspect_ratio": "21:9"}, {}, "aspect_ratio must be one of"),
    ("viduq3p-720p", {"prompt": "x", "seed": "abc"}, {}, "seed must be a whole number"),
    ("viduq3p-720p", {"prompt": "x", "fps": "30"}, {}, "no parameter 'fps'"),
])
def test_invalid_combinations_are_refused(model_id: str, params: dict[str, object], inputs: dict[str, list[str]],
                                          needle: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(model(model_id), params, inputs)
    assert needle in caught.value.message


# --- create bodies, one per documented example ---------------------------------------------------------------


def test_text_to_video_body() -> None:
    params = {"prompt": "slow camera push-in", "aspect_ratio": "16:9", "duration": 5, "audio": False, "seed": 42,
              "bgm": False, "image_fit": "pad"}
    request = build_create(make(), job("viduq3p-720p", params))
    assert (request.method, request.path, request.idempotent) == ("POST", "/v1/video/generations", False)
    assert request.json == {
        "model": "viduq3p-720p",
        "prompt": "slow camera push-in",
        "aspect_ratio": "16:9",
        "duration": 5,
        "extra_body": {"audio": False, "seed": 42, "bgm": False},
    }


def test_image_to_video_body_with_only_seed_in_extra_body() -> None:
    params = {"prompt": "natural motion", "duration": 5, "seed": 42, "image_fit": "pad"}
    body = build_create(make(), job("viduq3t-540p", params, {"image": ["https://example.com/source.png"]})).json
    assert body == {
        "model": "viduq3t-540p",
        "prompt": "natural motion",
        "image": "https://example.com/source.png",
        "duration": 5,
        "extra_body": {"seed": 42},
    }


def test_first_last_body_without_extra_body() -> None:
    inputs = {"image": ["https://example.com/head.png"], "last_image": ["https://example.com/tail.png"]}
    body = build_create(make(), job("viduq3p-1080p-offpeak", {"prompt": "keep identity", "duration": 6},
                                   inputs)).json
    assert body == {
        "model": "viduq3p-1080p-offpeak",
        "prompt": "keep identity",
        "image": "https://example.com/head.png",
        "last_image": "https://example.com/tail.png",
        "duration": 6,
    }
    assert "extra_body" not in body


def test_reference_body_keeps_the_order() -> None:
    refs = [f"https://example.com/ref-{i}.png" for i in (1, 2, 3, 4)]
    params = {"prompt": "A @Image1 walking in the style of @Image2", "aspect_ratio": "16:9", "duration": 5,
              "audio": False, "seed": 42}
    body = build_create(make(), job("viduq3p-mix-720p", params, {"ref_image": refs})).json
    assert body == {
        "model": "viduq3p-mix-720p",
        "prompt": "A @Image1 walking in the style of @Image2",
        "reference_image_urls": refs,
        "aspect_ratio": "16:9",
        "duration": 5,
        "extra_body": {"audio": False, "seed": 42},
    }


def test_local_images_become_data_uris(tmp_path: Path) -> None:
    first, last = tmp_path / "image-0.png", tmp_path / "last_image-0.webp"
    Image.new("RGB", (320, 240), "red").save(first)
    Image.new("RGB", (320, 240), "blue").save(last, "WEBP")
    body = build_create(make(), job("viduq3p-540p", {"duration": 4}, {"image": [str(first)],
                                                                      "last_image": [str(last)]})).json
    for key, mime in (("image", "image/png"), ("last_image", "image/webp")):
        prefix, payload = body[key].split(",", 1)
        assert prefix == f"data:{mime};base64"
        assert Image.open(io.BytesIO(base64.b64decode(payload))).size == (320, 240)


@pytest.mark.parametrize(("model_id", "inputs"), [
    ("viduq3p-720p", {}),
    ("viduq3t-540p", {"image": ["https://x.test/a.png"]}),
    ("viduq3p-1080p", {"image": ["https://x.test/a.png"], "last_image": ["https://x.test/b.png"]}),
    ("viduq3p-mix-720p", {"ref_image": ["https://x.test/1.png"]}),
])
@pytest.mark.parametrize("prompt", [None, "", "   "])
def test_prompt_is_required_in_every_mode(model_id: str, inputs: dict[str, list[str]], prompt: str | None) -> None:
    params = {} if prompt is None else {"prompt": prompt}  # page and new-api validatePrompt (FIELD-NOTES)
    with pytest.raises(InputError) as caught:
        validate(model(model_id), params, inputs)
    assert "prompt" in caught.value.message


# --- create / poll parsing -----------------------------------------------------------------------------------


def test_parse_create_accepts_both_object_values() -> None:
    provider = make()
    for obj in ("video.generation.job", "video"):
        body = {"id": "task_x", "task_id": "task_x", "object": obj, "model": "viduq3p-540p", "status": "queued",
                "progress": 0, "created_at": 1774507626}
        assert provider.parse_create(body) == "task_x"
    assert provider.parse_create({"id": "task_y", "status": "queued"}) == "task_y"
    with pytest.raises(ProtocolError):
        provider.parse_create({"status": "queued"})


def shape_a(status: str, progress: object = "40%", **extra: object) -> dict[str, object]:
    data = {"task_id": "task_x", "status": status, "progress": progress, "fail_reason": "", "result_url": "",
            "data": {"creations": []}}
    data.update(extra)
    return {"code": "success", "message": "", "data": data}


def shape_b(status: str, progress: object = 40, **extra: object) -> dict[str, object]:
    body = {"id": "task_x", "object": "video", "status": status, "progress": progress, "metadata": {},
            "error": None}
    body.update(extra)
    return body


def shape_c(status: str, **extra: object) -> dict[str, object]:
    body = {"task_id": "task_x", "status": status, "url": None, "format": "mp4", "metadata": {}, "error": None}
    body.update(extra)
    return body


@pytest.mark.parametrize(("body", "phase"), [
    (shape_a("NOT_START"), Phase.PENDING), (shape_a("SUBMITTED"), Phase.PENDING), (shape_a("QUEUED"), Phase.PENDING),
    (shape_a("IN_PROGRESS"), Phase.RUNNING), (shape_a("SUCCESS"), Phase.SUCCEEDED),
    (shape_a("FAILURE"), Phase.FAILED), (shape_a("UNKNOWN"), Phase.UNKNOWN),
    (shape_b("queued"), Phase.PENDING), (shape_b("in_progress"), Phase.RUNNING), (shape_b("completed"),
                                                                                   Phase.SUCCEEDED),
    (shape_b("failed"), Phase.FAILED), (shape_b("unknown"), Phase.UNKNOWN),
    (shape_c("queued"), Phase.PENDING), (shape_c("IN_PROGRESS"), Phase.RUNNING), (shape_c("Completed"),
                                                                                   Phase.SUCCEEDED),
    (shape_c("failed"), Phase.FAILED), (shape_c("sleeping"), Phase.UNKNOWN),
])
def test_statuses_in_all_three_shapes(body: dict[str, object], phase: Phase) -> None:
    assert make().parse_poll(body, httpx.Headers()).phase == phase


@pytest.mark.parametrize(("value", "expected"), [("40%", 40.0), ("40", 40.0), (" 7.5 % ", 7.5), (40, 40.0),
                                                   (0, 0.0), (100, 100.0), ("", None), (None, None),
                                                   ("soon", None), (True, None)])
def test_progress_as_percent_string_or_int(value: object, expected: float | None) -> None:
    assert make().parse_poll(shape_a("IN_PROGRESS", value), httpx.Headers()).progress == expected
    assert make().parse_poll(shape_b("in_progress", value), httpx.Headers()).progress == expected


@pytest.mark.parametrize("body", [
    shape_a("SUCCESS", "100%", result_url="https://cdn.test/v.mp4"),
    shape_a("SUCCESS", "100%", data={"creations": [{"url": "https://cdn.test/v.mp4", "cover_url": "x"}]}),
    shape_b("completed", 100, metadata={"url": "https://cdn.test/v.mp4"}),
    shape_c("completed", url="https://cdn.test/v.mp4"),
])
def test_result_url_in_every_shape(body: dict[str, object]) -> None:
    provider = make()
    status = provider.parse_poll(body, httpx.Headers())
    assert status.phase == Phase.SUCCEEDED and status.video_url == "https://cdn.test/v.mp4"
    source = provider.download_source("task_x", status)
    assert source.url == "https://cdn.test/v.mp4" and source.with_auth is False


def test_result_on_the_gateway_origin_is_downloaded_with_auth() -> None:
    provider = make()
    status = RemoteStatus(Phase.SUCCEEDED, "completed", video_url="https://gw.test/files/v.mp4")
    assert provider.download_source("task_x", status).with_auth is True
    with pytest.raises(ProtocolError):
        provider.download_source("task_x", RemoteStatus(Phase.SUCCEEDED, "completed"))


@pytest.mark.parametrize(("body", "message"), [
    (shape_a("FAILURE", fail_reason="upstream said no"), "upstream said no"),
    (shape_b("failed", error={"code": "generation_failed", "message": "bad frame"}), "bad frame"),
    (shape_c("failed", error={"code": "x", "message": "gpu lost"}), "gpu lost"),
])
def test_failure_reasons(body: dict[str, object], message: str) -> None:
    status = make().parse_poll(body, httpx.Headers())
    assert status.phase == Phase.FAILED and status.error == message


# --- errors --------------------------------------------------------------------------------------------------


def test_unknown_task_is_not_found() -> None:
    provider = make()
    body = {"code": "task_not_exist", "message": "task_not_exist: task_x", "data": None}
    error = classify_error(provider.spec, ErrorAnswer(400, body))
    assert isinstance(error, NotFoundError) and "does not know this task" in error.message
    with pytest.raises(NotFoundError, match=r"does not know this task \(task_not_exist\)") as raised:
        provider.parse_poll(body, httpx.Headers())  # the same answer inside a 200 envelope
    assert raised.value.status_code is None


@pytest.mark.parametrize(("status", "body", "kind"), [
    (400, {"code": "invalid_request", "message": "duration: must be between 1 and 16", "data": None},
     BadRequestError),
    (401, {"code": "invalid_api_key", "message": "bad token", "data": None}, AuthError),
    (400, {"code": "sensitive_words_detected", "message": "prompt blocked", "data": None}, ModerationError),
    (400, {"error": {"message": "bad model", "type": "invalid_request_error", "code": None}}, BadRequestError),
])
def test_error_shapes(status: int, body: dict[str, object], kind: type) -> None:
    error = classify_error(make().spec, ErrorAnswer(status, body))
    assert isinstance(error, kind)


def test_image_rules_follow_vidu_limits() -> None:
    rules = GatewayProvider.image_rules({"image_fit": "crop"}, "image")
    assert rules.min_side == 128 and rules.aspect_min == 0.25 and rules.aspect_max == 4.0
    assert set(rules.formats) == {"PNG", "JPEG", "WEBP"} and rules.fit == "crop"
    assert rules.byte_limit is not None and len(base64.b64encode(b"x" * rules.byte_limit)) < 10 * 1024 * 1024
    assert "16:9" in provider_spec("gateway").model("viduq3p-720p").param("aspect_ratio").choices


# --- the request on the wire, per dialect and mode (issue 12) ------------------------------------------------

REFS = [f"https://x.test/ref-{i}.png" for i in (1, 2, 3, 4)]
MODES = {
    "text": ("viduq3p-720p", {"prompt": "push in", "aspect_ratio": "16:9", "duration": 5, "seed": 42, "bgm": False},
             {}),
    "image": ("viduq3t-540p", {"prompt": "natural motion", "duration": 4, "seed": 7}, {"image": ["https://x.test/a.png"]}),
    "first_last": ("viduq3p-1080p-offpeak", {"prompt": "keep identity", "duration": 6},
                   {"image": ["https://x.test/a.png"], "last_image": ["https://x.test/b.png"]}),
    "reference": ("viduq3p-mix-720p", {"prompt": "@Image1 with @Image2", "duration": 5, "audio": True},
                  {"ref_image": REFS[:2]}),
}
PAGE_BODIES = {
    "text": {"model": "viduq3p-720p", "prompt": "push in", "aspect_ratio": "16:9", "duration": 5,
             "extra_body": {"seed": 42, "bgm": False}},
    "image": {"model": "viduq3t-540p", "prompt": "natural motion", "image": "https://x.test/a.png", "duration": 4,
              "extra_body": {"seed": 7}},
    "first_last": {"model": "viduq3p-1080p-offpeak", "prompt": "keep identity", "image": "https://x.test/a.png",
                   "last_image": "https://x.test/b.png", "duration": 6},
    "reference": {"model": "viduq3p-mix-720p", "prompt": "@Image1 with @Image2", "reference_image_urls": REFS[:2],
                  "duration": 5, "extra_body": {"audio": True}},
}


def wired(dialect: str | None) -> wire_module.Wire:
    settings = {"options": {"gateway": {"dialect": dialect}}} if dialect else {}
    return wire_module.wire("gateway", {"id": "task_1", "status": "queued"}, settings=settings)


@pytest.mark.parametrize("mode", list(MODES))
async def test_page_dialect_on_the_wire(mode: str) -> None:
    model_id, params, inputs = MODES[mode]
    validate(model(model_id), params, inputs)
    assert await body_sent(None, model_id, params, inputs) == PAGE_BODIES[mode]  # the page's fields: the default


async def body_sent(dialect: str | None, model_id: str, params: dict[str, Any], inputs: dict[str, list[str]]) -> Any:
    """The JSON body of the create as it leaves for the wire, checking method, path and the recorded dialect."""
    w = wired(dialect)
    job_input = job(model_id, params, inputs)
    job_input.prepared = await prepare_inputs(w.provider, job_input)
    assert job_input.prepared == {"dialect": dialect or "page"}
    await w.provider.api.send(build_create(w.provider, job_input))
    assert (w.last.method, w.last.url.path) == ("POST", "/v1/video/generations")
    return wire_module.json_body(w.last)


NEW_API_BODIES = {
    "text": {"model": "viduq3p-720p", "prompt": "push in", "size": "720p", "duration": 5,
             "metadata": {"seed": 42, "bgm": False}},
    "image": {"model": "viduq3t-540p", "prompt": "natural motion", "images": ["https://x.test/a.png"],
              "size": "540p", "duration": 4, "metadata": {"seed": 7}},
    "first_last": {"model": "viduq3p-1080p-offpeak", "prompt": "keep identity",
                   "images": ["https://x.test/a.png", "https://x.test/b.png"], "size": "1080p", "duration": 6},
    "reference": {"model": "viduq3p-mix-720p", "prompt": "@Image1 @Image2 @Image3", "images": REFS[:3],
                  "size": "720p", "duration": 5},
}


@pytest.mark.parametrize("mode", list(NEW_API_BODIES))
async def test_new_api_dialect_on_the_wire(mode: str) -> None:
    model_id, params, inputs = MODES[mode]
    params = {k: v for k, v in params.items() if k not in ("aspect_ratio", "audio")}
    if mode == "reference":
        params, inputs = {"prompt": "@Image1 @Image2 @Image3", "duration": 5}, {"ref_image": REFS[:3]}
    assert await body_sent("new-api", model_id, params, inputs) == NEW_API_BODIES[mode]


@pytest.mark.parametrize(("params", "inputs", "needle"), [
    ({"prompt": "p", "aspect_ratio": "16:9"}, {}, "aspect_ratio"),
    ({"prompt": "p", "audio": True}, {}, "audio"),
    ({"prompt": "p"}, {"ref_image": REFS[:2]}, "3 or 4 reference images"),
])
async def test_new_api_dialect_refuses_what_it_cannot_say(params: dict[str, object], inputs: dict[str, list[str]],
                                                          needle: str) -> None:
    w = wired("new-api")
    model_id = "viduq3p-mix-720p" if inputs else "viduq3p-720p"
    with pytest.raises(InputError) as caught:
        await prepare_inputs(w.provider, job(model_id, params, inputs))
    assert needle in caught.value.message and "dialect" in caught.value.message
    assert not w.sent


def vidu(state: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"id": "8091", "state": state, "err_code": "", "credits": 20, "payload": "",
                               "creations": []}
    body.update(extra)
    return body


@pytest.mark.parametrize(("state", "phase"), [("created", Phase.PENDING), ("queueing", Phase.PENDING),
                                              ("processing", Phase.RUNNING), ("success", Phase.SUCCEEDED),
                                              ("failed", Phase.FAILED), ("Queueing", Phase.PENDING)])
def test_vidus_own_task_object_is_read(state: str, phase: Phase) -> None:
    status = make().parse_poll(vidu(state), httpx.Headers())
    assert (status.phase, status.raw) == (phase, state)


def test_vidus_own_task_object_result_and_failure() -> None:
    provider = make()
    done = provider.parse_poll(vidu("success", creations=[{"id": "c", "url": "https://cdn.vidu.test/v.mp4",
                                                           "cover_url": "https://cdn.vidu.test/c.jpg"}]),
                               httpx.Headers())
    assert done.video_url == "https://cdn.vidu.test/v.mp4"
    failed = provider.parse_poll(vidu("failed", err_code="AuditSubmitIllegal"), httpx.Headers())
    assert failed.phase == Phase.FAILED and failed.error == "AuditSubmitIllegal"


def test_unknown_statuses_are_shown_verbatim_and_polled_less_and_less_often() -> None:
    provider = make()
    waits = []
    for _ in range(5):
        status = provider.parse_poll(shape_b("Waiting For Capacity"), httpx.Headers())
        assert (status.phase, status.raw) == (Phase.UNKNOWN, "Waiting For Capacity")
        waits.append(status.poll_after)
    assert waits == sorted(waits) and waits[0] is not None and waits[-1] > waits[0]  # type: ignore[operator]
    known = provider.parse_poll(shape_b("queued"), httpx.Headers())
    assert known.poll_after is None
    again = provider.parse_poll(shape_b("Waiting For Capacity"), httpx.Headers())
    assert again.poll_after == waits[0]  # the streak starts over after a known status


def test_the_unknown_status_window_is_vidus_delivery_promise() -> None:
    assert GatewayProvider.unknown_status_window == 48 * 3600  # FIELD-NOTES: "Vidu promises delivery within 48 h"


def test_an_off_peak_job_says_it_waits_for_off_peak() -> None:
    provider = make()
    provider.parse_create({"id": "task_x", "task_id": "task_x", "model": "viduq3p-1080p-offpeak", "status": "queued"})
    waiting = provider.parse_poll(shape_a("QUEUED"), httpx.Headers())
    assert waiting.phase == Phase.PENDING and waiting.raw == "QUEUED (waiting for off-peak)"
    running = provider.parse_poll(shape_a("IN_PROGRESS"), httpx.Headers())
    assert running.raw == "IN_PROGRESS"
