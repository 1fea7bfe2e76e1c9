"""Preservation events per record and object (PREMIS-style): what happened to each object over its life.

Not the access log: that is who read or changed what, hash-chained and signed (archive/audit). This is the object's
own history — ingestion, digest calculation, accession, fixity checks, replications to backup targets, metadata
changes, repairs, format identification, encryption, disposition — kept so an archivist can answer "what has been
done to this file since it came in" and so a BagIt export can carry it (premis.xml). `document_id` is a plain
column, not a foreign key: the history of a destroyed record outlives the record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.models.base import Base, utcnow


class ObjectEvent(Base):
    __tablename__ = "object_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    object_key: Mapped[str | None] = mapped_column(String(512), index=True)  # None: about the whole record
    event_type: Mapped[str] = mapped_column(String(64))  # archive.history.EventType
    outcome: Mapped[str] = mapped_column(String(16))  # archive.history.Outcome
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what and with what (run ids, digests)
    agent: Mapped[str] = mapped_column(String(128))  # the account, or "system"
