"""The system administrator's status page beyond free space (api/preservation/status.py): who runs the jobs,
what the store holds, the search index against the catalogue, each backup target's last run, the last
verification. Counts and times only: no record, path or secret."""

from __future__ import annotations

import fcntl
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.preservation.backup_targets import BackupTargets
from api.preservation.backups import BackupService
from api.preservation.reindexing import IndexRebuilds
from api.preservation.verification import VerificationService
from api.views.status import (
    BackupTargetStatusView,
    IndexStateView,
    LastVerificationView,
    StorageUseView,
    WorkersView,
)
from api.wiring import Context
from archive.access import Principal
from archive.errors import SearchUnavailable
from archive.events import AuditAction
from archive.models import AuditEvent, Document, IngestJob, Page, StoredObject, utcnow
from archive.permissions import Action, allowed
from archive.values import JobState
from archive.workflow import OUT_OF_USE

RUNNER_LOCK = "runner.lock"  # api/runners/installation.py: held by the server process that runs the jobs


def lock_held(path: Path) -> bool:
    """Whether some process holds an exclusive flock on the file (a shared probe cannot get it)."""
    if not path.exists():
        return False
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def workers(context: Context, session: Session) -> WorkersView:
    live = (
        select(func.count(func.distinct(IngestJob.lease_owner)))
        .where(IngestJob.state == JobState.PROCESSING, IngestJob.lease_expires_at >= utcnow())
        .where(IngestJob.lease_owner.is_not(None))
    )
    return WorkersView(
        runner_alive=lock_held(context.settings.home_dir / RUNNER_LOCK),
        worker_processes=context.settings.workers,
        busy_workers=int(session.scalar(live) or 0),
    )


def storage_use(context: Context, session: Session) -> StorageUseView:
    distinct = select(StoredObject.key, func.max(StoredObject.size).label("size")).group_by(StoredObject.key)
    objects = distinct.subquery()
    count, size = session.execute(select(func.count(), func.coalesce(func.sum(objects.c.size), 0))).one()
    return StorageUseView(backend=context.store.name, objects=int(count), bytes=int(size))


def index_state(context: Context, session: Session) -> IndexStateView:
    live = Document.status.not_in(OUT_OF_USE)
    documents = int(session.scalar(select(func.count(Document.id)).where(live)) or 0)
    pages = session.scalar(
        select(func.count(Page.id)).join(Document, Page.document_id == Document.id).where(live, Page.current.is_(True))
    )
    last = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.INDEX_REBUILD).order_by(AuditEvent.id.desc())
    ).first()
    problem, indexed, size = None, None, None
    try:
        stats = context.index.stats()
        indexed, size = stats.pages, stats.bytes
    except SearchUnavailable as exc:
        problem = exc.code
    return IndexStateView(
        engine=context.settings.search_engine,
        state="ok" if problem is None else "unavailable",
        problem=problem,
        pages_indexed=indexed,
        pages_in_catalogue=int(pages or 0),
        documents_in_catalogue=documents,
        bytes=size,
        last_rebuild_at=last.at.isoformat() if last else None,
        last_rebuild_by=last.actor if last else None,
        rebuild=IndexRebuilds(context).current(),
    )


def backups(context: Context, principal: Principal) -> list[BackupTargetStatusView] | None:
    """Each target's newest run, for a caller who may read backups (None for anyone else)."""
    if not allowed(principal.roles, Action.READ_BACKUPS):
        return None
    rows = []
    for target in BackupTargets(context).list(principal).targets:
        newest = BackupService(context).runs(principal, target=target.name, limit=1).runs
        run = newest[0] if newest else None
        rows.append(
            BackupTargetStatusView(
                target=target.name,
                last_run_id=run.id if run else None,
                started_at=run.started_at if run else None,
                finished_at=run.finished_at if run else None,
                status=run.status if run else None,
                grade=run.grade if run else None,
            )
        )
    return rows


def last_verification(context: Context, principal: Principal) -> LastVerificationView | None:
    if not allowed(principal.roles, Action.READ_VERIFICATION):
        return None
    newest = VerificationService(context).runs(principal, limit=1).runs
    if not newest:
        return None
    run = newest[0]
    return LastVerificationView(
        id=run.id, started_at=run.started_at, level=run.level, store=run.store, grade=run.grade, status=run.status
    )
