"""Turning what a person asked for into a stored, ready-to-send job.

Validation and image preparation happen here, before anything is written or sent: bad input raises InputError
and changes nothing. Prepared inputs are copied into the data dir, so a job can be resubmitted or resumed even if
the original files move. Synchronous and CPU-bound: call it from a thread.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.costs import Estimate, PriceTable
from core.errors import InputError
from core.imaging import ImageRules, frame_mismatch, image_size, prepare_image
from core.jobs import Job
from core.media import has_mp4_signature
from core.params import LifecycleStatus, ModelSpec, ProviderSpec, SlotKind, validate
from core.providers import provider_class
from core.providers.base import current_model
from core.store import new_job_id

MAX_VIDEO_INPUT_BYTES = 200 * 1024 * 1024


@dataclass
class JobRequest:
    """What the user asked for: provider, model, parameter values and inputs per slot."""

    provider: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, list[str]] = field(default_factory=dict)
    group_id: str | None = None


def is_url(value: str) -> bool:
    return urlsplit(value).scheme.lower() in ("http", "https") and bool(urlsplit(value).netloc)


def build_job(request: JobRequest, inputs_dir: Path, *, send_originals: bool = False) -> Job:
    """Validate and prepare a request into a new pending Job (not yet stored). Raises InputError.

    Images are prepared at the size the model uses (``Slot.max_image_short_side``), or at full size with
    ``send_originals`` (the person's setting).
    """
    cls = provider_class(request.provider)
    spec = cls.declared()
    model = spec.model(request.model)
    check_usable(spec, model)
    check_text(request.params)
    checked = validate(model, request.params, request.inputs)
    params = _with_defaults(model.params, checked.params)
    job_id = new_job_id()
    staging = Path(tempfile.mkdtemp(prefix=f"reeldeck-{job_id}-"))
    try:
        inputs, notes = _prepare_inputs(cls, model, params, checked.inputs, staging, send_originals)
        final_dir = inputs_dir / job_id
        final_inputs = _move_prepared(inputs, staging, final_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    sendable = {k: v for k, v in params.items() if not _is_local(model.params, k)}
    local = {k: v for k, v in params.items() if _is_local(model.params, k)}
    return Job(
        id=job_id,
        provider=request.provider,
        model=request.model,
        params=sendable | local,
        inputs=final_inputs,
        mode=checked.mode,
        input_notes=notes,
        group_id=request.group_id,
    )


def check_usable(spec: ProviderSpec, model: ModelSpec) -> None:
    """Refuse a new job with a retired model (the provider no longer serves it), suggesting a current one.

    Deprecated models still take jobs (the window greys them with their note); jobs already made with either
    resume and download, since they never come through here."""
    if model.lifecycle.status != LifecycleStatus.RETIRED:
        return
    since = f" since {model.lifecycle.date}" if model.lifecycle.date else ""
    note = f" ({model.lifecycle.note})" if model.lifecycle.note else ""
    current = current_model(spec, model.id)
    instead = f"Use a current {spec.name} model instead, e.g. {current}." if current else "Use another provider."
    raise InputError(f"{spec.name} retired {model.id}{since}{note}; new jobs cannot be made with it. {instead}")


def check_text(params: dict[str, Any]) -> None:
    """Refuse text that is not valid UTF-8 (on Linux, argv and file names may carry undecodable bytes, which
    Python keeps as lone surrogates): it could be neither stored faithfully nor sent."""
    for name, value in params.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                what = "The prompt" if name == "prompt" else f"The value of {name}"
                raise InputError(f"{what} is not valid UTF-8 text (it holds bytes that are no characters); "
                                 "retype it or save it as UTF-8.") from None


def _is_local(params: tuple[Any, ...], name: str) -> bool:
    return any(p.name == name and p.local for p in params)


def _with_defaults(declared: tuple[Any, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(values)
    for param in declared:
        if param.name not in result and param.default is not None:
            result[param.name] = param.default
    return result


def with_defaults(provider: str, model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as a job gets them: declared defaults filled in for what was left unset (an unknown model:
    the parameters as given)."""
    try:
        declared = provider_class(provider).declared().model(model).params
    except Exception:  # an unknown provider or model: nothing to fill in
        return dict(params)
    return _with_defaults(declared, params)


def estimate_request(table: PriceTable, request: JobRequest) -> Estimate:
    """What one request is estimated to cost, priced as the engine prices the job it becomes."""
    return table.estimate(request.provider, request.model,
                          with_defaults(request.provider, request.model, request.params))


def _prepare_inputs(
    cls: Any, model: ModelSpec, params: dict[str, Any], inputs: dict[str, list[str]], staging: Path,
    send_originals: bool = False,
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    prepared: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for slot in model.slots:
        for index, value in enumerate(inputs.get(slot.name, [])):
            item, note = _prepare_one(cls, model.id, slot, params, value, index, staging, send_originals)
            prepared.setdefault(slot.name, []).append(item)
            notes.setdefault(slot.name, []).append(note)
    warning = _frames_warning(prepared, staging)
    if warning:
        notes["last_image"][0] += f"; ⚠ {warning}"
    return prepared, notes


def _prepare_one(
    cls: Any, model_id: str, slot: Any, params: dict[str, Any], value: str, index: int, staging: Path,
    send_originals: bool = False,
) -> tuple[str, str]:
    value = value.strip()
    bare = value.removeprefix("preset:")
    preset = next((p for p in slot.presets if bare in (p.name, p.value)), None)
    if preset is not None:
        return f"preset:{preset.value}", f"preset {preset.name}"
    if is_url(value):
        return value, "URL passed through"
    if "://" in value:
        raise InputError(f"{slot.label}: only http(s) URLs or local files are accepted (got {value!r}).")
    path = Path(value).expanduser()
    if not path.exists() and path.is_symlink():
        raise InputError(f"{slot.label}: {value} is a symbolic link that leads nowhere (broken or looping).")
    if not path.exists():
        if slot.presets:
            names = ", ".join(p.name for p in slot.presets)
            raise InputError(f"{slot.label}: {value!r} is not a file, an http(s) URL or a preset ({names}).")
        raise InputError(f"{slot.label}: no such file: {value}")
    special = special_file_kind(path)
    if special:  # reading a pipe could wait forever, a device never end: refuse them before opening anything
        raise InputError(f"{slot.label}: {value} is not a file but {special}; give an image or video file.")
    if slot.kind == SlotKind.VIDEO:
        return _stage_video(path, slot.label, staging, index), "video file"
    if slot.send == "url-only":
        raise InputError(f"{slot.label}: {model_id} takes an image URL (https://...), not a local file.")
    rules: ImageRules = cls.slot_image_rules(slot, params, model=model_id, send_originals=send_originals)
    image = prepare_image(path, rules)
    target = staging / f"{slot.name}-{index}{image.extension}"
    target.write_bytes(image.data)
    return str(target), image.note()


def _frames_warning(prepared: dict[str, list[str]], staging: Path) -> str | None:
    """A warning when the prepared first and last frames (local files) have different shapes."""
    frames = [prepared.get(name, [""])[0] for name in ("image", "last_image")]
    if not all(frame.startswith(str(staging)) for frame in frames):
        return None  # a URL: its shape is the provider's to find out
    first, last = (image_size(Path(frame)) for frame in frames)
    return frame_mismatch(first, last) if first and last else None


def special_file_kind(path: Path) -> str | None:
    """What ``path`` is when it is not a regular file (a folder, a named pipe, a device, a socket), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # unreadable: the reader says why
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
             (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def _stage_video(path: Path, label: str, staging: Path, index: int) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InputError(f"{label}: cannot read {path.name} ({exc.strerror or exc}).") from None
    if size == 0:
        raise InputError(f"{label}: {path.name} is empty.")
    if size > MAX_VIDEO_INPUT_BYTES:
        raise InputError(f"{label}: {path.name} is over 200 MB.")
    if not has_mp4_signature(head):
        raise InputError(f"{label}: {path.name} is not an MP4 video.")
    target = staging / f"motion-{index}.mp4"
    shutil.copyfile(path, target)
    return str(target)


def _move_prepared(inputs: dict[str, list[str]], staging: Path, final_dir: Path) -> dict[str, list[str]]:
    moved: dict[str, list[str]] = {}
    for slot, items in inputs.items():
        for item in items:
            path = Path(item)
            if path.parent == staging:
                final_dir.mkdir(parents=True, exist_ok=True)
                target = final_dir / path.name
                shutil.move(str(path), target)
                item = str(target)
            moved.setdefault(slot, []).append(item)
    return moved
