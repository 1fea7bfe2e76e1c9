"""`dangan keys encrypt-pending` and POST /api/v1/keys/encrypt-pending: seal every record at an encrypted level
that still has objects in the clear (the sealing itself: api/search/sealing.py)."""

from __future__ import annotations

from api.search.sealing import pending_records, seal_record
from api.views.keys import EncryptPendingView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.events import AuditAction
from archive.permissions import Action, authorize


def encrypt_pending(context: Context, principal: Principal, *, client: str | None = None) -> EncryptPendingView:
    authorize(principal.roles, Action.MANAGE_KEYS)
    records = pending_records(context)
    sealed = sum(seal_record(context, doc_id, principal.username) for doc_id in records)
    if records:
        with context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                action=AuditAction.KEYS_ENCRYPT,
                target="documents",
                client=client,
                roles=principal.roles,
                details={"records": records, "objects": sealed},
            )
    return EncryptPendingView(records=len(records), objects=sealed)
