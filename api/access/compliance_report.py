"""The periodic compliance report (the written rules' "regular supervision and inspection"): over a period, the
access log's verification, the alerts, the fixity verifications, the DA/T 70 four-property checks, the backups,
the restore drills and the scheduled duties, graded — errors when the log does not verify, a verification or a
DA/T 70 check found errors or a drill failed; warnings for alerts, incomplete backups, failed duties or no drill
at all. Kept as JSON in the object store (`reports/compliance/<time>.json`) and returned. The security auditor's
(`compliance.report`); the scheduler makes it every `schedule.compliance_days` (91: quarterly)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from sqlalchemy import select

from api.access.auditing import AuditService
from api.views.preservation import ComplianceReportView
from api.wiring import Context
from archive.access import Principal
from archive.audit.alerts import AlertRules
from archive.audit.query import AuditFilter
from archive.keys import REPORT_PREFIX
from archive.models import BackupDrill, BackupRun, Dat70Run, ScheduleRun, VerificationRun, utcnow
from archive.permissions import Action, authorize
from archive.reports import Grade


def compliance_report(context: Context, principal: Principal, *, days: float = 91.0) -> ComplianceReportView:
    authorize(principal.roles, Action.COMPLIANCE_REPORT)
    until = utcnow()
    since = until - dt.timedelta(days=days)
    auditing = AuditService(context)
    log = auditing.verify(principal)
    alerts = Counter(a.kind for a in auditing.alerts(principal, AlertRules(), AuditFilter(since=since)).alerts)
    with context.db.read() as session:
        verifications = Counter(
            session.scalars(select(VerificationRun.status).where(VerificationRun.started_at >= since))
        )
        backups: dict[str, Counter[str]] = {}
        for target, status in session.execute(
            select(BackupRun.target, BackupRun.status).where(BackupRun.started_at >= since)
        ):
            backups.setdefault(target, Counter())[status] += 1
        drills = Counter(session.scalars(select(BackupDrill.status).where(BackupDrill.started_at >= since)))
        scheduled = Counter(session.scalars(select(ScheduleRun.outcome).where(ScheduleRun.started_at >= since)))
        dat70 = Counter(session.scalars(select(Dat70Run.grade).where(Dat70Run.started_at >= since)))
    errors, warnings = [], []
    if not log.ok:
        errors.append(f"the access log does not verify ({log.grade.value}): `dangan audit verify` lists why")
    elif log.grade is not Grade.CLEAN:
        warnings.append("the access log has events no signed checkpoint seals yet")
    if verifications.get("errors"):
        errors.append(f"{verifications['errors']} fixity verification(s) found errors")
    if dat70.get("errors"):
        errors.append(f"{dat70['errors']} DA/T 70 four-property check(s) found errors (`dangan check dat70 --list`)")
    if drills.get("failed"):
        errors.append(f"{drills['failed']} restore drill(s) failed")
    if not drills:
        warnings.append("no restore drill in the period")
    if alerts:
        warnings.append(f"{sum(alerts.values())} alert(s) to review on the Alerts screen")
    incomplete = sum(c for counts in backups.values() for status, c in counts.items() if status != "complete")
    if incomplete:
        warnings.append(f"{incomplete} backup run(s) did not complete")
    if not backups:
        warnings.append("no backup run in the period")
    if scheduled.get("failed"):
        warnings.append(f"{scheduled['failed']} scheduled duty run(s) failed")
    grade = Grade.ERRORS if errors else Grade.WARNINGS if warnings else Grade.CLEAN
    key = f"{REPORT_PREFIX}compliance/{until:%Y%m%dT%H%M%SZ}.json"
    view = ComplianceReportView(
        key=key,
        since=since,
        until=until,
        grade=grade,
        exit_code=int(grade.exit_code),
        severity_counts={"error": len(errors), "warning": len(warnings)},
        audit_log={"ok": log.ok, "grade": log.grade.value, "events_checked": log.events_checked},
        alerts=dict(alerts),
        verifications=dict(verifications),
        backups={target: dict(counts) for target, counts in backups.items()},
        drills=dict(drills),
        scheduled=dict(scheduled),
        dat70=dict(dat70),
        findings=errors + warnings,
    )
    data = json.dumps(view.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8")
    context.store.put_bytes(key, data)
    return view
