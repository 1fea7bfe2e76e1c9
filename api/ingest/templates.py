"""A fonds' reference-code template (档号规则): show it, preview a new one on an example item, change it (a
logged action with a reason; items already numbered keep their codes)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.views.ingest import ReferenceExample, TemplateChange, TemplatePreview
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.reference import PLACEHOLDERS, check_template, example_parts, render, template_problem
from archive.errors import InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import Fonds
from archive.permissions import Action, authorize


class TemplateService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def show(self, actor: Principal, fonds: str) -> TemplatePreview:
        """The fonds' template now and the code it makes of the example item."""
        authorize(actor.roles, Action.CHANGE_REF_TEMPLATE)
        with self.context.db.read() as session:
            current = _fonds(session, fonds).ref_template
        return _preview(fonds, current, current)

    def preview(self, actor: Principal, fonds: str, template: str) -> TemplatePreview:
        """What a template would make of the example item, or why it cannot be used; it changes nothing (a
        report, not a refusal: a bad template answers with its problem)."""
        authorize(actor.roles, Action.CHANGE_REF_TEMPLATE)
        with self.context.db.read() as session:
            current = _fonds(session, fonds).ref_template
        return _preview(fonds, template, current)

    def change(
        self, actor: Principal, fonds: str, template: str, *, reason: str, client: str | None = None
    ) -> TemplateChange:
        """A fonds' reference-code scheme changes only here: a logged action with a reason; items already
        numbered keep their codes."""
        authorize(actor.roles, Action.CHANGE_REF_TEMPLATE)
        if not reason.strip():
            raise InvalidInput(
                "say why the reference-code template changes (it goes into the access log)",
                InvalidInput.TEMPLATE_REASON_MISSING,
            )
        checked = check_template(template)
        with self.context.db.write() as session:
            row = _fonds(session, fonds)
            before, row.ref_template = row.ref_template, checked
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.FONDS_TEMPLATE,
                target=f"fonds:{fonds}",
                client=client,
                details={"before": before, "after": checked, "reason": reason.strip()},
            )
            return TemplateChange(fonds=fonds, ref_template=checked, previous=before)


def _fonds(session: Session, code: str) -> Fonds:
    row = session.scalars(select(Fonds).where(Fonds.code == code)).first()
    if row is None:
        raise NotFound(f"fonds {code!r} does not exist")
    return row


def _preview(fonds: str, template: str, current: str) -> TemplatePreview:
    parts = example_parts(fonds)
    problem = template_problem(template, parts)
    return TemplatePreview(
        fonds=fonds,
        template=template,
        current=template == current,
        example=None if problem else render(template, parts),
        problem=problem.kind if problem else None,
        unknown_fields=list(problem.names) if problem else [],
        message=problem.message if problem else None,
        parts=ReferenceExample(
            fonds=parts.fonds,
            series=parts.series,
            box=parts.box,
            year=parts.year,
            retention=parts.retention,
            item=parts.item,
        ),
        fields=list(PLACEHOLDERS),
    )
