"""Fixity verification, one use case for both places: the primary store, or a backup target (against its latest
manifest and the catalogue). Every run is stored with its audit event in one transaction; the report is graded
by the one contract (archive.reports) and answered as a VerificationView."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from api.preservation.backups import BackupService
from api.views.preservation import VerificationRunDetail, VerificationRunList, VerificationRunSummary, VerificationView
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import IntegrityFailure, InvalidInput, NotFound
from archive.events import AuditAction
from archive.finding_codes import Note
from archive.models import VerificationRun, utcnow
from archive.permissions import Action, authorize
from archive.preservation.fixity import CONTENT_CHANGED, FULL, Finding, catalogued_rows, check_options, verify_objects
from archive.preservation.manifest import BackupReport, verify_backup
from archive.reports import Grade, Severity

Progress = Callable[[int, int], None]
BACKUP_LEVEL = "backup"  # a backup target, every object re-hashed against its manifest and the catalogue


class VerificationService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def verify(
        self,
        principal: Principal,
        *,
        target: str | None = None,
        level: str = FULL,
        percent: float = 5.0,
        seed: int | None = None,
        progress: Progress | None = None,
        client: str | None = None,
    ) -> VerificationView:
        """Verify the primary store (no target) or a backup target at a level; store and audit the run."""
        authorize(principal.roles, Action.RUN_VERIFICATION)
        if target is None and level == BACKUP_LEVEL:
            raise InvalidInput("level backup checks a backup target: name one (--target NAME)")
        started_at = utcnow()
        if target is None:
            with self.context.db.session() as session:
                report = verify_objects(
                    session,
                    self.context.store,
                    level=level,
                    percent=percent,
                    seed=seed,
                    progress=progress,
                    plain=self.context.plain,
                )
            result = report.as_dict()
            details: dict[str, Any] = {"level": report.level, "seed": report.seed, "objects": report.objects_checked}
            hashed = report.hashed
        else:
            result = self._verify_target(target, level=level, percent=percent, seed=seed, progress=progress)
            details, hashed = {"level": result["level"], "target": target}, {}
        run_id = self._store(
            principal,
            result,
            store=target or self.context.store.name,
            started_at=started_at,
            client=client,
            details=details,
            hashed=hashed,
        )
        return VerificationView(run_id=run_id, **result)

    def _verify_target(
        self, target: str, *, level: str, percent: float, seed: int | None, progress: Progress | None
    ) -> dict[str, Any]:
        """Target vs latest manifest vs catalogue; a damaged manifest is a finding, not a crash."""
        depth = FULL if level == BACKUP_LEVEL else level
        check_options(depth, percent)
        report = BackupReport(store=target, level=depth, target=target)
        report.percent = percent if depth == "sample" else None
        try:
            store, run, manifest = BackupService(self.context).latest(target)
            report.backup_run_id, report.manifest_key = run.id, run.manifest_key
            with self.context.db.session() as session:
                rows = catalogued_rows(session)
            verify_backup(store, manifest, rows, report, seed=seed, progress=progress)
        except IntegrityFailure as exc:
            report.noted.append(Note("manifest_unusable", {"reason": exc.message}))
            report.findings.append(
                Finding(category=CONTENT_CHANGED, severity=Severity.ERROR, key=report.manifest_key or "manifests/")
            )
        result = report.as_dict()
        result["level"] = BACKUP_LEVEL if level == BACKUP_LEVEL else depth
        return result

    def _store(
        self,
        principal: Principal,
        result: dict[str, Any],
        *,
        store: str,
        started_at: dt.datetime,
        client: str | None,
        details: dict[str, Any],
        hashed: dict[str, tuple[bool, tuple[int, ...]]],
    ) -> int:
        """The run, its audit event and a fixity-check event per hashed object, in one transaction; the run's id."""
        with self.context.db.write() as session:
            run = VerificationRun(
                level=result["level"],
                store=store,
                started_at=started_at,
                seconds=result["seconds"],
                status=result["status"],
                counts=result["counts"],
                report=result,
                actor=principal.username,
            )
            session.add(run)
            session.flush()
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.VERIFY_RUN,
                outcome=result["status"],
                target=f"verification:{run.id}",
                client=client,
                details={"run": run.id, "store": store, "counts": result["counts"], **details},
            )
            history.record_many(session, fixity_events(hashed, run_id=run.id, store=store, agent=principal.username))
            return run.id

    def runs(self, principal: Principal, *, limit: int = 50) -> VerificationRunList:
        """The newest stored verification runs first, without their findings."""
        authorize(principal.roles, Action.READ_VERIFICATION)
        with self.context.db.session() as session:
            query = select(VerificationRun).order_by(VerificationRun.id.desc()).limit(limit)
            return VerificationRunList(runs=[_summary(run) for run in session.scalars(query)])

    def run(self, principal: Principal, run_id: int) -> VerificationRunDetail:
        """One stored run with its full report; NotFound when there is no such run."""
        authorize(principal.roles, Action.READ_VERIFICATION)
        with self.context.db.session() as session:
            run = session.get(VerificationRun, run_id)
            if run is None:
                raise NotFound(f"verification run {run_id} does not exist; list the runs with `dangan verify --list`")
            report = VerificationView.model_validate({**stored_report(run.report), "run_id": run.id})
            return VerificationRunDetail(**_summary(run).model_dump(), report=report)


def fixity_events(
    hashed: dict[str, tuple[bool, tuple[int, ...]]], *, run_id: int, store: str, agent: str
) -> Iterator[history.Event]:
    for key, (matched, documents) in hashed.items():
        outcome = history.Outcome.SUCCESS if matched else history.Outcome.FAILURE
        for document_id in documents:
            detail = {"verification": run_id, "store": store, "algorithm": "SHA-256"}
            yield history.Event(document_id, history.EventType.FIXITY_CHECK, agent, key, outcome, detail)


def _summary(run: VerificationRun) -> VerificationRunSummary:
    return VerificationRunSummary(
        id=run.id,
        level=run.level,
        store=run.store,
        started_at=run.started_at.isoformat(),
        seconds=run.seconds,
        status=run.status,
        grade=Grade(run.status),
        exit_code=run.report.get("exit_code"),
        seed=run.report.get("seed"),
        percent=run.report.get("percent"),
        objects_checked=run.report.get("objects_checked"),
        bytes_read=run.report.get("bytes_read"),
        counts=run.counts,
        actor=run.actor,
    )


def stored_report(report: dict[str, Any]) -> dict[str, Any]:
    """A stored report as today's shape: reports stored before the graded contract get its fields filled in."""
    upgraded = dict(report)
    upgraded.setdefault("grade", report.get("status"))
    findings = [
        {"code": f.get("category"), "subject": f.get("key"), "message": f.get("category"), **f}
        for f in report.get("findings", [])
    ]
    upgraded["findings"] = findings
    if "severity_counts" not in upgraded:
        severities = [f.get("severity") for f in findings]
        upgraded["severity_counts"] = {s.value: severities.count(s.value) for s in (Severity.ERROR, Severity.WARNING)}
    return upgraded
