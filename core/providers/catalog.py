"""The catalog as the rest of the core sees it: each provider's models as ``ModelSpec``, shipped and the user's.

``core.catalog`` reads and checks the TOML files; this module turns entries into the declaration types the form,
the CLI, cost estimates and the clients use, and keeps the loaded catalog until a file changes. The user's files
live in ``catalog/`` in the data dir (``REELDECK_HOME``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from core import catalog as data
from core.params import (
    Lifecycle,
    LifecycleStatus,
    Mode,
    ModelSpec,
    Param,
    ParamType,
    Preset,
    Slot,
    SlotKind,
    SlotRules,
    Wire,
)
from core.paths import DataDir

log = logging.getLogger(__name__)
_lock = threading.Lock()
#: Catalog files of providers registered at run time (``core.providers.register``), by provider id.
_provider_files: dict[str, Path] = {}
_cache: dict[tuple[Any, ...], tuple[data.Catalog, dict[str, tuple[ModelSpec, ...]]]] = {}
#: The window reads models per painted cell: there the files are looked at no more than once per this many seconds
#: (``check_files_at_most_every``); 0 (the CLI, tests) looks at them on every read.
_recheck_seconds = 0.0
#: The last look at the files: (REELDECK_HOME as it was, when, the cache key it found).
_last_look: tuple[str | None, float, tuple[Any, ...]] | None = None
_clock = time.monotonic


def check_files_at_most_every(seconds: float) -> None:
    """Look for changed catalog files at most once per ``seconds`` (0: on every read). The window sets it: one
    look costs a directory listing and a ``stat`` per file, and a painted row reads a model several times. Files
    written through this module (``add_user_model``) are seen at once whatever the interval."""
    global _recheck_seconds, _last_look
    with _lock:
        _recheck_seconds = max(0.0, seconds)
        _last_look = None


def user_catalog_dir() -> Path:
    """Where the user's catalog files live: ``catalog/`` in the data dir."""
    return DataDir.from_env().root / "catalog"


def current() -> data.Catalog:
    """The loaded catalog (shipped + the user's files), reloaded when a file changes."""
    return _loaded()[0]


def models_for(provider_id: str) -> tuple[ModelSpec, ...]:
    """A provider's models in catalog order."""
    return _loaded()[1].get(provider_id, ())


def problems() -> list[data.CatalogProblem]:
    """Catalog files that could not be used, with file, line and reason."""
    return list(current().problems)


def add_provider_file(provider_id: str, path: Path) -> None:
    """Load ``path`` as the catalog of a provider registered at run time."""
    with _lock:
        _provider_files[provider_id] = path
        _cache.clear()


def remove_provider_file(provider_id: str) -> None:
    with _lock:
        _provider_files.pop(provider_id, None)
        _cache.clear()


def _loaded() -> tuple[data.Catalog, dict[str, tuple[ModelSpec, ...]]]:
    global _last_look
    home, now = os.environ.get("REELDECK_HOME"), _clock()
    look = _last_look
    if look is not None and look[0] == home and now - look[1] < _recheck_seconds:
        found = _cache.get(look[2])
        if found is not None:
            return found
    folders = (data.SHIPPED_DIR, user_catalog_dir())
    with _lock:
        extra = dict(_provider_files)
        key = (*(data.folder_signature(folder) for folder in folders),
               *sorted((pid, str(p)) for pid, p in extra.items()))
        if key not in _cache:
            _cache.clear()
            loaded = data.load(folders[0], folders[1:], provider_files=extra)
            for problem in loaded.problems:
                log.warning("catalog file skipped: %s", problem)
            specs = {pid: tuple(model_spec(m) for m in loaded.for_provider(pid)) for pid in (*data.PROVIDERS, *extra)}
            _cache[key] = (loaded, specs)
        _last_look = (home, now, key)
        return _cache[key]


def model_spec(loaded: data.LoadedModel) -> ModelSpec:
    """One catalog entry as the declaration the form and the clients read."""
    entry = loaded.entry
    return ModelSpec(
        id=entry.id,
        label=entry.label,
        help=entry.help,
        params=tuple(_param(p) for p in entry.params),
        slots=tuple(_slot(s) for s in entry.slots),
        modes=tuple(Mode(m.name, m.label, tuple(m.requires), tuple(m.forbids), tuple(m.fixes.items()))
                    for m in entry.modes),
        wire=Wire(entry.wire_model, tuple(entry.constants.items()), entry.create_path, entry.encoding, entry.poll),
        lifecycle=Lifecycle(LifecycleStatus(entry.lifecycle.status), entry.lifecycle.date, entry.lifecycle.note),
        can_remix=entry.remix,
        fixed_seconds=entry.fixed_seconds,
        source_url=entry.source.url if entry.source else "",
        source_date=entry.source.date if entry.source else "",
        origin=loaded.origin,
    )


