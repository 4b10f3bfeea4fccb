"""The official ``openai`` SDK's ``videos`` resource against the sandbox's AIHubMix origin: if the real client can
create, retrieve and download from the emulator, the emulator speaks the OpenAI Videos API as the SDK expects."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from PIL import Image

from core.sandbox import Sandbox
from core.sandbox.testing import mp4_info

openai = pytest.importorskip("openai")


def _has_videos() -> bool:
    return hasattr(openai.AsyncOpenAI(api_key="probe", base_url="http://127.0.0.1:9/v1"), "videos")


pytestmark = [
    pytest.mark.skipif(not _has_videos(), reason=f"openai {openai.__version__} has no client.videos resource"),
    pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning"),
    pytest.mark.usefixtures("sora_served"),  # the SDK's Sora calls, at a gateway that still serves Sora (retired)
]


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Any]:
    base = sandbox.endpoints()["REELDECK_AIHUBMIX_BASE_URL"]
    sdk = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="any-key", max_retries=0)
    try:
        yield sdk
    finally:
        await sdk.close()


async def test_create_retrieve_download(client: Any, sandbox: Sandbox,
                                        advance_until: Callable[..., Awaitable[list[Any]]]) -> None:
    video = await client.videos.create(model="sora-2", prompt="a red fox in the snow", seconds="4", size="1280x720")
    assert video.object == "video" and video.status == "queued" and video.model == "sora-2"
    assert (video.seconds, video.size) == ("4", "1280x720")

    seen = await advance_until(lambda: client.videos.retrieve(video.id), lambda v: v.status in ("completed",
                                                                                                "failed"))
    statuses = [v.status for v in seen]
    assert statuses[-1] == "completed" and "in_progress" in statuses
    assert seen[-1].progress == 100 and seen[-1].completed_at is not None

    content = await client.videos.download_content(video.id, variant="video")
    data = content.read() if not hasattr(content, "aread") else await content.aread()
    codec, width, height = mp4_info(data)
    assert (width, height) == (1280, 720) and codec

    create = next(r for r in sandbox.requests if r.provider == "aihubmix" and r.kind == "create")
    assert (create.method, create.path, create.auth_present) == ("POST", "/v1/videos", True)
    assert sandbox.count("aihubmix", "content") == 1


async def test_create_with_input_reference(client: Any, sandbox: Sandbox,
                                           advance_until: Callable[..., Awaitable[list[Any]]]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (720, 1280), "navy").save(buffer, "PNG")
    video = await client.videos.create(model="sora-2-pro", prompt="the sea at night", seconds="4",
                                       size="720x1280", input_reference=("ref.png", buffer.getvalue(), "image/png"))
    await advance_until(lambda: client.videos.retrieve(video.id), lambda v: v.status == "completed")
    content = await client.videos.download_content(video.id)
    data = content.read() if not hasattr(content, "aread") else await content.aread()
    assert mp4_info(data)[1:] == (720, 1280)
    create = next(r for r in sandbox.requests if r.provider == "aihubmix" and r.kind == "create")
    reference = create.body["input_reference"]
    assert (reference["width"], reference["height"]) == (720, 1280)


async def test_unknown_video_is_a_not_found_error(client: Any) -> None:
    with pytest.raises(openai.NotFoundError):
        await client.videos.retrieve("video_does_not_exist")
