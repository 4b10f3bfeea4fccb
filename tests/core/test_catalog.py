"""The model catalog: shipped files validate, user files add and override models, broken files are reported with
file, line and reason, every model's create is built as declared, and every model runs in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clikit import run_cli
from harness import Harness, wait_until

from core import catalog as data
from core.errors import InputError
from core.jobs import JobState
from core.params import ModelSpec, ParamType
from core.plans import build_create
from core.providers import all_specs, provider_class, provider_spec
from core.providers.base import JobInput
from core.sandbox import Fault, Sandbox, schemas
from core.sandbox.declared import Declarations
from core.submission import JobRequest, build_job

URL = "https://images.example/first-frame.png"


def user_catalog(home: Path, name: str, text: str) -> Path:
    folder = home / "catalog"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


USER_GATEWAY_MODEL = """
provider = "gateway"

[[models]]
id = "acme-video-1"
label = "Acme video 1"
help = "A model the gateway serves that Reeldeck never heard of."
poll = "gateway-task"
source = { url = "https://gateway.example/models", date = "2026-11-30" }
  [[models.params]]
  name = "prompt"
  type = "text"
  label = "Prompt"
  required = true
  min_length = 1
  [[models.params]]
  name = "duration"
  type = "integer"
  label = "Length (s)"
  default = 4
  minimum = 2
  maximum = 8
  [[models.params]]
  name = "style"
  type = "enum"
  label = "Style"
  choices = ["film", "anime"]
  wire = "extra_body.style"
