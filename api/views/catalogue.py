"""Plain views of catalogue rows, rendered as JSON by both the CLI and the API."""

from __future__ import annotations

from archive.values import AccessLevel


def level_label(level: int | None) -> str | None:
    return None if level is None else AccessLevel(level).label
