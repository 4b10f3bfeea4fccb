"""GoAPI — the unified task API (Qubico, Kling, Hailuo, Wan, Hunyuan): ``/api/v1/task`` create, poll, cancel.

Tasks take image URLs only. A local image is first sent to GoAPI's ephemeral upload endpoint (a different
host, same ``X-API-Key``), which answers with a public URL that lives for 24 hours.
"""

from __future__ import annotations

import base64
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from core.errors import NoCreditsError, ProtocolError
from core.http import ErrorAnswer, HttpRequest, error_message_from
from core.imaging import image_mime
from core.params import ProviderSpec
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
from core.providers.errors import ErrorRule, ErrorSpec, Scope, classify_error

DEFAULT_UPLOAD_URL = "https://upload.theapi.app/api/ephemeral_resource"

PLAN_TOO_LOW = (
    "GoAPI's plan for this key does not include uploading local files (GoAPI said: {text}). Paste a public "
    "image URL (https://...) into the image field instead of a local file, or upgrade the GoAPI plan."
)

#: Error answers: the ``{code, message, data}`` envelope and a failed task's ``data.error`` (the page).
ERRORS = ErrorSpec(
    message_paths=("message", "data.error.message", "data.error.raw_message", "error.message"),
    code_paths=("code",),
    rules=(
        # The upload host answers 403 "Insufficient plan level" to plans without uploads (piapi.ai/docs/tools/
        # file-upload): the way round is an image URL.
        ErrorRule(NoCreditsError, PLAN_TOO_LOW, statuses=(403,), scope=Scope.UPLOAD, text_when_empty="access denied"),
    ),
)

#: The provider; its models (Qubico, Kling, Hailuo, Wan, Hunyuan) are in ``resources/catalog/goapi.toml``.
SPEC = ProviderSpec(
    id="goapi",
    name="GoAPI",
    default_base_url="https://api.goapi.ai",
    key_help="A GoAPI key from goapi.ai → Workspace → API keys (sent as X-API-Key).",
    docs="https://goapi.ai/docs",
    extra_endpoints={"upload_url": DEFAULT_UPLOAD_URL},
    auth_header="X-API-Key",  # the page: "X-API-Key: YOUR_API_KEY" header
    auth_prefix="",
    models=(),
    errors=ERRORS,
)

#: Statuses: schema capitalises them, examples and clients use lower case (piapi.ai docs; apinetwork/piapi-mcp-server
#: src/index.ts): compared case-insensitively.
PENDING = {"pending", "staged"}
RUNNING = {"processing", "running", "in_progress"}
SUCCEEDED = {"completed", "success", "succeeded"}
FAILED = {"failed", "error"}
CANCELED = frozenset({"canceled", "cancelled"})


def _upload_name(stem: str, data: bytes, suffix: str) -> str:
    """The upload's file name: the job's, with the extension its bytes call for (at most 128 characters)."""
    extension = {"image/png": ".png", "image/jpeg": ".jpg"}.get(image_mime(data), suffix)
    return f"{stem}{extension}"[:128]


