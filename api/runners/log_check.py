"""The access log's verification with the backup targets' checkpoint copies (archive/audit/copies.py): a
checkpoint deleted from the primary together with the newest events is still found on a target, so the cut
shows. It joins two capabilities (the auditor's verification, the administrator's targets), hence here.

A target is opened as the backups open it; one that cannot be opened or read (S3 credentials missing, the
server down) is a warning of the verification, which goes on."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from api.access.auditing import AuditService
from api.preservation.backup_targets import BackupTargets
from api.views.reports import AuditVerificationView
from api.wiring import Context
from archive.access import Principal
from archive.ports import BlobStore


def verify_access_log(context: Context, principal: Principal, *, client: str | None = None) -> AuditVerificationView:
    """`dangan audit verify`, POST /api/v1/audit/verify: the chain, the checkpoints and their copies."""
    return AuditService(context).verify(principal, client=client, copies=target_stores(context))


def target_stores(context: Context) -> dict[str, Callable[[], BlobStore]]:
    """Each backup target's store, opened when verification reaches it (an error opening it is its finding)."""
    targets = BackupTargets(context)
    return {spec.name: partial(targets.open, spec) for spec in targets.specs()}
