"""HTTP routes for compliance officers (and admins): query, export, alerts over the access log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.access.auditing import AuditService
from api.http.common import Caller, IdFilter, Moment, Offset, client_of, context_of
from api.http.openapi import error_responses
from api.runners.log_check import verify_access_log
from api.views.access import AlertsView, AuditEventsView, CheckpointView
from api.views.reports import AuditVerificationView
from archive.audit.alerts import AlertRules
from archive.audit.query import AuditFilter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _filter(
    user: str | None,
    document: int | None,
    action: str | None,
    outcome: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    client: str | None,
    limit: int,
    offset: int = 0,
) -> AuditFilter:
    return AuditFilter(
        actor=user,
        document_id=document,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        client=client,
        limit=limit,
        offset=offset,
    )


@router.get("/events", responses=error_responses(403))
def events(
    request: Request,
    caller: Caller,
    user: str | None = None,
    document: IdFilter = None,
    action: str | None = None,
    outcome: str | None = None,
    since: Moment = None,
    until: Moment = None,
    client: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Offset = 0,
) -> AuditEventsView:
    """Events by user, document, action (prefix with *), outcome, time range and client address."""
    flt = _filter(user, document, action, outcome, since, until, client, limit, offset)
    return AuditService(context_of(request)).events(caller, flt)


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The matching events as a CSV or JSON file (an empty log exports a header or `[]`)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


@router.get("/export", response_class=Response, responses={**EXPORT_RESPONSES, **error_responses(403)})
def export(
    request: Request,
    caller: Caller,
    format: Literal["csv", "json"] = "csv",
    user: str | None = None,
    document: IdFilter = None,
    action: str | None = None,
    outcome: str | None = None,
    since: Moment = None,
    until: Moment = None,
    client: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> Response:
    """CSV or JSON download of the matching events; the export is itself an audit event."""
    flt = _filter(user, document, action, outcome, since, until, client, limit)
    exported = AuditService(context_of(request)).export(caller, flt, fmt=format, client=client_of(request))
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.get("/alerts", responses=error_responses(403))
def alerts(
    request: Request,
    caller: Caller,
    since: Moment = None,
    until: Moment = None,
    timezone: str = "Asia/Shanghai",
) -> AlertsView:
    """Denied-access bursts, bulk downloads, off-hours access to confidential and above, with their events."""
    return AuditService(context_of(request)).alerts(
        caller, AlertRules(timezone=timezone), _filter(None, None, None, None, since, until, None, 1)
    )


@router.post("/verify", responses=error_responses(403))
def verify(request: Request, caller: Caller) -> AuditVerificationView:
    """Check the hash chain and the signed checkpoints; names the first bad event.

    Graded: tampering is `errors`, events no signed checkpoint covers yet are `warnings`; `ok` is true when
    there is no error. Checkpoints deleted from the store are looked for on the backup targets' copies. Answers
    200 whatever it finds: the report is the answer."""
    return verify_access_log(context_of(request), caller, client=client_of(request))


@router.post("/checkpoints", status_code=201, responses=error_responses(403, 503, 507))
def checkpoint(request: Request, caller: Caller) -> CheckpointView:
    """A signed checkpoint of the log's head now, written to the object store."""
    return AuditService(context_of(request)).checkpoint(caller, client=client_of(request))
