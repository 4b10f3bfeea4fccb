"""The extension point: a provider Reeldeck does not ship — a test-only declaration (a catalog file) and its small
client — is registered and runs a job through the sandbox end to end, with no other file touched.

"Acme Video" is a made-up reseller of Vidu behind the OpenAI-compatible ``/v1/video/generations`` shape (the
emulator's gateway origin serves it); everything Acme-specific is in this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import Harness

from core.errors import NotFoundError, ProtocolError
from core.http import HttpRequest
from core.jobs import JobState
from core.params import ProviderSpec
from core.providers import all_specs, provider_spec, register, unregister, wire
from core.providers.base import DownloadSource, JobInput, Provider, RemoteStatus, classify_status, task_id
from core.providers.errors import ErrorRule, ErrorSpec
from core.submission import JobRequest

ACME_CATALOG = """
provider = "acme"
source = { url = "https://acme.example/docs/video", date = "2026-11-30" }

[[models]]
id = "viduq3p-540p"
label = "Acme Vidu 540p"
help = "Vidu Q3 Pro at 540p, resold by Acme."
poll = "gateway-task"
  [[models.params]]
  name = "prompt"
  type = "text"
  label = "Prompt"
  help = "What the video should show."
  required = true
  min_length = 1
  [[models.params]]
  name = "duration"
  type = "integer"
  label = "Length (s)"
  help = "Clip duration in seconds."
  default = 4
  minimum = 1
  maximum = 16
  [[models.modes]]
  name = "text"
  label = "Text to video"
  requires = ["prompt"]
"""


class AcmeProvider(Provider):
    """Acme's client: build the create from the catalog declaration, poll, parse."""

    spec = ProviderSpec(id="acme", name="Acme Video", default_base_url=None, key_help="An Acme key.", models=(),
                        errors=ErrorSpec(message_paths=("message",), code_paths=("code",), rules=(
                            ErrorRule(NotFoundError, "{name} has no task like this ({code}).",
                                      markers=("task_not_exist",)),
                        )))

    def build_create(self, job: JobInput) -> HttpRequest:
        model = self.spec.model(job.model)
        body = wire.json_body(model, job.params, wire.inline_values(model, job.inputs, job.files))
        return HttpRequest("POST", "/v1/video/generations", json=body, idempotent=False)

    def parse_create(self, body: Any) -> str:
        return task_id(body.get("task_id") or body.get("id"), "task_id", self.spec)

    def build_poll(self, remote_id: str, model: str = "") -> HttpRequest:
        return HttpRequest("GET", f"/v1/video/generations/{remote_id}")

    def parse_poll(self, body: Any, headers: httpx.Headers) -> RemoteStatus:
        task = body["data"] if isinstance(body.get("data"), dict) and "status" in body["data"] else body
        raw = str(task.get("status") or task.get("state") or "")
        phase = classify_status(raw, {"not_start", "submitted", "queued", "created", "queueing"},
                                {"in_progress", "processing"}, {"success", "succeeded", "completed"},
                                {"failure", "failed"})
        urls = [task.get(k) for k in ("url", "video_url", "result_url")]
        urls += [c.get("url") for c in task.get("creations") or [] if isinstance(c, dict)]
        url = next((u for u in urls if isinstance(u, str) and u.startswith("http")), None)
        return RemoteStatus(phase=phase, raw=raw, video_url=url)

    def download_source(self, remote_id: str, status: RemoteStatus) -> DownloadSource:
        if not status.video_url:
            raise ProtocolError("Acme gave no video address.")
        return DownloadSource(status.video_url)


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[type[AcmeProvider]]:
    catalog = tmp_path / "acme.toml"
    catalog.write_text(ACME_CATALOG, encoding="utf-8")
    register(AcmeProvider, catalog)
    yield AcmeProvider
    unregister("acme")


async def test_a_registered_provider_runs_a_job_end_to_end_in_the_sandbox(harness: Harness,
                                                                        acme: type[AcmeProvider]) -> None:
    h = harness
    assert "acme" in [spec.id for spec in all_specs()]
    assert [m.id for m in provider_spec("acme").models] == ["viduq3p-540p"]  # its models come from its catalog
    assert h.hub.sandbox_endpoints is not None  # Acme speaks the gateway's API: point it at that emulator
    h.hub.sandbox_endpoints["REELDECK_ACME_BASE_URL"] = h.hub.sandbox_endpoints["REELDECK_GATEWAY_BASE_URL"]
    job = await h.engine.submit(JobRequest("acme", "viduq3p-540p", {"prompt": "a paper boat on a pond"}))
    (done,) = await h.engine.wait([job.id], timeout=120)
    assert done.state == JobState.COMPLETED, (done.error, done.remote_status, done.waiting)
    assert done.params == {"prompt": "a paper boat on a pond", "duration": 4}  # the declared default filled in
    assert Path(done.video_path or "").read_bytes()[4:8] == b"ftyp"
    (create,) = h.received("gateway", "create")
    assert create.body == {"model": "viduq3p-540p", "prompt": "a paper boat on a pond", "duration": 4}


async def test_a_registered_provider_words_errors_by_its_declared_rules(harness: Harness,
                                                                      acme: type[AcmeProvider]) -> None:
    """Its error rules are data in its declaration: the emulator's unknown-task answer (400 ``task_not_exist``)
    becomes Acme's own words, with no code of Acme's reading it."""
    assert harness.hub.sandbox_endpoints is not None
    harness.hub.sandbox_endpoints["REELDECK_ACME_BASE_URL"] = harness.hub.sandbox_endpoints["REELDECK_GATEWAY_BASE_URL"]
    provider = harness.hub.get("acme")
    with pytest.raises(NotFoundError) as raised:
        await provider.api.send(provider.build_poll("task_doesnotexist"))
    assert raised.value.message == "Acme Video has no task like this (task_not_exist)."
    assert raised.value.status_code == 400


def test_a_registered_provider_leaves_with_its_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "acme.toml"
    catalog.write_text(ACME_CATALOG, encoding="utf-8")
    register(AcmeProvider, catalog)
    try:
        with pytest.raises(Exception, match="exists already"):
            register(AcmeProvider, catalog)
    finally:
        unregister("acme")
    assert "acme" not in [spec.id for spec in all_specs()]
