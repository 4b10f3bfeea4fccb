"""Emulating any catalog model from its declaration: the request checks, the rendered clip, the stored inputs.

The origins keep their hand-written rules for the models the pages describe in detail (Sora, hug video, live2d,
Vidu, img2video-motion); every other model in the catalog — shipped or the user's — is checked here against its
own declaration, field by field at its wire name, the way the real service refuses what the model does not take.
The catalog is plain data (``core.catalog``, which imports nothing else of Reeldeck).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import catalog as data

from . import schemas as s
from .errors import ApiError
from .media import ImageLimits, is_http_url
from .recording import FilePart, summarize
from .records import RenderPlan, TaskInput, TaskRecord

if TYPE_CHECKING:
    from .engine import Engine
    from .pipeline import Call

#: Output frame when a model declares no size (landscape 720p).
DEFAULT_FRAME = (1280, 720)
DEFAULT_SECONDS = 5.0


class Declarations:
    """The catalog as the emulator reads it: the shipped files plus the user's folder, checked on each lookup (and
    parsed again when a file changed) so a model added while the emulator runs is served at once."""

    def __init__(self, user_dirs: Iterable[Path] = ()) -> None:
        self.user_dirs = tuple(user_dirs)

    def models(self, provider: str) -> list[data.ModelEntry]:
        return [m.entry for m in data.load_current(data.SHIPPED_DIR, self.user_dirs).for_provider(provider)]

    def find(self, provider: str, model_id: str) -> data.ModelEntry | None:
        return next((m for m in self.models(provider) if m.id == model_id), None)

    def by_wire(self, provider: str, sent_model: str, body: dict[str, Any]) -> data.ModelEntry | None:
        """The model a create names: its wire model name and constants (GoAPI's ``task_type``) all match."""
        for entry in self.models(provider):
            if entry.sent_model == sent_model and all(s.get_path(body, k) == v for k, v in entry.constants.items()):
                return entry
        return None

    def by_path(self, provider: str, path: str) -> data.ModelEntry | None:
        """The model whose create path this is (Novita names the model in the path)."""
        return next((m for m in self.models(provider) if m.create_path == path), None)


def rules(entry: data.ModelEntry, *, multipart: bool = False) -> tuple[s.Rule, ...]:
    """The checks a create for ``entry`` must pass, from its declaration."""
    checks: list[s.Rule] = []
    for path, value in entry.constants.items():
        checks += [s.required(path), s.one_of(path, [value])]
    for param in entry.params:
        if not param.local:
            checks += _param_rules(param, multipart)
    for slot in entry.slots:
        checks += _slot_rules(slot, multipart)
    return tuple(checks)


def check(entry: data.ModelEntry, body: dict[str, Any], *, multipart: bool = False) -> None:
    """Raise ApiError 400 for the first declared rule the body breaks, or when its inputs form no mode."""
    s.check(body, rules(entry, multipart=multipart))
    if not entry.modes:
        return
    filled = {p.name for p in entry.params if _present(body, p.wire or p.name)}
    filled |= {slot.name for slot in entry.slots if _present(body, slot.wire)}
    if not any(all(r in filled for r in m.requires) and not any(f in filled for f in m.forbids)
               for m in entry.modes):
        ways = "; ".join(f"{m.label}: {', '.join(m.requires) or 'nothing'}" for m in entry.modes)
        raise ApiError(400, f"these inputs form no request {entry.id} takes ({ways})", field="body",
                       code="invalid_request")


def plan(entry: data.ModelEntry, body: dict[str, Any], has_image: bool) -> RenderPlan:
    """The clip the emulator renders: the declared size and length, the prompt as its caption."""
    width, height = _frame(body)
    seconds = _seconds(entry, body)
    caption = str(s.get_path(body, _wire_of(entry, "prompt")) or entry.label)
    return RenderPlan(width, height, seconds, caption[:200], "pan" if has_image else "title", entry.id)


def store_inputs(engine: Engine, task_id: str, entry: data.ModelEntry, body: dict[str, Any]) -> list[TaskInput]:
    """Keep each slot's images (URLs, data URIs or multipart files) as the task's inputs."""
    stored = []
    for slot in entry.slots:
        value = s.get_path(body, slot.wire)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, FilePart):
                stored.append(engine.store_input_bytes(task_id, slot.name, item.data, item.content_type))
            elif isinstance(item, str) and item and slot.send != "asset":
                stored.append(engine.store_input(task_id, slot.name, item))
    return stored


def create_task(engine: Engine, call: Call, entry: data.ModelEntry, body: dict[str, Any], *, task_id: str,
                model: str | None = None) -> TaskRecord:
    """Check a create for a declared model against its declaration, keep its inputs and start its task (recorded
    on the call); ``model`` is the task's model name when the origin answers with another than the entry's id."""
    check(entry, body)
    inputs = store_inputs(engine, task_id, entry, body)
    return call.start_task(engine, task_id, model=model or entry.id, plan=plan(entry, body, bool(inputs)),
                           params=summarize(body), inputs=inputs)


