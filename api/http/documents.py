"""HTTP routes for documents and jobs: upload one item (202 + job), poll the job, read, edit, withdraw, download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import Field

from api.http.common import MAX_ID, Caller, Id, ReceivedUpload, Strict, client_of, context_of, upload_name
from api.http.headers import FILE_HEADERS
from api.http.openapi import error_responses
from api.http.uploads import SpoolingRoute
from api.ingest.service import IngestService
from api.records.documents import DocumentService, FileDownload, update_document, withdraw_document
from api.records.history import document_history
from api.views.history import DocumentHistoryView
from api.views.ingest import JobView
from api.views.records import DocumentView
from archive.access import Principal
from archive.catalogue.metadata import MetadataEdit
from archive.hashing import CHUNK
from archive.values import ObjectRole
from ingest.grouping import PlannedItem

router = APIRouter()
RECORD = error_responses(403, 404)  # a role that may not read records; a record hidden from the caller, or none
# The original is served as it was received; the PDF/A access copy is always a PDF.
ORIGINAL_TYPES = ("image/tiff", "image/png", "image/jpeg", "application/pdf")
BINARY_ERRORS = error_responses(403, 404, 500)
MAX_PAGE_NUMBER = 100_000
TEXT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "UTF-8 text, a form feed between pages",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def _binary(*media_types: str, description: str) -> dict[int | str, dict[str, Any]]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": description, "content": dict.fromkeys(media_types, binary)}} | BINARY_ERRORS


REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"model": JobView, "description": "A retry under the same external_id: the first job, not a new one"}
}


class Withdrawal(Strict):
    reason: str


class DocumentPatch(Strict):
    """Only these fields can be changed; anything else in the body is refused."""

    title: str | None = None
    date: str | None = None
    level: str | None = None
    departments: list[str] | None = None
    creator: str | None = Field(default=None, description='责任者; "" clears')
    document_number: str | None = Field(default=None, description="文号")
    organisation: str | None = Field(default=None, description="机构")
    archival_year: int | str | None = Field(default=None, description='归档年度, e.g. 2021; "" clears')
    keywords: list[str] | str | None = Field(default=None, description="关键词: a list, or text split on ；;,、")
    description: str | None = None
    subject: str | None = None
    publisher: str | None = None
    contributor: str | None = None
    dc_type: str | None = None
    coverage: str | None = None
    rights: str | None = None
    relation: str | None = None
    dc_source: str | None = None
    custom_fields: dict[str, str | int | None] | None = Field(
        default=None,
        description='The series\' custom fields to set (null or "" removes one, others are kept); unknown: refused',
    )

    def metadata(self) -> MetadataEdit:
        return MetadataEdit(**{name: getattr(self, name) for name in MetadataEdit.__dataclass_fields__})


@router.get("/api/v1/jobs/{job_id}", tags=["ingest"], responses=error_responses(403, 404))
def job(job_id: Id, request: Request, caller: Caller) -> JobView:
    return IngestService(context_of(request)).job(caller, job_id)


@router.get("/api/v1/documents/{document_id}", tags=["documents"], responses=RECORD)
def document(document_id: Id, request: Request, caller: Caller) -> DocumentView:
    """A record's metadata, current pages (with their quality findings) and files, as the caller may see it."""
    return DocumentService(context_of(request)).get(caller, document_id, client=client_of(request))


@router.get("/api/v1/documents/{document_id}/history", tags=["documents"], responses=RECORD)
def history(document_id: Id, request: Request, caller: Caller) -> DocumentHistoryView:
    """A record's preservation events, oldest first: ingestion, digests, accession, fixity checks, replications to
    backup targets, metadata changes, page replacements (archivists, security auditors, system administrators)."""
    return document_history(context_of(request), caller, document_id, client=client_of(request))


@router.patch("/api/v1/documents/{document_id}", tags=["documents"], responses=error_responses(403, 404))
def edit_document(document_id: Id, request: Request, caller: Caller, body: DocumentPatch) -> DocumentView:
    """Edit title, date, access level, department scope or descriptive metadata (责任者, 文号, 机构, 归档年度,
    关键词, Dublin Core, custom fields); search obeys a new level at once."""
    return update_document(
        context_of(request),
        caller,
        document_id,
        title=body.title,
        date=body.date,
        level=body.level,
        departments=body.departments,
        metadata=body.metadata(),
        client=client_of(request),
    )


@router.post("/api/v1/documents/{document_id}/withdraw", tags=["documents"], responses=error_responses(403, 404, 409))
def withdraw(document_id: Id, request: Request, caller: Caller, body: Withdrawal) -> DocumentView:
    """Take a record out of use (admins): out of search at once, 'not found' to others, files kept."""
    return withdraw_document(context_of(request), caller, document_id, reason=body.reason, client=client_of(request))


