"""Retention and disposition: appraisals of due records, legal holds, dispositions (destroy or transfer, two
people) with the records they name, and the objects a destruction removed (so backups remove them too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow


class Appraisal(Base):
    """An archivist's decision on one record: keep (with a new period), destroy or transfer, with the reason."""

    __tablename__ = "appraisal"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # keep | destroy | transfer
    retention: Mapped[str | None] = mapped_column(String(32))  # keep: the new code
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalHold(Base):
    """A hold on one record: while it is not lifted, no disposition may name, approve or execute the record."""

    __tablename__ = "legal_hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(128))
    lifted_at: Mapped[dt.datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)


class Disposition(Base):
    """A proposal to destroy or transfer records, approved by another person, then executed (archive/workflow.py)."""

    __tablename__ = "disposition"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # destroy | transfer
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    destination: Mapped[str | None] = mapped_column(String(1024))  # transfer: the receiving archive
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(128))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    executed_by: Mapped[str | None] = mapped_column(String(128))
    executed_at: Mapped[dt.datetime | None]
    certificate_document_id: Mapped[int | None] = mapped_column(Integer)  # the certificate, kept as a record
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    export_path: Mapped[str | None] = mapped_column(String(1024))  # transfer: where the bag was written
    items: Mapped[list[DispositionItem]] = relationship(
        back_populates="disposition", order_by="DispositionItem.id", cascade="all, delete-orphan"
    )


class DispositionItem(Base):
    """One record a disposition names, with what identifies it after it is gone (the tombstone's fields)."""

    __tablename__ = "disposition_item"
    __table_args__ = (UniqueConstraint("disposition_id", "document_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("disposition.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisal.id"))
    reference_code: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(512))
    access_level: Mapped[int | None] = mapped_column(Integer)
    objects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # key, sha256, size, role at execution
    disposition: Mapped[Disposition] = relationship(back_populates="items")


class DestroyedObject(Base):
    """A content key a destruction removed from the primary store: the next backup run removes it from each
    target too (unless a live record has the same bytes again), and notes it here."""

    __tablename__ = "destroyed_object"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(512), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    disposition_id: Mapped[int] = mapped_column(ForeignKey("disposition.id"))
    destroyed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    purged_from: Mapped[list[str]] = mapped_column(JSON, default=list)  # backup targets it was removed from
