"""The HTTP API (FastAPI). Routes parse, make one service call, render; errors map in one handler."""

from __future__ import annotations

import logging
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
from api.http.browse import router as browse_routes
from api.http.catalogue import router as catalogue_routes
from api.http.common import client_of
from api.http.dat70 import router as dat70_routes
from api.http.devices import router as device_routes
from api.http.docs import mount_docs
from api.http.documents import router as document_routes
from api.http.documents import upload_routes
from api.http.errors import dangan_response, register_error_handlers
from api.http.headers import SecurityHeaders
from api.http.jobs import router as job_routes
from api.http.keys import router as key_routes
from api.http.maintenance import router as index_routes
from api.http.openapi import ArchiveAPI
from api.http.retention import router as retention_routes
from api.http.schedule import router as schedule_routes
from api.http.search import router as search_routes
from api.http.status import router as status_routes
from api.http.ui import mount_ui
from api.http.uploads import UploadGuard
from api.http.verify import router as verify_routes
from api.ingest.service import IngestService
from api.preservation.reindexing import IndexRebuilds
from api.runners.installation import installation_runner
from api.runners.local import JobRunner
from api.wiring import Context
from archive.audit import log as audit
from archive.errors import AuthenticationRequired, DanganError, PermissionDenied, StorageUnavailable
from archive.events import AuditAction
from archive.ports import BlobStore

log = logging.getLogger(__name__)
REBUILD_SHUTDOWN_SECONDS = 30  # a rebuild cut off by the exit reads as interrupted; the live index is intact


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
            for job_id in ingest.pending_job_ids():  # every runnable job, any batch: no flag needed
                job_runner.submit(job_id)
        app.state.runner = job_runner
        yield
        job_runner.shutdown(wait=runner is not None)
        IndexRebuilds(context).wait(timeout=REBUILD_SHUTDOWN_SECONDS)  # a daemon thread: cut off at exit

    app = ArchiveAPI(
        title="Dang'an archive API",
        version="0.1.0",
        lifespan=lifespan,
        description="Scanned records in; a searchable, access-controlled, verifiable archive out.",
        docs_url=None,  # /docs from this server's own files (api/http/docs.py); no ReDoc page
        redoc_url=None,
    )
    app.state.context = context
    for routes in (
        batch_routes,
        job_routes,
        account_routes,
        audit_routes,
        verify_routes,
        dat70_routes,
        device_routes,
        backup_routes,
        key_routes,
        status_routes,
        index_routes,
        schedule_routes,
        search_routes,
        retention_routes,
        catalogue_routes,
    ):
        app.include_router(routes)

    sealing = AuditService(context)

    @app.middleware("http")
    async def seal_the_log(request: Request, call_next: Any) -> Any:
        """After each request, a signed checkpoint of the access log when one is due. A store out of reach
        delays the checkpoint to a later request; it never fails this one (the answer is made already)."""
        response = await call_next(request)
        try:
            await run_in_threadpool(sealing.checkpoint_if_due)
        except DanganError as exc:
            log.warning("no audit checkpoint written yet: %s", exc.message)
        return response

    app.add_middleware(UploadGuard, context=context, record_denial=record_denial)  # outermost: before any body
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(DanganError)
    async def dangan_error(request: Request, exc: DanganError) -> JSONResponse:
        if isinstance(exc, PermissionDenied | AuthenticationRequired) and request.url.path != "/api/v1/auth/login":
            record_denial(context, request, exc)
        return dangan_response(exc, context.settings.private_paths)  # no server folder reaches a user

    register_error_handlers(app)  # validation errors, unknown routes and methods: the same shape

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict[str, str]:
        """The server answers; `store` is what the object store's circuit breaker knows (no call is made)."""
        return {"status": "ok", "store": store_state(context.store)}

    app.include_router(batch_uploads)

    app.include_router(browse_routes)  # before the documents: /documents/recent is not a document id
    app.include_router(document_routes)
    app.include_router(upload_routes())

    mount_ui(app)
    mount_docs(app)
    return app


def store_state(store: BlobStore) -> str:
    """ "available", or "unavailable" while the store's breaker refuses calls (known without any I/O)."""
    try:
        store.check_available()
    except StorageUnavailable:
        return "unavailable"
    return "available"


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
