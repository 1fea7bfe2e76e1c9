"""Backup targets, backup runs and restore drills. Targets hold where to copy, never a secret."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.models.base import Base, utcnow


class BackupTarget(Base):
    """A named second home for the archive: a local directory or an S3 bucket on another endpoint."""

    __tablename__ = "backup_target"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # local | s3
    path: Mapped[str | None] = mapped_column(String(1024))
    endpoint: Mapped[str | None] = mapped_column(String(255))
    bucket: Mapped[str | None] = mapped_column(String(255))
    secure: Mapped[bool] = mapped_column(Boolean, default=True)
    region: Mapped[str | None] = mapped_column(String(64))
    credentials_file: Mapped[str | None] = mapped_column(String(1024))  # a path; the secret stays in the file
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BackupRun(Base):
    """One backup to a target: what was copied, the manifest written and its SHA-256."""

    __tablename__ = "backup_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(32), index=True)  # running | complete | failed | interrupted
    objects_copied: Mapped[int] = mapped_column(Integer, default=0)
    bytes_copied: Mapped[int] = mapped_column(BigInteger, default=0)
    manifest_key: Mapped[str | None] = mapped_column(String(512))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot_key: Mapped[str | None] = mapped_column(String(512))
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(128))


class BackupDrill(Base):
    """One restore drill from a target: what was restored and checked, with RPO and RTO."""

    __tablename__ = "backup_drill"
    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(64), index=True)
    backup_run_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seconds: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32))  # passed | failed
    rpo_seconds: Mapped[float | None] = mapped_column(Float)
    rto_seconds_per_gb: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(128))


class ScheduleRun(Base):
    """One run of a scheduled duty (`dangan scheduler`): when, how it ended, and what it did."""

    __tablename__ = "schedule_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    duty: Mapped[str] = mapped_column(String(32), index=True)  # archive.schedule.Duty
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # running | success | warnings | failed
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
