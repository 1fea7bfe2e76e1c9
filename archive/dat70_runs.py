"""A finished DA/T 70 run kept: its row, its `dat70.check` audit event and, in each record's history, a PREMIS
format identification event per object identified — all in the caller's transaction, whoever ran it (the
filing that checks the batch it filed, or a check on demand).

It sits above both rule packages it joins (archive.preservation's report, archive.audit's log), which the
import contract keeps independent of each other."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from archive import history
from archive.audit import log as audit
from archive.events import AuditAction
from archive.models import Dat70Run
from archive.preservation.dat70 import Dat70Report, Identification
from archive.preservation.dat70_run import new_run

IDENTIFIER = "opf-fido (PRONOM)"


def record_run(
    session: Session,
    report: Dat70Report,
    *,
    actor: str,
    roles: Iterable[str],
    trigger: str,
    client: str | None = None,
) -> Dat70Run:
    """Store the report as a run with its audit event and the records' format identification events."""
    run = new_run(report, trigger=trigger, actor=actor)
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        roles=roles,
        action=AuditAction.DAT70_CHECK,
        outcome=run.grade,
        target=f"{report.scope}:{report.subject_id}",
        client=client,
        details={"run": run.id, "trigger": trigger, "counts": {k: v for k, v in run.counts.items() if v}},
    )
    history.record_many(session, (_event(item, actor=actor, run_id=run.id) for item in report.identifications))
    return run


def _event(item: Identification, *, actor: str, run_id: int) -> history.Event:
    detail: dict[str, object] = {"role": item.role, "identifier": IDENTIFIER, "dat70_run": run_id}
    if item.found is None:
        return history.Event(
            item.document_id,
            history.EventType.FORMAT_IDENTIFICATION,
            actor,
            object_key=item.key,
            outcome=history.Outcome.FAILURE,
            detail={**detail, "reason": "no PRONOM format matched the bytes"},
        )
    found = {"puid": item.found.puid, "format_name": item.found.name, "mime": item.found.mime}
    return history.Event(
        item.document_id,
        history.EventType.FORMAT_IDENTIFICATION,
        actor,
        object_key=item.key,
        detail={**detail, **found},
    )
