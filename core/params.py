"""Declarative descriptions of providers, models, parameters, input slots and modes.

A provider declares its models as data. The GUI builds its forms from it, the CLI validates ``--param`` against it,
and ``python main.py providers --json`` prints it. Validation here never touches the network or the disk.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.errors import InputError

if TYPE_CHECKING:
    from core.providers.errors import ErrorSpec


class ParamType(StrEnum):
    """The kinds of value a parameter takes."""

    TEXT = "text"  # free text (prompts)
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One request parameter, named by the API's own field name."""

    name: str
    type: ParamType
    label: str
    help: str
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    #: Where the value sits in the request body, dotted (``extra_body.seed``); empty means ``name``.
    path: str = ""
    #: A local option (how to prepare inputs), never sent to the API.
    local: bool = False

    @property
    def body_path(self) -> str:
        return self.path or self.name

    def coerce(self, value: Any) -> Any:
        """Turn a raw value (a CLI string or a widget's value) into the declared type, or raise InputError."""
        if isinstance(value, str) and self.type not in (ParamType.TEXT, ParamType.STRING):
            value = value.strip()
        checker = _COERCERS[self.type]
        result = checker(self, value)
        self._check_limits(result)
        return result

    def _check_limits(self, value: Any) -> None:
        if self.type in (ParamType.INTEGER, ParamType.NUMBER):
            if self.minimum is not None and value < self.minimum:
                raise InputError(f"{self.name} must be at least {_num(self.minimum)} (got {_num(value)}).")
            if self.maximum is not None and value > self.maximum:
                raise InputError(f"{self.name} must be at most {_num(self.maximum)} (got {_num(value)}).")
        if self.type in (ParamType.TEXT, ParamType.STRING):
            if self.max_length is not None and len(value) > self.max_length:
                raise InputError(
                    f"{self.name} is {len(value)} characters long; the limit is {self.max_length}."
                )
            if self.min_length is not None and len(value) < self.min_length:
                raise InputError(f"{self.name} needs at least {self.min_length} character(s).")

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data["choices"] = list(self.choices)
        data["path"] = self.body_path
        return data


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _coerce_text(param: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{param.name} must be text.")
    bad = [ch for ch in value if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]  # C0, DEL, C1
    if bad:
        raise InputError(f"{param.name} contains control characters (such as {bad[0]!r}); remove them.")
    return value


def _coerce_int(param: Param, value: Any) -> int:
    if isinstance(value, bool):
        raise InputError(f"{param.name} must be a whole number, not true/false.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            pass
    raise InputError(f"{param.name} must be a whole number (got {value!r}).")


def _coerce_number(param: Param, value: Any) -> float:
    if isinstance(value, bool):
        raise InputError(f"{param.name} must be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{param.name} must be a number (got {value!r}).") from None
    if not math.isfinite(number):
        raise InputError(f"{param.name} must be a finite number.")
    return number


def _coerce_bool(param: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise InputError(f"{param.name} must be true or false (got {value!r}).")


def _coerce_enum(param: Param, value: Any) -> Any:
    for choice in param.choices:
        if value == choice or str(value) == str(choice):
            return choice
    allowed = ", ".join(str(c) for c in param.choices)
    raise InputError(f"{param.name} must be one of {allowed} (got {value!r}).")


_COERCERS = {
    ParamType.TEXT: _coerce_text,
    ParamType.STRING: _coerce_text,
    ParamType.INTEGER: _coerce_int,
    ParamType.NUMBER: _coerce_number,
    ParamType.BOOLEAN: _coerce_bool,
    ParamType.ENUM: _coerce_enum,
}


class SlotKind(StrEnum):
    """What a slot holds."""

    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class Preset:
    """A ready-made value for a slot (e.g. Novita's demo motion videos)."""

    name: str
    value: str
    help: str = ""
    #: Where the provider's docs show what the preset looks like (a demo clip), or "" when they do not.
    preview_url: str = ""


@dataclass(frozen=True)
class SlotRules:
    """What the API accepts in a slot (the catalog's words; ``core.imaging.ImageRules`` is built from it)."""

    formats: tuple[str, ...] = ("PNG", "JPEG")
    max_bytes: int | None = None
    max_base64_chars: int | None = None
    min_side: int | None = None
    min_short_side: int | None = None
    short_side_exclusive: bool = False
    aspect_min: float | None = None
    aspect_max: float | None = None
    aspect_exclusive: bool = False
    exact_size_param: str = ""  # the WIDTHxHEIGHT parameter the image must match
    fit_param: str = ""  # the local parameter naming crop / pad / scale


@dataclass(frozen=True)
class Slot:
    """An input slot: a local file or URL the user provides (``--image``, ``--last-image``, ...)."""

    name: str  # image | last_image | ref_image | motion_video
    kind: SlotKind
    label: str
    help: str
    field: str  # the API's field, dotted
    max_count: int = 1
    presets: tuple[Preset, ...] = ()
    #: How a local file travels: file-part | data-uri | upload | asset | url-only.
    send: str = "data-uri"
    rules: SlotRules = SlotRules()
    #: Image slots: the most pixels on the shorter side this model can use from the image (the longest side of
    #: the video it renders, so the picture covers the frame in either orientation). Larger images are scaled
    #: down to it unless the person chose to send originals. None: no cap (or the API fixes an exact size).
    max_image_short_side: int | None = None

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data["presets"] = [asdict(p) for p in self.presets]
        data["rules"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.rules).items()}
        return data


@dataclass(frozen=True)
class Mode:
    """A way of using a model, picked from which inputs are filled (text, image, first-last, reference)."""

    name: str
    label: str
    requires: tuple[str, ...] = ()  # slot or parameter names that must be filled
    forbids: tuple[str, ...] = ()  # slot names that must be empty
    fixes: tuple[tuple[str, Any], ...] = ()  # parameter values this mode sets (Veo with an image: seconds "8")

    def matches(self, filled: set[str]) -> bool:
        return all(r in filled for r in self.requires) and not any(f in filled for f in self.forbids)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "requires": list(self.requires),
                "forbids": list(self.forbids), "fixes": dict(self.fixes)}


class LifecycleStatus(StrEnum):
    """Whether a model takes new jobs."""

    AVAILABLE = "available"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


@dataclass(frozen=True)
class Lifecycle:
    """A model's lifecycle: available, deprecated or retired (on a date), with a note saying why."""

    status: LifecycleStatus = LifecycleStatus.AVAILABLE
    date: str | None = None
    note: str = ""

    @property
    def usable(self) -> bool:
        """True when new jobs may be made with the model."""
        return self.status == LifecycleStatus.AVAILABLE

    def describe(self) -> dict[str, Any]:
        return {"status": str(self.status), "date": self.date, "note": self.note}


@dataclass(frozen=True)
class Wire:
    """How a model's create is put on the wire, beside its parameters' and slots' own wire names."""

    model: str = ""  # the model name sent, when it differs from the id
    constants: tuple[tuple[str, Any], ...] = ()  # fixed fields (dotted paths)
    create_path: str = ""  # when the model does not use the provider's usual create path
    encoding: str = "json"  # json | multipart
    poll: str = ""  # the poll/result shape

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "constants": dict(self.constants), "create_path": self.create_path,
                "encoding": self.encoding, "poll": self.poll}


