"""Coalescing of the access log's highest-volume reads: page images and thumbnails.

A results page or a record's page strip loads dozens of thumbnails at once, and a reader paging through an
item fetches each display image (again on a zoom or a reload). Every one is a read of the record and goes in
the log, but not as one event per HTTP request: a served image is recorded unless the same account, from the
same client, already has an event of the same action on the same record within the last COALESCE_SECONDS
(for display images: of the same page too; for thumbnails: of any page, so a strip of a 200-page item is one
event a minute). The event that opens a window says so (``covers_seconds`` in its details), so an export
reads as "this account saw this record's thumbnails (this page's image) at least once in that minute".

What is never coalesced: refusals (hidden or missing: every one is recorded, as for every other read, and
counts towards the denied-access alert), and the other reads (document.view, document.download). The check is
a read of the log itself, so it holds across processes and restarts; two requests racing in the same instant
may both record (never fewer events than the rule says, sometimes one more).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.events import AuditAction
from archive.models import AuditEvent, utcnow

COALESCE_SECONDS = 60
RECENT_LIMIT = 50  # a minute's events of one account on one record worth looking through


def recorded_recently(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    target: str,
    client: str | None,
    same: Mapping[str, object] | None = None,
    seconds: int = COALESCE_SECONDS,
) -> bool:
    """Whether a successful `action` by `actor` from `client` on `target` (whose details hold every item of
    `same`) is in the log within the last `seconds`: then a new one is covered by it and is not recorded."""
    since = utcnow() - dt.timedelta(seconds=seconds)
    query = select(AuditEvent.details).where(
        AuditEvent.actor == actor,
        AuditEvent.action == action.value,
        AuditEvent.target == target,
        AuditEvent.outcome == "success",
        AuditEvent.at >= since,
        AuditEvent.client.is_(None) if client is None else AuditEvent.client == client,
    )
    recent = session.scalars(query.order_by(AuditEvent.id.desc()).limit(RECENT_LIMIT))
    wanted = dict(same or {})
    return any(all((details or {}).get(key) == value for key, value in wanted.items()) for details in recent)
