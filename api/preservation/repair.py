"""Repair: put back missing or changed primary objects from a verified backup copy (`dangan repair`,
POST /api/v1/backups/repair).

The primary store is verified in full (archive/preservation/fixity.py); each object found missing, of another
size, with other bytes or swapped with another is looked for on the backup targets (the one named, else every
target in name order). A copy is downloaded into scratch and re-hashed: only bytes that hash to the catalogued
SHA-256 are put back (the store checks it again as it writes). Each repaired object, and each one no target
could give a good copy of, is an `object.repair` audit event; the report is graded: repaired objects are
warnings (nothing is lost any more, but find out what damaged them), objects left unrepaired are errors.
The other side — a changed copy on a target replaced from the primary — is done by the next backup run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from api.preservation.backup_targets import BackupTargets
from api.views.preservation import RepairedObject, RepairView
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import DanganError, IntegrityFailure, NotFound
from archive.events import AuditAction
from archive.finding_codes import FindingCode
from archive.hashing import sha256_file
from archive.models import StoredObject
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.fixity import FULL, MISSING, SWAPPED, UNTRACKED, verify_objects
from archive.preservation.snapshot import download
from archive.reports import Finding, Report, Severity
from archive.scratch import owned_prefix

Problem = Literal["missing", "changed"]


class RepairService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def repair(self, principal: Principal, *, target: str | None = None, client: str | None = None) -> RepairView:
        authorize(principal.roles, Action.REPAIR_OBJECTS)
        targets = BackupTargets(self.context)
        names = [target] if target is not None else [t.name for t in targets.list(principal).targets]
        if not names:
            raise NotFound("there is no backup target to repair from; add one with `dangan backup target add`")
        specs = [targets.spec(name) for name in names]  # an unknown name: refused before anything is read
        damaged = self._damaged()
        stores: dict[str, BlobStore] = {}
        outcomes: list[RepairedObject] = []
        with tempfile.TemporaryDirectory(dir=self.context.settings.spool_dir, prefix=owned_prefix("repair")) as tmp:
            for key, (sha, problem) in sorted(damaged.items()):
                reasons: list[str] = []
                source = None
                for spec in specs:
                    try:
                        store = stores.get(spec.name) or stores.setdefault(spec.name, targets.open(spec))
                        self._put_back(store, key, sha, Path(tmp) / "object")
                    except DanganError as exc:
                        reasons.append(f"{spec.name}: {exc.message}")
                        continue
                    source = spec.name
                    break
                outcomes.append(RepairedObject(key=key, problem=problem, source=source, reasons=reasons))
        self._record(principal, outcomes, client)
        report = graded_repair(outcomes)
        return RepairView(
            **report.as_dict(),
            checked=self._catalogued(),
            damaged=len(outcomes),
            repaired=sum(o.source is not None for o in outcomes),
            objects=outcomes,
        )

    def _damaged(self) -> dict[str, tuple[str, Problem]]:
        """Catalogued objects the primary store lacks or holds other bytes under: key → (SHA-256, problem)."""
        with self.context.db.session() as session:
            report = verify_objects(session, self.context.store, level=FULL)
            expected = {row[0]: row[1] for row in session.execute(select(StoredObject.key, StoredObject.sha256))}
        found: dict[str, tuple[str, Problem]] = {}
        for finding in report.findings:
            if finding.category == UNTRACKED:
                continue
            problem: Problem = "missing" if finding.category == MISSING else "changed"
            for key in (finding.key, finding.partner_key if finding.category == SWAPPED else None):
                if key is not None and key in expected:
                    found[key] = (expected[key], problem)
        return found

    def _put_back(self, store: BlobStore, key: str, sha: str, scratch: Path) -> None:
        """Download the target's copy, re-hash it, and only when it is the catalogued bytes put it in place."""
        try:
            download(store, key, scratch)
            actual, _size = sha256_file(scratch)
            if actual != sha:
                raise IntegrityFailure(f"its copy of {key} hashes to {actual[:12]}…, not the catalogued {sha[:12]}…")
            self.context.store.put_file(key, scratch, expected_sha256=sha)
        finally:
            scratch.unlink(missing_ok=True)

    def _record(self, principal: Principal, outcomes: list[RepairedObject], client: str | None) -> None:
        with self.context.db.write() as session:
            for outcome in outcomes:
                audit.record(
                    session,
                    actor=principal.username,
                    roles=principal.roles,
                    action=AuditAction.OBJECT_REPAIR,
                    outcome="repaired" if outcome.source is not None else "failed",
                    target=f"store:{self.context.store.name}",
                    client=client,
                    details={
                        "key": outcome.key,
                        "problem": outcome.problem,
                        "source": outcome.source,
                        "reasons": outcome.reasons,
                    },
                )
            detail = {outcome.key: outcome for outcome in outcomes}
            history.record_many(
                session,
                (
                    history.Event(
                        document_id,
                        history.EventType.RECOVERY,
                        principal.username,
                        key,
                        history.Outcome.SUCCESS if detail[key].source is not None else history.Outcome.FAILURE,
                        {"problem": detail[key].problem, "source": detail[key].source, "reasons": detail[key].reasons},
                    )
                    for key, document_id in history.documents_of_keys(session, list(detail))
                ),
            )

    def _catalogued(self) -> int:
        with self.context.db.session() as session:
            return len(set(session.scalars(select(StoredObject.key))))


def graded_repair(outcomes: list[RepairedObject]) -> Report:
    findings = []
    for outcome in outcomes:
        if outcome.source is not None:
            variant = "missing" if outcome.problem == "missing" else None
            findings.append(
                Finding(
                    Severity.WARNING,
                    FindingCode.REPAIRED,
                    subject=outcome.key,
                    variant=variant,
                    params={"target": outcome.source},
                )
            )
        else:
            reason = "; ".join(outcome.reasons) or "no target holds it"
            findings.append(
                Finding(Severity.ERROR, FindingCode.NOT_REPAIRED, subject=outcome.key, params={"reason": reason})
            )
    return Report(tuple(findings))