@dataclass(frozen=True)
class ModelSpec:
    """One model of a provider: its parameters, slots and modes."""

    id: str
    label: str
    params: tuple[Param, ...]
    slots: tuple[Slot, ...] = ()
    modes: tuple[Mode, ...] = ()
    help: str = ""
    wire: Wire = Wire()
    lifecycle: Lifecycle = Lifecycle()
    #: A finished video of this model can be remixed with a new prompt (the catalog's ``remix``).
    can_remix: bool = False
    fixed_seconds: float | None = None  # seconds of video when no parameter says
    source_url: str = ""
    source_date: str = ""
    origin: str = ""  # "shipped" or the user's catalog file

    @property
    def sent_model(self) -> str:
        """The model name the API receives."""
        return self.wire.model or self.id

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "help": self.help,
            "params": [p.describe() for p in self.params],
            "slots": [s.describe() for s in self.slots],
            "modes": [m.describe() for m in self.modes],
            "wire": self.wire.describe(),
            "fixed_seconds": self.fixed_seconds,
            "lifecycle": self.lifecycle.describe(),
            "can_remix": self.can_remix,
            "source": {"url": self.source_url, "date": self.source_date},
            "origin": self.origin,
        }


@dataclass(frozen=True)
class ProviderSpec:
    """A provider: identity, where its API lives, how to authenticate, and its models."""

    id: str
    name: str
    models: tuple[ModelSpec, ...]
    default_base_url: str | None
    key_help: str
    docs: str = ""
    #: Other hosts the API uses (setting name -> default URL), e.g. an upload host; each can be set in Settings or
    #: with ``REELDECK_<ID>_<NAME>``.
    extra_endpoints: dict[str, str] = field(default_factory=dict)
    #: Where the key goes: the header's name and what precedes the key in it (``Authorization: Bearer <key>``).
    auth_header: str = "Authorization"
    auth_prefix: str = "Bearer "
    #: Choices besides URLs (option name -> (default, allowed values)), e.g. a gateway's request dialect.
    options: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Where its error answers hold the message and code, and the rules that word them its own way
    #: (``core/providers/errors.py``); None: every error answer is worded plainly.
    errors: ErrorSpec | None = None

    def auth_headers(self, key: str) -> dict[str, str]:
        """The header carrying ``key`` as this API documents it."""
        return {self.auth_header: f"{self.auth_prefix}{key}"}

    def model(self, model_id: str) -> ModelSpec:
        for model in self.models:
            if model.id == model_id:
                return model
        known = ", ".join(m.id for m in self.models)
        raise InputError(f"{self.name} has no model {model_id!r}. Known models: {known}.")

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "default_base_url": self.default_base_url,
            "key_help": self.key_help,
            "docs": self.docs,
            "models": [m.describe() for m in self.models],
        }


