"""Upload bodies: refused before they are stored when the caller is unknown or the body too large, and
stored once, straight into the spool area, when they are accepted.

`UploadGuard` is a pure ASGI middleware in front of the upload routes. It authenticates the bearer token and
checks Content-Length before the app reads a byte of the body, and counts the bytes of a chunked body as they
arrive, answering 413 the moment the cap is passed. `SpoolingRoute` makes a route's multipart parser write
each file part into its own folder under `<spool>/incoming/` instead of a temporary file elsewhere; the
ingest service then moves (renames) it into the job's spool folder, so an upload's bytes are written once.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import aclosing
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access.users import UserService
from api.http.errors import dangan_response
from api.wiring import Context
from archive.access import require_settled_password
from archive.diskfull import disk_full
from archive.errors import (
    AuthenticationRequired,
    DanganError,
    InsufficientStorage,
    PermissionDenied,
    StorageUnavailable,
    TooLarge,
)
from archive.failpoints import failpoint
from archive.permissions import Action, authorize
from archive.scratch import owned_name
from archive.text import display_name
from storage_config.space import check_room

UPLOAD_PATHS = re.compile(r"^/api/v1/(?:documents|batches/\d+/files|pages/\d+/rescan)/?$")
FRAMING_BYTES = 1024 * 1024  # multipart boundaries, part headers and the small form fields beside the file
INCOMING = "incoming"
DISK_FULL_KEY = "dangan.disk_full"  # where the parser leaves a full spool's error for its route


def upload_limit_bytes(max_upload_mb: int) -> int:
    return max_upload_mb * 1024 * 1024


def too_large(max_upload_mb: int) -> TooLarge:
    return TooLarge(f"the upload exceeds the {max_upload_mb} MB limit (max_upload_mb); split it into smaller uploads")


def safe_file_name(name: str, *, fallback: str = "upload") -> str:
    """A name fit for the spool folder: the sanitised last path segment, word characters, dots and dashes."""
    last = Path(display_name(name, fallback=fallback)).name
    safe = re.sub(r"[^\w.\-]", "_", last)[-150:]
    return fallback if safe in ("", ".", "..") else safe


class _BodyOverLimit(Exception):
    """Raised into the app from `receive` once a body passes the cap; the guard answers 413 itself."""


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class UploadGuard:
    """Authentication and the size limit for upload routes, before the body is read."""

    def __init__(self, app: ASGIApp, *, context: Context, record_denial: Callable[..., None]) -> None:
        self.app, self.context, self.record_denial = app, context, record_denial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not UPLOAD_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            authenticate = UserService(self.context).authenticate
            caller = await run_in_threadpool(authenticate, bearer_token(request.headers), own_account=True)
        except AuthenticationRequired as exc:
            await run_in_threadpool(self.record_denial, self.context, request, exc)
            await _refuse(exc, scope, receive, send)
            return
        try:  # the role too, before the body: the permission table's row for what this upload does
            require_settled_password(caller)
            authorize(caller.roles, Action.REVIEW_PAGE if scope["path"].endswith("/rescan") else Action.INGEST)
        except PermissionDenied as exc:
            request.state.username, request.state.roles = caller.username, sorted(caller.roles)
            await run_in_threadpool(self.record_denial, self.context, request, exc)
            await _refuse(exc, scope, receive, send)
            return
        try:  # a store known to be down (its breaker open): 503 with Retry-After before reading the body
            self.context.store.check_available()
        except StorageUnavailable as exc:
            await _refuse(exc, scope, receive, send)
            return
        max_mb = self.context.settings.max_upload_mb
        cap = upload_limit_bytes(max_mb) + FRAMING_BYTES
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await _refuse(too_large(max_mb), scope, receive, send)
            return
        try:  # the free-space reserve, before a byte is received: the body lands in the spool
            check_room(self.context.settings, int(declared) if declared.isdigit() else 0, what="this upload")
        except InsufficientStorage as exc:
            await _refuse(exc, scope, receive, send, private=self.context.settings.private_paths)
            return
        await self._counted(scope, receive, send, cap=cap, max_mb=max_mb)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, *, cap: int, max_mb: int) -> None:
        received, over, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    raise _BodyOverLimit
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the app makes of the aborted body, the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _refuse(too_large(max_mb), scope, receive, send)


async def _refuse(
    exc: DanganError, scope: Scope, receive: Receive, send: Send, *, private: tuple[Path, ...] = ()
) -> None:
    """The error in the API's one JSON shape; the connection closes, so the unread body is never stored."""
    response = dangan_response(exc, private, headers={"Connection": "close"})
    await response(scope, receive, send)


class _SpoolingParser(MultiPartParser):
    """Starlette's multipart parser, writing each file part to a named file in `folder` instead of a
    SpooledTemporaryFile in the system temp dir (which would be a second copy of the whole body)."""

    def __init__(self, headers: Headers, stream: AsyncGenerator[bytes, None], *, folder: Path, **limits: Any) -> None:
        super().__init__(headers, stream, **limits)
        self.folder = folder

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is None:
            return
        target = self.folder / f"{self._current_files:05d}" / safe_file_name(upload.filename or "upload")
        target.parent.mkdir(parents=True)
        failpoint("upload.receive")
        handle = target.open("w+b")
        self._files_to_close_on_error.pop().close()  # the empty in-memory file the base class made
        self._files_to_close_on_error.append(handle)  # type: ignore[arg-type]
        upload.file = handle


class SpoolingRequest(Request):
    """A request whose multipart files land in `folder` (under the spool area)."""

    def __init__(self, scope: Scope, receive: Receive, *, folder: Path) -> None:
        super().__init__(scope, receive)
        self.folder = folder

    async def _get_form(
        self, *, max_files: int | float = 1000, max_fields: int | float = 1000, max_part_size: int = 1024 * 1024
    ) -> FormData:
        if self._form is None and self.headers.get("content-type", "").startswith("multipart/form-data"):
            try:
                async with aclosing(self.stream()) as stream:
                    parser = _SpoolingParser(
                        self.headers,
                        stream,
                        folder=self.folder,
                        max_files=max_files,
                        max_fields=max_fields,
                        max_part_size=max_part_size,
                    )
                    self._form = await parser.parse()
            except MultiPartException as exc:
                raise HTTPException(status_code=400, detail=exc.message) from exc
            except OSError as exc:  # the spool filled up while the body arrived (SpoolingRoute removes the part)
                declared = self.headers.get("content-length", "")
                needed = int(declared) if declared.isdigit() else None
                full = disk_full(exc, place="spool", path=self.folder.parent.parent, needed=needed, what="this upload")
                if full is None:
                    raise
                self.scope[DISK_FULL_KEY] = full  # FastAPI turns any other error here into a 400; the route raises it
                raise HTTPException(status_code=full.http_status, detail=full.message) from exc
        return await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)


class SpoolingRoute(APIRoute):
    """Routes that receive files: the body goes to `<spool>/incoming/upload-<pid>-<hex>/`, removed when the route
    is done (the ingest service has moved what it keeps into the job's own spool folder by then)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def spooling_handler(request: Request) -> Response:
            context: Context = request.app.state.context
            folder = context.settings.spool_dir / INCOMING / owned_name("upload")  # swept once its process is gone
            try:
                return await handler(SpoolingRequest(request.scope, request.receive, folder=folder))
            except HTTPException:
                full = request.scope.get(DISK_FULL_KEY)
                if isinstance(full, InsufficientStorage):
                    raise full from None  # the error tree's 507, its message without server paths
                raise
            finally:
                await run_in_threadpool(shutil.rmtree, folder, True)

        return spooling_handler
