"""Reference codes (档号) from a per-fonds template, e.g. `{fonds}-{year}-{retention}-{item:04d}`."""

from __future__ import annotations

import string
from dataclasses import dataclass

from archive.errors import InvalidInput

FIELDS = frozenset({"fonds", "series", "box", "year", "retention", "item"})


@dataclass(frozen=True)
class ReferenceParts:
    fonds: str
    series: str
    box: str
    year: int
    retention: str
    item: int


def check_template(template: str) -> str:
    """Refuse a template that names unknown fields or cannot tell items apart (no `{item}`)."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise InvalidInput(f"reference template {template!r} is malformed: {exc}") from exc
    unknown = names - FIELDS
    if unknown:
        raise InvalidInput(
            f"reference template {template!r} uses {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(FIELDS))}"
        )
    if "item" not in names:
        raise InvalidInput(f"reference template {template!r} must contain {{item}} so that codes are unique")
    render(template, ReferenceParts("F", "S", "B", 2000, "Y30", 1))
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