@dataclass(frozen=True)
class ValidatedInput:
    """The outcome of validation: typed parameter values, inputs per slot and the mode."""

    params: dict[str, Any]
    inputs: dict[str, list[str]]
    mode: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, as data: what kind (``code``), which field (a parameter or an input slot)
    and the values involved. Each front end words it its own way (``Problem.words``): the CLI names flags and
    parameter names, the form the labels people see."""

    code: str  # unknown_param | invalid_value | required | unknown_input | too_many | no_mode | mode_fixes
    field: str = ""
    #: For ``invalid_value``: what is wrong, in the CLI's words ("seed must be at least 0 (got -1).").
    detail: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    def value(self, key: str) -> Any:
        return dict(self.values).get(key)

    def words(self, model: ModelSpec, name: Callable[[str], str] | None = None) -> str:
        """The problem in words; ``name`` turns a field into what the reader knows it by (default: the CLI's —
        parameter names as they are, inputs as ``--flags``)."""
        flag = name or _flag
        param = name or (lambda field: field)
        if self.code == "unknown_param":
            return f"{model.id} has no parameter {self.field!r}. Known parameters: {self.value('known')}."
        if self.code == "invalid_value":
            rest = self.detail.removeprefix(self.field)
            return f"{param(self.field)}{rest}" if rest != self.detail else self.detail
        if self.code == "required":
            return f"{param(self.field)} is required for {model.id}."
        if self.code == "unknown_input":
            return f"{model.id} takes no {flag(self.field)} input."
        if self.code == "too_many":
            return f"{self.value('label')}: at most {self.value('most')} allowed (got {self.value('got')})."
        if self.code == "mode_fixes":
            return (f"In {self.value('mode')} mode {model.id} makes {param(self.field)} {self.value('fixed')} "
                    f"(got {self.value('got')}).")
        return _explain_no_mode(model, flag)


class RequestProblems(InputError):
    """A request that does not fit its model: every problem as data (``problems``), worded for the CLI."""

    def __init__(self, model: ModelSpec, problems: list[Problem]) -> None:
        super().__init__(" ".join(problem.words(model) for problem in problems))
        self.model = model
        self.problems = problems

    def words(self, name: Callable[[str], str]) -> str:
        """Every problem, with fields named by ``name`` (the form: labels)."""
        return " ".join(problem.words(self.model, name) for problem in self.problems)


def validate(
    model: ModelSpec, raw_params: dict[str, Any], inputs: dict[str, list[str]]
) -> ValidatedInput:
    """Check parameters and inputs against a model; every problem goes into one RequestProblems."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name, raw in raw_params.items():
        param = model.param(name)
        if param is None:
            known = ", ".join(p.name for p in model.params)
            problems.append(Problem("unknown_param", name, values=(("known", known),)))
            continue
        try:
            values[name] = param.coerce(raw)
        except InputError as exc:
            problems.append(Problem("invalid_value", name, exc.message))
    for param in model.params:
        if name_missing(param, values) and param.required:
            problems.append(Problem("required", param.name))
    clean_inputs = {k: list(v) for k, v in inputs.items() if v}
    problems += _check_slots(model, clean_inputs)
    mode = _pick_mode(model, values, clean_inputs, problems)
    problems += _apply_fixes(model, mode, values)
    if problems:
        raise RequestProblems(model, problems)
    return ValidatedInput(values, clean_inputs, mode)


