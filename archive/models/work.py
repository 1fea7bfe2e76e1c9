"""Work in progress and operations: ingest jobs, acceptance samples, reviewers' verdicts, verification runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow


class IngestJob(Base):
    """One item on its way into the archive; survives restarts through its spooled copy."""

    __tablename__ = "ingest_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    source_name: Mapped[str] = mapped_column(String(512))
    spool_path: Mapped[str | None] = mapped_column(String(1024))
    # The item's SHA-256 while the job is live or filed: unique, so two uploads of one file race to one job.
    # Cleared when the job fails, so the file can be submitted again.
    claim_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)  # a calling system's own id
    # What the catalogue asks of a queued item (duplicates, visibility, numbering, reconciliation): columns.
    reference_code: Mapped[str | None] = mapped_column(String(128), index=True)
    item_number: Mapped[int | None] = mapped_column(Integer)
    manifest_item_id: Mapped[int | None] = mapped_column(ForeignKey("manifest_item.id"), index=True)
    access_level: Mapped[int | None] = mapped_column(Integer)  # AccessLevel value; None: visible to no one
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # free-form processing options
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The lease of the worker running the job: only a job whose lease has expired may be taken over. An ended
    # job keeps the owner (host:pid:random) of the runner that ended it; its expiry is cleared.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    not_before: Mapped[dt.datetime | None]  # a retrying job waits until then (backoff after a passing fault)
    lost_leases: Mapped[int] = mapped_column(Integer, default=0)  # times its worker died holding it (poison count)
    submitted_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    seconds: Mapped[float | None] = mapped_column(Float)


class BatchSample(Base):
    """An acceptance sample: which pages were drawn, with the seed that reproduces the draw."""

    __tablename__ = "batch_sample"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    percent: Mapped[float] = mapped_column(Float)
    minimum: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    page_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(32), default="initial")  # initial | resample (after a return)
    changed_page_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # rescanned pages a resample includes
    drawn_by: Mapped[str] = mapped_column(String(128))
    drawn_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verdicts: Mapped[list[SampleVerdict]] = relationship(back_populates="sample", cascade="all, delete-orphan")


class SampleVerdict(Base):
    """A reviewer's pass or fail on one sampled page, with the defect type when it failed."""

    __tablename__ = "sample_verdict"
    __table_args__ = (UniqueConstraint("sample_id", "page_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("batch_sample.id", ondelete="CASCADE"))
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    defect: Mapped[str | None] = mapped_column(String(64))
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sample: Mapped[BatchSample] = relationship(back_populates="verdicts")


class VerificationRun(Base):
    """One fixity verification of a store: its level, outcome, counts per category and the full report."""

    __tablename__ = "verification_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(32))
    store: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    seconds: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32), index=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(128))


class Dat70Run(Base):
    """One DA/T 70 four-property check of a batch or a document (at filing, or asked for): its grade, counts
    per check code and the full report (archive.preservation.dat70)."""

    __tablename__ = "dat70_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # batch | document
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # filing | demand
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    seconds: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(16), index=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(128))
