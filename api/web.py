"""The HTTP API (FastAPI). Routes parse, make one service call, render; errors map in one handler."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.runner import JobRunner, LocalJobRunner
from api.services.documents import DocumentService, FileDownload
from api.services.ingest import IngestOptions, IngestService
from api.services.search import SearchService
from api.services.users import UserService
from api.wiring import Context
from archive.access import Principal
from archive.errors import DanganError, PermissionDenied, TooLarge
from archive.hashing import CHUNK
from archive.values import ObjectRole, Role

bearer = HTTPBearer(auto_error=False, description="A token from `dangan users create-admin` or `dangan users token`.")


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    users: UserService = request.app.state.users
    return users.authenticate(credentials.credentials if credentials else None)


Caller = Annotated[Principal, Depends(current_principal)]


def create_app(context: Context, *, runner: JobRunner | None = None) -> FastAPI:
    """The ASGI app over one Context; OCR jobs run on `runner` (a local process pool by default)."""
    ingest = IngestService(context)
    users = UserService(context)
    documents = DocumentService(context)
    searching = SearchService(context)

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
    )
    app.state.users = users

    @app.exception_handler(DanganError)
    async def dangan_error(_request: Request, exc: DanganError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.http_status, headers=headers)

    @app.get("/healthz", tags=["system"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/documents", status_code=202, tags=["ingest"])
    def upload(
        request: Request,
        caller: Caller,
        file: Annotated[UploadFile, File(description="A TIFF, PNG, JPEG or PDF scan.")],
        title: Annotated[str | None, Form()] = None,
        level: Annotated[str | None, Form(description="public, internal, confidential, secret, top_secret")] = None,
        languages: Annotated[str | None, Form(description="OCR languages, e.g. chi_sim+eng")] = None,
        fonds: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        """Accept one scan; OCR runs in a worker process. Poll the job link for the result."""
        if not caller.roles & {Role.ADMIN, Role.ARCHIVIST}:
            raise PermissionDenied("uploading needs the archivist or admin role")
        settings = context.settings
        options = IngestOptions(
            languages=languages or settings.ocr_languages,
            level=level or settings.default_level,
            fonds=fonds or settings.default_fonds,
            title=title,
        )
        name = Path(file.filename or "upload").name
        with ReceivedUpload(file, settings.spool_dir, settings.max_upload_mb) as received:
            job = ingest.submit(
                received, display_name=name, options=options, actor=caller.username, client=_client(request)
            )
        request.app.state.runner.submit(job["id"])
        return job

    @app.get("/api/v1/jobs/{job_id}", tags=["ingest"])
    def job(job_id: int, _caller: Caller) -> dict[str, Any]:
        return ingest.job(job_id)

    @app.get("/api/v1/documents/{document_id}", tags=["documents"])
    def document(document_id: int, request: Request, caller: Caller) -> dict[str, Any]:
        return documents.get(caller, document_id, client=_client(request))

    @app.get("/api/v1/documents/{document_id}/pdf", tags=["documents"], response_class=StreamingResponse)
    def pdf(document_id: int, request: Request, caller: Caller) -> StreamingResponse:
        """The PDF/A-2b access copy with its text layer."""
        return _stream(documents.open_file(caller, document_id, ObjectRole.PDFA, client=_client(request)))

    @app.get("/api/v1/documents/{document_id}/original", tags=["documents"], response_class=StreamingResponse)
    def original(document_id: int, request: Request, caller: Caller) -> StreamingResponse:
        """The scan exactly as received, byte for byte."""
        return _stream(documents.open_file(caller, document_id, ObjectRole.ORIGINAL, client=_client(request)))

    @app.get("/api/v1/search", tags=["search"])
    def search(
        request: Request,
        caller: Caller,
        q: Annotated[str, Query(description='Words, "a phrase", Chinese characters, AND/OR/NOT, title:word')],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        return searching.search(caller, q, limit=limit, client=_client(request))

    return app


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


class ReceivedUpload:
    """Copy an upload into the spool area in chunks, enforcing the size limit; removed afterwards."""

    def __init__(self, upload: UploadFile, spool: Path, max_mb: int) -> None:
        self.upload, self.spool, self.limit = upload, spool, max_mb * 1024 * 1024
        self.path: Path | None = None

    def __enter__(self) -> Path:
        incoming = self.spool / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=incoming, delete=False)
        self.path = Path(handle.name)
        try:
            with handle:
                copied = 0
                while chunk := self.upload.file.read(CHUNK):
                    copied += len(chunk)
                    if copied > self.limit:
                        raise TooLarge(f"the upload exceeds the {self.limit // 1024 // 1024} MB limit (max_upload_mb)")
                    handle.write(chunk)
        except BaseException:
            self.path.unlink(missing_ok=True)
            raise
        return self.path

    def __exit__(self, *_exc: object) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _stream(download: FileDownload) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        with download.stream as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    disposition = f"inline; filename*=UTF-8''{_quote(download.filename)}"
    return StreamingResponse(
        chunks(),
        media_type=download.media_type,
        headers={"Content-Disposition": disposition, "Content-Length": str(download.size)},
    )


def _quote(filename: str) -> str:
    return quote(filename, safe="")