def _apply_fixes(model: ModelSpec, mode_name: str, values: dict[str, Any]) -> list[Problem]:
    """Set the values the chosen mode fixes; a different value asked for is a problem."""
    mode = next((m for m in model.modes if m.name == mode_name), None)
    problems: list[Problem] = []
    if mode is None:
        return problems
    for name, fixed in mode.fixes:
        if name in values and str(values[name]) != str(fixed):
            problems.append(Problem("mode_fixes", name, values=(("mode", mode.label.lower()), ("fixed", fixed),
                                                                 ("got", values[name]))))
        values[name] = fixed
    return problems


def name_missing(param: Param, values: dict[str, Any]) -> bool:
    value = values.get(param.name)
    return value is None or (isinstance(value, str) and not value.strip())


def _check_slots(model: ModelSpec, inputs: dict[str, list[str]]) -> list[Problem]:
    problems = []
    for name, items in inputs.items():
        slot = model.slot(name)
        if slot is None:
            problems.append(Problem("unknown_input", name))
        elif len(items) > slot.max_count:
            problems.append(Problem("too_many", name, values=(("label", slot.label), ("most", slot.max_count),
                                                              ("got", len(items)))))
    return problems


def _pick_mode(
    model: ModelSpec, values: dict[str, Any], inputs: dict[str, list[str]], problems: list[Problem]
) -> str:
    if not model.modes:
        return "default"
    filled = {k for k, v in values.items() if not (isinstance(v, str) and not v.strip())} | set(inputs)
    for mode in model.modes:
        if mode.matches(filled):
            return mode.name
    problems.append(Problem("no_mode", values=(("filled", tuple(sorted(filled))),)))
    return ""


def _explain_no_mode(model: ModelSpec, name: Callable[[str], str]) -> str:
    options = []
    for mode in model.modes:
        need = " + ".join(name(r) for r in mode.requires) or "nothing else"
        extra = f" (without {', '.join(name(f) for f in mode.forbids)})" if mode.forbids else ""
        options.append(f"{mode.label}: {need}{extra}")
    return f"These inputs don't form a valid request for {model.id}. Valid combinations: " + "; ".join(options) + "."


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
