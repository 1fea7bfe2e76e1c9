"""HTTP routes for the scheduled duties (system administrator) and the compliance report (security auditor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.access.compliance_report import compliance_report
from api.http.common import Caller, context_of
from api.http.openapi import error_responses
from api.runners.scheduler import Scheduler
from api.views.preservation import ComplianceReportView, ScheduleRunView, ScheduleView
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
