"""Novita — ``img2video-motion``: an image animated by a motion video. ``/v3/async/img2video-motion`` create,
``/v3/async/task-result`` poll.

Both inputs are asset ids. ``prepare_inputs`` uploads the image and the motion video to Novita's asset host
(a separate host; raw ``PUT`` bodies and no auth header), unless the motion video is one of the five demo presets.
The asset host does not take URLs, so an http(s) URL the user gives is downloaded first (no key is sent with it),
checked like a local file, and uploaded. The API has no cancel.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.errors import InputError, NotFoundError, ProtocolError, ProviderError
from core.http import HttpRequest, error_message_from
from core.imaging import ImageRules, image_mime, prepare_image
from core.media import has_mp4_signature
from core.params import Mode, ModelSpec, Param, ParamType, Preset, ProviderSpec, Slot, SlotKind
from core.providers.base import (
    DownloadSource,
    JobInput,
    Phase,
    Provider,
    RemoteStatus,
    classify_status,
    is_create_answer,
    require,
    task_id,
)

MODEL_ID = "img2video-motion"
DEFAULT_ASSETS_URL = "https://assets.novitai.com"
PRESET_PREFIX = "preset:"
MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024

#: The five ready-made motion videos listed on Novita's page (asset id; preview at the demo URL).
MOTION_PRESETS = (
    Preset("demo1", "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL3BYTjRDTXpwNzNqa2U2Wm1Na0FiRmVpcGtXRHMyajM4",
           "Demo motion 1 (https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo1.mp4)"),
    Preset("demo2", "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1BRNlpiRW5jWW1LR1pINk1LWDViMzRCRmo1Yk1jRDY4",
           "Demo motion 2 (https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo2.mp4)"),
    Preset("demo3", "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL2JrdE01UEpIY0tIU0ZmUzdINEQ0aTdTZEpTWjhBRWFC",
           "Demo motion 3 (https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo3.mp4)"),
    Preset("demo4", "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL0NLd0N3aHJwS0ZyYVduNWVoejVFV0tleGlzN0toNmRq",
           "Demo motion 4 (https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo4.mp4)"),
    Preset("demo5", "cjIvbm92aXRhLWFpLWFzc2V0L3ZpZGVvL1FFcmphdGJCOFI3ODdhR0gzajVUSkJZbTNkaHIzNzRu",
           "Demo motion 5 (https://faas-static-assets.s3.ap-southeast-1.amazonaws.com/demo5.mp4)"),
)

SPEC = ProviderSpec(
    id="novita",
    name="Novita",
    default_base_url="https://api.novita.ai",
    key_help="A Novita API key from novita.ai → Settings → Key management.",
    docs="https://novita.ai/docs/api-reference/model-apis-img2video-motion",
    extra_endpoints={"assets_url": DEFAULT_ASSETS_URL},
    models=(
        ModelSpec(
            id=MODEL_ID,
            label="Image to video with motion",
            help="Animates the person in an image with the movements of a motion video (a DensePose-style "
            "motion clip or one of Novita's five demo motions).",
            params=(
                Param("seed", ParamType.INTEGER, "Seed", "Random seed; -1 picks one at random. Always sent (the "
                      "API requires it).", default=-1, minimum=-1),
            ),
            slots=(
                Slot("image", SlotKind.IMAGE, "Image", "The image to animate (JPEG/PNG file or image URL; it is "
                     "uploaded to Novita's asset host).", field="image_assets_id",
                     # [inferred] Novita's page names no output size; 1920 covers up to a 1080p (1920x1080) video.
                     max_image_short_side=1920),
                Slot("motion_video", SlotKind.VIDEO, "Motion video", "The movements to copy: an MP4 file or URL "
                     "(uploaded to Novita's asset host), or a demo preset (demo1..demo5).",
                     field="motion_video_assets_id", presets=MOTION_PRESETS),
            ),
            modes=(Mode("motion", "Image + motion video", requires=("image", "motion_video")),),
        ),
    ),
)

#: Statuses (page: QUEUED, PROCESSING, SUCCEED, FAILED; novitalabs/javascript-sdk src/types.ts adds
#: TASK_STATUS_UNKNOWN, left unknown here), compared case-insensitively.
PENDING = {"TASK_STATUS_QUEUED", "TASK_STATUS_PENDING"}
RUNNING = {"TASK_STATUS_PROCESSING", "TASK_STATUS_RUNNING"}
SUCCEEDED = {"TASK_STATUS_SUCCEED", "TASK_STATUS_SUCCEEDED"}
FAILED = {"TASK_STATUS_FAILED"}
CANCELED = frozenset({"TASK_STATUS_CANCELED", "TASK_STATUS_CANCELLED"})


class NovitaProvider(Provider):
    """Novita's async img2video-motion task."""

    spec = SPEC
    default_poll_interval = 10.0

    def parse_error(self, response: httpx.Response, body: Any) -> ProviderError:
        """A 404 on the create means the endpoint is gone: img2video-motion was removed from both official SDKs as
        deprecated (novitalabs python-sdk and javascript-sdk, Nov 2024; FIELD-NOTES "Novita"). Low balance
        (``BILLING_BALANCE_NOT_ENOUGH``) and 403 (permission or account verification) are worded by ``http_error``."""
        if response.status_code == 404 and is_create_answer(response):
            said = self.error_text(body)
            return NotFoundError(
                f"Novita no longer offers {MODEL_ID} (HTTP 404 on create): Novita removed it from its SDKs as "
                "deprecated and the endpoint is gone. Nothing was made or charged; use another provider for image "
                f"animation.{' Novita said: ' + said if said else ''}", status_code=404)
        return super().parse_error(response, body)

    def error_text(self, body: Any) -> str:
        return error_message_from(body, "message", "reason", "error.message", "task.reason")

    def error_code(self, body: Any) -> str:
        return error_message_from(body, "reason", "error.code")

    @classmethod
    def image_rules(cls, params: dict[str, Any], slot: str) -> ImageRules:
        return ImageRules(formats=("PNG", "JPEG"), max_bytes=MAX_IMAGE_BYTES)

    # --- inputs ----------------------------------------------------------------------------------------------

    def assets_url(self) -> str:
        return (self.settings.get("assets_url") or DEFAULT_ASSETS_URL).rstrip("/")

    def build_asset_upload(self, kind: str, data: bytes, content_type: str) -> HttpRequest:
        """``PUT {assets}/image`` or ``/video`` with the raw file as the body and no auth header (pure)."""
        return HttpRequest("PUT", "", url=f"{self.assets_url()}/{kind}", content=data,
                           headers={"Content-Type": content_type}, with_auth=False)

    def parse_asset_upload(self, body: Any) -> str:
        value = require(body, "assets_id", self.spec)
        if not isinstance(value, str) or not value.strip():
            raise ProtocolError("Novita's asset host answered without an asset id.", detail=str(body)[:300])
        return value.strip()

    async def prepare_inputs(self, job: JobInput) -> dict[str, Any]:
        """Upload the image and the motion video (unless it is a preset) to the asset host."""
        prepared: dict[str, Any] = {}
        images = job.inputs.get("image") or []
        if images:
            data = await self._image_bytes(images[0], job.params)
            prepared["image_assets_id"] = await self._upload("image", data, image_mime(data))
        videos = job.inputs.get("motion_video") or []
        if videos:
            value = videos[0]
            if value.startswith(PRESET_PREFIX):
                prepared["motion_video_assets_id"] = value[len(PRESET_PREFIX):]
            else:
                data = await self._video_bytes(value)
                prepared["motion_video_assets_id"] = await self._upload("video", data, "video/mp4")
        return prepared

    async def _upload(self, kind: str, data: bytes, content_type: str) -> str:
        answer = await self.api.send(self.build_asset_upload(kind, data, content_type))
        return self.parse_asset_upload(answer.body)

    async def _image_bytes(self, value: str, params: dict[str, Any]) -> bytes:
        if not _is_url(value):
            return await asyncio.to_thread(Path(value).read_bytes)
        raw = await self._fetch(value, MAX_IMAGE_BYTES, "image")
        return await asyncio.to_thread(_prepare_downloaded_image, raw, self.image_rules(params, "image"))

    async def _video_bytes(self, value: str) -> bytes:
        if _is_url(value):
            data = await self._fetch(value, MAX_VIDEO_BYTES, "motion video")
        else:
            data = await asyncio.to_thread(Path(value).read_bytes)
        if not has_mp4_signature(data[:16]):
            raise InputError(f"The motion video {_short(value)} is not an MP4 video.")
        return data

    async def _fetch(self, url: str, limit: int, what: str) -> bytes:
        """Download a user-given URL through the transport (never with the key), refusing more than ``limit``."""
        return await self.api.fetch_public(url, limit=limit, what=what)

    # --- task ------------------------------------------------------------------------------------------------

    def build_create(self, job: JobInput) -> HttpRequest:
        body = {
            "image_assets_id": _asset(job, "image_assets_id"),
            "motion_video_assets_id": _asset(job, "motion_video_assets_id"),
            "seed": int(job.params.get("seed", -1)),
        }
        return HttpRequest("POST", f"/v3/async/{MODEL_ID}", json=body, idempotent=False)

    def parse_create(self, body: Any) -> str:
        return task_id(require(body, "task_id", self.spec), "task_id", self.spec)

    def build_poll(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", "/v3/async/task-result", params={"task_id": remote_id})

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        task = require(body, "task", self.spec)
        raw = str(require(task, "status", self.spec) or "")
        phase = classify_status(raw, PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED)
        error = None
        if phase in (Phase.FAILED, Phase.CANCELED):
            error = error_message_from(task, "reason") or None
        return RemoteStatus(phase=phase, raw=raw, progress=_number(task.get("progress_percent"), 100.0),
                            eta=_number(task.get("eta")), video_url=_video_url(body), error=error)

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        if not status.video_url:
            raise ProtocolError("Novita reported the video as finished but gave no address to download it from.")
        return DownloadSource(status.video_url, with_auth=False)


def _asset(job: JobInput, key: str) -> str:
    value = job.prepared.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError("The inputs were not uploaded to Novita's asset host before submitting; submit the "
                            "job again.")
    return value


def _prepare_downloaded_image(raw: bytes, rules: ImageRules) -> bytes:
    with tempfile.TemporaryDirectory(prefix="reeldeck-novita-") as folder:
        path = Path(folder) / "downloaded-image"
        path.write_bytes(raw)
        return prepare_image(path, rules).data


def _video_url(body: Any) -> str | None:
    videos = body.get("videos") if isinstance(body, dict) else None
    if not isinstance(videos, list):
        return None
    for video in videos:
        url = video.get("video_url") if isinstance(video, dict) else None
        if isinstance(url, str) and _is_url(url):
            return url
    return None


def _number(value: Any, cap: float | None = None) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number = max(0.0, float(value))
    return min(cap, number) if cap is not None else number


def _short(value: str) -> str:
    return value if len(value) <= 80 else value[:77] + "..."


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
