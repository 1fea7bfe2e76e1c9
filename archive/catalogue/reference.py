"""Reference codes (档号) from a per-fonds template, e.g. `{fonds}-{year}-{retention}-{item:04d}`."""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from typing import Literal

from archive.errors import BadTemplate, InvalidInput

PLACEHOLDERS = ("fonds", "series", "box", "year", "retention", "item")  # in the order a code usually has them
FIELDS = frozenset(PLACEHOLDERS)


@dataclass(frozen=True)
class ReferenceParts:
    fonds: str
    series: str
    box: str
    year: int
    retention: str
    item: int


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template cannot be used: `kind` is malformed, unknown_field, no_item or unfillable (stable values a
    client may translate); `names` the unknown fields; `message` says it in English."""

    kind: Literal["malformed", "unknown_field", "no_item", "unfillable"]
    names: tuple[str, ...]
    message: str


EXAMPLE = ReferenceParts("F", "WS", "3", 2024, "Y30", 12)  # what a template is filled with to show what it makes


def example_parts(fonds: str) -> ReferenceParts:
    """The example parts of a fonds' item (series WS, box 3, 2024, Y30, item 12)."""
    return replace(EXAMPLE, fonds=fonds)


def template_problem(template: str, parts: ReferenceParts = EXAMPLE) -> TemplateProblem | None:
    """What is wrong with a template (None: nothing): unknown fields, no `{item}`, or `parts` cannot fill it."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return TemplateProblem("malformed", (), f"reference template {template!r} is malformed: {exc}")
    unknown = tuple(sorted(names - FIELDS))
    if unknown:
        allowed = ", ".join(sorted(FIELDS))
        return TemplateProblem(
            "unknown_field", unknown, f"reference template {template!r} uses {', '.join(unknown)}; allowed: {allowed}"
        )
    if "item" not in names:
        return TemplateProblem(
            "no_item", (), f"reference template {template!r} must contain {{item}} so that codes are unique"
        )
    try:
        render(template, parts)
    except InvalidInput as exc:
        return TemplateProblem("unfillable", (), exc.message)
    return None


def check_template(template: str) -> str:
    """Refuse a template that names unknown fields or cannot tell items apart (no `{item}`)."""
    problem = template_problem(template)
    if problem is not None:
        reason = {
            "malformed": BadTemplate.MALFORMED,
            "unknown_field": BadTemplate.UNKNOWN_FIELD,
            "no_item": BadTemplate.NO_ITEM,
            "unfillable": BadTemplate.UNFILLABLE,
        }[problem.kind]
        named = {"names": ", ".join(problem.names), "allowed": ", ".join(sorted(FIELDS))}
        raise BadTemplate(problem.message, reason, named if reason.params else None)
    return template


def render(template: str, parts: ReferenceParts) -> str:
    try:
        return template.format(
            fonds=parts.fonds,
            series=parts.series,
            box=parts.box,
            year=parts.year,
            retention=parts.retention,
            item=parts.item,
        )
    except (ValueError, KeyError, IndexError) as exc:
        raise InvalidInput(f"reference template {template!r} cannot be filled: {exc}") from exc
