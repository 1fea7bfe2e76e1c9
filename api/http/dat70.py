"""HTTP routes of the DA/T 70 four-property checks, for the archivist and the system administrator (the
permission table's dat70.run): check a batch or a document now, list and read stored runs (filing's too), as
JSON in the graded-report contract or as an HTML page in Chinese or English."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from api.http.common import Caller, Id, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.preservation.dat70 import Dat70Service
from api.views.dat70 import Dat70ReportView, Dat70RunList

router = APIRouter(prefix="/api/v1/dat70", tags=["dat70"])
MAX_ID = 2**63 - 1


class Dat70Request(Strict):
    """What to check: a batch or a document (exactly one)."""

    batch_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    document_id: int | None = Field(default=None, ge=1, le=MAX_ID)


@router.post("/checks", responses=error_responses(400, 403, 404))
def run_check(request: Request, caller: Caller, body: Dat70Request) -> Dat70ReportView:
    """Run the DA/T 70 four-property checks now; the graded report is stored and returned (200 even when checks
    fail: the report is the answer; `exit_code` is what `dangan check dat70` exits with: 0, 10 or 9)."""
    return Dat70Service(context_of(request)).check(
        caller, batch_id=body.batch_id, document_id=body.document_id, client=client_of(request)
    )


@router.get("/runs", responses=error_responses(403, 404))
def runs(
    request: Request,
    caller: Caller,
    batch_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    document_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Dat70RunList:
    """Stored runs, newest first: at filing and on demand, of one batch or document when named."""
    return Dat70Service(context_of(request)).runs(caller, batch_id=batch_id, document_id=document_id, limit=limit)


@router.get("/runs/{run_id}", responses=error_responses(403, 404))
def run_details(run_id: Id, request: Request, caller: Caller) -> Dat70ReportView:
    """One stored run: every check's code, property, result and detail, and the findings."""
    return Dat70Service(context_of(request)).run(caller, run_id)


@router.get("/runs/{run_id}/html", response_class=HTMLResponse, responses=error_responses(403, 404))
def run_html(
    run_id: Id, request: Request, caller: Caller, lang: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN"
) -> HTMLResponse:
    """The stored run as a readable HTML page in Chinese (zh-CN) or English (en)."""
    return HTMLResponse(Dat70Service(context_of(request)).html(caller, run_id, lang=lang))
