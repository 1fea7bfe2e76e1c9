"""Typed results of the records use cases (api/records): a document with its pages and files, its text, a
BagIt export. The JSON names are the API's; `document_view` builds a DocumentView from a catalogue row."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View
from api.views.catalogue import level_label
from api.views.devices import BatchProcessView
from api.views.urls import document_original_url, document_pdf_url, document_text_url, document_url
from archive.dates import PartialDate
from archive.models import Document, Page, QualityFinding, StoredObject
from archive.values import ObjectRole

PAGE_SEPARATOR = "\f"  # between pages in a record's text (form feed, as pdftotext writes it)


class DateRange(View):
    start: str = Field(description="First day the date covers (YYYY-MM-DD)")
    end: str = Field(description="Last day the date covers (YYYY-MM-DD)")


class DocumentLinks(View):
    self: str
    pdf: str
    original: str
    text: str


class FindingView(View):
    """A quality check a page did not pass (blank, too light, blurred, low resolution, ...)."""

    check: str
    severity: str = Field(description="fail or warn")
    measured: float
    threshold: float
    message: str


class PageView(View):
    number: int
    width_px: int
    height_px: int
    dpi: float | None
    ocr_confidence: float | None
    text_source: str
    characters: int = Field(description="Length of the page's text; the text itself is at links.text")
    findings: list[FindingView] = Field(default_factory=list)


class ObjectView(View):
    role: str
    key: str
    sha256: str
    size: int
    media_type: str


class DescriptiveView(View):
    """Descriptive metadata: Dublin Core and the Chinese archival fields (README "Metadata" maps them)."""

    creator: str | None = Field(default=None, description="责任者 (DC creator)")
    document_number: str | None = Field(default=None, description="文号")
    organisation: str | None = Field(default=None, description="机构: the responsible body (not the access scope)")
    archival_year: int | None = Field(default=None, description="归档年度 (default: the batch's year)")
    keywords: list[str] = Field(default_factory=list, description="关键词 (DC subject)")
    description: str | None = None
    subject: str | None = None
    publisher: str | None = None
    contributor: str | None = None
    dc_type: str = Field(default="Text", description="DC type")
    dc_format: str | None = Field(default=None, description="DC format: the media type of the original (derived)")
    coverage: str | None = None
    rights: str | None = None
    relation: str | None = None
    dc_source: str | None = Field(default=None, description="DC source")
    retention: str | None = Field(default=None, description="保管期限: the record's own code, else its series'")
    custom_fields: dict[str, str | int] = Field(default_factory=dict, description="Custom fields of its series")


class DocumentView(View):
    """One catalogue record as the caller may see it: metadata, current pages, current files, links."""

    id: int
    reference_code: str
    title: str
    fonds: str
    series: str | None = Field(default=None, description="The series of its batch; null for none")
    box: str | None = Field(default=None, description="The box (volume) of its batch; null for none")
    filed_at: str | None = Field(default=None, description="When its batch was filed; null until then")
    batch_id: int | None
    date: str | None = Field(description="As precise as the record gives it: YYYY, YYYY-MM or YYYY-MM-DD")
    date_precision: str | None
    date_range: DateRange | None
    access_level: str | None
    departments: list[str]
    language: str
    status: str
    original_filename: str
    page_count: int
    created_at: str
    metadata: DescriptiveView
    links: DocumentLinks
    pages: list[PageView]
    objects: list[ObjectView]
    digitisation: BatchProcessView | None = Field(
        default=None, description="How it was digitised (its batch's device, scan settings, operator, times)"
    )


class PageTextView(View):
    number: int
    text: str


class DocumentTextView(View):
    """A record's text: all current pages, or the one page asked for."""

    document_id: int
    reference_code: str
    page: int | None = Field(description="The page asked for; null for all pages")
    pages: list[PageTextView]

    @property
    def text(self) -> str:
        """The pages' text, a form feed between pages (what the text route answers)."""
        return PAGE_SEPARATOR.join(page.text for page in self.pages)


class BagExportView(View):
    """A BagIt bag written to a folder: what is in it and its Payload-Oxum."""

    path: str
    scope: str
    documents: int
    files: int
    bytes: int
    payload_oxum: str


def _date_range(date: PartialDate | None) -> DateRange | None:
    return None if date is None else DateRange(start=date.start().isoformat(), end=date.end().isoformat())


def finding_view(finding: QualityFinding) -> FindingView:
    return FindingView(
        check=finding.check,
        severity=finding.severity,
        measured=finding.measured,
        threshold=finding.threshold,
        message=finding.message,
    )


def page_view(page: Page) -> PageView:
    return PageView(
        number=page.number,
        width_px=page.width_px,
        height_px=page.height_px,
        dpi=page.dpi,
        ocr_confidence=page.ocr_confidence,
        text_source=str(page.text_source),
        characters=len(page.text),
        findings=[finding_view(finding) for finding in page.findings],
    )


def object_view(stored: StoredObject) -> ObjectView:
    return ObjectView(
        role=str(stored.role), key=stored.key, sha256=stored.sha256, size=stored.size, media_type=stored.media_type
    )


def descriptive_view(document: Document) -> DescriptiveView:
    original = next((o for o in document.objects if o.role == ObjectRole.ORIGINAL), None)
    return DescriptiveView(
        creator=document.creator,
        document_number=document.document_number,
        organisation=document.organisation,
        archival_year=document.archival_year,
        keywords=list(document.keywords or []),
        description=document.description,
        subject=document.subject,
        publisher=document.publisher,
        contributor=document.contributor,
        dc_type=document.dc_type or "Text",
        dc_format=original.media_type if original else None,
        coverage=document.coverage,
        rights=document.rights,
        relation=document.relation,
        dc_source=document.dc_source,
        retention=document.retention or (document.batch.retention if document.batch else None),
        custom_fields=dict(document.custom_fields or {}),
    )


def document_view(document: Document) -> DocumentView:
    date = PartialDate.stored(document.date, document.date_precision)
    return DocumentView(
        id=document.id,
        reference_code=document.reference_code,
        title=document.title,
        fonds=document.fonds.code,
        series=document.batch.series if document.batch else None,
        box=document.batch.box if document.batch else None,
        filed_at=document.batch.filed_at.isoformat() if document.batch and document.batch.filed_at else None,
        batch_id=document.batch_id,
        date=date.isoformat() if date else None,
        date_precision=date.precision if date else None,
        date_range=_date_range(date),
        access_level=level_label(document.access_level),
        departments=list(document.departments),
        language=document.language,
        status=str(document.status),
        original_filename=document.original_filename,
        page_count=document.page_count,
        created_at=document.created_at.isoformat(),
        metadata=descriptive_view(document),
        links=DocumentLinks(
            self=document_url(document.id),
            pdf=document_pdf_url(document.id),
            original=document_original_url(document.id),
            text=document_text_url(document.id),
        ),
        pages=[page_view(page) for page in document.pages],
        digitisation=BatchProcessView.of(document.batch.process, []) if document.batch else None,
        objects=[object_view(stored) for stored in document.objects],
    )
