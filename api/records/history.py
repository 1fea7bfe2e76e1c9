"""A record's event history: what has been done to it and to each of its objects since it came in.

Through the one permission table (`record.history`: archivists, security auditors, system administrators) and the
visibility policy (a record the caller may not see is 'not found', like everywhere else). Reading it is a read of
the record, so it is logged like one.
"""

from __future__ import annotations

from collections import Counter

from api.records.documents import log_record_read, visible_document
from api.views.history import DocumentHistoryView, history_event_view
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.errors import NotFound
from archive.permissions import Action, authorize


def document_history(
    context: Context, principal: Principal, document_id: int, *, client: str | None = None
) -> DocumentHistoryView:
    authorize(principal.roles, Action.READ_HISTORY)
    what = {"what": "history"}
    try:
        with context.db.session() as session:
            document = visible_document(session, principal, document_id)
            rows = history.history_of(session, document_id)
            view = DocumentHistoryView(
                document_id=document_id,
                reference_code=document.reference_code,
                events=[history_event_view(row) for row in rows],
                counts=dict(Counter(row.event_type for row in rows)),
            )
    except NotFound:
        log_record_read(
            context, principal, document_id, client, outcome="denied_or_missing", details={"what": "history"}
        )
        raise
    log_record_read(context, principal, document_id, client, details=what)
    return view
