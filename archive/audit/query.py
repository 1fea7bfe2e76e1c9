"""Reading the audit log for compliance: filter it, export it as CSV or JSON, and log the export itself."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO, TypedDict

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from archive.audit import log as audit
from archive.errors import InvalidInput
from archive.events import AuditAction
from archive.models import AuditEvent

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
EXPORT_FORMATS = ("csv", "json")
COLUMNS = ("id", "at", "actor", "action", "target", "outcome", "client", "details", "hash")
# Spreadsheets treat a cell starting with one of these as a formula (OWASP: "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class AuditRow(TypedDict):
    """One audit event as the query returns it and the exports write it."""

    id: int
    at: str
    actor: str
    action: str
    target: str | None
    outcome: str
    client: str | None
    details: dict[str, object]
    hash: str


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every field left as None matches everything.

    ``action`` is exact, or a prefix when it ends in ``*`` (``batch.*``). ``since`` is inclusive and
    ``until`` exclusive; both must be timezone-aware. ``document_id`` matches target ``document:ID``.
    """

    actor: str | None = None
    document_id: int | None = None
    action: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    client: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise InvalidInput(f"offset must be 0 or more, got {self.offset}")
        for name, value in (("since", self.since), ("until", self.until)):
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} needs a timezone (for example 2024-05-01T00:00:00+08:00)")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInput("since is later than until; swap them or widen the range", InvalidInput.RANGE_REVERSED)

    def as_details(self) -> dict[str, Any]:
        """The filter as plain JSON values (for the export's own audit event)."""
        return {
            "actor": self.actor,
            "document_id": self.document_id,
            "action": self.action,
            "outcome": self.outcome,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "client": self.client,
            "limit": self.limit,
            "offset": self.offset,
        }


def query_events(session: Session, flt: AuditFilter) -> list[AuditRow]:
    """Events matching the filter, oldest id first, at most ``flt.limit`` after skipping ``flt.offset``."""
    statement = select(AuditEvent).where(*_conditions(flt)).order_by(AuditEvent.id).limit(flt.limit).offset(flt.offset)
    return [_row(event) for event in session.scalars(statement)]


def count_events(session: Session, flt: AuditFilter) -> int:
    """How many events match the filter, whatever its limit and offset (for paging)."""
    statement = select(func.count()).select_from(AuditEvent).where(*_conditions(flt))
    return int(session.scalar(statement) or 0)


def _conditions(flt: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.actor is not None:
        conditions.append(AuditEvent.actor == flt.actor)
    if flt.document_id is not None:
        conditions.append(AuditEvent.target == f"document:{flt.document_id}")
    if flt.action is not None:
        if flt.action.endswith("*"):
            prefix = flt.action[:-1]
            if prefix:
                conditions.append(AuditEvent.action.startswith(prefix, autoescape=True))
        else:
            conditions.append(AuditEvent.action == flt.action)
    if flt.outcome is not None:
        conditions.append(AuditEvent.outcome == flt.outcome)
    if flt.since is not None:
        conditions.append(AuditEvent.at >= flt.since)
    if flt.until is not None:
        conditions.append(AuditEvent.at < flt.until)
    if flt.client is not None:
        conditions.append(AuditEvent.client == flt.client)
    return conditions


def _row(event: AuditEvent) -> AuditRow:
    return AuditRow(
        id=event.id,
        at=event.at.astimezone(dt.UTC).isoformat(),
        actor=event.actor,
        action=event.action,
        target=event.target,
        outcome=event.outcome,
        client=event.client,
        details=dict(event.details or {}),
        hash=event.hash,
    )


def export_csv(rows: Iterable[AuditRow], stream: TextIO) -> int:
    """Write a header and one line per event; ``details`` is compact JSON. Returns the number of events.

    Text cells that a spreadsheet would run as a formula get a leading single quote. Open ``stream``
    with ``newline=""`` and a UTF-8 encoding (``utf-8-sig`` if the file is meant for Excel).
    """
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        details = json.dumps(row["details"], ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        values: list[object] = [
            row["id"],
            row["at"],
            row["actor"],
            row["action"],
            row["target"],
            row["outcome"],
            row["client"],
            details,
            row["hash"],
        ]
        writer.writerow([_safe_cell(value) for value in values])
        count += 1
    return count


def _safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def export_json(rows: Iterable[AuditRow], stream: TextIO) -> int:
    """Write the events as one JSON array (non-ASCII kept as is). Returns the number of events."""
    materialised = list(rows)
    json.dump(materialised, stream, ensure_ascii=False, indent=1, default=str)
    stream.write("\n")
    return len(materialised)


def record_export(
    session: Session,
    *,
    actor: str,
    client: str | None,
    flt: AuditFilter,
    count: int,
    fmt: str,
) -> AuditEvent:
    """Log that ``actor`` exported ``count`` events matching ``flt`` as ``fmt`` (the export is audited too)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    return audit.record(
        session,
        actor=actor,
        action=AuditAction.AUDIT_EXPORT,
        client=client,
        details={"format": fmt, "count": count, "filter": flt.as_details()},
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None
