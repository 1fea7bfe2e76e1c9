"""When the access log is due a checkpoint: by count (so many events since the last one) or by age (the oldest
event no checkpoint seals is so old). Catalogue reads only; writing the checkpoint: archive.audit.checkpoints."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import InvalidInput
from archive.models import AuditEvent

__all__ = ["due_after", "events_after", "oldest_after"]


def events_after(session: Session, event_id: int) -> int:
    """How many events were appended after `event_id` (a catalogue count, no store call)."""
    return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id > event_id)) or 0


def due_after(
    session: Session, sealed: int, *, every: int, max_age: float | None, now: dt.datetime | None = None
) -> bool:
    """Whether the events after `sealed` call for a checkpoint: `every` of them (the count interval), or one of
    them older than `max_age` seconds (the time interval: no event waits longer than that to be sealed, however
    quiet the archive). Two catalogue reads on the primary key, no store call."""
    if every < 1:
        raise InvalidInput(f"checkpoint interval must be at least 1 event, not {every}")
    if events_after(session, sealed) >= every:
        return True
    if max_age is None:
        return False
    oldest = oldest_after(session, sealed)
    if oldest is None:
        return False
    oldest = oldest.replace(tzinfo=dt.UTC) if oldest.tzinfo is None else oldest
    return ((now or dt.datetime.now(dt.UTC)) - oldest).total_seconds() >= max_age


def oldest_after(session: Session, event_id: int) -> dt.datetime | None:
    """When the first event after `event_id` was recorded (None: there is none)."""
    first = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.id > event_id))
    return None if first is None else session.scalar(select(AuditEvent.at).where(AuditEvent.id == first))
