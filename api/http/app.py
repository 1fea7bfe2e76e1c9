"""The HTTP API (FastAPI). Routes parse, make one service call, render; errors map in one handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.access.auditing import AuditService
from api.http.accounts import router as account_routes
from api.http.audit import router as audit_routes
from api.http.backups import router as backup_routes
from api.http.batches import router as batch_routes
from api.http.batches import upload_router as batch_uploads
from api.http.common import client_of
from api.http.docs import mount_docs
from api.http.documents import router as document_routes
from api.http.documents import upload_routes
from api.http.errors import register_error_handlers
from api.http.headers import SecurityHeaders
from api.http.openapi import ArchiveAPI
from api.http.search import router as search_routes
from api.http.status import router as status_routes
from api.http.ui import mount_ui
from api.http.uploads import UploadGuard
from api.http.verify import router as verify_routes
from api.ingest.service import IngestService
from api.runners.installation import installation_runner
from api.runners.local import JobRunner
from api.wiring import Context
from archive.audit import log as audit
from archive.errors import AuthenticationRequired, DanganError, PermissionDenied, TooManyAttempts
from archive.events import AuditAction
from archive.redact import hide_paths


def create_app(context: Context, *, runner: JobRunner | None = None) -> FastAPI:
    """The ASGI app over one Context; OCR jobs run on `runner` (by default the installation's one local process
    pool, in whichever server process holds its lock: see api/runners/installation.py)."""
    ingest = IngestService(context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runner is None:  # it resumes what a crash or restart left behind once it holds the lock
            job_runner: JobRunner = installation_runner(ingest)
        else:
            job_runner = runner
            for job_id in ingest.pending_job_ids():  # resume what a crash or restart left behind
                job_runner.submit(job_id)
        app.state.runner = job_runner
        yield
        job_runner.shutdown(wait=runner is not None)

    app = ArchiveAPI(
        title="Dang'an archive API",
        version="0.1.0",
        lifespan=lifespan,
        description="Scanned records in; a searchable, access-controlled, verifiable archive out.",
        docs_url=None,  # /docs from this server's own files (api/http/docs.py); no ReDoc page
        redoc_url=None,
    )
    app.state.context = context
    app.include_router(batch_routes)
    app.include_router(account_routes)
    app.include_router(audit_routes)
    app.include_router(verify_routes)
    app.include_router(backup_routes)
    app.include_router(status_routes)
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

    app.include_router(batch_uploads)

    app.include_router(document_routes)
    app.include_router(upload_routes())

    mount_ui(app)
    mount_docs(app)
    return app


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
