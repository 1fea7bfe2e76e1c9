"""The periodic compliance report (the written rules' "regular supervision and inspection"): over a period, the
access log's verification, the alerts, the fixity verifications, the DA/T 70 four-property checks, the backups,
the restore drills, the scheduled duties and the records past their retention period, graded — errors when the
log does not verify, a verification or a DA/T 70 check found errors or a drill failed; warnings for alerts,
incomplete backups, failed duties, no drill at all or records overdue for disposition. Each finding is coded
(the HTML page, api/views/compliance_html.py, says it in Chinese or English). Kept as JSON in the object store
(`reports/compliance/<time>.json`) and returned; kept reports are listed and read again (`kept_reports`,
`kept_report`). The security auditor's (`compliance.report`); the scheduler makes it every
`schedule.compliance_days` (91: quarterly)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from api.access.auditing import AuditService
from api.records.retention import RetentionService
from api.runners.log_check import target_stores
from api.views.preservation import ComplianceFindingView, ComplianceReportView
from api.wiring import Context
from archive.access import Principal
from archive.audit.alerts import AlertRules
from archive.audit.query import AuditFilter
from archive.errors import NotFound
from archive.keys import REPORT_PREFIX
from archive.models import BackupDrill, BackupRun, Dat70Run, ScheduleRun, VerificationRun, utcnow
from archive.permissions import Action, authorize
from archive.reports import Grade

PREFIX = f"{REPORT_PREFIX}compliance/"
_STAMP = re.compile(r"^\d{8}T\d{6}Z$")

# code → the English sentence (the catalogues compliance.json carry both languages under compliance.finding.<code>)
SENTENCES = {
    "log_not_verified": "the access log does not verify ({grade}): `dangan audit verify` lists why",
    "log_unsealed": "the access log has events no signed checkpoint seals yet",
    "verification_errors": "{count} fixity verification(s) found errors",
    "dat70_errors": "{count} DA/T 70 four-property check(s) found errors (`dangan check dat70 --list`)",
    "drills_failed": "{count} restore drill(s) failed",
    "no_drill": "no restore drill in the period",
    "alerts": "{count} alert(s) to review on the Alerts screen",
    "backups_incomplete": "{count} backup run(s) did not complete",
    "no_backup": "no backup run in the period",
    "duties_failed": "{count} scheduled duty run(s) failed",
    "retention_overdue": "{count} record(s) are past their retention period with no disposition under way "
    "(`dangan retention due`)",
}
ERRORS = frozenset({"log_not_verified", "verification_errors", "dat70_errors", "drills_failed"})


@dataclass
class _Period:
    verifications: Counter[str] = field(default_factory=Counter)
    backups: dict[str, Counter[str]] = field(default_factory=dict)
    drills: Counter[str] = field(default_factory=Counter)
    scheduled: Counter[str] = field(default_factory=Counter)
    dat70: Counter[str] = field(default_factory=Counter)


def compliance_report(context: Context, principal: Principal, *, days: float = 91.0) -> ComplianceReportView:
    authorize(principal.roles, Action.COMPLIANCE_REPORT)
    until = utcnow()
    since = until - dt.timedelta(days=days)
    auditing = AuditService(context)
    log = auditing.verify(principal, copies=target_stores(context))
    alerts = Counter(a.kind for a in auditing.alerts(principal, AlertRules(), AuditFilter(since=since)).alerts)
    period = _period(context, since)
    due = RetentionService(context).due(principal).records
    retention = {
        "due": len(due),
        "held": sum(1 for r in due if r.held),
        "in_disposition": sum(1 for r in due if r.disposition_id is not None),
    }
    found: list[tuple[str, dict[str, str | int]]] = []
    if not log.ok:
        found.append(("log_not_verified", {"grade": log.grade.value}))
    elif log.grade is not Grade.CLEAN:
        found.append(("log_unsealed", {}))
    for code, count in (
        ("verification_errors", period.verifications.get("errors", 0)),
        ("dat70_errors", period.dat70.get("errors", 0)),
        ("drills_failed", period.drills.get("failed", 0)),
        ("alerts", sum(alerts.values())),
        ("backups_incomplete", sum(c for by in period.backups.values() for s, c in by.items() if s != "complete")),
        ("duties_failed", period.scheduled.get("failed", 0)),
        ("retention_overdue", retention["due"] - retention["held"] - retention["in_disposition"]),
    ):
        if count:
            found.append((code, {"count": count}))
    found += [(code, {}) for code, none in (("no_drill", not period.drills), ("no_backup", not period.backups)) if none]
    items = sorted((_finding(code, params) for code, params in found), key=lambda f: f.severity != "error")
    severities = Counter(f.severity for f in items)
    grade = Grade.ERRORS if severities["error"] else Grade.WARNINGS if severities["warning"] else Grade.CLEAN
    view = ComplianceReportView(
        key=f"{PREFIX}{until:%Y%m%dT%H%M%SZ}.json",
        since=since,
        until=until,
        grade=grade,
        exit_code=int(grade.exit_code),
        severity_counts={"error": severities["error"], "warning": severities["warning"]},
        audit_log={"ok": log.ok, "grade": log.grade.value, "events_checked": log.events_checked},
        alerts=dict(alerts),
        verifications=dict(period.verifications),
        backups={target: dict(counts) for target, counts in period.backups.items()},
        drills=dict(period.drills),
        scheduled=dict(period.scheduled),
        dat70=dict(period.dat70),
        retention=retention,
        findings=[f.message for f in items],
        items=items,
    )
    data = json.dumps(view.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8")
    context.store.put_bytes(view.key, data)
    return view


def _period(context: Context, since: dt.datetime) -> _Period:
    period = _Period()
    with context.db.read() as session:
        period.verifications.update(
            session.scalars(select(VerificationRun.status).where(VerificationRun.started_at >= since))
        )
        for target, status in session.execute(
            select(BackupRun.target, BackupRun.status).where(BackupRun.started_at >= since)
        ):
            period.backups.setdefault(target, Counter())[status] += 1
        period.drills.update(session.scalars(select(BackupDrill.status).where(BackupDrill.started_at >= since)))
        period.scheduled.update(session.scalars(select(ScheduleRun.outcome).where(ScheduleRun.started_at >= since)))
        period.dat70.update(session.scalars(select(Dat70Run.grade).where(Dat70Run.started_at >= since)))
    return period


def _finding(code: str, params: dict[str, str | int]) -> ComplianceFindingView:
    message = SENTENCES[code].format(**params)
    if code in ERRORS:
        return ComplianceFindingView(code=code, severity="error", params=params, message=message)
    return ComplianceFindingView(code=code, severity="warning", params=params, message=message)


def kept_reports(context: Context, principal: Principal) -> list[str]:
    """The stamps (YYYYMMDDTHHMMSSZ) of the kept reports, newest first."""
    authorize(principal.roles, Action.COMPLIANCE_REPORT)
    names = (key.removeprefix(PREFIX).removesuffix(".json") for key in context.store.iter_keys(PREFIX))
    return sorted((name for name in names if _STAMP.match(name)), reverse=True)


def kept_report(context: Context, principal: Principal, stamp: str) -> ComplianceReportView:
    """One kept report, as it was made."""
    authorize(principal.roles, Action.COMPLIANCE_REPORT)
    if not _STAMP.match(stamp):
        raise NotFound(f"no compliance report {stamp!r}: `dangan scheduler reports` lists the kept ones")
    try:
        with context.store.open_read(f"{PREFIX}{stamp}.json") as stream:
            return ComplianceReportView.model_validate_json(stream.read())
    except NotFound:
        raise NotFound(f"no compliance report {stamp!r}: `dangan scheduler reports` lists the kept ones") from None