class GoAPIProvider(Provider):
    """GoAPI's unified task API: every model of its catalog through one create, poll and cancel."""

    spec = SPEC
    default_poll_interval = 10.0
    can_cancel = True

    # --- inputs ----------------------------------------------------------------------------------------------

    def upload_url(self) -> str:
        return self.settings.get("upload_url") or DEFAULT_UPLOAD_URL

    def build_upload(self, file_name: str, data: bytes) -> HttpRequest:
        """The ephemeral upload of one prepared image (pure). The key goes with it (``with_auth``)."""
        body = {"file_name": file_name, "file_data": base64.b64encode(data).decode("ascii")}
        return HttpRequest("POST", "", url=self.upload_url(), json=body, with_auth=True)

    def parse_upload(self, body: Any) -> str:
        _check_envelope(body, self.spec)
        url = require(body, "data.url", self.spec)
        if not isinstance(url, str) or not _is_url(url):
            raise ProtocolError("GoAPI's upload answered without a usable image URL.", detail=str(body)[:300])
        return url

    def _build_named_upload(self, stem: str, suffix: str, data: bytes) -> HttpRequest:
        return self.build_upload(_upload_name(stem, data, suffix), data)

    def plan_inputs(self, job: JobInput) -> InputPlan:
        """Each local image of an ``upload`` slot goes through the ephemeral upload; a URL needs nothing.

        The answer's URL is kept as ``<slot>_url`` (``image_url`` for the first-frame slot)."""
        model = self.spec.model(job.model)
        uploads = []
        for slot in (s for s in model.slots if s.send == "upload"):
            values = job.inputs.get(slot.name) or []
            if not values or _is_url(values[0]):
                continue
            stem = f"reeldeck-{job.id}{'' if slot.name == 'image' else '-' + slot.name}"
            suffix = Path(values[0]).suffix or ".png"
            uploads.append(Upload(f"{slot.name}_url", values[0], "image",
                                  build=partial(self._build_named_upload, stem, suffix), parse=self.parse_upload))
        return InputPlan(uploads=tuple(uploads))

    # --- task ------------------------------------------------------------------------------------------------

    def build_create(self, job: JobInput) -> HttpRequest:
        """``{model, task_type, input, config}`` from the model's declaration (its constants give ``task_type``)."""
        model = self.spec.model(job.model)
        urls = {slot.name: [self._image_url(job, slot.name) if slot.send == "upload"
                            else wire.inline_value(slot, (job.inputs.get(slot.name) or [""])[0], job.files)]
                for slot in model.slots if job.inputs.get(slot.name)}
        return HttpRequest("POST", "/api/v1/task", json=wire.json_body(model, job.params, urls), idempotent=False)

    def _image_url(self, job: JobInput, slot: str) -> str:
        uploaded = job.prepared.get(f"{slot}_url")
        if isinstance(uploaded, str) and uploaded:
            return uploaded
        images = job.inputs.get(slot) or []
        if images and _is_url(images[0]):
            return images[0]
        raise ProtocolError("The image was not uploaded to GoAPI before submitting; submit the job again.")

    def parse_create(self, body: Any) -> str:
        _check_envelope(body, self.spec)
        return task_id(require(body, "data.task_id", self.spec), "data.task_id", self.spec)

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
        return HttpRequest("GET", f"/api/v1/task/{remote_id}")

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        _check_envelope(body, self.spec)
        data = require(body, "data", self.spec)
        raw = str(require(data, "status", self.spec) or "")
        phase = classify_status(raw, PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED)
        error = error_message_from(data, "error.message", "error.raw_message") or None
        return RemoteStatus(phase=phase, raw=raw, video_url=_video_url(data.get("output")),
                            error=error if phase in (Phase.FAILED, Phase.CANCELED) else None)

    def build_cancel(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"/api/v1/task/{remote_id}")

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        if not status.video_url:
            raise ProtocolError("GoAPI reported the video as finished but gave no address to download it from.")
        return DownloadSource(status.video_url, with_auth=False)


def _check_envelope(body: Any, spec: ProviderSpec) -> None:
    """GoAPI wraps answers in ``{code, message, data}``; a non-200 ``code`` is an error even on HTTP 200."""
    if not isinstance(body, dict):
        raise ProtocolError(f"{spec.name} sent an answer that could not be understood.", detail=str(body)[:300])
    code = body.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and code not in (0, 200):
        raise classify_error(spec, ErrorAnswer(code if 400 <= code < 600 else 400, body))


def _video_url(output: Any) -> str | None:
    if not isinstance(output, dict):
        return None
    for key in ("video_url", "video"):
        value = output.get(key)
        if isinstance(value, dict):
            value = value.get("url")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


_is_url = wire.is_url
