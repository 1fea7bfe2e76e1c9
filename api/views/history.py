"""Typed results of a record's event history (archive.history): PREMIS-style preservation events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from api.views.base import View
from archive.models import ObjectEvent


class HistoryEventView(View):
    at: dt.datetime
    event_type: str = Field(description="A PREMIS 3 eventType term: ingestion, fixity check, replication, …")
    outcome: str = Field(description="success, failure or warning")
    object_key: str | None = Field(description="The object it concerns; null: the record as a whole")
    agent: str = Field(description="The account that did it, or `system`")
    detail: dict[str, Any] = Field(description="What and with what: digests, run ids, targets, changed fields")


class DocumentHistoryView(View):
    document_id: int
    reference_code: str
    events: list[HistoryEventView]
    counts: dict[str, int] = Field(description="Events per event type")


def history_event_view(row: ObjectEvent) -> HistoryEventView:
    return HistoryEventView(
        at=row.at,
        event_type=row.event_type,
        outcome=row.outcome,
        object_key=row.object_key,
        agent=row.agent,
        detail=dict(row.detail),
    )
