"""Prompt templates: a prompt with placeholders, filled per job.

The syntax is Python's format-string braces, kept to what a prompt needs:

- ``{animal}`` is a placeholder named ``animal`` (letters, digits and ``_``; not starting with a digit).
  The same name used twice is filled with the same value.
- ``{animal|fox,owl,elk}`` also lists the values a batch runs over by default (separated by commas; blanks around
  them are ignored). The list may be given once for a name; later uses can be plain ``{animal}``.
- ``{{`` and ``}}`` are literal braces.
- Anything else in braces (``{}``, ``{0}``, ``{red fox}``, ``{animal:>10}``, an unclosed ``{``) is refused with a
  plain reason, so a typo never reaches a provider as text.

A single job fills each placeholder with one value (``fill``). A batch runs over a list of values per placeholder
(``expand``): with ``Combine.EVERY`` one job per combination (the cross product: 2 colours × 3 animals are 6
prompts); with ``Combine.PAIRED`` the lists go in step (the first colour with the first animal, …: every list has
as many values, or just one, used for every job). Values typed as text are separated by commas (``parse_values``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InputError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A literal brace, or one placeholder (whatever is inside it, checked after).
TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}")


class TemplateError(InputError):
    """A template that cannot be filled: a malformed placeholder or a missing value. Nothing is sent."""


class Combine(StrEnum):
    """How a batch combines the lists of values of several placeholders."""

    EVERY = "every"  # the cross product: one job per combination
    PAIRED = "paired"  # in step: the first values together, then the second values, …


@dataclass(frozen=True)
class Placeholder:
    """A named hole in a template, with the values the template lists for it (maybe none)."""

    name: str
    values: tuple[str, ...] = ()

    @property
    def token(self) -> str:
        return "{" + self.name + "}"


@dataclass(frozen=True)
class Template:
    """A parsed prompt: literal text and placeholder names, in order."""

    text: str
    parts: tuple[str | Placeholder, ...]
    placeholders: tuple[Placeholder, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.placeholders]


@dataclass(frozen=True)
class Filled:
    """One prompt of a batch over a template, and the values that made it."""

    prompt: str
    values: dict[str, str]


def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and placeholders. Raises TemplateError with a plain reason."""
    parts: list[str | Placeholder] = []
    found: dict[str, Placeholder] = {}
    literal: list[str] = []
    position = 0
    for match in TOKEN.finditer(text):
        literal.append(text[position:match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if token == "{":
            raise TemplateError(f"The prompt has a “{{” that is not closed (at “{_near(text, match.start())}”). "
                                "Placeholders look like {animal}; write {{ for a literal brace.")
        if token == "}":
            raise TemplateError(f"The prompt has a “}}” with no “{{” before it (at “{_near(text, match.start())}”). "
                                "Write }} for a literal brace.")
        placeholder = _placeholder(match.group(1), token)
        known = found.get(placeholder.name)
        if known is not None and placeholder.values and known.values and placeholder.values != known.values:
            raise TemplateError(f"The placeholder {placeholder.token} is given two different lists of values; "
                                "give the list once, like {animal|fox,owl} … {animal}.")
        if known is None or (placeholder.values and not known.values):
            found[placeholder.name] = placeholder
        parts += ["".join(literal), Placeholder(placeholder.name)]
        literal = []
    literal.append(text[position:])
    parts.append("".join(literal))
    return Template(text, tuple(p for p in parts if p != ""), tuple(found.values()))


def _placeholder(inside: str, token: str) -> Placeholder:
    name, bar, listed = inside.partition("|")
    name = name.strip()
    if not name:
        raise TemplateError(f"The prompt has an empty placeholder “{token}”: name it, like {{animal}} "
                            "(or write {{ and }} for literal braces).")
    if NAME.fullmatch(name) is None:
        raise TemplateError(f"“{token}” is not a placeholder name: use letters, digits and _, like {{animal}} or "
                            "{animal|fox,owl}; write {{ and }} for literal braces.")
    values = [v.strip() for v in listed.split(",")] if bar else []
    if any(not v for v in values):
        raise TemplateError(f"The placeholder {{{name}}} lists an empty value: separate values with single "
                            "commas, like {animal|fox,owl}.")
    return Placeholder(name, tuple(dict.fromkeys(values)))


def _near(text: str, index: int, width: int = 24) -> str:
    excerpt = text[index:index + width]
    return excerpt + ("…" if len(text) > index + width else "")


def is_template(text: str) -> bool:
    """True when ``text`` parses and has at least one placeholder."""
    try:
        return bool(parse_template(text).placeholders)
    except TemplateError:
        return False


def fill(template: Template, values: Mapping[str, str]) -> str:
    """The prompt with every placeholder replaced by its value (used as it is). Raises TemplateError when a
    placeholder has no value."""
    for placeholder in template.placeholders:
        if not str(values.get(placeholder.name) or "").strip():
            raise TemplateError(f"Fill in the placeholder {placeholder.token}, or use Batch… to run the prompt "
                                "over several values.")
    return "".join(part if isinstance(part, str) else str(values[part.name]) for part in template.parts)


def parse_values(text: str) -> list[str]:
    """'fox, owl,elk' -> ['fox', 'owl', 'elk'] (blanks and repeats dropped, order kept)."""
    return list(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))


def expand(template: Template, lists: Mapping[str, Sequence[str]], combine: Combine = Combine.EVERY, *,
           limit: int | None = None) -> list[Filled]:
    """Every prompt of a batch over ``template``: ``lists`` gives each placeholder's values (a placeholder left
    out uses the values its template lists). Raises TemplateError when a placeholder has no value, a name is not in
    the template, lists in step differ in length, or there would be more than ``limit`` prompts."""
    stray = [name for name in lists if name not in template.names]
    if stray:
        raise TemplateError(f"{{{stray[0]}}} is not in the template; its placeholders are "
                            f"{', '.join(p.token for p in template.placeholders) or 'none'}.")
    columns: list[list[str]] = []
    for placeholder in template.placeholders:
        values = list(dict.fromkeys(lists.get(placeholder.name) or placeholder.values))
        if not values:
            raise TemplateError(f"Give {placeholder.token} at least one value (separate several with commas).")
        columns.append(values)
    size = math.prod(len(c) for c in columns) if combine == Combine.EVERY else max(map(len, columns), default=1)
    if limit is not None and size > limit:
        raise TemplateError(f"That would be {size:,} prompts; a batch holds at most {limit} jobs. Give fewer values.")
    rows = _rows(template, columns, combine)
    return [Filled(fill(template, dict(zip(template.names, row, strict=True))),
                   dict(zip(template.names, row, strict=True))) for row in rows]


def _rows(template: Template, columns: list[list[str]], combine: Combine) -> list[tuple[str, ...]]:
    if combine == Combine.EVERY:
        return list(itertools.product(*columns))
    lengths = {len(c) for c in columns if len(c) > 1}
    if len(lengths) > 1:
        counted = [f"{p.token} has {len(c)} values" for p, c in zip(template.placeholders, columns, strict=True)
                   if len(c) > 1]
        raise TemplateError("In step, every placeholder needs as many values (or just one): "
                            + " and ".join(counted) + ".")
    size = lengths.pop() if lengths else 1
    return [tuple(c[i] if len(c) > 1 else c[0] for c in columns) for i in range(size)]
