"""AIHubMix — the OpenAI Videos API (Sora): ``/v1/videos`` create, poll, content download, list, remix, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from core.http import HttpRequest, error_message_from
from core.imaging import ImageRules
from core.params import ModelSpec, Param, ParamType, ProviderSpec, Slot, SlotKind
from core.providers.base import (
    DownloadSource,
    JobInput,
    Provider,
    RemoteStatus,
    classify_status,
    require,
    task_id,
)

SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")


def _sora_model(model_id: str, label: str) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        label=label,
        help="OpenAI Sora through AIHubMix. Text to video, optionally guided by a first-frame image.",
        params=(
            Param("prompt", ParamType.TEXT, "Prompt", "What the video should show.", required=True,
                  min_length=1, max_length=32000),
            Param("seconds", ParamType.ENUM, "Length (s)", "Clip duration in seconds.", default="4",
                  choices=("4", "8", "12")),
            Param("size", ParamType.ENUM, "Size", "Output resolution, width × height.", default="720x1280",
                  choices=SIZES),
            Param("image_fit", ParamType.ENUM, "Fit image", "How the reference image is fitted to the exact "
                  "output size: crop to fill, pad with black bars, or stretch.", default="crop",
                  choices=("crop", "pad", "scale"), local=True),
        ),
        slots=(
            Slot("image", SlotKind.IMAGE, "Reference image", "First-frame reference (JPEG/PNG/WebP); it is "
                 "fitted to exactly the output size.", field="input_reference"),
        ),
    )


SPEC = ProviderSpec(
    id="aihubmix",
    name="AIHubMix",
    default_base_url="https://aihubmix.com",
    key_help="An AIHubMix API key (sk-...) from aihubmix.com → API keys.",
    docs="https://docs.aihubmix.com",
    models=(_sora_model("sora-2", "Sora 2"), _sora_model("sora-2-pro", "Sora 2 Pro")),
)

#: Key in a job's ``prepared`` naming the remote video a remix job starts from.
REMIX_OF = "remix_of"

PENDING = {"queued"}
RUNNING = {"in_progress", "processing"}
SUCCEEDED = {"completed"}
FAILED = {"failed"}


class AIHubMixProvider(Provider):
    """OpenAI-compatible videos API at AIHubMix."""

    spec = SPEC
    can_remix = True
    default_poll_interval = 15.0
    can_reconcile = True
    can_cancel = True

    def error_text(self, body: Any) -> str:
        return error_message_from(body, "error.message", "message")

    def error_code(self, body: Any) -> str:
        return error_message_from(body, "error.code", "error.type")

    @classmethod
    def image_rules(cls, params: dict[str, Any], slot: str) -> ImageRules:
        width, height = (int(v) for v in str(params.get("size", "720x1280")).split("x"))
        return ImageRules(exact_size=(width, height), formats=("PNG", "JPEG", "WEBP"),
                          fit=str(params.get("image_fit", "crop")))

    def build_create(self, job: JobInput) -> HttpRequest:
        source = job.prepared.get(REMIX_OF)
        if source:  # a remix of a finished video: its own endpoint, the new prompt only
            return HttpRequest("POST", f"/v1/videos/{source}/remix", json={"prompt": str(job.params.get("prompt", ""))},
                               idempotent=False)
        fields = {"model": job.model, "prompt": str(job.params.get("prompt", ""))}
        for name in ("seconds", "size"):
            if name in job.params:
                fields[name] = str(job.params[name])
        files = None
        images = job.inputs.get("image") or []
        if images:
            path = Path(images[0])
            files = [("input_reference", (path.name, path.read_bytes(), _mime(path)))]
        return HttpRequest("POST", "/v1/videos", data=fields, files=files, idempotent=False)

    def parse_create(self, body: Any) -> str:
        return task_id(require(body, "id", self.spec), "id", self.spec)

    def build_poll(self, remote_id: str) -> HttpRequest:
        return HttpRequest("GET", f"/v1/videos/{remote_id}")

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        raw = str(require(body, "status", self.spec))
        phase = classify_status(raw, PENDING, RUNNING, SUCCEEDED, FAILED)
        progress = body.get("progress")
        error = error_message_from(body, "error.message") or None
        return RemoteStatus(
            phase=phase,
            raw=raw,
            progress=_percent(progress),
            error=error,
            poll_after=_poll_after(headers),
        )

    def build_key_check(self) -> HttpRequest:
        return HttpRequest("GET", "/v1/videos", params={"limit": "1"})

    def build_cancel(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"/v1/videos/{remote_id}")

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        return DownloadSource(f"{self.api.base_url}/v1/videos/{remote_id}/content?variant=video", with_auth=True)

    def thumbnail_source(self, remote_id: str) -> DownloadSource:
        return DownloadSource(f"{self.api.base_url}/v1/videos/{remote_id}/content?variant=thumbnail",
                              with_auth=True)

    async def find_created(self, job: JobInput, exclude: set[str]) -> str | None:
        """Look through recent videos for the one this job's unanswered create made."""
        since = (job.submitted_at or job.created_at) - 300
        after: str | None = None
        for _ in range(20):
            params = {"limit": "100", "order": "desc"} | ({"after": after} if after else {})
            page = (await self.api.send(HttpRequest("GET", "/v1/videos", params=params))).body
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                return None
            for video in items:
                if _same_job(video, job) and video["id"] not in exclude:
                    return task_id(video["id"], "data.id", self.spec)
            if not page.get("has_more") or not items or _older(items[-1], since):
                return None
            after = str(items[-1].get("id"))
        return None


def _same_job(video: Any, job: JobInput) -> bool:
    if not isinstance(video, dict) or "id" not in video:
        return False
    since = (job.submitted_at or job.created_at) - 300
    return (
        video.get("prompt") == job.params.get("prompt")
        and video.get("model") == job.model
        and str(video.get("seconds", "4")) == str(job.params.get("seconds", "4"))
        and str(video.get("size", "720x1280")) == str(job.params.get("size", "720x1280"))
        and not _older(video, since)
    )


def _older(video: Any, since: float) -> bool:
    created = video.get("created_at") if isinstance(video, dict) else None
    return isinstance(created, int | float) and created < since


def _percent(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN != NaN
        return None
    return max(0.0, min(100.0, float(value)))


def _poll_after(headers: httpx.Headers) -> float | None:
    raw = headers.get("openai-poll-after-ms")
    try:
        return float(raw) / 1000 if raw else None
    except ValueError:
        return None


def _mime(path: Path) -> str:
    return {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(path.suffix.lower(), "image/png")
