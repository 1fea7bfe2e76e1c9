"""The HTTP API (FastAPI). Routes parse, make one service call, render; errors map in one handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from api.openapi_ui import mount_docs
from api.runner import JobRunner, LocalJobRunner
from api.services.auditing import AuditService
from api.services.documents import DocumentService, FileDownload, update_document, withdraw_document
from api.services.ingest import IngestService
from api.web_accounts import router as account_routes
from api.web_audit import router as audit_routes
from api.web_backups import router as backup_routes
from api.web_batches import router as batch_routes
from api.web_batches import upload_router as batch_uploads
from api.web_common import MAX_ID, Caller, Id, ReceivedUpload, Strict, client_of, upload_name
from api.web_errors import register_error_handlers
from api.web_headers import FILE_HEADERS, SecurityHeaders
from api.web_search import router as search_routes
from api.web_ui import mount_ui
from api.web_uploads import SpoolingRoute, UploadGuard
from api.web_verify import router as verify_routes
from api.wiring import Context
from archive import audit
from archive.errors import AuthenticationRequired, DanganError, PermissionDenied, TooManyAttempts
from archive.events import AuditAction
from archive.hashing import CHUNK
from archive.redact import hide_paths
from archive.values import ObjectRole
from ingest.grouping import PlannedItem


def create_app(context: Context, *, runner: JobRunner | None = None) -> FastAPI:
    """The ASGI app over one Context; OCR jobs run on `runner` (a local process pool by default)."""
    ingest = IngestService(context)
    documents = DocumentService(context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        job_runner = runner or LocalJobRunner(ingest, workers=context.settings.workers)
        app.state.runner = job_runner
        for job_id in ingest.pending_job_ids():  # resume what a crash or restart left behind
            job_runner.submit(job_id)
        yield
        job_runner.shutdown(wait=runner is not None)

    app = FastAPI(
        title="Dang'an archive API",
        version="0.1.0",
        lifespan=lifespan,
        description="Scanned records in; a searchable, access-controlled, verifiable archive out.",
        docs_url=None,  # /docs from this server's own files (api/openapi_ui.py); no ReDoc page
        redoc_url=None,
    )
    app.state.context = context
    app.include_router(batch_routes)
    app.include_router(account_routes)
    app.include_router(audit_routes)
    app.include_router(verify_routes)
    app.include_router(backup_routes)
    app.include_router(search_routes)

    sealing = AuditService(context)

    @app.middleware("http")
    async def seal_the_log(request: Request, call_next: Any) -> Any:
        """After each request, a signed checkpoint of the access log when one is due."""
        response = await call_next(request)
        await run_in_threadpool(sealing.checkpoint_if_due)
        return response

    app.add_middleware(UploadGuard, context=context, record_denial=record_denial)  # outermost: before any body
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(DanganError)
    async def dangan_error(request: Request, exc: DanganError) -> JSONResponse:
        if isinstance(exc, PermissionDenied | AuthenticationRequired) and request.url.path != "/api/v1/auth/login":
            record_denial(context, request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
        if isinstance(exc, TooManyAttempts) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        message = hide_paths(exc.message, context.settings.private_paths)  # no server folder reaches a user
        return JSONResponse({"error": exc.code, "message": message}, status_code=exc.http_status, headers=headers)

    register_error_handlers(app)  # validation errors, unknown routes and methods: the same shape

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(_upload_routes(context, ingest))
    app.include_router(batch_uploads)

    @app.get("/api/v1/jobs/{job_id}", tags=["ingest"])
    def job(job_id: Id, caller: Caller) -> dict[str, Any]:
        return ingest.job(caller, job_id)

    @app.get("/api/v1/documents/{document_id}", tags=["documents"])
    def document(document_id: Id, request: Request, caller: Caller) -> dict[str, Any]:
        return documents.get(caller, document_id, client=client_of(request))

    @app.patch("/api/v1/documents/{document_id}", tags=["documents"])
    def edit_document(document_id: Id, request: Request, caller: Caller, body: DocumentPatch) -> dict[str, Any]:
        """Edit title, date, access level or department scope; search obeys a new level at once."""
        return update_document(
            context,
            caller,
            document_id,
            title=body.title,
            date=body.date,
            level=body.level,
            departments=body.departments,
            client=client_of(request),
        )

    @app.post("/api/v1/documents/{document_id}/withdraw", tags=["documents"])
    def withdraw(document_id: Id, request: Request, caller: Caller, body: Withdrawal) -> dict[str, Any]:
        """Take a record out of use (admins): out of search at once, 'not found' to others, files kept."""
        return withdraw_document(context, caller, document_id, reason=body.reason, client=client_of(request))

    @app.get("/api/v1/documents/{document_id}/pdf", tags=["documents"], response_class=StreamingResponse)
    def pdf(document_id: Id, request: Request, caller: Caller) -> StreamingResponse:
        """The PDF/A-2b access copy with its text layer."""
        return _stream(documents.open_file(caller, document_id, ObjectRole.PDFA, client=client_of(request)))

    @app.get("/api/v1/documents/{document_id}/original", tags=["documents"], response_class=StreamingResponse)
    def original(document_id: Id, request: Request, caller: Caller) -> StreamingResponse:
        """The scan exactly as received, byte for byte."""
        return _stream(documents.open_file(caller, document_id, ObjectRole.ORIGINAL, client=client_of(request)))

    mount_ui(app)
    mount_docs(app)
    return app


def _upload_routes(context: Context, ingest: IngestService) -> APIRouter:
    """POST /api/v1/documents: the body is received once, into the spool area (see api/web_uploads.py)."""
    uploads = APIRouter(route_class=SpoolingRoute)

    @uploads.post("/api/v1/documents", status_code=202, tags=["ingest"])
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
    ) -> dict[str, Any]:
        """Accept one scan as one item; OCR runs in a worker process. Poll the job link for the result."""
        name = upload_name(file)
        target = batch_id or ingest.upload_batch(caller)
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
        if job.pop("replayed", False):
            response.status_code = 200
            return job
        request.app.state.runner.submit(job["id"])
        return job

    return uploads


class Withdrawal(Strict):
    reason: str


class DocumentPatch(Strict):
    """Only these fields can be changed; anything else in the body is refused."""

    title: str | None = None
    date: str | None = None
    level: str | None = None
    departments: list[str] | None = None


def record_denial(context: Context, request: Request, exc: DanganError) -> None:
    """Every refused request is an audit event (compliance looks for bursts of them)."""
    with context.db.write() as session:
        audit.record(
            session,
            actor=getattr(request.state, "username", "anonymous"),
            action=AuditAction.ACCESS_DENIED,
            outcome="denied",
            target=f"{request.method} {request.url.path}"[:255],
            client=client_of(request),
            details={"reason": exc.code},
            roles=getattr(request.state, "roles", None),
        )


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
