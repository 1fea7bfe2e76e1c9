"""Custom descriptive fields per series, defined by the archivist (archive/catalogue/metadata.py checks values)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive.models.base import Base, utcnow


class SeriesField(Base):
    """One custom field of a series of a fonds ("" series: every series of the fonds)."""

    __tablename__ = "series_field"
    __table_args__ = (UniqueConstraint("fonds_id", "series", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"), index=True)
    series: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(64))
    label_zh: Mapped[str] = mapped_column(String(128), default="")
    label_en: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | integer | date | choice
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
