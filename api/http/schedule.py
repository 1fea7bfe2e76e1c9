"""HTTP routes for the scheduled duties (system administrator) and the compliance report (security auditor)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.http.common import Caller, context_of
from api.http.openapi import error_responses
from api.runners.compliance import compliance_report, kept_report, kept_reports
from api.runners.scheduler import Scheduler
from api.views.compliance_html import render_compliance
from api.views.preservation import ComplianceReportList, ComplianceReportView, ScheduleRunView, ScheduleView
from archive.schedule import Duty

router = APIRouter(tags=["system"])


@router.get("/api/v1/schedule", responses=error_responses(403))
def schedule(request: Request, caller: Caller) -> ScheduleView:
    """Each duty's interval, last run and next run (Settings.schedule), and the latest runs."""
    return Scheduler(context_of(request)).view(caller)


@router.post("/api/v1/schedule/{duty}/run", responses=error_responses(403))
def run_duty(duty: Duty, request: Request, caller: Caller) -> ScheduleRunView:
    """Run one duty now, due or not (as the system, like `dangan scheduler --duty`); the run is the answer,
    failed or not."""
    [run] = Scheduler(context_of(request)).run_due(caller, only=duty)
    return run


@router.post("/api/v1/audit/compliance-report", responses=error_responses(403))
def report(
    request: Request,
    caller: Caller,
    days: Annotated[float, Query(ge=1, le=3660, description="The period, ending now")] = 91.0,
) -> ComplianceReportView:
    """The compliance report for the period, graded, kept in the object store under reports/compliance/."""
    return compliance_report(context_of(request), caller, days=days)


Stamp = Annotated[str, Path(pattern=r"^\d{8}T\d{6}Z$", description="The report's time, as `reports` lists it")]


@router.get("/api/v1/audit/compliance-reports", responses=error_responses(403))
def reports(request: Request, caller: Caller) -> ComplianceReportList:
    """The kept compliance reports' stamps (UTC, YYYYMMDDTHHMMSSZ), newest first."""
    return ComplianceReportList(reports=kept_reports(context_of(request), caller))


@router.get("/api/v1/audit/compliance-reports/{stamp}", responses=error_responses(403, 404))
def kept(stamp: Stamp, request: Request, caller: Caller) -> ComplianceReportView:
    """One kept compliance report, as it was made."""
    return kept_report(context_of(request), caller, stamp)


@router.get(
    "/api/v1/audit/compliance-reports/{stamp}/html", response_class=HTMLResponse, responses=error_responses(403, 404)
)
def kept_html(
    stamp: Stamp, request: Request, caller: Caller, lang: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN"
) -> HTMLResponse:
    """One kept compliance report as a readable HTML page in Chinese (zh-CN) or English (en)."""
    return HTMLResponse(render_compliance(kept_report(context_of(request), caller, stamp), lang=lang))
