"""Operator use cases: initialise, rebuild the search index (fixity verification: api/preservation/verification.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.search.page_images import derive_document, prune_derived, sources
from api.search.rows import indexed_document
from api.views.preservation import DeriveView, InitView, ReindexView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.events import SYSTEM_ACTOR, AuditAction
from archive.models import Document, Fonds
from archive.permissions import Action, authorize
from archive.workflow import OUT_OF_USE
from search.types import IndexedDocument

Progress = Callable[[int, int], None]
PRUNED_LISTED = 100  # keys of pruned derived objects named in the rebuild's report (all are counted)


class MaintenanceService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def initialise(self) -> InitView:
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
        return InitView(
            home=str(settings.home_dir),
            database=settings.resolved_database_url,
            storage=self.context.store.name,
            index=str(settings.resolved_index_dir),
        )

    def reindex(self, principal: Principal, *, progress: Progress | None = None) -> ReindexView:
        authorize(principal.roles, Action.REBUILD_INDEX)
        with self.context.db.session() as session:
            total = session.scalar(select(func.count(Document.id)).where(Document.status.not_in(OUT_OF_USE)))
            total = total or 0

        def documents() -> Iterator[IndexedDocument]:
            with self.context.db.session() as session:
                query = select(Document).options(selectinload(Document.pages), selectinload(Document.fonds))
                query = query.where(Document.status.not_in(OUT_OF_USE)).order_by(Document.id)
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
        return ReindexView(documents=count, index=str(settings.resolved_index_dir), engine=settings.search_engine)

    def derive(self, principal: Principal, *, force: bool = False, progress: Progress | None = None) -> DeriveView:
        """Draw again the page images and thumbnails that are missing (every one with `force`), from the
        checked access copies, then remove the derived objects no current page refers to (what superseded
        copies and earlier renderings left behind). Derived data: a page that cannot be drawn is counted and
        logged, not raised."""
        authorize(principal.roles, Action.REBUILD_INDEX)
        todo = sources(self.context)
        drawn = failed = 0
        for done, source in enumerate(todo, start=1):
            made, missed = derive_document(self.context, source, force=force)
            drawn, failed = drawn + made, failed + missed
            if progress is not None:
                progress(done, len(todo))
        pruned = prune_derived(self.context)
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.IMAGES_REBUILD,
                details={
                    "documents": len(todo),
                    "pages_drawn": drawn,
                    "pages_failed": failed,
                    "forced": force,
                    "objects_pruned": len(pruned),
                },
            )
        return DeriveView(
            documents=len(todo),
            pages_drawn=drawn,
            pages_failed=failed,
            forced=force,
            objects_pruned=len(pruned),
            pruned_keys=pruned[:PRUNED_LISTED],
        )
