"""Sandbox emulator: the OpenAI-compatible video gateway (Vidu models), all modes and all three poll shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.sandbox import ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes, mp4_info

KEY = {"Authorization": "Bearer sk-gateway-test"}
PATH = "/v1/video/generations"
PNG = data_uri(image_bytes(320, 240))


async def create(sandbox: Sandbox, http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post(sandbox.endpoints()["REELDECK_GATEWAY_BASE_URL"] + PATH, headers=KEY, json=body)


async def poll(sandbox: Sandbox, http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await http.get(f"{sandbox.origins['gateway']}{PATH}/{task_id}", headers=KEY)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_text_mode_shape_a(sandbox: Sandbox, http: httpx.AsyncClient, advance_until: Any) -> None:
    body = {
        "model": "viduq3p-540p",
        "prompt": "slow push-in on a harbour",
        "aspect_ratio": "16:9",
        "duration": 2,
        "extra_body": {"audio": False, "seed": 42, "bgm": False},
    }
    response = await create(sandbox, http, body)
    assert response.status_code == 200
    job = response.json()
    assert job["id"] == job["task_id"] and job["id"].startswith("task_")
    assert {k: job[k] for k in ("object", "model", "status", "progress")} == {
        "object": "video.generation.job",
        "model": "viduq3p-540p",
        "status": "queued",
        "progress": 0,
    }
    assert isinstance(job["created_at"], int)

    seen = await advance_until(
        lambda: poll(sandbox, http, job["id"]),
        lambda r: r["data"]["status"] in ("SUCCESS", "FAILURE"),
        step=sandbox.job_seconds / 40,
    )
    assert list(dict.fromkeys(r["data"]["status"] for r in seen)) == [
        "NOT_START",
        "SUBMITTED",
        "QUEUED",
        "IN_PROGRESS",
        "SUCCESS",
    ]
    assert all(r["code"] == "success" and r["data"]["progress"].endswith("%") for r in seen)
    final = seen[-1]["data"]
    assert final["progress"] == "100%" and final["fail_reason"] == ""
    assert final["data"]["creations"][0]["url"].startswith(sandbox.origins["cdn"])
    video = await http.get(final["result_url"])
    assert mp4_info(video.content) == ("h264", 960, 540)


@pytest.mark.parametrize("shape", ["b", "c"])
async def test_image_modes_shapes_b_c(
    sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock, shape: str
) -> None:
    sandbox.gateway_shape = shape
    first_last = {
        "model": "viduq3p-720p-offpeak",
        "prompt": "keep identity",
        "image": PNG,
        "last_image": data_uri(image_bytes(320, 240, color=(10, 200, 10))),
        "duration": "2",
    }
    job = (await create(sandbox, http, first_last)).json()
    early = await poll(sandbox, http, job["task_id"])
    assert early["status"] == "queued" and early["error"] is None
    clock.advance(sandbox.job_seconds / 2)
    assert (await poll(sandbox, http, job["task_id"]))["status"] == "in_progress"
    clock.advance(sandbox.job_seconds)
    done = await poll(sandbox, http, job["task_id"])
    assert done["status"] == "completed"
    url = done["metadata"]["url"] if shape == "b" else done["url"]
    if shape == "b":
        assert done["id"] == job["id"] and done["progress"] == 100
    else:
        assert done["task_id"] == job["id"] and done["format"] == "mp4"
    video = await http.get(url)
    assert mp4_info(video.content) == ("h264", 960, 720)  # 720p, 4:3 like the 320x240 image
    assert [i.role for i in sandbox.tasks.inputs(job["id"])] == ["image", "last_image"]


async def test_reference_mode(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    body = {
        "model": "viduq3p-mix-720p",
        "prompt": "A @Image1 on a beach in the style of @Image2",
        "reference_image_urls": ["https://example.com/ref-1.png", PNG],
        "aspect_ratio": "9:16",
        "duration": 1,
    }
    job = (await create(sandbox, http, body)).json()
    clock.advance(sandbox.job_seconds)
    done = await poll(sandbox, http, job["id"])
    video = await http.get(done["data"]["result_url"])
    assert mp4_info(video.content) == ("h264", 720, 1280)
    sources = [i.source for i in sandbox.tasks.inputs(job["id"])]
    assert sources == ["external", "inline"]


def base(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "viduq3t-540p", "prompt": "natural motion", "image": PNG, "duration": 5}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (base(model=None), "model"),
        (base(model="viduq2-720p"), "model"),
        (base(model="viduq3p-mix-720p-offpeak"), "model"),
        (base(model=3), "model"),
        (base(prompt=7), "prompt"),
        (base(image=None, prompt=None), "prompt"),
        (base(image=None, prompt="   "), "prompt"),
        (base(image=5), "image"),
        (base(image="not-a-url-or-data-uri"), "image"),
        (base(image=PNG.split(",", 1)[1]), "image"),  # bare base64: the gateway wants a data URI prefix
        (base(image=data_uri(image_bytes(100, 100))), "image"),  # < 128 px
        (base(image=data_uri(image_bytes(1000, 200))), "image"),  # 5:1
        (base(image=data_uri(image_bytes(200, 200, "GIF"), "image/gif")), "image"),
        (base(image=None, last_image=PNG), "last_image"),
        (base(last_image=data_uri(b"not an image")), "last_image"),
        (base(last_image=5), "last_image"),
        (base(model="viduq3p-mix-720p", image=None, reference_image_urls=[]), "reference_image_urls"),
        (base(model="viduq3p-mix-720p", image=None, reference_image_urls=[PNG] * 5), "reference_image_urls"),
        (
            base(model="viduq3p-mix-720p", image=None, reference_image_urls="https://e.com/a.png"),
            "reference_image_urls",
        ),
        (base(model="viduq3p-mix-720p", image=None, reference_image_urls=[3]), "reference_image_urls"),
        (base(model="viduq3p-mix-720p", reference_image_urls=[PNG]), "reference_image_urls"),  # with image
        (base(image=None, reference_image_urls=[PNG]), "reference_image_urls"),  # not the mix model
        (base(model="viduq3p-mix-720p", image=None), "model"),  # mix model without references
        (base(aspect_ratio="21:9"), "aspect_ratio"),
        (base(aspect_ratio=1.77), "aspect_ratio"),
        (base(duration=0), "duration"),
        (base(duration=17), "duration"),
        (base(duration="five"), "duration"),
        (base(duration=4.5), "duration"),
        (base(duration=True), "duration"),
        (base(extra_body="x"), "extra_body"),
        (base(extra_body={"audio": "yes"}), "extra_body.audio"),
        (base(extra_body={"seed": "42"}), "extra_body.seed"),
        (base(extra_body={"bgm": 1}), "extra_body.bgm"),
    ],
)
async def test_schema_violations(sandbox: Sandbox, http: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await create(sandbox, http, body)
    assert response.status_code == 400, body
    error = response.json()
    assert set(error) == {"code", "message", "data"} and error["data"] is None
    assert isinstance(error["code"], str) and error["message"].startswith(field + ":")


@pytest.mark.parametrize("model", ["viduq3p-1080p", "viduq3t-720p-offpeak", "viduq3p-540p-offpeak"])
async def test_model_names_accepted(sandbox: Sandbox, http: httpx.AsyncClient, model: str) -> None:
    sandbox.render_on_create = False
    assert (await create(sandbox, http, base(model=model, duration="3"))).status_code == 200


async def test_unknown_task_and_auth(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{sandbox.origins['gateway']}{PATH}/task_missing", headers=KEY)
    assert response.status_code == 400
    assert response.json()["code"] == "task_not_exist" and response.json()["data"] is None
    unauthorized = await http.post(sandbox.origins["gateway"] + PATH, json=base())
    assert unauthorized.status_code == 401 and unauthorized.json()["data"] is None


async def test_failed_job_in_every_shape(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    from core.sandbox import Fault

    sandbox.faults.add(Fault("fail_job", provider="gateway"))
    job = (await create(sandbox, http, base())).json()
    clock.advance(sandbox.job_seconds)
    expected = {"a": "FAILURE", "b": "failed", "c": "failed"}
    for shape, status in expected.items():
        sandbox.gateway_shape = shape
        result = await poll(sandbox, http, job["id"])
        if shape == "a":
            assert result["data"]["status"] == status and result["data"]["fail_reason"]
            assert result["data"]["result_url"] == ""
        else:
            assert result["status"] == status and result["error"]["message"]


# --- as strict as the gateways (issue 12) ---------------------------------------------------------------------

URL = "https://images.example/a.png"


@pytest.mark.parametrize("body", [
    {"model": "viduq3t-540p", "image": URL},
    {"model": "viduq3p-720p", "image": URL, "last_image": URL, "prompt": " "},
    {"model": "viduq3p-mix-720p", "reference_image_urls": [URL]},
])
async def test_a_create_without_a_prompt_is_refused_in_every_mode(sandbox: Sandbox, http: httpx.AsyncClient,
                                                                  body: dict[str, Any]) -> None:
    response = await create(sandbox, http, body)
    assert response.status_code == 400 and response.json()["message"].startswith("prompt:")


@pytest.mark.parametrize(("field", "value"), [("images", [URL]), ("size", "720p"), ("metadata", {"seed": 1}),
                                              ("resolution", "720p")])
async def test_page_dialect_refuses_fields_it_does_not_have(sandbox: Sandbox, http: httpx.AsyncClient, field: str,
                                                            value: Any) -> None:
    response = await create(sandbox, http, {"model": "viduq3p-720p", "prompt": "p", field: value})
    assert response.status_code == 400 and response.json()["message"].startswith(f"{field}:")


@pytest.mark.parametrize(("field", "value"), [("last_image", URL), ("reference_image_urls", [URL]),
                                              ("aspect_ratio", "16:9"), ("extra_body", {"seed": 1}),
                                              ("metadata", {"aspect_ratio": "16:9"}), ("metadata", {"audio": True})])
async def test_new_api_dialect_refuses_fields_it_does_not_have(sandbox: Sandbox, http: httpx.AsyncClient, field: str,
                                                               value: Any) -> None:
    sandbox.gateway_dialect = "new-api"
    body = {"model": "viduq3p-720p", "prompt": "p", "images": [URL], field: value}
    response = await create(sandbox, http, body)
    assert response.status_code == 400, response.text
    name = field if field != "metadata" else f"metadata.{next(iter(value))}"
    assert response.json()["message"].startswith(f"{name}:")


@pytest.mark.parametrize(("images", "model", "ok"), [
    ([URL], "viduq3t-540p", True), ([URL, URL], "viduq3p-1080p-offpeak", True), ([URL] * 3, "viduq3p-mix-720p", True),
    ([URL] * 3, "viduq3p-720p", False), ([URL], "viduq3p-mix-720p", False), ([], "viduq3p-720p", False),
])
async def test_new_api_dialect_reads_the_image_count_as_the_mode(sandbox: Sandbox, http: httpx.AsyncClient,
                                                                 images: list[str], model: str, ok: bool) -> None:
    sandbox.gateway_dialect = "new-api"
    body = {"model": model, "prompt": "p", "images": images, "size": "720p", "duration": 4,
            "metadata": {"seed": 3, "bgm": False}}
    response = await create(sandbox, http, body)
    assert (response.status_code == 200) is ok, response.text
    if ok:
        record = sandbox.requests[-1]
        assert record.content_type == "application/json" and record.body["metadata"] == {"seed": 3, "bgm": False}


async def test_new_api_dialect_still_needs_the_prompt(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.gateway_dialect = "new-api"
    response = await create(sandbox, http, {"model": "viduq3p-720p", "images": [URL]})
    assert response.status_code == 400 and response.json()["message"].startswith("prompt:")


async def test_vidus_own_task_object_is_served(sandbox: Sandbox, http: httpx.AsyncClient,
                                               advance_until: Any) -> None:
    sandbox.gateway_shape = "vidu"
    job = (await create(sandbox, http, {"model": "viduq3p-540p", "prompt": "p", "duration": 2})).json()
    seen = await advance_until(lambda: poll(sandbox, http, job["id"]), lambda r: r["state"] in ("success", "failed"),
                               step=sandbox.job_seconds / 20)
    assert list(dict.fromkeys(r["state"] for r in seen)) == ["created", "queueing", "processing", "success"]
    assert all("status" not in r and set(r) >= {"id", "state", "err_code", "credits", "creations"} for r in seen)
    assert seen[-1]["creations"][0]["url"].startswith(sandbox.origins["cdn"])
