"""AIHubMix — the OpenAI Videos API (Sora): ``/v1/videos`` create, poll, content download, remix, delete.

Sources: the page ``aihubmix-openai-videos.txt``, openai-python ``src/openai/resources/videos.py`` and
FIELD-NOTES.md "AIHubMix". AIHubMix documents no list endpoint; OpenAI's API has ``GET /v1/videos`` (REFERENCE.md
§3). After a create with an unknown outcome the engine reads it over a window; where it answers 404/405 (AIHubMix)
the job waits for the person's decision instead.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import BadRequestError, NotFoundError, ProviderError
from core.http import HttpRequest, error_message_from
from core.params import ProviderSpec
from core.providers import wire
from core.providers.base import (
    DownloadSource,
    JobInput,
    ListMatch,
    Provider,
    RemoteStatus,
    classify_status,
    require,
    task_id,
)
from core.providers.errors import ErrorRule, ErrorSpec, Wording


class VideoNotFoundError(NotFoundError):
    """A 404 in the OpenAI error shape: the videos API itself (past the key check) does not know the id."""


#: Error codes/words of a model the service no longer serves (FIELD-NOTES: ``no_valid_channel_error``, HTTP 500,
#: type ``Aihubmix_api_error``; or a model-not-found error).
RETIRED_MARKERS = ("no_valid_channel", "model_not_found", "does not exist", "no available channel",
                   "not supported model", "deprecated", "shut down")

#: Error answers: the OpenAI error object ``{"error": {"code", "message"}}`` (the page's video object), or a bare
#: ``message``.
ERRORS = ErrorSpec(
    message_paths=("error.message", "message"),
    code_paths=("error.code", "error.type"),
    rules=(
        # A retired model: named in the answer, said with its catalog note and a current model (FIELD-NOTES).
        ErrorRule(BadRequestError, wording=Wording.RETIRED_MODEL, statuses=(400, 404, 410, 500, 503),
                  markers=RETIRED_MARKERS),
        # A 404 in the OpenAI error shape came from the videos API, past the key check (``key_check_accepted``).
        ErrorRule(VideoNotFoundError, wording=Wording.GENERIC, statuses=(404,), shape="error.message"),
    ),
)

#: The provider; its models (Sora, Veo, Wan, ...) are in ``resources/catalog/aihubmix.toml``.
SPEC = ProviderSpec(
    id="aihubmix",
    name="AIHubMix",
    default_base_url="https://aihubmix.com",
    key_help="An AIHubMix API key (sk-...) from aihubmix.com → API keys.",
    docs="https://docs.aihubmix.com",
    models=(),
    errors=ERRORS,
)

#: A video id that cannot exist, for the key check.
KEY_CHECK_ID = "video_reeldeck_key_check_0000"

#: Key in a job's ``prepared`` naming the remote video a remix job starts from.
REMIX_OF = "remix_of"

#: Video object ``status`` (page: queued, in_progress, completed, failed), compared case-insensitively.
PENDING = {"queued"}
RUNNING = {"in_progress", "processing"}
SUCCEEDED = {"completed"}
FAILED = {"failed"}


class AIHubMixProvider(Provider):
    """OpenAI-compatible videos API at AIHubMix."""

    spec = SPEC
    can_remix = True
    default_poll_interval = 15.0  # "poll about every 15 s" (AIHubMix Video-Gen guide)
    #: Tried, never relied on: OpenAI documents GET /v1/videos, AIHubMix does not (FIELD-NOTES "Endpoints"); a
    #: 404/405 there sends the job to the person's decision (engine ``_reconcile``).
    can_reconcile = True
    can_cancel = True  # DELETE /v1/videos/{id} (AIHubMix docs)

    def build_create(self, job: JobInput) -> HttpRequest:
        source = job.prepared.get(REMIX_OF)
        if source:  # a remix of a finished video: its own endpoint, the new prompt only
            return HttpRequest("POST", f"/v1/videos/{source}/remix", json={"prompt": str(job.params.get("prompt", ""))},
                               idempotent=False)
        model = self.spec.model(job.model)
        path = model.wire.create_path or "/v1/videos"
        if model.wire.encoding == "json":
            values = wire.inline_values(model, job.inputs, job.files)
            return HttpRequest("POST", path, json=wire.json_body(model, job.params, values), idempotent=False)
        # multipart/form-data for every create, a text-only one too, as openai-python videos.create sends it
        # (src/openai/resources/videos.py sets Content-Type multipart/form-data; _base_client.py ForceMultipartDict).
        files = _ForceMultipart()
        for slot in model.slots:
            chosen = (job.inputs.get(slot.name) or [])[:slot.max_count]
            files += [wire.file_part(slot, value, job.files) for value in chosen]
        return HttpRequest("POST", path, data=wire.form_fields(model, job.params), files=files, idempotent=False)

    def parse_create(self, body: Any) -> str:
        return task_id(require(body, "id", self.spec), "id", self.spec)

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
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
        """Retrieve a video that cannot exist. AIHubMix checks the key before it looks the video up, so a 401
        means the key is refused, and a 404 *carrying an OpenAI error object* means the request passed the key
        check and reached the videos API (see ``key_check_accepted``). A bare 404 proves nothing."""
        return self.build_poll(KEY_CHECK_ID)

    def key_check_accepted(self, error: ProviderError) -> bool | None:
        """True only for a 404 answered in the OpenAI error shape ``{"error": {"message", ...}}`` (page)."""
        return True if isinstance(error, VideoNotFoundError) else None

    def build_cancel(self, remote_id: str) -> HttpRequest:
        return HttpRequest("DELETE", f"/v1/videos/{remote_id}")

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        return DownloadSource(f"{self.api.base_url}/v1/videos/{remote_id}/content?variant=video", with_auth=True)

    def thumbnail_source(self, remote_id: str) -> DownloadSource:
        return DownloadSource(f"{self.api.base_url}/v1/videos/{remote_id}/content?variant=thumbnail",
                              with_auth=True)

    def build_list(self, cursor: str | None) -> HttpRequest:
        """A page of recent videos, newest first (``GET /v1/videos``, OpenAI's list; AIHubMix documents none)."""
        params = {"limit": "100", "order": "desc"} | ({"after": cursor} if cursor else {})
        return HttpRequest("GET", "/v1/videos", params=params)

    def match_created(self, body: Any, job: JobInput, exclude: set[str]) -> ListMatch:
        """The video this job's create made (same prompt, model, length and size, made around when it was sent),
        or the next page while the list still reaches back to then."""
        sent = job.submitted_at or job.created_at
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return ListMatch()
        for video in items:
            if isinstance(video, dict) and _same_job(video, job, sent) and video.get("id") not in exclude:
                return ListMatch(found=task_id(video["id"], "data.id", self.spec))
        if not body.get("has_more") or not items or _created(items[-1]) < sent - CLOCK_TOLERANCE:
            return ListMatch()
        return ListMatch(next_cursor=str(items[-1].get("id")))


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


#: How far the provider's clock may be from ours when matching a video's ``created_at`` to our create.
CLOCK_TOLERANCE = 1800.0


def _same_job(video: dict[str, Any], job: JobInput, sent: float) -> bool:
    """The video matches what the job sent (prompt, model, seconds, size) and was made around when it was sent."""
    return (
        video.get("prompt") == job.params.get("prompt")
        and video.get("model") == job.model
        and str(video.get("seconds", "4")) == str(job.params.get("seconds", "4"))
        and str(video.get("size", "720x1280")) == str(job.params.get("size", "720x1280"))
        and abs(_created(video) - sent) <= CLOCK_TOLERANCE
    )


def _created(video: Any) -> float:
    created = video.get("created_at") if isinstance(video, dict) else None
    return float(created) if isinstance(created, int | float) else float("inf")


class _ForceMultipart(list[tuple[str, tuple[str, bytes, str]]]):
    """File parts that are truthy even when empty, so httpx encodes the form as multipart/form-data
    (the trick openai-python ``_base_client.py`` ``ForceMultipartDict`` uses)."""

    def __bool__(self) -> bool:
        return True

