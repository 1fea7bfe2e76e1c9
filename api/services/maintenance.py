"""Operator use cases: initialise, verify fixity, rebuild the search index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.services.filing import indexed_document
from api.wiring import Context
from archive import audit
from archive.access import Principal
from archive.models import Document, Fonds
from archive.verification import verify_objects
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
                audit.record(session, actor="system", action="fonds.create", target=f"fonds:{settings.default_fonds}")
        self.context.index.create()
        return {
            "home": str(settings.home_dir),
            "database": settings.resolved_database_url,
            "storage": self.context.store.name,
            "index": str(settings.resolved_index_dir),
        }

    def verify(self, principal: Principal, *, progress: Progress | None = None) -> dict[str, Any]:
        with self.context.db.session() as session:
            report = verify_objects(session, self.context.store, progress=progress)
        result = report.as_dict()
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                action="verify.run",
                outcome="clean" if report.clean else "findings",
                details={"objects": report.objects_checked, "counts": report.counts()},
            )
        return result

    def reindex(self, principal: Principal, *, progress: Progress | None = None) -> dict[str, Any]:
        with self.context.db.session() as session:
            total = session.scalar(select(func.count(Document.id))) or 0

        def documents() -> Iterator[IndexedDocument]:
            with self.context.db.session() as session:
                query = select(Document).options(selectinload(Document.pages), selectinload(Document.fonds))
                for document in session.scalars(query.order_by(Document.id)):
                    yield indexed_document(document)

        def step(done: int) -> None:
            if progress is not None:
                progress(done, total)

        count = self.context.index.rebuild(documents(), progress=step)
        with self.context.db.write() as session:
            audit.record(session, actor=principal.username, action="index.rebuild", details={"documents": count})
        return {"documents": count, "index": str(self.context.settings.resolved_index_dir)}
