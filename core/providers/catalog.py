"""The catalog as the rest of the core sees it: each provider's models as ``ModelSpec``, shipped and the user's.

``core.catalog`` reads and checks the TOML files; this module turns entries into the declaration types the form,
the CLI, cost estimates and the clients use, and keeps the loaded catalog until a file changes. The user's files
live in ``catalog/`` in the data dir (``REELDECK_HOME``).
"""

from __future__ import annotations

import threading
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

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], tuple[data.Catalog, dict[str, tuple[ModelSpec, ...]]]] = {}


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


def _loaded() -> tuple[data.Catalog, dict[str, tuple[ModelSpec, ...]]]:
    folders = (data.SHIPPED_DIR, user_catalog_dir())
    key = tuple(_signature(folder) for folder in folders)
    with _lock:
        if key not in _cache:
            _cache.clear()
            loaded = data.load(folders[0], folders[1:])
            specs = {pid: tuple(model_spec(m) for m in loaded.for_provider(pid)) for pid in data.PROVIDERS}
            _cache[key] = (loaded, specs)
        return _cache[key]


def _signature(folder: Path) -> tuple[Any, ...]:
    try:
        return (str(folder), *sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                                     for p in folder.iterdir() if p.suffix == ".toml"))
    except OSError:
        return (str(folder),)


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
        presets=tuple(Preset(p.name, p.value, p.help) for p in entry.presets),
        send=entry.send,
        rules=rules,
    )
