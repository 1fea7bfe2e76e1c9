"""Compliance use cases over the access log: query, export (itself logged), alerts, verification, checkpoints,
pruning. Each returns a typed result from api/views/access.py."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Mapping

from sqlalchemy import select

from api.views.access import (
    AlertsView,
    AuditEventsView,
    AuditExportView,
    CheckpointView,
    ExportFormat,
    PruneView,
    alert_view,
    audit_event_view,
    checkpoint_view,
)
from api.views.reports import AuditVerificationView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.audit.alerts import AlertRules, compute_alerts
from archive.audit.checkpoints import maybe_checkpoint, sealed_through, write_checkpoint
from archive.audit.keys import load_or_create_signing_key, public_key_raw
from archive.audit.query import (
    EXPORT_FORMATS,
    AuditFilter,
    count_events,
    export_csv,
    export_json,
    query_events,
    record_export,
)
from archive.audit.sealing import due_after
from archive.audit.verify import prune_before, verify_audit_log
from archive.errors import CatalogueBusy, InvalidInput
from archive.events import AuditAction
from archive.models import Document
from archive.permissions import Action, authorize
from archive.ports import BlobStore

log = logging.getLogger(__name__)


class AuditService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self._sealed_through: int | None = None  # the last event id the newest known checkpoint seals

    def events(self, principal: Principal, flt: AuditFilter) -> AuditEventsView:
        authorize(principal.roles, Action.READ_AUDIT)
        with self.context.db.read() as session:
            events = [audit_event_view(row) for row in query_events(session, flt)]
            total = count_events(session, flt)
        following = flt.offset + len(events)
        return AuditEventsView(
            events=events,
            total=total,
            offset=flt.offset,
            limit=flt.limit,
            next_offset=following if following < total else None,
        )

    def export(self, principal: Principal, flt: AuditFilter, *, fmt: str, client: str | None = None) -> AuditExportView:
        """The matching events as CSV or JSON text, and how many; the export is an audit event of its own."""
        authorize(principal.roles, Action.EXPORT_AUDIT)
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput("export format is csv or json")
        kind: ExportFormat = "csv" if fmt == "csv" else "json"
        buffer = io.StringIO()
        with self.context.db.read() as session:
            rows = query_events(session, flt)
            count = export_csv(rows, buffer) if kind == "csv" else export_json(rows, buffer)
        with self.context.db.write() as session:
            record_export(session, actor=principal.username, client=client, flt=flt, count=count, fmt=kind)
        return AuditExportView(format=kind, count=count, content=buffer.getvalue())

    def alerts(self, principal: Principal, rules: AlertRules, flt: AuditFilter) -> AlertsView:
        authorize(principal.roles, Action.READ_AUDIT)
        with self.context.db.read() as session:

            def level_of(ids: list[int]) -> dict[int, int | None]:
                rows = session.execute(select(Document.id, Document.access_level).where(Document.id.in_(ids)))
                return {row[0]: row[1] for row in rows}

            found = compute_alerts(session, rules, since=flt.since, until=flt.until, level_of=level_of)
        return AlertsView(alerts=[alert_view(alert) for alert in found])

    def verify(
        self,
        principal: Principal,
        *,
        client: str | None = None,
        copies: Mapping[str, Callable[[], BlobStore]] | None = None,
    ) -> AuditVerificationView:
        """Check the chain and the signed checkpoints, graded: tampering is errors, events no checkpoint seals
        yet are warnings. `copies`: the backup targets, whose checkpoint copies show checkpoints deleted from the
        primary (api/runners/log_check.py passes them). The run itself becomes the newest event (outcome: the
        grade)."""
        authorize(principal.roles, Action.VERIFY_AUDIT)
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        trusted = public_key_raw(key)
        with self.context.db.read() as session:
            result = verify_audit_log(session, self.context.store, trusted_public_key_raw=trusted, copies=copies)
        report = AuditVerificationView.model_validate(result.as_dict())
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.AUDIT_VERIFY,
                client=client,
                outcome=report.grade.value,
                details={
                    "events": result.events_checked,
                    "checkpoints": result.checkpoints_checked,
                    "first_bad_event_id": result.first_bad_event_id,
                    "counts": report.counts,
                },
            )
        return report

    def checkpoint(self, principal: Principal, *, client: str | None = None) -> CheckpointView:
        """A signed checkpoint now (on demand), written to the object store outside the database."""
        authorize(principal.roles, Action.SEAL_AUDIT)
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.AUDIT_CHECKPOINT,
                client=client,
            )
        with self.context.db.write() as session:
            checkpoint = write_checkpoint(session, self.context.store, key)
        return checkpoint_view(checkpoint)

    def checkpoint_if_due(self) -> None:
        """Called after each command and request: a checkpoint every `audit_checkpoint_every` events, or once
        the oldest unsealed event is `audit_checkpoint_seconds` old, whichever comes first (so deleting the
        newest events is found by `dangan audit verify` as soon as a checkpoint has sealed them).

        The store is read only when a checkpoint may be due: the event id the last checkpoint seals is
        remembered, so most requests cost two primary-key reads in the catalogue and no store call (health and
        reads stay fast while the store is slow or down). Another process's newer checkpoint only makes it look
        due sooner; the store is then read and the remembered id brought up to date."""
        every, max_age = self.context.settings.audit_checkpoint_every, self.context.settings.audit_checkpoint_seconds
        with self.context.db.read() as session:
            if self._sealed_through is not None and not due_after(
                session, self._sealed_through, every=every, max_age=max_age
            ):
                return
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        self._sealed_through = sealed_through(self.context.store, key)
        with self.context.db.read() as session:  # most requests: not due, and no write lock taken for it
            if not due_after(session, self._sealed_through, every=every, max_age=max_age):
                return
        try:
            with self.context.db.write() as session:  # due: checked again under the lock, another process may be first
                written = maybe_checkpoint(session, self.context.store, key, every=every, max_age=max_age)
        except CatalogueBusy as exc:  # the command or request itself succeeded: a later one writes the checkpoint
            log.warning("audit checkpoint put off: %s", exc.message)
            return
        self._sealed_through = written.last_event_id if written is not None else None

    def prune(self, principal: Principal, *, older_than_days: int) -> PruneView:
        authorize(principal.roles, Action.PRUNE_AUDIT)
        if older_than_days < self.context.settings.audit_retention_days:
            raise InvalidInput(f"events are kept at least {self.context.settings.audit_retention_days} days")
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        before = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        pruned = self.context.db.transaction(  # a unit that reads, then deletes: run again whole on a conflict
            lambda session: prune_before(session, self.context.store, key, before=before, actor=principal.username)
        )
        return PruneView(pruned=pruned, before=before.isoformat())
