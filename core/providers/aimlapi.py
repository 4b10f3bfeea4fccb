"""AI/ML API — MiniMax ``video-01-live2d``: ``/v2/generate/video/minimax/generation`` create and poll.

The first-frame image is a URL (passed through) or a local file, prepared to MiniMax's rules (JPG/PNG, aspect ratio
strictly between 2:5 and 5:2, shorter side over 300 px, at most 20 MB) and sent inline as a base64 data URI.
The API has no cancel, list or delete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.errors import ProtocolError
from core.http import HttpRequest, error_message_from
from core.imaging import ImageRules, data_uri
from core.params import Mode, ModelSpec, Param, ParamType, ProviderSpec, Slot, SlotKind
from core.providers.base import (
    DownloadSource,
    JobInput,
    Phase,
    Provider,
    RemoteStatus,
    classify_status,
    require,
    task_id,
)

MODEL_ID = "video-01-live2d"
PATH = "/v2/generate/video/minimax/generation"
MAX_IMAGE_BYTES = 20 * 1024 * 1024

SPEC = ProviderSpec(
    id="aimlapi",
    name="AI/ML API",
    default_base_url="https://api.aimlapi.com",
    key_help="An AI/ML API key from aimlapi.com → Dashboard → Key management.",
    docs="https://docs.aimlapi.com/api-references/video-models/minimax/video-01-live2d",
    models=(
        ModelSpec(
            id=MODEL_ID,
            label="MiniMax video-01-live2d",
            help="MiniMax (Hailuo) image to video in a live2d style: the image becomes the first frame.",
            params=(
                Param("prompt", ParamType.TEXT, "Prompt", "What should happen in the video.", required=True,
                      min_length=1, max_length=2000),
                Param("prompt_optimizer", ParamType.BOOLEAN, "Optimize prompt",
                      "Let MiniMax rewrite the prompt for quality; turn off to have it followed strictly.",
                      default=True),
                Param("image_fit", ParamType.ENUM, "Fit image",
                      "How an image outside the 2:5..5:2 aspect range is fixed: pad with black bars, crop, or "
                      "stretch.", default="pad", choices=("pad", "crop", "scale"), local=True),
            ),
            slots=(
                Slot("image", SlotKind.IMAGE, "First frame", "The first frame: JPG/PNG, aspect ratio between 2:5 "
                     "and 5:2, shorter side over 300 px, up to 20 MB (a local file is fixed to fit), or an "
                     "image URL.", field="first_frame_image",
                     # video-01 renders 720p, 1280x720 (MiniMax Video-01: "720p at 25fps", wavespeed.ai docs).
                     max_image_short_side=1280),
            ),
            modes=(Mode("image", "Image to video", requires=("prompt", "image")),),
        ),
    ),
)

#: Statuses (page enum queued, generating, completed, error; aimlapi/api-sdk-python _polling.py also waits on
#: waiting, active, processing), compared case-insensitively.
PENDING = {"queued", "waiting", "pending"}
RUNNING = {"generating", "active", "processing", "in_progress"}
SUCCEEDED = {"completed", "success", "succeeded"}
FAILED = {"error", "failed"}


class AIMLAPIProvider(Provider):
    """AI/ML API's MiniMax video generation endpoint."""

    spec = SPEC
    default_poll_interval = 10.0

    def error_text(self, body: Any) -> str:
        if isinstance(body, dict) and isinstance(body.get("message"), list):  # validation errors come as a list
            return "; ".join(str(m) for m in body["message"] if m)
        return error_message_from(body, "message", "error.message", "error")

    def error_code(self, body: Any) -> str:
        return error_message_from(body, "error.name", "name", "code")

    @classmethod
    def image_rules(cls, params: dict[str, Any], slot: str) -> ImageRules:
        return ImageRules(
            min_short_side=300,
            short_side_exclusive=True,
            aspect_min=2 / 5,
            aspect_max=5 / 2,
            aspect_exclusive=True,
            max_bytes=MAX_IMAGE_BYTES,
            formats=("PNG", "JPEG"),
            fit=str(params.get("image_fit", "pad")),
        )

    def build_create(self, job: JobInput) -> HttpRequest:
        body: dict[str, Any] = {
            "model": job.model,
            "prompt": str(job.params.get("prompt", "")),
            "prompt_optimizer": bool(job.params.get("prompt_optimizer", True)),
        }
        images = job.inputs.get("image") or []
        if images:
            body["first_frame_image"] = _image_value(images[0])
        return HttpRequest("POST", PATH, json=body, idempotent=False)

    def parse_create(self, body: Any) -> str:
        value = (body.get("generation_id") or body.get("id")) if isinstance(body, dict) else None
        if not value:
            require(body, "generation_id", self.spec)
        return task_id(value, "generation_id", self.spec)

    def build_poll(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", PATH, params={"generation_id": remote_id})

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        raw = str(require(body, "status", self.spec) or "")
        phase = classify_status(raw, PENDING, RUNNING, SUCCEEDED, FAILED)
        video = body.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        error = None
        if phase == Phase.FAILED:
            error = error_message_from(body, "error.message", "error.name", "error", "message") or None
        return RemoteStatus(phase=phase, raw=raw, video_url=url if isinstance(url, str) and url else None,
                            error=error)

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        if not status.video_url:
            raise ProtocolError("AI/ML API reported the video as finished but gave no address to download it from.")
        return DownloadSource(status.video_url, with_auth=False)


def _image_value(value: str) -> str:
    """A URL as is; a prepared local file as a base64 data URI."""
    if _is_url(value):
        return value
    return data_uri(Path(value).read_bytes())


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
