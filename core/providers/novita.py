"""Novita — async video tasks: ``/v3/async/<endpoint>`` create (img2video-motion, Kling, ...),
``/v3/async/task-result`` poll.

Both inputs are asset ids. Its input plan (carried out by ``core/plans.py``) uploads the image and the motion video
to Novita's asset host (a separate host; raw ``PUT`` bodies and no auth header), unless the motion video is one of
the five demo presets.
The asset host does not take URLs, so an http(s) URL the user gives is downloaded first (no key is sent with it),
checked like a local file, and uploaded. The API has no cancel.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from core.errors import InputError, NotFoundError, ProtocolError
from core.http import HttpRequest, error_message_from
from core.imaging import ImageRules, image_mime, prepare_image
from core.media import has_mp4_signature
from core.params import ProviderSpec, SlotKind
from core.providers import wire
from core.providers.base import (
    DownloadSource,
    InputPlan,
    JobInput,
    Phase,
    Provider,
    RemoteStatus,
    Upload,
    classify_status,
    require,
    task_id,
)
from core.providers.errors import ErrorRule, ErrorSpec, Scope

MOTION_MODEL = "img2video-motion"
DEFAULT_ASSETS_URL = "https://assets.novitai.com"
PRESET_PREFIX = "preset:"
MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024

#: Error answers: ``{code, reason, message, metadata}`` (REFERENCE.md "Novita", inferred), or ``task.reason``.
#: Low balance (``BILLING_BALANCE_NOT_ENOUGH``) and 403 (permission or account verification) are worded plainly
#: (FIELD-NOTES "Novita").
ERRORS = ErrorSpec(
    message_paths=("message", "reason", "error.message", "task.reason"),
    code_paths=("reason", "error.code"),
    rules=(
        # A 404 on the create means the endpoint is gone: img2video-motion was removed from both official SDKs as
        # deprecated (novitalabs python-sdk and javascript-sdk, Nov 2024; FIELD-NOTES "Novita").
        ErrorRule(NotFoundError, f"{{name}} no longer offers {MOTION_MODEL} (HTTP 404 on create): {{name}} removed it "
                  "from its SDKs as deprecated and the endpoint is gone. Nothing was made or charged; use another "
                  "provider for image animation.{said}", statuses=(404,), scope=Scope.CREATE),
    ),
)

#: The provider; its models are in ``resources/catalog/novita.toml`` (img2video-motion's demo motions are its
#: slot's presets there).
SPEC = ProviderSpec(
    id="novita",
    name="Novita",
    default_base_url="https://api.novita.ai",
    key_help="A Novita API key from novita.ai → Settings → Key management.",
    docs="https://novita.ai/docs/api-reference",
    extra_endpoints={"assets_url": DEFAULT_ASSETS_URL},
    models=(),
    errors=ERRORS,
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

    def plan_inputs(self, job: JobInput) -> InputPlan:
        """Each ``asset`` slot's image or video (unless it is a preset) goes to the asset host; the id is kept under
        the slot's wire name. An image given by URL is fetched and fitted to the slot's rules first."""
        kept: dict[str, str] = {}
        uploads: list[Upload] = []
        model = self.spec.model(job.model)
        for slot in (s for s in model.slots if s.send == "asset"):
            values = job.inputs.get(slot.name) or []
            if not values:
                continue
            value = values[0]
            if value.startswith(PRESET_PREFIX):
                kept[slot.field] = value[len(PRESET_PREFIX):]
            elif slot.kind == SlotKind.VIDEO:
                uploads.append(Upload(slot.field, value, "motion video", limit=MAX_VIDEO_BYTES,
                                      check=partial(_an_mp4, value=value),
                                      build=lambda data: self.build_asset_upload("video", data, "video/mp4"),
                                      parse=self.parse_asset_upload))
            else:
                rules = self.image_rules(job.params, slot.name, job.model)
                fit = partial(_prepare_downloaded_image, rules=rules) if _is_url(value) else None
                uploads.append(Upload(slot.field, value, "image", limit=rules.max_bytes or MAX_IMAGE_BYTES,
                                      check=fit,
                                      build=lambda data: self.build_asset_upload("image", data, image_mime(data)),
                                      parse=self.parse_asset_upload))
        return InputPlan(kept=kept, uploads=tuple(uploads))

    # --- task ------------------------------------------------------------------------------------------------

    def build_create(self, job: JobInput) -> HttpRequest:
        """``POST /v3/async/<endpoint>``: no model field (the path names the model); asset slots carry the ids
        the input plan got, other slots their URL or inline image."""
        model = self.spec.model(job.model)
        values = {s.name: [_asset(job, s.field) if s.send == "asset" else wire.inline_value(s, v, job.files)
                           for v in job.inputs.get(s.name) or []] for s in model.slots}
        body = wire.json_body(model, job.params, values, model_field=None)
        return HttpRequest("POST", model.wire.create_path or f"/v3/async/{model.sent_model}", json=body,
                           idempotent=False)

    def parse_create(self, body: Any) -> str:
        return task_id(require(body, "task_id", self.spec), "task_id", self.spec)

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
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


def _an_mp4(data: bytes, value: str) -> bytes:
    """The motion video's bytes, or a plain InputError when they are not an MP4."""
    if not has_mp4_signature(data[:16]):
        raise InputError(f"The motion video {_short(value)} is not an MP4 video.")
    return data


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


_is_url = wire.is_url
