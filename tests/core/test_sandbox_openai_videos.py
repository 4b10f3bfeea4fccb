"""Sandbox emulator: AIHubMix / OpenAI Videos API (Sora), also driven by the official openai SDK."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI, BadRequestError
from PIL import Image

from core.sandbox import ManualClock, Sandbox
from core.sandbox.testing import data_uri, image_bytes, mp4_info

#: The hand-written Sora emulation and Sora's own rules and prices, with a user catalog that still serves Sora
#: (it is retired; tests/core/test_catalog.py proves a new Sora job is refused).
pytestmark = pytest.mark.usefixtures("sora_served")


KEY = {"Authorization": "Bearer sk-aihubmix-test"}


def videos_url(sandbox: Sandbox, suffix: str = "") -> str:
    return sandbox.endpoints()["REELDECK_AIHUBMIX_BASE_URL"] + "/v1/videos" + suffix


async def create(sandbox: Sandbox, http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    fields.setdefault("prompt", "a paper boat on a river")
    response = await http.post(videos_url(sandbox), headers=KEY, json=fields)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_happy_path_multipart(sandbox: Sandbox, http: httpx.AsyncClient, advance_until: Any) -> None:
    reference = image_bytes(1280, 720, "JPEG")
    response = await http.post(
        videos_url(sandbox),
        headers=KEY,
        data={"prompt": "a fox runs", "model": "sora-2-pro", "seconds": "8", "size": "1280x720"},
        files={"input_reference": ("ref.jpg", reference, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert video["object"] == "video" and video["id"].startswith("video_")
    assert (video["model"], video["seconds"], video["size"], video["status"]) == (
        "sora-2-pro",
        "8",
        "1280x720",
        "queued",
    )
    assert video["progress"] == 0 and video["completed_at"] is None and video["error"] is None
    assert video["remixed_from_video_id"] is None

    headers_seen: list[str | None] = []

    async def poll() -> dict[str, Any]:
        polled = await http.get(videos_url(sandbox, f"/{video['id']}"), headers=KEY)
        assert polled.status_code == 200
        headers_seen.append(polled.headers.get("openai-poll-after-ms"))
        return dict(polled.json())

    seen = await advance_until(poll, lambda v: v["status"] in ("completed", "failed"))
    assert list(dict.fromkeys(v["status"] for v in seen)) == ["queued", "in_progress", "completed"]
    progress = [v["progress"] for v in seen]
    assert progress == sorted(progress) and progress[-1] == 100 and any(0 < p < 100 for p in progress)
    assert all(h is not None and int(h) > 0 for h in headers_seen[:-1]) and headers_seen[-1] is None
    final = seen[-1]
    assert final["completed_at"] is not None and final["expires_at"] > final["completed_at"]

    content = await http.get(videos_url(sandbox, f"/{video['id']}/content"), headers=KEY)
    assert content.status_code == 200 and content.headers["content-type"] == "video/mp4"
    assert mp4_info(content.content) == ("h264", 1280, 720)
    thumb = await http.get(videos_url(sandbox, f"/{video['id']}/content"), headers=KEY, params={"variant": "thumbnail"})
    assert thumb.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.content)).size == (1280, 720)
    sprites = await http.get(
        videos_url(sandbox, f"/{video['id']}/content"), headers=KEY, params={"variant": "spritesheet"}
    )
    assert sprites.status_code == 200 and Image.open(io.BytesIO(sprites.content)).format == "JPEG"
    assert sandbox.count("aihubmix", "content") == 3
    assert sandbox.tasks.input_paths(video["id"])[0].read_bytes() == reference


async def test_content_range_and_not_ready(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    video = await create(sandbox, http)
    url = videos_url(sandbox, f"/{video['id']}/content")
    early = await http.get(url, headers=KEY)
    assert early.status_code == 404 and early.json()["error"]["message"]
    clock.advance(sandbox.job_seconds)
    full = await http.get(url, headers=KEY)
    part = await http.get(url, headers={**KEY, "Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == full.content[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(full.content)}"
    assert full.headers["accept-ranges"] == "bytes"
    assert (await http.get(url, headers=KEY, params={"variant": "gif"})).status_code == 400
    assert (await http.get(url)).status_code == 401


async def test_content_expires(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    video = await create(sandbox, http)
    clock.advance(sandbox.job_seconds)
    done = (await http.get(videos_url(sandbox, f"/{video['id']}"), headers=KEY)).json()
    clock.now = done["expires_at"] + 1
    gone = await http.get(videos_url(sandbox, f"/{video['id']}/content"), headers=KEY)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "video_expired"


async def test_list_delete_remix(sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    sandbox.render_on_create = False
    ids = [(await create(sandbox, http, prompt=f"clip {i}"))["id"] for i in range(3)]
    listing = (await http.get(videos_url(sandbox), headers=KEY, params={"limit": 2})).json()
    assert listing["object"] == "list" and [v["id"] for v in listing["data"]] == ids[::-1][:2]
    assert listing["has_more"] is True and listing["first_id"] == ids[2] and listing["last_id"] == ids[1]
    rest = (await http.get(videos_url(sandbox), headers=KEY, params={"after": ids[1]})).json()
    assert [v["id"] for v in rest["data"]] == [ids[0]] and rest["has_more"] is False
    asc = (await http.get(videos_url(sandbox), headers=KEY, params={"order": "asc"})).json()
    assert [v["id"] for v in asc["data"]] == ids
    for params in ({"limit": 101}, {"limit": -1}, {"limit": "x"}, {"order": "up"}):
        bad = await http.get(videos_url(sandbox), headers=KEY, params=params)
        assert bad.status_code == 400 and bad.json()["error"]["param"] in ("limit", "order")

    deleted = await http.delete(videos_url(sandbox, f"/{ids[0]}"), headers=KEY)
    assert deleted.json() == {"id": ids[0], "deleted": True, "object": "video.deleted"}
    assert (await http.get(videos_url(sandbox, f"/{ids[0]}"), headers=KEY)).status_code == 404
    assert len((await http.get(videos_url(sandbox), headers=KEY)).json()["data"]) == 2

    early = await http.post(videos_url(sandbox, f"/{ids[1]}/remix"), headers=KEY, json={"prompt": "again"})
    assert early.status_code == 400
    clock.advance(sandbox.job_seconds)
    remix = await http.post(videos_url(sandbox, f"/{ids[1]}/remix"), headers=KEY, json={"prompt": "at night"})
    assert remix.status_code == 200
    assert remix.json()["remixed_from_video_id"] == ids[1] and remix.json()["prompt"] == "at night"
    assert remix.json()["status"] == "queued"
    assert (await http.post(videos_url(sandbox, f"/{ids[1]}/remix"), headers=KEY, json={})).status_code == 400
    assert (
        await http.post(videos_url(sandbox, "/video_nope/remix"), headers=KEY, json={"prompt": "x"})
    ).status_code == 404
    assert sandbox.count("aihubmix", "remix") == 4 and sandbox.count("aihubmix", "list") == 8


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 32001}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"prompt": "p", "model": "sora-3"}, "model"),
        ({"prompt": "p", "model": 2}, "model"),
        ({"prompt": "p", "size": 720}, "size"),
        ({"prompt": "p", "seconds": 4}, "seconds"),
        ({"prompt": "p", "seconds": "5"}, "seconds"),
        ({"prompt": "p", "size": "1920x1080"}, "size"),
        ({"prompt": "p", "input_reference": "not an object"}, "input_reference"),
        ({"prompt": "p", "input_reference": {"image_url": data_uri(image_bytes(640, 480))}}, "input_reference"),
    ],
)
async def test_json_schema_violations(
    sandbox: Sandbox, http: httpx.AsyncClient, fields: dict[str, Any], param: str
) -> None:
    response = await http.post(videos_url(sandbox), headers=KEY, json=fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


@pytest.mark.parametrize(
    ("data", "file", "param"),
    [
        ({"prompt": "p", "seconds": "6"}, None, "seconds"),
        ({"prompt": "p", "size": "720x720"}, None, "size"),
        ({"model": "sora-2"}, None, "prompt"),
        ({"prompt": "p"}, ("r.png", image_bytes(640, 480), "image/png"), "input_reference"),
        ({"prompt": "p"}, ("r.gif", image_bytes(720, 1280, "GIF"), "image/gif"), "input_reference"),
        ({"prompt": "p"}, ("r.txt", b"hello", "text/plain"), "input_reference"),
    ],
)
async def test_multipart_schema_violations(
    sandbox: Sandbox, http: httpx.AsyncClient, data: dict[str, str], file: Any, param: str
) -> None:
    files = {"input_reference": file} if file else {"unused": ("x", b"", "text/plain")}
    response = await http.post(videos_url(sandbox), headers=KEY, data=data, files=files)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_size_mismatch_message(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.post(
        videos_url(sandbox),
        headers=KEY,
        data={"prompt": "p", "size": "720x1280"},
        files={"input_reference": ("r.webp", image_bytes(1280, 720, "WEBP"), "image/webp")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Inpaint image must match the requested width and height"


async def test_reference_object_as_json_and_form(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    ref = data_uri(image_bytes(720, 1280))
    as_json = await http.post(
        videos_url(sandbox), headers=KEY, json={"prompt": "p", "input_reference": {"image_url": ref}}
    )
    assert as_json.status_code == 200, as_json.text
    as_form = await http.post(
        videos_url(sandbox),
        headers=KEY,
        files={"prompt": (None, "p"), "input_reference[image_url]": (None, "https://example.com/r.png")},
    )
    assert as_form.status_code == 200, as_form.text
    assert sandbox.tasks.inputs(as_form.json()["id"])[0].source == "external"
    by_file = await http.post(
        videos_url(sandbox), headers=KEY, json={"prompt": "p", "input_reference": {"file_id": "f"}}
    )
    assert by_file.status_code == 404 and by_file.json()["error"]["param"] == "input_reference"


async def test_page_style_field_name_and_defaults(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.post(
        videos_url(sandbox),
        headers=KEY,
        data={"prompt": "p"},
        files={"input_reference.0": ("r.png", image_bytes(720, 1280), "image/png")},
    )
    assert response.status_code == 200, response.text
    video = response.json()
    assert (video["model"], video["seconds"], video["size"]) == ("sora-2", "4", "720x1280")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "sk-no-bearer"}, {"X-API-Key": "sk"}])
async def test_auth(sandbox: Sandbox, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.post(videos_url(sandbox), headers=headers, json={"prompt": "p"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("missing_api_key", "invalid_api_key")


async def test_unknown_video(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    for method in ("GET", "DELETE"):
        response = await http.request(method, videos_url(sandbox, "/video_missing"), headers=KEY)
        assert response.status_code == 404 and response.json()["error"]["message"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_official_sdk(sandbox: Sandbox, clock: ManualClock) -> None:
    client = AsyncOpenAI(api_key="sk-sdk", base_url=sandbox.origins["aihubmix"] + "/v1", max_retries=0)
    async with client:
        video = await client.videos.create(
            prompt="a lighthouse",
            size="720x1280",
            seconds="4",
            input_reference=("ref.png", image_bytes(720, 1280), "image/png"),
        )
        assert video.status == "queued"
        clock.advance(sandbox.job_seconds)
        done = await client.videos.retrieve(video.id)
        assert done.status == "completed" and done.progress == 100
        content = await client.videos.download_content(video.id)
        assert mp4_info(content.content) == ("h264", 720, 1280)
        listed = await client.videos.list(limit=10)
        assert [v.id for v in listed.data] == [video.id]
        with pytest.raises(BadRequestError) as caught:
            await client.videos.create(prompt="p", seconds="5")  # type: ignore[arg-type]
        assert caught.value.status_code == 400
        deleted = await client.videos.delete(video.id)
        assert deleted.deleted is True


# --- as strict as the service (issue 12) ---------------------------------------------------------------------


async def test_form_urlencoded_create_is_refused(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.post(videos_url(sandbox), headers=KEY, data={"prompt": "p", "model": "sora-2"})
    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "multipart/form-data" in response.json()["error"]["message"]
    assert sandbox.requests[-1].content_type == "application/x-www-form-urlencoded"


async def test_text_only_multipart_create_is_accepted(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    fields = {"prompt": (None, "p"), "model": (None, "sora-2"), "size": (None, "1280x720")}
    response = await http.post(videos_url(sandbox), headers=KEY, files=fields)
    assert response.status_code == 200, response.text
    assert sandbox.requests[-1].content_type == "multipart/form-data"


@pytest.mark.parametrize("size", ["1024x1792", "1792x1024"])
async def test_sora_2_at_a_pro_only_size_is_refused(sandbox: Sandbox, http: httpx.AsyncClient, size: str) -> None:
    for send in ({"json": {"prompt": "p", "model": "sora-2", "size": size}},
                 {"files": {"prompt": (None, "p"), "model": (None, "sora-2"), "size": (None, size)}},
                 {"json": {"prompt": "p", "size": size}}):  # sora-2 is the default model
        response = await http.post(videos_url(sandbox), headers=KEY, **send)  # type: ignore[arg-type]
        assert response.status_code == 400, send
        assert response.json()["error"]["param"] == "size" and response.json()["error"]["code"] == "invalid_size"
    pro = await http.post(videos_url(sandbox), headers=KEY, json={"prompt": "p", "model": "sora-2-pro", "size": size})
    assert pro.status_code == 200, pro.text


async def test_aihubmix_can_run_without_a_list_endpoint(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.aihubmix_list_endpoint = False
    response = await http.get(videos_url(sandbox), headers=KEY, params={"limit": 1})
    assert response.status_code == 404 and response.json()["error"]["message"]
    video = await create(sandbox, http)
    assert (await http.get(videos_url(sandbox, f"/{video['id']}"), headers=KEY)).status_code == 200


async def test_a_video_of_a_model_that_cannot_be_remixed_is_refused(sandbox: Sandbox, http: httpx.AsyncClient,
                                                                    clock: ManualClock) -> None:
    """Only Sora remixes (the catalog's ``remix``): a finished Veo video's remix is a 400, and no task is made."""
    sandbox.render_on_create = False
    veo = await create(sandbox, http, model="veo-3.1-generate-preview", seconds="4")
    clock.advance(sandbox.job_seconds)
    assert (await http.get(videos_url(sandbox, f"/{veo['id']}"), headers=KEY)).json()["status"] == "completed"
    answer = await http.post(videos_url(sandbox, f"/{veo['id']}/remix"), headers=KEY, json={"prompt": "at night"})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"
    assert "veo-3.1-generate-preview" in error["message"] and "cannot be remixed" in error["message"]
    assert len(sandbox.store.list_tasks("aihubmix")) == 1  # only the Veo video itself
