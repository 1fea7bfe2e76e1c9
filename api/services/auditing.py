"""Compliance use cases over the access log: query, export (itself logged), alerts, verification, checkpoints."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from api.wiring import Context
from archive.access import Principal
from archive.audit_alerts import AlertRules, compute_alerts
from archive.audit_query import AuditFilter, export_csv, export_json, query_events, record_export
from archive.errors import InvalidInput
from archive.models import Document


class AuditService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def events(self, flt: AuditFilter) -> list[dict[str, Any]]:
        with self.context.db.session() as session:
            return [dict(row) for row in query_events(session, flt)]

    def export(self, principal: Principal, flt: AuditFilter, *, fmt: str, client: str | None = None) -> str:
        """The matching events as CSV or JSON text; the export is an audit event of its own."""
        if fmt not in ("csv", "json"):
            raise InvalidInput("export format is csv or json")
        buffer = io.StringIO()
        with self.context.db.write() as session:
            rows = query_events(session, flt)
            count = export_csv(rows, buffer) if fmt == "csv" else export_json(rows, buffer)
            record_export(session, actor=principal.username, client=client, flt=flt, count=count, fmt=fmt)
        return buffer.getvalue()

    def alerts(self, rules: AlertRules, flt: AuditFilter) -> list[dict[str, Any]]:
        with self.context.db.session() as session:

            def level_of(ids: list[int]) -> dict[int, int | None]:
                rows = session.execute(select(Document.id, Document.access_level).where(Document.id.in_(ids)))
                return {row[0]: row[1] for row in rows}

            found = compute_alerts(session, rules, since=flt.since, until=flt.until, level_of=level_of)
        return [alert.as_dict() for alert in found]
