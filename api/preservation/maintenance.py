"""Operator use cases: initialise, verify fixity, rebuild the search index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.search.rows import indexed_document
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import NotFound
from archive.events import SYSTEM_ACTOR, AuditAction
from archive.models import Document, Fonds, VerificationRun, utcnow
from archive.permissions import Action, authorize
from archive.preservation.fixity import FULL, verify_objects
from archive.values import DocumentStatus
from search.types import IndexedDocument

Progress = Callable[[int, int], None]


class MaintenanceService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def initialise(self) -> dict[str, Any]:
        """Schema migrated (done by wiring), default fonds present, search index created if absent."""
        settings = self.context.settings
        with self.context.db.write() as session:
            if session.scalars(select(Fonds).where(Fonds.code == settings.default_fonds)).first() is None:
                session.add(Fonds(code=settings.default_fonds, name=f"Default fonds {settings.default_fonds}"))
                audit.record(
                    session,
                    actor=SYSTEM_ACTOR,
                    action=AuditAction.FONDS_CREATE,
                    target=f"fonds:{settings.default_fonds}",
                )
        self.context.index.create()
        return {
            "home": str(settings.home_dir),
            "database": settings.resolved_database_url,
            "storage": self.context.store.name,
            "index": str(settings.resolved_index_dir),
        }

    def verify(
        self,
        principal: Principal,
        *,
        level: str = FULL,
        percent: float = 5.0,
        seed: int | None = None,
        progress: Progress | None = None,
        client: str | None = None,
    ) -> dict[str, Any]:
        """Verify the primary store at a level; the run is stored with its audit event in one transaction."""
        authorize(principal.roles, Action.RUN_VERIFICATION)
        started_at = utcnow()
        with self.context.db.session() as session:
            report = verify_objects(
                session, self.context.store, level=level, percent=percent, seed=seed, progress=progress
            )
        result = report.as_dict()
        details = {"level": report.level, "seed": report.seed, "objects": report.objects_checked}
        return store_verification(
            self.context, principal, result, store=report.store, started_at=started_at, client=client, details=details
        )

    def verification_runs(self, principal: Principal, *, limit: int = 50) -> list[dict[str, Any]]:
        """The newest stored verification runs first, without their findings."""
        authorize(principal.roles, Action.READ_VERIFICATION)
        with self.context.db.session() as session:
            query = select(VerificationRun).order_by(VerificationRun.id.desc()).limit(limit)
            return [_run_summary(run) for run in session.scalars(query)]

    def verification_run(self, principal: Principal, run_id: int) -> dict[str, Any]:
        """One stored run with its full report; NotFound when there is no such run."""
        authorize(principal.roles, Action.READ_VERIFICATION)
        with self.context.db.session() as session:
            run = session.get(VerificationRun, run_id)
            if run is None:
                raise NotFound(f"verification run {run_id} does not exist; list the runs with `dangan verify --list`")
            return {**_run_summary(run), "report": run.report}

    def reindex(self, principal: Principal, *, progress: Progress | None = None) -> dict[str, Any]:
        authorize(principal.roles, Action.REBUILD_INDEX)
        with self.context.db.session() as session:
            total = session.scalar(select(func.count(Document.id)).where(Document.status != DocumentStatus.WITHDRAWN))
            total = total or 0

        def documents() -> Iterator[IndexedDocument]:
            with self.context.db.session() as session:
                query = select(Document).options(selectinload(Document.pages), selectinload(Document.fonds))
                query = query.where(Document.status != DocumentStatus.WITHDRAWN).order_by(Document.id)
                query = query.execution_options(yield_per=500)  # bounded memory on big catalogues
                for document in session.scalars(query):
                    yield indexed_document(document)

        def step(done: int) -> None:
            if progress is not None:
                progress(done, total)

        count = self.context.index.rebuild(documents(), progress=step)
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.INDEX_REBUILD,
                details={"documents": count, "engine": self.context.settings.search_engine},
            )
        settings = self.context.settings
        return {"documents": count, "index": str(settings.resolved_index_dir), "engine": settings.search_engine}


def _run_summary(run: VerificationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "level": run.level,
        "store": run.store,
        "started_at": run.started_at.isoformat(),
        "seconds": run.seconds,
        "status": run.status,
        "exit_code": run.report.get("exit_code"),
        "seed": run.report.get("seed"),
        "percent": run.report.get("percent"),
        "objects_checked": run.report.get("objects_checked"),
        "bytes_read": run.report.get("bytes_read"),
        "counts": run.counts,
        "actor": run.actor,
    }


def store_verification(
    context: Context,
    principal: Principal,
    result: dict[str, Any],
    *,
    store: str,
    started_at: dt.datetime,
    client: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """Every verification, of the primary store or of a backup target, is a stored run plus its audit event,
    in one transaction."""
    with context.db.write() as session:
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
        result["run_id"] = run.id
    return result
