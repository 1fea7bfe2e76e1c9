"""The archival hierarchy: fonds → batch (a box of work) → document (件, one item) → page (页), with stored
objects, manifest rows and per-page quality findings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow

DEFAULT_REF_TEMPLATE = "{fonds}-{year}-{retention}-{item:04d}"


class Fonds(Base):
    """全宗: the records of one creating body."""

    __tablename__ = "fonds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    ref_template: Mapped[str] = mapped_column(String(255), default=DEFAULT_REF_TEMPLATE)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Batch(Base):
    """The archivist's unit of work, usually one box, with its OCR and quality settings and its verdict."""

    __tablename__ = "batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    series: Mapped[str | None] = mapped_column(String(64))
    box: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="open")
    languages: Mapped[str] = mapped_column(String(64), default="chi_sim+eng")
    ocr_engine: Mapped[str | None] = mapped_column(String(16))  # None: the DANGAN_OCR_ENGINE setting
    level: Mapped[str] = mapped_column(String(32), default="internal")
    year: Mapped[int | None] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(32), default="Y30")
    profile: Mapped[str] = mapped_column(String(64), default="dat31")
    profile_overrides: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    manifest_name: Mapped[str | None] = mapped_column(String(255))
    filing_justification: Mapped[str | None] = mapped_column(Text)  # why it was filed despite reconciliation gaps
    decision: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None]
    filed_by: Mapped[str | None] = mapped_column(String(128))
    filed_at: Mapped[dt.datetime | None]
    # Digitisation process metadata (DA/T 31): the scanning device's code and what the batch declares of its scan
    # (settings, operator, times) with the device's last calibration copied at the time (api/ingest/process.py).
    scan_device: Mapped[str | None] = mapped_column(String(64), index=True)
    process: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    fonds: Mapped[Fonds] = relationship()
    manifest: Mapped[list[ManifestItem]] = relationship(
        back_populates="batch", order_by="ManifestItem.row_number", cascade="all, delete-orphan"
    )


class ManifestItem(Base):
    """One row of a batch manifest: what the archivist expects to find in the box."""

    __tablename__ = "manifest_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    item_number: Mapped[int | None] = mapped_column(Integer)
    reference_code: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(512), default="")
    date: Mapped[dt.date | None]
    date_precision: Mapped[str | None] = mapped_column(String(8))
    expected_pages: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(512))  # file or folder name, when the manifest names one
    # The row's descriptive metadata (archive/catalogue/metadata.py), copied onto its record when it is filed:
    # creator, document_number, organisation, archival_year, keywords, ..., level, retention, custom_fields.
    descriptive: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    batch: Mapped[Batch] = relationship(back_populates="manifest")


class Document(Base):
    """件: one archival item."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    manifest_item_id: Mapped[int | None] = mapped_column(ForeignKey("manifest_item.id"))
    item_number: Mapped[int | None] = mapped_column(Integer)
    reference_code: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(512))
    date: Mapped[dt.date | None]
    date_precision: Mapped[str | None] = mapped_column(String(8))  # year | month | day (None: day, or no date)
    access_level: Mapped[int | None] = mapped_column(Integer, index=True)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    original_filename: Mapped[str] = mapped_column(String(512))
    original_sha256: Mapped[str] = mapped_column(String(64), index=True)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    # Retention (archive/preservation/retention.py): the record's own code overrides its batch's (series');
    # a keep appraisal counts the new period after its year; an executed disposition names itself here.
    retention: Mapped[str | None] = mapped_column(String(32))
    retention_counted_after: Mapped[int | None] = mapped_column(Integer)
    disposition_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Descriptive metadata (archive/catalogue/metadata.py has the Dublin Core mapping).
    creator: Mapped[str | None] = mapped_column(String(255))  # 责任者
    document_number: Mapped[str | None] = mapped_column(String(128))  # 文号
    organisation: Mapped[str | None] = mapped_column(String(255))  # 机构 (departments stays the access scope)
    archival_year: Mapped[int | None] = mapped_column(Integer, index=True)  # 归档年度
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)  # 关键词
    description: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(512))
    publisher: Mapped[str | None] = mapped_column(String(255))
    contributor: Mapped[str | None] = mapped_column(String(255))
    dc_type: Mapped[str] = mapped_column(String(64), default="Text")
    coverage: Mapped[str | None] = mapped_column(String(255))
    rights: Mapped[str | None] = mapped_column(String(512))
    relation: Mapped[str | None] = mapped_column(String(512))
    dc_source: Mapped[str | None] = mapped_column(String(512))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per series: SeriesField
    indexed_at: Mapped[dt.datetime | None]  # None until the search index has it (crash recovery re-indexes)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    fonds: Mapped[Fonds] = relationship()
    batch: Mapped[Batch | None] = relationship()
    all_pages: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="(Page.number, Page.version)", cascade="all, delete-orphan"
    )
    pages: Mapped[list[Page]] = relationship(
        primaryjoin=lambda: and_(Page.document_id == Document.id, Page.current.is_(True)),
        order_by="Page.number",
        viewonly=True,
    )
    objects: Mapped[list[StoredObject]] = relationship(back_populates="document", cascade="all, delete-orphan")


class Page(Base):
    """页: one version of one page. A rescan adds a new version and keeps the old one (current=False)."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("document_id", "number", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    dpi: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    text_source: Mapped[str] = mapped_column(String(16), default="ocr")
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Recognised words/lines for highlighting: [[text, left, top, right, bottom], ...], fractions 0-1 of the page
    # as stored in the access copy; None for pages read before boxes were kept.
    boxes: Mapped[list[list[Any]] | None] = mapped_column(JSON)
    review: Mapped[str] = mapped_column(String(32), default="ok")  # ok | held | accepted | rejected | replaced
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[dt.datetime | None]
    # What the image itself says of its capture (EXIF/TIFF tags: ingest/capture.py), who uploaded it and when it
    # was received, and the batch's declared device and settings; None for pages filed before it was kept.
    process: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    document: Mapped[Document] = relationship(back_populates="all_pages")
    findings: Mapped[list[QualityFinding]] = relationship(back_populates="page", cascade="all, delete-orphan")


class QualityFinding(Base):
    """One quality check a page did not pass: what was measured against which threshold."""

    __tablename__ = "quality_finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    check: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # fail | warn
    measured: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    page: Mapped[Page] = relationship(back_populates="findings")


class StoredObject(Base):
    """One object in the store that belongs to a document (or to one page version, for rescans)."""

    __tablename__ = "stored_object"
    __table_args__ = (UniqueConstraint("document_id", "role", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(512), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Encryption at rest (storage_config/encryption.py): `sha256`/`size` are always the stored bytes'; an
    # encrypted object also has its master key id, its wrapped data key and its plaintext's hash and size.
    key_id: Mapped[str | None] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    plain_sha256: Mapped[str | None] = mapped_column(String(64))
    plain_size: Mapped[int | None] = mapped_column(BigInteger)
    document: Mapped[Document] = relationship(back_populates="objects")

    @property
    def encrypted(self) -> bool:
        return self.key_id is not None

    @property
    def content_sha256(self) -> str:
        """The SHA-256 of what a reader gets: the plaintext's for an encrypted object."""
        return self.plain_sha256 if self.plain_sha256 is not None else self.sha256

    @property
    def content_size(self) -> int:
        return self.plain_size if self.plain_size is not None else self.size