@router.get(
    "/api/v1/documents/{document_id}/pdf",
    tags=["documents"],
    response_class=StreamingResponse,
    responses=_binary("application/pdf", description="The PDF/A-2b access copy (inline)"),
)
def pdf(document_id: Id, request: Request, caller: Caller) -> StreamingResponse:
    """The PDF/A-2b access copy with its text layer."""
    return _download(request, caller, document_id, ObjectRole.PDFA)


@router.get(
    "/api/v1/documents/{document_id}/original",
    tags=["documents"],
    response_class=StreamingResponse,
    responses=_binary(*ORIGINAL_TYPES, description="The scan as received, as an attachment; its type is the scan's"),
)
def original(document_id: Id, request: Request, caller: Caller) -> StreamingResponse:
    """The scan exactly as received, byte for byte (TIFF, PNG, JPEG or PDF, whichever was ingested)."""
    return _download(request, caller, document_id, ObjectRole.ORIGINAL)


@router.get(
    "/api/v1/documents/{document_id}/text",
    tags=["documents"],
    response_class=PlainTextResponse,
    responses=TEXT_RESPONSE | RECORD,
)
def text(
    document_id: Id,
    request: Request,
    caller: Caller,
    page: Annotated[int | None, Query(ge=1, le=MAX_PAGE_NUMBER, description="Only this page (default: all)")] = None,
) -> PlainTextResponse:
    """The record's text: all current pages with a form feed (\\f) between pages, or `?page=N` for one page
    (404 if the record has no such page). Read under the same rule, and logged, as the record itself."""
    found = DocumentService(context_of(request)).text(caller, document_id, page=page, client=client_of(request))
    return PlainTextResponse(found.text, media_type="text/plain; charset=utf-8", headers=FILE_HEADERS)


def upload_routes() -> APIRouter:
    """POST /api/v1/documents: the body is received once, into the spool area (see api/http/uploads.py)."""
    uploads = APIRouter(route_class=SpoolingRoute)

    @uploads.post(
        "/api/v1/documents",
        status_code=202,
        tags=["ingest"],
        responses=error_responses(403, 404, 409, 413, 415, 503, 507) | REPLAYED,
    )
    def upload(
        request: Request,
        response: Response,
        caller: Caller,
        file: Annotated[UploadFile, File(description="A TIFF, PNG, JPEG or PDF scan: one item.")],
        title: Annotated[str | None, Form()] = None,
        batch_id: Annotated[
            int | None, Form(ge=1, le=MAX_ID, description="Batch to add to (default: your uploads batch)")
        ] = None,
        level: Annotated[
            str | None, Form(description="Access level, at most your clearance (default: batch's)")
        ] = None,
        date: Annotated[str | None, Form(description="The item's date: YYYY-MM-DD, YYYY-MM or YYYY")] = None,
        departments: Annotated[list[str] | None, Form(description="Department scope (repeat, or a comma list)")] = None,
        external_id: Annotated[
            str | None, Form(description="Your system's id for this item: a retry with it returns the same job (200)")
        ] = None,
    ) -> JobView:
        """Accept one scan as one item; OCR runs in a worker process. Poll the job link for the result."""
        context = context_of(request)
        ingest = IngestService(context)
        name = upload_name(file)
        target = batch_id or (lambda: ingest.upload_batch(caller))  # made only for an item that is accepted
        with ReceivedUpload(file, context.settings.spool_dir, context.settings.max_upload_mb, name=name) as received:
            job = ingest.submit_item(
                target,
                PlannedItem(name, (received,)),
                actor=caller,
                client=client_of(request),
                title=title,
                level=level,
                date=date,
                departments=departments,
                external_id=external_id or None,
            )
        if job.replayed:
            response.status_code = 200
            return job
        request.app.state.runner.submit(job.id)
        return job

    return uploads


def _download(request: Request, caller: Principal, document_id: int, role: ObjectRole) -> StreamingResponse:
    service = DocumentService(context_of(request))
    return _stream(service.open_file(caller, document_id, role, client=client_of(request)))


def _stream(download: FileDownload) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        with download.stream as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    how = "inline" if download.inline else "attachment"  # originals are never rendered by the browser
    disposition = f"{how}; filename*=UTF-8''{_quote(download.filename)}"
    return StreamingResponse(
        chunks(),
        media_type=download.media_type,
        headers={"Content-Disposition": disposition, "Content-Length": str(download.size)} | FILE_HEADERS,
    )


def _quote(filename: str) -> str:
    return quote(filename, safe="")
