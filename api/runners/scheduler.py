"""`dangan scheduler`: the preservation duties on their intervals, inside the product (Settings.schedule).

Each duty runs as the system (actor `system`), with only the role its use case needs — backups, verification and
drills the system administrator's, the compliance report the security auditor's, the retention due list the
archivist's — so the one permission table still decides. Every run is a row in `schedule_run` and an audit
event `schedule.run` with its outcome; a duty that fails is recorded as failed with the error's code and message
and does not stop the others. A duty is due when its last run started longer ago than its interval (a crashed
run counts: it is not retried in a loop).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from api.access.auditing import AuditService
from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets
from api.preservation.backups import BackupService
from api.preservation.verification import VerificationService
from api.records.retention import RetentionService
from api.runners.compliance import compliance_report
from api.views.preservation import DutyPlan, ScheduleRunView, ScheduleView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import DanganError, NotFound
from archive.events import SYSTEM_ACTOR, AuditAction
from archive.models import BackupRun, ScheduleRun, utcnow
from archive.permissions import Action, authorize
from archive.schedule import Duty, Plan, interval
from archive.values import AccessLevel, Role

log = logging.getLogger(__name__)
DutyResult = tuple[str, dict[str, Any]]  # outcome (success | warnings | failed) and a summary


def system(role: Role) -> Principal:
    return Principal(SYSTEM_ACTOR, frozenset({role}), AccessLevel.TOP_SECRET)


class Scheduler:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.duties: dict[Duty, Callable[[], DutyResult]] = {
            Duty.BACKUP: self._backup,
            Duty.VERIFY_SAMPLE: self._verify_sample,
            Duty.DRILL: self._drill,
            Duty.CHECKPOINT: self._checkpoint,
            Duty.COMPLIANCE: self._compliance,
            Duty.RETENTION_DUE: self._retention_due,
        }

    # -- when ----------------------------------------------------------------------------------------
    def plans(self) -> list[Plan]:
        options = self.context.settings.schedule
        every = {
            Duty.BACKUP: interval(options.backup_hours, "hours"),
            Duty.VERIFY_SAMPLE: interval(options.verify_sample_hours, "hours"),
            Duty.DRILL: interval(options.drill_days, "days"),
            Duty.CHECKPOINT: interval(options.checkpoint_minutes, "minutes"),
            Duty.COMPLIANCE: interval(options.compliance_days, "days"),
            Duty.RETENTION_DUE: interval(options.retention_due_days, "days"),
        }
        with self.context.db.read() as session:
            query = select(ScheduleRun.duty, func.max(ScheduleRun.started_at)).group_by(ScheduleRun.duty)
            last = {duty: started for duty, started in session.execute(query)}
        return [Plan(duty, every[duty], last.get(duty.value)) for duty in Duty]

    def view(self, principal: Principal, *, limit: int = 20) -> ScheduleView:
        authorize(principal.roles, Action.READ_BACKUPS)
        with self.context.db.read() as session:
            rows = session.scalars(select(ScheduleRun).order_by(ScheduleRun.id.desc()).limit(limit)).all()
            runs = [ScheduleRunView.model_validate(row, from_attributes=True) for row in rows]
        plans = [
            DutyPlan(
                duty=plan.duty.value,
                every_seconds=plan.every.total_seconds() if plan.every else None,
                last_started=plan.last_started,
                next_due=plan.next_due() if plan.last_started is not None else None,
            )
            for plan in self.plans()
        ]
        return ScheduleView(plans=plans, runs=runs)

    # -- running -------------------------------------------------------------------------------------
    def run_due(self, principal: Principal, *, only: Duty | None = None) -> list[ScheduleRunView]:
        """Run every duty that is due now (or `only` that one, due or not); returns the runs."""
        authorize(principal.roles, Action.RUN_BACKUP)
        now = utcnow()
        due = [only] if only is not None else [plan.duty for plan in self.plans() if plan.due(now)]
        return [self._run(duty) for duty in due]

    def loop(self, principal: Principal, stop: threading.Event, *, on_run: Callable[[ScheduleRunView], None]) -> None:
        """Until `stop` is set: every tick, run what is due."""
        authorize(principal.roles, Action.RUN_BACKUP)
        while not stop.is_set():
            for run in self.run_due(principal):
                on_run(run)
            stop.wait(self.context.settings.schedule.tick_seconds)

    def _run(self, duty: Duty) -> ScheduleRunView:
        with self.context.db.write() as session:
            row = ScheduleRun(duty=duty.value, outcome="running", summary={})
            session.add(row)
            session.flush()
            run_id = row.id
        try:
            outcome, summary = self.duties[duty]()
        except DanganError as exc:
            outcome, summary = "failed", {"error": exc.code, "message": exc.message}
        except Exception as exc:  # a duty's crash is recorded, the scheduler goes on with the next one
            log.exception("scheduled duty %s crashed", duty.value)
            outcome, summary = "failed", {"error": "crash", "message": f"{type(exc).__name__}: {exc}"}
        with self.context.db.write() as session:
            done = session.get(ScheduleRun, run_id)
            assert done is not None
            done.outcome, done.summary, done.finished_at = outcome, summary, utcnow()
            audit.record(
                session,
                actor=SYSTEM_ACTOR,
                action=AuditAction.SCHEDULE_RUN,
                outcome=outcome,
                target=f"schedule:{duty.value}",
                details={"run": run_id, **summary},
            )
            return ScheduleRunView.model_validate(done, from_attributes=True)

    # -- the duties ----------------------------------------------------------------------------------
    def _targets(self) -> list[str]:
        return [target.name for target in BackupTargets(self.context).list(system(Role.SYSADMIN)).targets]

    def _backup(self) -> DutyResult:
        runs = {name: BackupService(self.context).run(system(Role.SYSADMIN), target=name) for name in self._targets()}
        if not runs:
            return "warnings", {"targets": 0, "note": "no backup target: add one (`dangan backup target add`)"}
        statuses = {name: run.status for name, run in runs.items()}
        clean = all(status == "complete" for status in statuses.values())
        return ("success" if clean else "warnings"), {
            "targets": len(runs),
            "runs": {n: r.id for n, r in runs.items()},
            "statuses": statuses,
        }

    def _verify_sample(self) -> DutyResult:
        percent = self.context.settings.schedule.verify_sample_percent
        report = VerificationService(self.context).verify(system(Role.SYSADMIN), level="sample", percent=percent)
        outcome = {"clean": "success", "warnings": "warnings"}.get(report.status, "failed")
        return outcome, {"verification": report.run_id, "status": report.status, "counts": report.counts}

    def _drill(self) -> DutyResult:
        sample = self.context.settings.schedule.drill_sample
        drills: dict[str, Any] = {}
        for name in self._targets():
            with self.context.db.read() as session:
                backed_up = session.scalars(
                    select(BackupRun.id).where(BackupRun.target == name, BackupRun.status == "complete").limit(1)
                ).first()
            if backed_up is None:
                continue
            try:
                drill = DrillService(self.context).drill(system(Role.SYSADMIN), target=name, sample=sample)
            except NotFound as exc:
                drills[name] = {"status": "failed", "message": exc.message}
                continue
            drills[name] = {"drill": drill.id, "status": drill.status}
        if not drills:
            return "warnings", {"targets": 0, "note": "no target has a complete backup to drill"}
        passed = all(d["status"] == "passed" for d in drills.values())
        return ("success" if passed else "failed"), {"drills": drills}

    def _checkpoint(self) -> DutyResult:
        checkpoint = AuditService(self.context).checkpoint(system(Role.SYSADMIN))
        return "success", checkpoint.model_dump(mode="json")

    def _compliance(self) -> DutyResult:
        days = self.context.settings.schedule.compliance_days or 91.0
        report = compliance_report(self.context, system(Role.COMPLIANCE), days=days)
        return ("success" if report.grade == "clean" else "warnings"), {
            "report_key": report.key,
            "grade": report.grade,
            "period_days": days,
        }

    def _retention_due(self) -> DutyResult:
        """Counts only: the list itself (titles, reference codes) is for the archivist to read under their own
        clearance (`dangan retention due --within N`), not for the schedule's log, which administrators read."""
        within = self.context.settings.schedule.retention_due_within_days
        due = RetentionService(self.context).due(system(Role.ARCHIVIST), within_days=within).records
        overdue = [r for r in due if r.overdue_days >= 0]
        waiting = [r for r in overdue if not r.held and r.disposition_id is None]
        return ("warnings" if waiting else "success"), {
            "due": len(overdue),
            "falling_due": len(due) - len(overdue),
            "within_days": within,
            "held": sum(1 for r in overdue if r.held),
            "in_disposition": sum(1 for r in overdue if r.disposition_id is not None),
            "not_appraised": sum(1 for r in overdue if r.appraisal is None),
            "next": f"`dangan retention due --within {within}` lists them (archivist)" if due else "",
        }