def params_summary(entry: data.ModelEntry, body: dict[str, Any]) -> dict[str, Any]:
    """The declared parameters the create carried (for the task's record), by parameter name."""
    summary: dict[str, Any] = {}
    for param in entry.params:
        value = s.get_path(body, param.wire or param.name)
        if value is not s.MISSING and not isinstance(value, FilePart):
            summary[param.name] = value
    return summary


def _param_rules(param: data.ParamEntry, multipart: bool) -> list[s.Rule]:
    field = param.wire or param.name
    checks = [s.required(field)] if param.required else []
    if param.type in ("text", "string"):
        checks += [s.string(field), s.length(field, param.min_length or 0, param.max_length)]
    elif param.type == "enum":
        checks.append(s.one_of(field, [str(c) for c in param.choices] if multipart else param.choices))
    elif param.type == "boolean":
        checks.append(s.one_of(field, ["true", "false"]) if multipart else s.boolean(field))
    elif param.type == "integer":
        checks.append(s.rule(field, _whole, "must be a whole number", code="invalid_type") if multipart
                      else s.integer(field))
        checks.append(_range_rule(field, param))
    else:  # number
        checks.append(s.rule(field, _number, "must be a number", code="invalid_type"))
        checks.append(_range_rule(field, param))
    return checks


def _range_rule(field: str, param: data.ParamEntry) -> s.Rule:
    def inside(value: Any, _body: dict[str, Any]) -> bool:
        return _within(value, param)

    return s.rule(field, inside, _range_text(param))


def _slot_rules(slot: data.SlotEntry, multipart: bool) -> list[s.Rule]:
    limits = ImageLimits(formats=frozenset(slot.formats), max_bytes=slot.max_bytes, min_side=slot.min_side or 0,
                         short_side_over=slot.min_short_side or 0, aspect_min=slot.aspect_min,
                         aspect_max=slot.aspect_max, aspect_strict=slot.aspect_exclusive)
    if slot.send == "asset":
        return [s.string(slot.wire)]
    if slot.send in ("upload", "url-only"):
        return [s.string(slot.wire), s.http_url(slot.wire)]

    def one(value: Any) -> str | None:
        if isinstance(value, FilePart):
            return limits.check_bytes(value.data)
        if not isinstance(value, str):
            return "must be an image URL or a data URI"
        return None if is_http_url(value) else (limits.check_inline(value) if value else "must not be empty")

    def every(value: Any, _body: dict[str, Any]) -> str | None:
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not 1 <= len(items) <= slot.max_count:
            return f"takes 1 to {slot.max_count} images"
        return next((problem for problem in map(one, items) if problem), None)

    return [s.Rule(slot.wire, every, code="invalid_image")]


def _present(body: dict[str, Any], path: str) -> bool:
    value = s.get_path(body, path)
    return value is not s.MISSING and value is not None and value != "" and value != []


def _whole(value: Any, _body: dict[str, Any]) -> bool:
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _number(value: Any, _body: dict[str, Any]) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _within(value: Any, param: data.ParamEntry) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return True  # the type rule reports it
    return not ((param.minimum is not None and number < param.minimum)
                or (param.maximum is not None and number > param.maximum))


def _range_text(param: data.ParamEntry) -> str:
    low = "" if param.minimum is None else f"at least {param.minimum:g}"
    high = "" if param.maximum is None else f"at most {param.maximum:g}"
    return "must be " + " and ".join(part for part in (low, high) if part)


def _wire_of(entry: data.ModelEntry, name: str) -> str:
    param = next((p for p in entry.params if p.name == name), None)
    return (param.wire or param.name) if param else name


def _frame(body: dict[str, Any]) -> tuple[int, int]:
    size = body.get("size")
    if isinstance(size, str) and "x" in size:
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit():
            return int(width), int(height)
    ratio = body.get("aspect_ratio")
    inner = body.get("input")
    if ratio is None and isinstance(inner, dict):
        ratio = inner.get("aspect_ratio")
    if ratio == "9:16":
        return DEFAULT_FRAME[1], DEFAULT_FRAME[0]
    if ratio == "1:1":
        return DEFAULT_FRAME[1], DEFAULT_FRAME[1]
    return DEFAULT_FRAME


def _seconds(entry: data.ModelEntry, body: dict[str, Any]) -> float:
    for name in ("seconds", "duration"):
        value = s.get_path(body, _wire_of(entry, name))
        try:
            if value is not s.MISSING and value is not None:
                return max(1.0, min(20.0, float(value)))
        except (TypeError, ValueError):
            continue
    return entry.fixed_seconds or DEFAULT_SECONDS
