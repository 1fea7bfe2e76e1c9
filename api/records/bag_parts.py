"""What a BagIt export reads from the catalogue in one session and writes after it closes (plain values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.models import ObjectEvent


@dataclass(frozen=True)
class BagFile:
    """One object to copy: where it goes in the bag, and what the catalogue says its bytes hash to."""

    path: str  # relative to the bag root, e.g. data/F-2025-Y30-0001/access.pdf
    key: str
    sha256: str
    role: str
    size: int
    media_type: str
    page: int | None


@dataclass
class BagDocument:
    """A document's metadata row and its files, read in one session and used after it closes."""

    row: dict[str, Any]
    page_count: int
    files: list[BagFile] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # event_row()s, oldest first


def event_row(event: ObjectEvent) -> dict[str, Any]:
    """One preservation event as plain values (archive.history), for premis.xml and documents.json."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "event_type": event.event_type,
        "outcome": event.outcome,
        "object_key": event.object_key,
        "agent": event.agent,
        "detail": dict(event.detail),
    }
