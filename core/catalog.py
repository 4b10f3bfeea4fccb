"""The model catalog: every model a provider serves, as data, read from TOML files and checked against a schema.

One file per provider ships in ``resources/catalog/``; files in the data dir's ``catalog/`` add models or override
shipped ones by id. A file that does not parse or does not fit the schema is reported (file, line, reason) and
skipped; the others still load. This module is pure data: it imports nothing else of Reeldeck, so the sandbox can
read the same declarations the clients use (``core.providers.catalog`` turns entries into the form's types).
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

#: The folder of the catalogs that ship with the app.
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "resources" / "catalog"
PROVIDERS = ("goapi", "aimlapi", "aihubmix", "gateway", "novita")
ORIGIN_SHIPPED = "shipped"
_ID = r"[A-Za-z0-9][A-Za-z0-9._/:+-]{0,127}"
_WIRE = r"[A-Za-z_][A-Za-z0-9_\[\]]*(\.[A-Za-z_][A-Za-z0-9_\[\]]*)*"
_DATE = r"\d{4}-\d{2}-\d{2}"
_DEFAULT_FORMATS: tuple[Literal["PNG", "JPEG", "WEBP"], ...] = ("PNG", "JPEG")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceEntry(_Strict):
    """Where a fact was read, and when."""

    url: str = Field(min_length=1)
    date: str = Field(pattern=_DATE)


class LifecycleEntry(_Strict):
    """Whether a model can be used for new jobs."""

    status: Literal["available", "deprecated", "retired"] = "available"
    date: str | None = Field(default=None, pattern=_DATE)
    note: str = ""


class ParamEntry(_Strict):
    """One parameter: its type, limits and where its value goes on the wire."""

    name: str = Field(pattern=r"[a-z][a-z0-9_]*")
    type: Literal["text", "string", "integer", "number", "boolean", "enum"]
    label: str = Field(min_length=1)
    help: str = ""
    default: Any = None
    required: bool = False
    choices: list[Any] = Field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    #: Where the value goes: a dotted path (``extra_body.seed`` is a nested object); in a multipart create, the
    #: part's name. Default: the parameter's name.
    wire: str = Field(default="", pattern=f"^({_WIRE})?$")
    #: A local option (how inputs are prepared): never sent.
    local: bool = False

    @model_validator(mode="after")
    def _enum_has_choices(self) -> ParamEntry:
        if self.type == "enum" and not self.choices:
            raise ValueError(f"parameter {self.name!r} is an enum but lists no choices")
        if self.type == "enum" and self.default is not None and self.default not in self.choices:
            raise ValueError(f"parameter {self.name!r}: default {self.default!r} is not one of its choices")
        return self


class PresetEntry(_Strict):
    """A ready-made value for a slot."""

    name: str = Field(min_length=1)
    value: str = Field(min_length=1)
    help: str = ""
    preview_url: str = Field(default="", pattern=r"^(https://\S+)?$")


class SlotEntry(_Strict):
    """An input slot: which files it takes and how a local file travels."""

    name: Literal["image", "last_image", "ref_image", "motion_video"]
    kind: Literal["image", "video"] = "image"
    label: str = Field(min_length=1)
    help: str = ""
    wire: str = Field(pattern=f"^{_WIRE}$")
    max_count: int = Field(default=1, ge=1, le=16)
    #: How a local file is sent: ``file-part`` (a multipart part), ``data-uri`` (inline base64), ``upload`` (the
    #: provider's upload host, then its URL), ``asset`` (the provider's asset host, then its id), ``url-only`` (a
    #: URL is required: local files are refused).
    send: Literal["file-part", "data-uri", "upload", "asset", "url-only"] = "data-uri"
    formats: list[Literal["PNG", "JPEG", "WEBP"]] = Field(default_factory=lambda: list(_DEFAULT_FORMATS))
    max_bytes: int | None = Field(default=None, ge=1)
    max_base64_chars: int | None = Field(default=None, ge=1)
    min_side: int | None = Field(default=None, ge=1)
    min_short_side: int | None = Field(default=None, ge=1)
    short_side_exclusive: bool = False
    aspect_min: float | None = Field(default=None, gt=0)
    aspect_max: float | None = Field(default=None, gt=0)
    aspect_exclusive: bool = False
    #: The parameter (``WIDTHxHEIGHT``) whose value the image must match exactly (Sora's ``size``).
    exact_size_param: str = ""
    #: The local parameter naming how an image is fitted (crop / pad / scale).
    fit_param: str = ""
    #: The most pixels on an image's shorter side the model can use (the longest side of the video it renders);
    #: larger images are scaled down to it unless the person sends originals. Unset: no cap.
    max_image_short_side: int | None = Field(default=None, ge=64)
    presets: list[PresetEntry] = Field(default_factory=list)


class ModeEntry(_Strict):
    """A way of using a model, chosen by which inputs are filled."""

    name: str = Field(pattern=r"[a-z][a-z0-9_]*")
    label: str = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    forbids: list[str] = Field(default_factory=list)
    #: Parameter values this mode fixes (Veo 3.1 with a first frame: ``seconds = "8"``).
    fixes: dict[str, Any] = Field(default_factory=dict)


class PriceEntry(_Strict):
    """What the model costs, with where the price was read."""

    unit: Literal["second", "video"]
    usd: float = Field(ge=0)
    source: str = Field(min_length=1)
    as_of: str = Field(pattern=_DATE)
    condition: str = ""


class ModelEntry(_Strict):
    """One model as its catalog declares it."""

    id: str = Field(pattern=f"^{_ID}$")
    label: str = Field(min_length=1)
    help: str = ""
    #: The model name sent on the wire when it differs from ``id``.
    wire_model: str = ""
    #: Constant fields of every create (dotted paths), e.g. GoAPI's ``task_type``.
    constants: dict[str, Any] = Field(default_factory=dict)
    #: The create's path when the model does not use the provider's usual one.
    create_path: str = Field(default="", pattern=r"^(/[A-Za-z0-9._~/{}:-]*)?$")
    #: How the create body is encoded.
    encoding: Literal["json", "multipart"] = "json"
    #: The poll/result shape this model answers in (each provider's client knows its shapes).
    poll: str = Field(default="", pattern=r"^[a-z0-9-]*$")
    #: Seconds of video when no parameter says (``seconds`` / ``duration`` do when present).
    fixed_seconds: float | None = Field(default=None, gt=0)
    params: list[ParamEntry] = Field(default_factory=list)
    slots: list[SlotEntry] = Field(default_factory=list)
    modes: list[ModeEntry] = Field(default_factory=list)
    prices: list[PriceEntry] = Field(default_factory=list)
    source: SourceEntry | None = None
    lifecycle: LifecycleEntry = Field(default_factory=LifecycleEntry)
    #: True when a finished video of this model can be remixed with a new prompt (the provider's remix call, e.g.
    #: the OpenAI videos API's ``POST /v1/videos/{video_id}/remix`` for Sora). Name the source in a comment above.
    remix: bool = False

    @model_validator(mode="after")
    def _names_resolve(self) -> ModelEntry:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.id!r} declares a parameter twice")
        known = set(names) | {s.name for s in self.slots}
        for mode in self.modes:
            unknown = [n for n in (*mode.requires, *mode.forbids, *mode.fixes) if n not in known]
            if unknown:
                raise ValueError(f"model {self.id!r}, mode {mode.name!r}: {', '.join(unknown)} is neither a "
                                 "parameter nor a slot of this model")
        for slot in self.slots:
            for name in (slot.exact_size_param, slot.fit_param):
                if name and name not in names:
                    raise ValueError(f"model {self.id!r}, slot {slot.name!r}: no parameter {name!r}")
        return self

    @property
    def sent_model(self) -> str:
        return self.wire_model or self.id


class CatalogFile(_Strict):
    """One catalog file: a provider's models (or some of them, in a user's file)."""

    #: A shipped provider's id, or one registered at run time (``core.providers.register``).
    provider: str
    #: Defaults for every model in the file that does not say otherwise.
    source: SourceEntry | None = None
    models: list[ModelEntry] = Field(min_length=1)

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, provider: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("providers", PROVIDERS)
        if provider not in known:
            raise ValueError(f"unknown provider {provider!r} (known: {', '.join(known)})")
        return provider

    @field_validator("models")
    @classmethod
    def _unique_ids(cls, models: list[ModelEntry]) -> list[ModelEntry]:
        ids = [m.id for m in models]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"model id {twice[0]!r} is declared twice in this file")
        return models


@dataclass(frozen=True)
class CatalogProblem:
    """A catalog file that could not be used: where and why."""

    file: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class LoadedModel:
    """A model entry with the provider it belongs to and the file it came from."""

    provider: str
    entry: ModelEntry
    origin: str  # "shipped" or the user's file path
    file: Path


@dataclass
class Catalog:
    """Every usable model, by provider, in file order; user files override shipped models with the same id."""

    models: dict[str, list[LoadedModel]] = field(default_factory=dict)
    problems: list[CatalogProblem] = field(default_factory=list)

    def for_provider(self, provider: str) -> list[LoadedModel]:
        return list(self.models.get(provider, []))

    def find(self, provider: str, model_id: str) -> LoadedModel | None:
        return next((m for m in self.models.get(provider, []) if m.entry.id == model_id), None)

    def add(self, loaded: LoadedModel) -> None:
        entries = self.models.setdefault(loaded.provider, [])
        for index, existing in enumerate(entries):
            if existing.entry.id == loaded.entry.id:
                entries[index] = loaded
                return
        entries.append(loaded)


def read_file(path: Path, providers: tuple[str, ...] = PROVIDERS) -> CatalogFile:
    """Parse and check one catalog file (``providers``: the ids it may name); raises CatalogFileError with the line
    and the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(path, None, f"cannot be read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise CatalogFileError(path, line, f"is not valid TOML: {exc}") from None
    try:
        return CatalogFile.model_validate(_with_file_defaults(data), context={"providers": providers})
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error.get("loc", ()))
        where = ".".join(str(part) for part in location) or "the file"
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        raise CatalogFileError(path, _line_of(text, location), f"{where}: {reason}") from None


