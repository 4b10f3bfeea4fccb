"""Sandbox emulator: every origin's create starts its task the same way, whichever code path checked the body.

A create for a model the page describes in detail (hand-written rules) and one for any other catalog model (checked
against its declaration) both start a task of the origin's provider, record its id on the request and, when a
``fail_job`` fault fires, fail it with that provider's own words. A real Engine drives each create through its
client, on the manual clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import VEO_31, Harness

from core.jobs import JobState
from core.sandbox import Fault, ManualClock, Sandbox

URL = "https://images.example/two-people.jpg"

CASES = [
    ("goapi", "Qubico/hug-video", {}, {"image": [URL]}, "two people"),
    ("goapi", "hailuo-t2v-01", {"prompt": "a red fox"}, {}, "two people"),
    ("aimlapi", "video-01-live2d", {"prompt": "wave"}, {"image": [URL]}, "content filter"),
    ("aimlapi", "alibaba/wan2.5-t2v-preview", {"prompt": "a red fox"}, {}, "content filter"),
    ("aihubmix", VEO_31, {"prompt": "a red fox"}, {}, "moderation system"),
    ("gateway", "viduq3t-540p", {"prompt": "a red fox", "duration": "1"}, {}, "content moderation"),
    ("novita", "kling-v2.1-t2v-master", {"prompt": "a red fox"}, {}, "no human pose"),
]


@pytest.mark.parametrize(("provider", "model", "params", "inputs", "reason"), CASES)
async def test_a_create_starts_a_task_of_its_origin_recorded_on_the_request_failing_in_its_words(
        harness: Harness, provider: str, model: str, params: dict[str, Any], inputs: dict[str, list[str]],
        reason: str) -> None:
    harness.sandbox.faults.add(Fault("fail_job", provider=provider))
    job = await harness.run(provider, model, params, **inputs)
    assert job.state == JobState.FAILED and job.error and reason in job.error
    create = harness.only(provider, "create")
    assert create.task_id is not None and create.task_id == job.remote_id
    task = harness.sandbox.store.get_task(create.task_id)
    assert task is not None and task.provider == provider and task.fate == "fail"


@pytest.mark.usefixtures("sora_served")
async def test_a_remix_starts_a_task_of_its_origin_recorded_on_the_request(
        sandbox: Sandbox, http: httpx.AsyncClient, clock: ManualClock) -> None:
    api = sandbox.endpoints()["REELDECK_AIHUBMIX_BASE_URL"] + "/v1/videos"
    key = {"Authorization": "Bearer k"}
    source = (await http.post(api, headers=key, json={"model": "sora-2", "prompt": "a red fox"})).json()
    clock.advance(60)
    sandbox.faults.add(Fault("fail_job", provider="aihubmix"))
    remixed = await http.post(f"{api}/{source['id']}/remix", headers=key, json={"prompt": "in the rain"})
    assert remixed.status_code == 200, remixed.text
    assert sandbox.requests[-1].task_id == remixed.json()["id"] != source["id"]
    task = sandbox.store.get_task(remixed.json()["id"])
    assert task is not None and task.provider == "aihubmix" and task.remixed_from == source["id"]
    assert task.fail_message is not None and "moderation system" in task.fail_message


@pytest.mark.parametrize("option", [{"gateway_shape": "z"}, {"gateway_dialect": "openai"}])
def test_the_sandbox_refuses_a_gateway_shape_or_dialect_it_does_not_know(tmp_path: Path,
                                                                          option: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        Sandbox(tmp_path / "sandbox", **option)
    assert not (tmp_path / "sandbox").exists()  # refused before anything was made

