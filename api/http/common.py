"""What every HTTP route shares: the caller from the bearer token, role checks, and received uploads."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.access.users import UserService
from api.http.uploads import INCOMING, safe_file_name, too_large, upload_limit_bytes
from api.wiring import Context
from archive.access import Principal, require_settled_password
from archive.diskfull import disk_full
from archive.hashing import CHUNK
from archive.text import display_name

# Every number a request carries is bounded, so none reaches the database as an overflow (a 500).
MAX_ID = 2**63 - 1  # SQLite's and PostgreSQL's BIGINT
MAX_SEED = 2**31 - 1  # sample seeds are stored in an INTEGER column
MAX_OFFSET = 1_000_000_000
MAX_PAGE = 10_000
Id = Annotated[int, PathParam(ge=1, le=MAX_ID, description="A record id")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
ResultPage = Annotated[int, Query(ge=1, le=MAX_PAGE)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
Seed = Annotated[int | None, Field(ge=0, le=MAX_SEED, description=f"0 to {MAX_SEED}; random (and recorded) if unset")]


def _storable(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment the catalogue can compare in UTC (9999-12-31T23:59-14:00 cannot be)."""
    if moment is not None:
        try:
            moment.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise ValueError("is outside the years 1 to 9999 once converted to UTC") from exc
    return moment


Moment = Annotated[
    dt.datetime | None, AfterValidator(_storable), Query(description="ISO 8601, e.g. 2024-05-01T08:00+08:00")
]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so nobody can slip a role, clearance, level or status into one."""

    model_config = ConfigDict(extra="forbid")


bearer = HTTPBearer(auto_error=False, description="A token from `dangan users bootstrap` or `dangan users token`.")


def context_of(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def account_holder(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller, even while their session may only change a password someone else set (for the routes of
    their own account: who am I, change my password, sign out)."""
    token = credentials.credentials if credentials else None
    principal = UserService(context_of(request)).authenticate(token, own_account=True)
    request.state.username = principal.username  # for the audit event if the request is then refused
    request.state.roles = sorted(principal.roles)
    return principal


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller, refused (403 password_change_required) while their password someone else set is unchanged."""
    principal = account_holder(request, credentials)
    require_settled_password(principal)  # here, once the refusal's audit event can name the account
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
AccountHolder = Annotated[Principal, Depends(account_holder)]


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


class ReceivedUpload:
    """An upload as a file in the spool area under its own (sanitised) name, within the size limit.

    Routes with `SpoolingRoute` already received the file there, and it is used where it lies (the ingest
    service moves it into the job's spool folder); any other upload is copied in. The folder is removed on
    exit; jobs keep their own spooled copies.
    """

    def __init__(self, upload: UploadFile, spool: Path, max_mb: int, *, name: str) -> None:
        self.upload, self.max_mb = upload, max_mb
        self.folder = spool / INCOMING / uuid.uuid4().hex
        self.path = self.folder / safe_file_name(name)
        self.spool = spool

    def __enter__(self) -> Path:
        received = self._received_in_spool()
        if received is not None:
            if received.stat().st_size > upload_limit_bytes(self.max_mb):
                raise too_large(self.max_mb)
            return received
        self.folder.mkdir(parents=True)
        try:
            with self.path.open("wb") as handle:
                copied = 0
                while chunk := self.upload.file.read(CHUNK):
                    copied += len(chunk)
                    if copied > upload_limit_bytes(self.max_mb):
                        raise too_large(self.max_mb)
                    handle.write(chunk)
        except BaseException as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            full = disk_full(exc, place="spool", path=self.spool, what="this upload")
            if full is not None:
                raise full from exc
            raise
        return self.path

    def _received_in_spool(self) -> Path | None:
        name = getattr(self.upload.file, "name", None)
        if not isinstance(name, str):
            return None
        path = Path(name)
        if not path.is_relative_to(self.spool / INCOMING):
            return None
        self.upload.file.flush()
        return path

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def upload_name(upload: UploadFile, *, fallback: str = "upload") -> str:
    """The uploaded file's own name for display: sanitised, the last segment of any client-side path."""
    return Path(display_name(upload.filename or fallback, fallback=fallback)).name or fallback