def _param(entry: data.ParamEntry) -> Param:
    return Param(
        name=entry.name,
        type=ParamType(entry.type),
        label=entry.label,
        help=entry.help,
        default=entry.default,
        required=entry.required,
        choices=tuple(entry.choices),
        minimum=entry.minimum,
        maximum=entry.maximum,
        min_length=entry.min_length,
        max_length=entry.max_length,
        path="" if entry.wire == entry.name else entry.wire,
        local=entry.local,
    )


def _slot(entry: data.SlotEntry) -> Slot:
    rules = SlotRules(
        formats=tuple(entry.formats),
        max_bytes=entry.max_bytes,
        max_base64_chars=entry.max_base64_chars,
        min_side=entry.min_side,
        min_short_side=entry.min_short_side,
        short_side_exclusive=entry.short_side_exclusive,
        aspect_min=entry.aspect_min,
        aspect_max=entry.aspect_max,
        aspect_exclusive=entry.aspect_exclusive,
        exact_size_param=entry.exact_size_param,
        fit_param=entry.fit_param,
    )
    return Slot(
        name=entry.name,
        kind=SlotKind(entry.kind),
        label=entry.label,
        help=entry.help,
        field=entry.wire,
        max_count=entry.max_count,
        presets=tuple(Preset(p.name, p.value, p.help, p.preview_url) for p in entry.presets),
        send=entry.send,
        rules=rules,
        max_image_short_side=entry.max_image_short_side,
    )


#: Providers whose create is OpenAI-shaped enough that an id and the common fields make a usable model.
OPENAI_SHAPED = ("aihubmix", "gateway")


def add_user_model(provider_id: str, model_id: str, label: str, *, seconds: tuple[str, ...] = (),
                   sizes: tuple[str, ...] = (), with_image: bool = False, folder: Path | None = None) -> Path:
    """Write a user catalog file declaring a model of an OpenAI-shaped endpoint (``OPENAI_SHAPED``): a prompt, and
    the lengths, sizes and first-frame image the user says it takes. Checked like any catalog file before it is
    kept (``InputError`` naming the problem; nothing written)."""
    from core.errors import InputError

    if provider_id not in OPENAI_SHAPED:
        raise InputError(f"Models can be added this way for {', '.join(OPENAI_SHAPED)} only.")
    target_dir = folder or user_catalog_dir()
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_id)
    target = target_dir / f"user-{provider_id}-{stem}.toml"
    text = _user_model_toml(provider_id, model_id, label, seconds, sizes, with_image)
    staging = target.with_suffix(".toml.new")
    target_dir.mkdir(parents=True, exist_ok=True)
    staging.write_text(text, encoding="utf-8")
    try:
        data.read_file(staging)
    except data.CatalogFileError as exc:
        staging.unlink(missing_ok=True)
        raise InputError(f"This model cannot be added: {exc.problem.reason}") from None
    staging.replace(target)
    with _lock:
        _cache.clear()  # seen at once, however seldom the files are looked at
    return target


def _user_model_toml(provider_id: str, model_id: str, label: str, seconds: tuple[str, ...], sizes: tuple[str, ...],
                     with_image: bool) -> str:
    import json
    import time

    gateway = provider_id == "gateway"
    lines = [f"provider = {json.dumps(provider_id)}", "", "[[models]]", f"id = {json.dumps(model_id)}",
             f"label = {json.dumps(label or model_id)}", 'help = "Added in Reeldeck (Add a model…)."',
             f'poll = "{"gateway-task" if gateway else "openai-video"}"',
             *([] if gateway else ['encoding = "multipart"']),
             f'source = {{ url = "your own entry", date = "{time.strftime("%Y-%m-%d")}" }}',
             "  [[models.params]]", '  name = "prompt"', '  type = "text"', '  label = "Prompt"', "  required = true",
             "  min_length = 1"]
    length = "duration" if gateway else "seconds"
    if seconds:
        choices = [int(s) for s in seconds] if gateway else list(seconds)
        lines += ["  [[models.params]]", f'  name = "{length}"', '  type = "enum"', '  label = "Length (s)"',
                  f"  default = {json.dumps(choices[0])}", f"  choices = {json.dumps(choices)}"]
    if sizes:
        lines += ["  [[models.params]]", '  name = "size"', '  type = "enum"', '  label = "Size"',
                  f"  default = {json.dumps(sizes[0])}", f"  choices = {json.dumps(list(sizes))}"]
    if with_image:
        lines += ["  [[models.slots]]", '  name = "image"', '  label = "First frame"', '  help = "The first frame."',
                  f'  wire = "{"image" if gateway else "input_reference"}"',
                  f'  send = "{"data-uri" if gateway else "file-part"}"', '  formats = ["PNG", "JPEG", "WEBP"]']
    return "\n".join(lines) + "\n"