"""


# --- the shipped catalogs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(data.SHIPPED_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_catalog_validates(path: Path) -> None:
    parsed = data.read_file(path)
    assert parsed.provider == path.stem
    for model in parsed.models:
        assert model.source is not None and model.source.url and model.source.date, model.id
        assert model.poll, f"{model.id} names no poll shape"


def test_the_shipped_catalog_has_the_real_models() -> None:
    loaded = data.load(data.SHIPPED_DIR, ())
    assert loaded.problems == []
    ids = {pid: {m.entry.id for m in loaded.for_provider(pid)} for pid in data.PROVIDERS}
    assert {"veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.0-generate-preview",
            "wan2.5-t2v-preview", "wan2.5-i2v-preview", "wan2.6-t2v", "sora-2", "sora-2-pro"} <= ids["aihubmix"]
    assert {"Qubico/hug-video", "kling", "hailuo-t2v-01", "wanx-txt2video-14b", "hunyuan-txt2video"} <= ids["goapi"]
    assert len(ids["aimlapi"] - {"video-01-live2d"}) >= 5
    assert "img2video-motion" in ids["novita"] and len(ids["novita"]) >= 2
    motion = provider_spec("novita").model("img2video-motion")
    assert motion.lifecycle.status == "deprecated" and "SDK" in motion.lifecycle.note
    assert "2026-09-24" in provider_spec("aihubmix").model("sora-2").lifecycle.note


def test_providers_json_lists_every_model_with_its_source_and_lifecycle() -> None:
    code, out, _err = run_cli("providers", "--json")
    assert code == 0
    listed = {(p["id"], m["id"]): m for p in json.loads(out) for m in p["models"]}
    for spec in all_specs():
        for model in spec.models:
            entry = listed[spec.id, model.id]
            assert entry["origin"] == "shipped" and entry["source"]["url"] and entry["lifecycle"]["status"]


# --- user catalogs ----------------------------------------------------------------------------------------------


def test_a_user_catalog_adds_a_model_and_overrides_a_shipped_one(isolated_env: Path) -> None:
    added = user_catalog(isolated_env, "mine.toml", USER_GATEWAY_MODEL)
    user_catalog(isolated_env, "relabel.toml", data.SHIPPED_DIR.joinpath("novita.toml").read_text()
                 .replace('label = "Image to video with motion"', 'label = "Motion (my label)"'))
    gateway = provider_spec("gateway")
    assert gateway.model("acme-video-1").origin == str(added)
    assert gateway.model("viduq3p-720p").origin == "shipped"
    assert provider_spec("novita").model("img2video-motion").label == "Motion (my label)"
    code, out, _err = run_cli("providers", "--json")
    listed = {m["id"]: m for p in json.loads(out) if p["id"] == "gateway" for m in p["models"]}
    assert code == 0 and listed["acme-video-1"]["origin"] == str(added)


def test_the_window_looks_at_the_files_at_most_once_a_second(isolated_env: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from core.providers import catalog

    now = [1000.0]
    looks: list[Path] = []
    signature = data.folder_signature
    monkeypatch.setattr(catalog, "_clock", lambda: now[0])
    monkeypatch.setattr(data, "folder_signature", lambda folder: looks.append(folder) or signature(folder))
    catalog.check_files_at_most_every(1.0)
    try:
        catalog.models_for("gateway")
        looked = len(looks)
        for _ in range(50):  # a painted page of rows
            catalog.models_for("gateway")
        assert len(looks) == looked  # no listing, no stat
        user_catalog(isolated_env, "mine.toml", USER_GATEWAY_MODEL)  # written behind its back
        assert "acme-video-1" not in {m.id for m in catalog.models_for("gateway")}
        now[0] += 1.5
        assert "acme-video-1" in {m.id for m in catalog.models_for("gateway")}  # seen on the next look
        catalog.add_user_model("aihubmix", "my-video-1", "Mine")  # through the module: seen at once
        assert "my-video-1" in {m.id for m in catalog.models_for("aihubmix")}
    finally:
        catalog.check_files_at_most_every(0.0)
    user_catalog(isolated_env, "relabel.toml", USER_GATEWAY_MODEL.replace("acme-video-1", "acme-video-2"))
    assert "acme-video-2" in {m.id for m in catalog.models_for("gateway")}  # 0: every read looks


def test_a_broken_user_catalog_is_reported_with_file_line_and_reason_and_the_rest_loads(isolated_env: Path) -> None:
    bad_enum = user_catalog(isolated_env, "bad.toml", USER_GATEWAY_MODEL.replace('choices = ["film", "anime"]',
                                                                                  'choices = ["film", "anime"]\n'
                                                                                  '  default = "noir"'))
    not_toml = user_catalog(isolated_env, "worse.toml", 'provider = "goapi"\n[[models]\nid = "x"\n')
    problems = {p.file: p for p in data.load(data.SHIPPED_DIR, [isolated_env / "catalog"]).problems}
    assert "'noir' is not one of its choices" in problems[bad_enum].reason
    line = bad_enum.read_text().splitlines()[problems[bad_enum].line - 1]
    assert "[[models.params]]" in line  # the third parameter's table, where the default sits
    assert problems[not_toml].line == 2 and "not valid TOML" in problems[not_toml].reason
    code, out, err = run_cli("providers")
    assert code == 0 and "viduq3p-720p" in out and "acme-video-1" not in out
    assert f"{bad_enum}:{problems[bad_enum].line}" in err and str(not_toml) in err


def test_a_typo_in_a_field_name_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(USER_GATEWAY_MODEL.replace("min_length = 1", "min_lenght = 1"))
    with pytest.raises(data.CatalogFileError) as caught:
        data.read_file(path)
    assert "min_lenght" in caught.value.problem.reason and caught.value.problem.line is not None


# --- every model's create, exactly as declared ---------------------------------------------------------------------


def _value(param: Any) -> Any:
    if param.type == ParamType.ENUM:
        return param.choices[-1]
    if param.type == ParamType.BOOLEAN:
        return param.default is not True  # the value other than the default, so it must be sent
    if param.type == ParamType.INTEGER:
        return int(param.maximum if param.maximum is not None else (param.minimum or 0) + 3)
    if param.type == ParamType.NUMBER:
        return param.maximum if param.maximum is not None else 0.25
    return f"{param.name} text"


def _cases() -> list[tuple[str, str]]:
    return [(spec.id, model.id) for spec in all_specs() for model in spec.models]


def _usable_cases() -> list[tuple[str, str]]:
    """The models that take new jobs (a retired one is refused before anything is sent)."""
    return [(spec.id, model.id) for spec in all_specs() for model in spec.models
            if model.lifecycle.status != "retired"]


@pytest.mark.parametrize(("provider_id", "model_id"), _cases())
def test_each_models_create_is_built_exactly_as_declared(provider_id: str, model_id: str, tmp_path: Path) -> None:
    cls = provider_class(provider_id)
    model = cls.declared().model(model_id)
    params = {p.name: _value(p) for p in model.params}
    image = tmp_path / "frame.png"
    image.write_bytes(_png())
    inputs = {s.name: [str(image) if s.send == "file-part" else URL] for s in model.slots
              if s.name != "motion_video"}
    prepared = {s.field: f"asset-{s.name}" for s in model.slots if s.send == "asset"}
    if any(s.name == "motion_video" for s in model.slots):
        inputs["motion_video"] = ["preset:asset-motion_video"]
    provider = cls(api=None, settings={})  # type: ignore[arg-type]
    request = build_create(provider, JobInput("job1", model_id, params, inputs, prepared))
    assert request.method == "POST" and request.path == (model.wire.create_path or _default_path(provider_id))
    body = request.json if request.json is not None else dict(request.data or {})
    multipart = request.json is None
    if provider_id != "novita":
        assert body["model"] == model.sent_model
    for path, value in model.wire.constants:
        assert schemas.get_path(body, path) == value
    for param in model.params:
        sent = schemas.get_path(body, param.body_path)
        if param.local:
            assert sent is schemas.MISSING
        else:
            expected = params[param.name]
            assert sent == (_as_text(expected) if multipart else expected), param.name
    for slot in model.slots:
        if slot.send == "file-part":
            assert [name for name, _part in request.files or []] == [slot.field]
        else:
            sent = schemas.get_path(body, slot.field)
            one = prepared.get(slot.field) or URL
            assert sent == (one if slot.max_count == 1 else [one]), slot.name


def _as_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _default_path(provider_id: str) -> str:
    return {"goapi": "/api/v1/task", "aihubmix": "/v1/videos", "gateway": "/v1/video/generations"}[provider_id]


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1280, 720), "teal").save(buffer, "PNG")
    return buffer.getvalue()


# --- lifecycle ------------------------------------------------------------------------------------------------------


def test_sora_is_retired_since_openai_shut_its_api_down() -> None:
    for model_id in ("sora-2", "sora-2-pro"):
        life = provider_spec("aihubmix").model(model_id).lifecycle
        assert (life.status, life.date) == ("retired", "2026-09-24")
        assert "OpenAI shut the Sora API down" in life.note and "openai-python" in life.note


def test_a_retired_model_is_refused_with_a_current_one_suggested(isolated_env: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        build_job(JobRequest("aihubmix", "sora-2", {"prompt": "a fox"}), tmp_path)
    message = caught.value.message
    assert "retired sora-2 since 2026-09-24" in message and "e.g. veo-3.1-generate-preview" in message
    assert not (tmp_path / "inputs").exists()
    code, _out, err = run_cli("--sandbox", "submit", "--provider", "aihubmix", "--model", "sora-2", "--prompt", "x")
    assert code == 2 and "retired" in err and "veo-3.1-generate-preview" in err


def test_a_user_catalog_that_still_serves_a_retired_model_makes_it_usable(sora_served: Path, tmp_path: Path) -> None:
    job = build_job(JobRequest("aihubmix", "sora-2", {"prompt": "a fox"}), tmp_path)
    assert job.model == "sora-2" and provider_spec("aihubmix").model("sora-2").lifecycle.status == "available"


async def test_the_sandbox_refuses_a_new_sora_create_as_openai_does(sandbox: Sandbox) -> None:
    import httpx

    url = sandbox.endpoints()["REELDECK_AIHUBMIX_BASE_URL"] + "/v1/videos"
    async with httpx.AsyncClient() as client:
        for body in ({"model": "sora-2", "prompt": "a fox"}, {"model": "sora-2-pro", "prompt": "a fox"},
                     {"prompt": "a fox"}):  # sora-2 is the model a create without one gets
            answer = await client.post(url, files={k: (None, v) for k, v in body.items()},
                                       headers={"Authorization": "Bearer k"})
            assert answer.status_code == 404, answer.text
            error = answer.json()["error"]
            model = body.get("model", "sora-2")
            assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
            assert error["message"] == f"The model `{model}` does not exist or you do not have access to it."
    assert sandbox.count("aihubmix", "create") == 3 and not sandbox.store.list_tasks("aihubmix")


def _retire_sora_again(sora_served: Path, tmp_path: Path) -> None:
    """Remove the ``sora_served`` override from every folder it was written to: the shipped catalog rules again."""
    for folder in (sora_served.parent, tmp_path / "catalog", tmp_path / "data" / "catalog"):
        (folder / sora_served.name).unlink()


async def test_a_sora_job_queued_before_the_retirement_fails_saying_to_pick_veo(harness: Harness, sora_served: Path,
                                                                               tmp_path: Path) -> None:
    waiting = await harness.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "a fox"}), start=False)
    _retire_sora_again(sora_served, tmp_path)
    harness.engine.resume_all()
    (final,) = await harness.engine.wait([waiting.id], timeout=60)
    assert final.state == JobState.FAILED and final.remote_id is None
    assert "AIHubMix retired sora-2" in (final.error or "")  # in the words a new submit gets
    assert "e.g. veo-3.1-generate-preview" in (final.error or "")
    assert harness.sandbox.count("aihubmix", "create") == 0  # nothing sent that the provider would surely refuse


def test_only_sora_can_be_remixed_and_the_catalog_says_where_that_was_read() -> None:
    spec = provider_spec("aihubmix")
    assert sorted(m.id for m in spec.models if m.can_remix) == ["sora-2", "sora-2-pro"]
    for provider in all_specs():
        if provider.id != "aihubmix":
            assert not any(m.can_remix for m in provider.models), provider.id
    shipped = data.SHIPPED_DIR.joinpath("aihubmix.toml").read_text(encoding="utf-8")
    for line_number, line in enumerate(shipped.splitlines()):
        if line.startswith("remix = true"):
            assert "POST /v1/videos/{video_id}/remix" in shipped.splitlines()[line_number - 1]


def test_a_catalog_entry_declares_remix_as_a_boolean(isolated_env: Path) -> None:
    def entry_with(remix: str) -> str:
        return USER_GATEWAY_MODEL.replace('id = "acme-video-1"', f'id = "acme-video-1"\nremix = {remix}')

    user_catalog(isolated_env, "remixes.toml", entry_with("true"))
    loaded = data.load(data.SHIPPED_DIR, [isolated_env / "catalog"])
    found = loaded.find("gateway", "acme-video-1")
    assert not loaded.problems and found is not None and found.entry.remix
    user_catalog(isolated_env, "remixes.toml", entry_with('"sometimes"'))
    loaded = data.load(data.SHIPPED_DIR, [isolated_env / "catalog"])
    (problem,) = loaded.problems
    assert "remix" in problem.reason and "boolean" in problem.reason and problem.line is not None


async def test_retrying_a_job_of_a_retired_model_that_made_no_task_is_refused_in_the_words_of_a_submit(
        harness: Harness, sora_served: Path, tmp_path: Path) -> None:
    queued = await harness.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "a fox"}), start=False)
    _retire_sora_again(sora_served, tmp_path)
    harness.engine.resume_all()
    (failed,) = await harness.engine.wait([queued.id], timeout=60)
    assert failed.state == JobState.FAILED and failed.remote_id is None  # failed before any create was sent
    with pytest.raises(InputError) as submitted:
        build_job(JobRequest("aihubmix", "sora-2", {"prompt": "a fox"}), tmp_path / "elsewhere")
    jobs_before = [(j.id, j.state) for j in harness.engine.store.all()]
    for operation in (harness.engine.retry, harness.engine.generate_again):
        with pytest.raises(InputError) as refused:
            result = operation(failed.id)
            if hasattr(result, "__await__"):
                await result
        assert refused.value.message == submitted.value.message
        assert "e.g. veo-3.1-generate-preview" in refused.value.message
    assert [(j.id, j.state) for j in harness.engine.store.all()] == jobs_before  # nothing stored or changed
    assert harness.sandbox.count("aihubmix", "create") == 0  # nothing sent, then or now


async def test_a_failed_job_of_a_retired_model_that_has_its_task_is_still_retried(
        harness: Harness, sora_served: Path, tmp_path: Path) -> None:
    harness.sandbox.faults.add(Fault("fail_job", provider="aihubmix"))
    (failed,) = [await harness.run("aihubmix", "sora-2", {"prompt": "a fox", "seconds": "4"})]
    assert failed.state == JobState.FAILED and failed.remote_id
    _retire_sora_again(sora_served, tmp_path)
    polls = harness.sandbox.count("aihubmix", "poll")
    resumed = harness.engine.retry(failed.id)  # its task exists: looked at again, nothing new is made
    assert resumed.state == JobState.RUNNING and resumed.remote_id == failed.remote_id
    await harness.engine.wait([failed.id], timeout=60)
    assert harness.sandbox.count("aihubmix", "poll") > polls and harness.sandbox.count("aihubmix", "create") == 1


async def test_a_job_made_before_its_model_retired_still_resumes_and_downloads(harness: Harness, sora_served: Path,
                                                                              tmp_path: Path,
                                                                              quick_renders: None) -> None:
    job = await harness.engine.submit(JobRequest("aihubmix", "sora-2", {"prompt": "a fox", "seconds": "4"}))
    await wait_until(harness, job.id, lambda j: j.remote_id is not None)
    _retire_sora_again(sora_served, tmp_path)  # Sora retires while the job is at the provider
    assert provider_spec("aihubmix").model("sora-2").lifecycle.status == "retired"
    (final,) = await harness.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED and final.video_path and Path(final.video_path).stat().st_size > 0
    assert harness.received("aihubmix", "poll") and harness.received("aihubmix", "content")


# --- every model in the sandbox ---------------------------------------------------------------------------------------


def _request_for(h: Harness, spec_id: str, model: ModelSpec) -> JobRequest:
    params: dict[str, Any] = {}
    if model.param("prompt"):
        params["prompt"] = "a red fox in the snow"
    inputs: dict[str, list[str]] = {}
    mode = next((m for m in model.modes if "image" in m.requires), model.modes[0] if model.modes else None)
    for name in mode.requires if mode else ():
        slot = model.slot(name)
        if slot is None:
            continue
        if slot.presets:
            inputs[name] = [slot.presets[0].name]
        elif slot.send == "url-only":
            inputs[name] = [h.sandbox.endpoints()["REELDECK_NOVITA_BASE_URL"] + "/missing.png"]
        else:
            inputs[name] = [h.image(f"{name}.png", (1280, 720))] * (min(slot.max_count, 3)
                                                                     if name == "ref_image" else 1)
    return JobRequest(spec_id, model.id, params, inputs)


@pytest.mark.parametrize(("provider_id", "model_id"), _usable_cases())
async def test_every_catalog_model_runs_in_the_sandbox(harness: Harness, provider_id: str, model_id: str,
                                                       quick_renders: None) -> None:
    model = provider_spec(provider_id).model(model_id)
    request = _request_for(harness, provider_id, model)
    job = await harness.engine.submit(request)
    (final,) = await harness.engine.wait([job.id], timeout=60)
    assert final.state == JobState.COMPLETED, final.error
    assert final.video_path and Path(final.video_path).read_bytes()[4:8] == b"ftyp"


async def test_a_model_registered_by_data_only_runs_end_to_end(harness: Harness, isolated_env: Path,
                                                               quick_renders: None) -> None:
    user_catalog(isolated_env, "acme.toml", USER_GATEWAY_MODEL)
    harness.sandbox.declarations = Declarations([isolated_env / "catalog"])
    final = await harness.run("gateway", "acme-video-1", {"prompt": "a red fox", "duration": "6", "style": "anime"})
    assert final.state == JobState.COMPLETED, final.error
    create = harness.only("gateway", "create")
    assert create.body == {"model": "acme-video-1", "prompt": "a red fox", "duration": 6,
                           "extra_body": {"style": "anime"}}
    with pytest.raises(InputError, match="duration must be at most 8"):
        await harness.engine.submit(JobRequest("gateway", "acme-video-1", {"prompt": "x", "duration": "9"}))


async def test_the_sandbox_refuses_what_the_declaration_refuses(harness: Harness, isolated_env: Path) -> None:
    user_catalog(isolated_env, "acme.toml", USER_GATEWAY_MODEL)
    harness.sandbox.declarations = Declarations([isolated_env / "catalog"])
    import httpx

    async with httpx.AsyncClient() as client:
        answer = await client.post(harness.sandbox.endpoints()["REELDECK_GATEWAY_BASE_URL"] + "/v1/video/generations",
                                   json={"model": "acme-video-1", "prompt": "x", "extra_body": {"style": "noir"}},
                                   headers={"Authorization": "Bearer k"})
    assert answer.status_code == 400 and "extra_body.style" in answer.text



def test_a_user_catalog_model_runs_end_to_end_from_the_cli(isolated_env: Path) -> None:
    import os
    import subprocess
    import sys

    user_catalog(isolated_env, "acme.toml", USER_GATEWAY_MODEL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELDECK_")}
    env.update(REELDECK_HOME=str(isolated_env), REELDECK_SANDBOX_JOB_SECONDS="2")
    result = subprocess.run([sys.executable, "main.py", "--sandbox", "submit", "--provider", "gateway", "--model",
                             "acme-video-1", "--prompt", "a red fox", "--param", "style=film", "--wait", "--json"],
                            cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["state"] == "completed" and job["model"] == "acme-video-1"
    assert Path(job["video_path"]).read_bytes()[4:8] == b"ftyp"
