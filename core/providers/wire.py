"""Building a create request from a model's declaration: each parameter and slot at its declared wire name.

A dotted wire name is a nested object (``extra_body.seed``); in a multipart create it is the part's name as
written. Constants (GoAPI's ``task_type``) come from the catalog too, so a model added as data needs no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import InputError, ProtocolError
from core.imaging import data_uri
from core.params import ModelSpec, Slot


def is_url(value: str) -> bool:
    """True for an absolute http(s) URL."""
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def put(body: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path, creating nested objects only when something goes in them."""
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def sendable(value: Any) -> bool:
    """False for values that are not sent: unset, or blank text."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def param_values(model: ModelSpec, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """(wire name, value) of every parameter that goes on the wire, in declaration order."""
    return [(p.body_path, params[p.name]) for p in model.params
            if not p.local and sendable(params.get(p.name))]


def json_body(model: ModelSpec, params: dict[str, Any], slot_values: dict[str, list[str]],
              model_field: str | None = "model") -> dict[str, Any]:
    """A JSON create body: the model name, the constants, each parameter and each filled slot at its wire name."""
    body: dict[str, Any] = {model_field: model.sent_model} if model_field else {}
    for path, value in model.wire.constants:
        put(body, path, value)
    for path, value in param_values(model, params):
        put(body, path, value)
    for slot in model.slots:
        values = slot_values.get(slot.name) or []
        if values:
            put(body, slot.field, values if slot.max_count > 1 else values[0])
    return body


def form_fields(model: ModelSpec, params: dict[str, Any]) -> dict[str, str]:
    """The text parts of a multipart create (every value as text, booleans as true/false)."""
    fields = {"model": model.sent_model}
    for name, value in [*model.wire.constants, *param_values(model, params)]:
        fields[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return fields


def inline_value(slot: Slot, value: str, files: Mapping[str, bytes]) -> str:
    """A slot's value for a JSON body: a URL as is; a prepared local file (its bytes read by the engine, in
    ``files``) as a data URI — or refused when the API takes URLs only."""
    if is_url(value):
        return value
    if slot.send == "url-only":
        raise InputError(f"{slot.label}: this model takes an image URL (https://...), not a local file.")
    return data_uri(file_bytes(files, value))


def inline_values(model: ModelSpec, inputs: Mapping[str, list[str]],
                  files: Mapping[str, bytes]) -> dict[str, list[str]]:
    """Every slot's values for a JSON body (``inline_value`` each)."""
    return {slot.name: [inline_value(slot, value, files) for value in inputs.get(slot.name) or []]
            for slot in model.slots}


def file_part(slot: Slot, value: str, files: Mapping[str, bytes]) -> tuple[str, tuple[str, bytes, str]]:
    """A prepared local file (its bytes in ``files``) as a multipart file part under the slot's wire name."""
    path = Path(value)
    return slot.field, (path.name, file_bytes(files, value), _MIME.get(path.suffix.lower(), "image/png"))


def file_bytes(files: Mapping[str, bytes], path: str) -> bytes:
    """The bytes of a local input the engine read before building (a provider reads no file itself)."""
    try:
        return files[path]
    except KeyError:
        raise ProtocolError(f"The input {Path(path).name} was not read before the request was built; submit the "
                            "job again.") from None


def local_values(model: ModelSpec, inputs: Mapping[str, list[str]], sends: tuple[str, ...]) -> list[str]:
    """The local files (not URLs, not presets) of the model's slots that travel as one of ``sends``."""
    return [value for slot in model.slots if slot.send in sends for value in inputs.get(slot.name) or []
            if not is_url(value) and not value.startswith("preset:")]


_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".png": "image/png", ".mp4": "video/mp4"}