class CatalogFileError(Exception):
    """A catalog file that cannot be used."""

    def __init__(self, file: Path, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.problem = CatalogProblem(file, line, reason)


def load(shipped_dir: Path = SHIPPED_DIR, user_dirs: Iterable[Path] = (),
         provider_files: Mapping[str, Path] | None = None) -> Catalog:
    """The shipped catalogs (and those of providers registered at run time, ``provider_files``), then the user's
    files on top (sorted by name). Broken files are reported and skipped."""
    catalog = Catalog()
    providers = (*PROVIDERS, *(provider_files or {}))
    sources = [(path, ORIGIN_SHIPPED) for path in _toml_files(shipped_dir)]
    sources += [(path, ORIGIN_SHIPPED) for path in (provider_files or {}).values()]
    for folder in user_dirs:
        sources += [(path, str(path)) for path in _toml_files(folder)]
    for path, origin in sources:
        try:
            parsed = read_file(path, providers)
        except CatalogFileError as exc:
            catalog.problems.append(exc.problem)
            continue
        for entry in parsed.models:
            catalog.add(LoadedModel(parsed.provider, entry, origin, path))
    return catalog


def folder_signature(folder: Path) -> tuple[Any, ...]:
    """What changes when a catalog file in ``folder`` is added, removed or rewritten: names, times and sizes."""
    try:
        entries = []
        for path in folder.iterdir():
            if path.suffix == ".toml":
                info = path.stat()
                entries.append((path.name, info.st_mtime_ns, info.st_size))
        return (str(folder), *sorted(entries))
    except OSError:
        return (str(folder),)


_memo: dict[tuple[Any, ...], Catalog] = {}
_memo_lock = threading.Lock()


def load_current(shipped_dir: Path = SHIPPED_DIR, user_dirs: Iterable[Path] = (),
                 provider_files: Mapping[str, Path] | None = None) -> Catalog:
    """``load``, read again only when a file changed (the files are checked on every call, parsed only then)."""
    folders = (shipped_dir, *user_dirs)
    files = dict(provider_files or {})
    key = (*(folder_signature(f) for f in folders),
           *sorted((pid, str(path), _file_signature(path)) for pid, path in files.items()))
    with _memo_lock:
        cached = _memo.get(key)
    if cached is not None:
        return cached
    loaded = load(shipped_dir, tuple(user_dirs), provider_files=files)
    with _memo_lock:
        if len(_memo) > 16:  # folders of earlier runs or tests
            _memo.clear()
        _memo[key] = loaded
    return loaded


def _file_signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
        return (info.st_mtime_ns, info.st_size)
    except OSError:
        return None


def _toml_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())
    except OSError:
        return []


