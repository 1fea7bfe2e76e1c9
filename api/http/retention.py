"""HTTP routes for retention and disposition: the due list, a record's own code, appraisals, legal holds,
dispositions (propose, approve by another person, cancel, execute) and their certificates. Who may do what is
the permission table's; what each caller sees, the access policy's (a record one may not see is 404)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from api.http.common import BodyId, Caller, Id, Strict, client_of, context_of
from api.http.headers import FILE_HEADERS
from api.http.openapi import error_responses
from api.records.certificate_check import CertificateService
from api.records.disposal import DisposalService
from api.records.disposition import DispositionService
from api.records.holds import HoldService
from api.records.retention import MAX_WITHIN_DAYS, RetentionService
from api.views.retention import (
    AppraisalView,
    CertificateCheckView,
    DispositionListView,
    DispositionView,
    DueListView,
    DueRecordView,
    HoldListView,
    HoldView,
)

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])
Reason = Annotated[str, Field(min_length=1, max_length=4000, description="Why; goes into the access log")]


class CodeChange(Strict):
    retention: str = Field(max_length=32, description="Y10, Y30, YJ / 永久 (permanent), or `series`")
    reason: Reason


class AppraisalRequest(Strict):
    document_id: BodyId
    decision: Literal["keep", "destroy", "transfer"]
    retention: str | None = Field(default=None, max_length=32, description="keep: the new code")
    reason: Reason


class HoldRequest(Strict):
    document_id: BodyId
    reason: Reason


class ReasonBody(Strict):
    reason: Reason


class DispositionRequest(Strict):
    action: Literal["destroy", "transfer"]
    document_ids: list[BodyId] = Field(min_length=1, max_length=10_000)
    reason: Reason
    destination: str | None = Field(
        default=None, max_length=4096, description="transfer: an absolute folder on the server for the bag"
    )


@router.get("/due", responses=error_responses(403))
def due(
    request: Request,
    caller: Caller,
    within_days: Annotated[int, Query(ge=0, le=MAX_WITHIN_DAYS)] = 0,
    as_of: dt.date | None = None,
) -> DueListView:
    """Records due now (or within N days) among those the caller may see, oldest due first."""
    return RetentionService(context_of(request)).due(caller, within_days=within_days, as_of=as_of)


@router.put("/records/{document_id}", responses=error_responses(403, 404, 409))
def set_code(document_id: Id, request: Request, caller: Caller, body: CodeChange) -> DueRecordView:
    """Give a record its own retention code (overriding its series'), or `series` to clear it."""
    return RetentionService(context_of(request)).set_code(
        caller, document_id, retention=body.retention, reason=body.reason, client=client_of(request)
    )


@router.post("/appraisals", status_code=201, responses=error_responses(403, 404, 409))
def appraise(request: Request, caller: Caller, body: AppraisalRequest) -> AppraisalView:
    """An archivist's decision on a due record: keep (with a new code), destroy or transfer."""
    return RetentionService(context_of(request)).appraise(
        caller,
        body.document_id,
        decision=body.decision,
        reason=body.reason,
        retention=body.retention,
        client=client_of(request),
    )


@router.get("/holds", responses=error_responses(403))
def holds(request: Request, caller: Caller, lifted: bool = False) -> HoldListView:
    """Legal holds on the records the caller may see (active ones; `lifted=true` for all)."""
    return HoldService(context_of(request)).list(caller, include_lifted=lifted)


@router.post("/holds", status_code=201, responses=error_responses(403, 404, 409))
def hold(request: Request, caller: Caller, body: HoldRequest) -> HoldView:
    """Put a record under a legal hold: no disposition may propose, approve or execute it."""
    return HoldService(context_of(request)).hold(
        caller, body.document_id, reason=body.reason, client=client_of(request)
    )


@router.post("/holds/{document_id}/release", responses=error_responses(403, 404, 409))
def release(document_id: Id, request: Request, caller: Caller, body: ReasonBody) -> HoldView:
    """Lift a record's legal hold."""
    return HoldService(context_of(request)).release(caller, document_id, reason=body.reason, client=client_of(request))


@router.get("/dispositions", responses=error_responses(403))
def dispositions(
    request: Request,
    caller: Caller,
    status: Literal["proposed", "approved", "executed", "cancelled"] | None = None,
) -> DispositionListView:
    """Dispositions whose records the caller may all see, newest first."""
    return DispositionService(context_of(request)).list(caller, status=status)


@router.post("/dispositions", status_code=201, responses=error_responses(403, 404, 409))
def propose(request: Request, caller: Caller, body: DispositionRequest) -> DispositionView:
    """Propose to destroy or transfer appraised records; another person must approve."""
    return DispositionService(context_of(request)).propose(
        caller,
        action=body.action,
        document_ids=list(body.document_ids),
        reason=body.reason,
        destination=body.destination,
        client=client_of(request),
    )


@router.get("/dispositions/{disposition_id}", responses=error_responses(403, 404))
def show(disposition_id: Id, request: Request, caller: Caller) -> DispositionView:
    return DispositionService(context_of(request)).show(caller, disposition_id)


@router.post("/dispositions/{disposition_id}/approve", responses=error_responses(403, 404, 409))
def approve(disposition_id: Id, request: Request, caller: Caller) -> DispositionView:
    """The second person's approval: 403 `own_proposal` for the proposer, 409 `legal_hold` while one is held."""
    return DispositionService(context_of(request)).approve(caller, disposition_id, client=client_of(request))


@router.post("/dispositions/{disposition_id}/cancel", responses=error_responses(403, 404, 409))
def cancel(disposition_id: Id, request: Request, caller: Caller, body: ReasonBody) -> DispositionView:
    return DispositionService(context_of(request)).cancel(
        caller, disposition_id, reason=body.reason, client=client_of(request)
    )


@router.post("/dispositions/{disposition_id}/execute", responses=error_responses(403, 404, 409, 503))
def execute(disposition_id: Id, request: Request, caller: Caller) -> DispositionView:
    """Destroy or transfer the approved disposition's records and write its certificate (again: finish a sweep)."""
    return DisposalService(context_of(request)).execute(caller, disposition_id, client=client_of(request))


CERTIFICATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The certificate: signed JSON, or its HTML or CSV rendering",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.get(
    "/dispositions/{disposition_id}/certificate",
    response_class=Response,
    responses={**CERTIFICATE_RESPONSES, **error_responses(403, 404)},
)
def certificate(
    disposition_id: Id,
    request: Request,
    caller: Caller,
    format: Literal["json", "html", "csv"] = "json",
) -> Response:
    found = CertificateService(context_of(request)).file(caller, disposition_id, format)
    return Response(
        found.data,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"', **FILE_HEADERS},
    )


@router.post("/dispositions/{disposition_id}/certificate/verify", responses=error_responses(403, 404))
def verify_certificate(disposition_id: Id, request: Request, caller: Caller) -> CertificateCheckView:
    """Verify the certificate again; 200 whatever it finds (`valid` says)."""
    return CertificateService(context_of(request)).verify(caller, disposition_id, client=client_of(request))
