"""AI/ML API — MiniMax ``video-01-live2d`` on its vendor path and the universal ``/v2/video/generations``.

Images are URLs (passed through) or local files, prepared to each model's catalog rules and sent inline as base64
data URIs.
The API has no cancel, list or delete.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import ProtocolError
from core.http import HttpRequest, error_message_from
from core.params import ProviderSpec
from core.providers import wire
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
from core.providers.errors import ErrorSpec

#: The legacy vendor path (video-01-live2d); other models name theirs in the catalog (``create_path``), mostly the
#: universal ``/v2/video/generations``. A task is polled on the path it was created at.
PATH = "/v2/generate/video/minimax/generation"

#: Error answers: ``message`` (a list of texts for validation errors) or an ``error`` object or text; 403 "You've
#: run out of credits" is worded plainly (FIELD-NOTES "AI/ML API").
ERRORS = ErrorSpec(message_paths=("message", "error.message", "error"), code_paths=("error.name", "name", "code"))

#: The provider; its models are in ``resources/catalog/aimlapi.toml``.
SPEC = ProviderSpec(
    id="aimlapi",
    name="AI/ML API",
    default_base_url="https://api.aimlapi.com",
    key_help="An AI/ML API key from aimlapi.com → Dashboard → Key management.",
    docs="https://docs.aimlapi.com/api-references/video-models",
    models=(),
    errors=ERRORS,
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

    def build_create(self, job: JobInput) -> HttpRequest:
        model = self.spec.model(job.model)
        values = wire.inline_values(model, job.inputs, job.files)
        return HttpRequest("POST", self._path(model.id), json=wire.json_body(model, job.params, values),
                           idempotent=False)

    def _path(self, model_id: str) -> str:
        declared = next((m for m in self.spec.models if m.id == model_id), None)
        return (declared.wire.create_path if declared else "") or PATH

    def parse_create(self, body: Any) -> str:
        value = (body.get("generation_id") or body.get("id")) if isinstance(body, dict) else None
        if not value:
            require(body, "generation_id", self.spec)
        return task_id(value, "generation_id", self.spec)

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
        return HttpRequest("GET", self._path(model), params={"generation_id": remote_id})

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