def _with_file_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """Give each model the file's ``source`` when it names none of its own."""
    source = data.get("source")
    models = data.get("models")
    if source is None or not isinstance(models, list):
        return data
    filled = [dict(m, source=m.get("source", source)) if isinstance(m, dict) else m for m in models]
    return dict(data, models=filled)


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _line_of(text: str, location: tuple[Any, ...]) -> int | None:
    """The line of the table an error points into: the n-th ``[[models]]``, then its n-th sub-table."""
    lines = text.splitlines()
    if len(location) < 2 or location[0] != "models" or not isinstance(location[1], int):
        key = str(location[0]) if location else ""
        return _first_line(lines, 0, rf"^\s*{re.escape(key)}\s*=") if key else None
    start = _nth_line(lines, 0, _MODEL_HEADER, location[1], within_model=False)
    if start is None:
        return _first_line(lines, 0, r"^\s*models\s*=")
    if len(location) >= 4 and isinstance(location[3], int):
        table = rf"^\s*\[\[\s*models\.{re.escape(str(location[2]))}\s*\]\]"
        sub = _nth_line(lines, start, table, location[3], within_model=True)
        return (sub if sub is not None else start) + 1
    if len(location) >= 3:
        found = _first_line(lines, start, rf"^\s*{re.escape(str(location[2]))}\s*=", stop=r"^\s*\[")
        return found if found is not None else start + 1
    return start + 1


_MODEL_HEADER = r"^\s*\[\[\s*models\s*\]\]"


def _nth_line(lines: list[str], start: int, pattern: str, index: int, *, within_model: bool) -> int | None:
    """The 0-based index of the ``index``-th line matching ``pattern`` from ``start`` (``within_model``: before
    the next ``[[models]]``)."""
    seen = -1
    for number in range(start, len(lines)):
        if within_model and number > start and re.match(_MODEL_HEADER, lines[number]):
            break
        if re.match(pattern, lines[number]):
            seen += 1
            if seen == index:
                return number
    return None


def _first_line(lines: list[str], start: int, pattern: str, stop: str | None = None) -> int | None:
    for number in range(start, len(lines)):
        if stop and number > start and re.match(stop, lines[number]):
            return None
        if re.match(pattern, lines[number]):
            return number + 1
    return None
