"""The one vocabulary of preservation events and the functions that write and read an object's history.

Event types are PREMIS 3 eventType terms (id.loc.gov/vocabulary/preservation/eventType), so a BagIt export's
premis.xml reads in any PREMIS tool. Events are added to the caller's transaction, like audit events: they commit
with the change they describe, or not at all. Writing many (a verification run's fixity checks, a backup run's
replications) goes through `record_many`, one INSERT for the lot.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive.models import ObjectEvent, StoredObject, utcnow

CHUNK = 500


class EventType(enum.StrEnum):
    IMAGING = "imaging"  # the paper record digitised: device, scan settings, operator, times (DA/T 31)
    INGESTION = "ingestion"  # a record made from a submitted file (its objects written)
    MESSAGE_DIGEST = "message digest calculation"  # an object's SHA-256 computed as it was stored
    ACCESSION = "accession"  # the batch filed: the archive takes custody
    FIXITY_CHECK = "fixity check"  # an object's stored bytes hashed again and compared
    REPLICATION = "replication"  # a bit-identical copy written to a backup target
    RECOVERY = "recovery"  # a missing or damaged copy replaced from a verified one
    METADATA_MODIFICATION = "metadata modification"  # title, date, level, departments changed
    MODIFICATION = "modification"  # a page replaced by a rescan
    FORMAT_IDENTIFICATION = "format identification"
    VALIDATION = "validation"
    VIRUS_CHECK = "virus check"
    ENCRYPTION = "encryption"  # an object stored encrypted (envelope, AES-256-GCM), or sealed later
    KEY_ROTATION = "key rotation"  # local term (PREMIS has none): an object's data key rewrapped by a new master key
    APPRAISAL = "appraisal"
    DEACCESSION = "deaccession"  # removed from the holdings (destroyed or transferred)
    DELETION = "deletion"  # an object's bytes removed from storage


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"


@dataclass(frozen=True)
class Event:
    """One event to write; `object_key` None means the record as a whole."""

    document_id: int
    event_type: EventType
    agent: str
    object_key: str | None = None
    outcome: Outcome = Outcome.SUCCESS
    detail: dict[str, Any] = field(default_factory=dict)


def record(session: Session, event: Event) -> None:
    record_many(session, (event,))


def record_many(session: Session, events: Iterable[Event]) -> int:
    """Add the events to the session's transaction in one statement; returns how many."""
    at = utcnow()
    rows = [
        {
            "at": at,
            "document_id": e.document_id,
            "object_key": e.object_key,
            "event_type": e.event_type.value,
            "outcome": e.outcome.value,
            "detail": e.detail,
            "agent": e.agent,
        }
        for e in events
    ]
    if rows:
        session.execute(insert(ObjectEvent), rows)
    return len(rows)


def history_of(session: Session, document_id: int) -> Sequence[ObjectEvent]:
    """Every event of one record and its objects, oldest first."""
    query = select(ObjectEvent).where(ObjectEvent.document_id == document_id)
    return session.scalars(query.order_by(ObjectEvent.at, ObjectEvent.id)).all()


def histories_of(session: Session, document_ids: Sequence[int]) -> dict[int, list[ObjectEvent]]:
    """The events of many records at once (a bag's), oldest first within each."""
    found: dict[int, list[ObjectEvent]] = {doc_id: [] for doc_id in document_ids}
    ids = list(found)
    for start in range(0, len(ids), CHUNK):  # bounded IN lists: SQLite caps the number of parameters
        query = select(ObjectEvent).where(ObjectEvent.document_id.in_(ids[start : start + CHUNK]))
        for row in session.scalars(query.order_by(ObjectEvent.at, ObjectEvent.id)):
            found[row.document_id].append(row)
    return found


def documents_of_keys(session: Session, keys: Sequence[str]) -> list[tuple[str, int]]:
    """(key, record) for each record naming each key — an object shared by two versions belongs to both."""
    pairs: set[tuple[str, int]] = set()
    for start in range(0, len(keys), CHUNK):
        query = select(StoredObject.key, StoredObject.document_id).where(
            StoredObject.key.in_(keys[start : start + CHUNK])
        )
        pairs.update((key, doc_id) for key, doc_id in session.execute(query))
    return sorted(pairs)


def digest_events(document_id: int, objects: Iterable[StoredObject], agent: str) -> list[Event]:
    """A message-digest event for each object just stored (its SHA-256 and size as the catalogue keeps them)."""
    return [
        Event(
            document_id,
            EventType.MESSAGE_DIGEST,
            agent,
            obj.key,
            detail={"algorithm": "SHA-256", "sha256": obj.sha256, "size": obj.size, "role": obj.role},
        )
        for obj in objects
    ]
