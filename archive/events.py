"""The one audit vocabulary: every action name an audit event may carry. Services record these, the alert
rules and the log queries read them; a string that is not here is not an action."""

from __future__ import annotations

import enum


class AuditAction(enum.StrEnum):
    # sessions and accounts
    LOGIN = "login"
    TOKEN_ISSUE = "token.issue"
    TOKEN_REVOKE = "token.revoke"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    ACCESS_DENIED = "access.denied"
    # reading
    SEARCH = "search"
    SEARCH_SUGGEST = "search.suggest"
    DOCUMENT_VIEW = "document.view"
    BROWSE = "browse"  # a listing of the hierarchy or of the recently filed items
    DOCUMENT_DOWNLOAD = "document.download"
    # a page's display image or thumbnail served: coalesced (archive/audit/coalesce.py), refusals never are
    DOCUMENT_PAGE_IMAGE = "document.page_image"
    DOCUMENT_THUMBNAIL = "document.thumbnail"
    DOCUMENT_INTEGRITY = "document.integrity"  # a download refused because its bytes changed
    JOB_VIEW = "job.view"
    # records
    DOCUMENT_UPDATE = "document.update"
    LEVEL_CHANGE = "level.change"
    DOCUMENT_WITHDRAW = "document.withdraw"
    FONDS_CREATE = "fonds.create"
    FONDS_TEMPLATE = "fonds.template"
    SERIES_FIELD_DEFINE = "series.field.define"  # a custom descriptive field of a series added or removed
    EXPORT_BAGIT = "export.bagit"
    EXPORT_CATALOGUE = "export.catalogue"  # an Excel 目录 of the records the caller may see
    # ingest and workflow
    INGEST_SUBMIT = "ingest.submit"
    INGEST_REFUSED = "ingest.refused"
    INGEST_PROCESS = "ingest.process"
    INGEST_RETRY = "ingest.retry"  # a failed, retrying or stuck job put back in the queue by a person
    BATCH_CREATE = "batch.create"
    BATCH_SAMPLE = "batch.sample"
    BATCH_VERDICT = "batch.verdict"
    BATCH_DECIDE = "batch.decide"
    BATCH_FILE = "batch.file"
    BATCH_REOPEN = "batch.reopen"
    BATCH_PROCESS = "batch.process"  # a batch's digitisation process metadata declared or changed
    DEVICE_ADD = "device.add"  # a scanning device registered
    DEVICE_RETIRE = "device.retire"
    DEVICE_MAINTENANCE = "device.maintenance"  # a calibration, service, repair or check logged
    PAGE_ACCEPT = "page.accept"
    PAGE_REJECT = "page.reject"
    PAGE_REPLACE = "page.replace"
    # preservation and operations
    INDEX_REBUILD = "index.rebuild"
    IMAGES_REBUILD = "images.rebuild"  # page images and thumbnails made again (`dangan derive`)
    VERIFY_RUN = "verify.run"
    DAT70_CHECK = "dat70.check"  # a DA/T 70 four-property check of a batch or a document (at filing or asked)
    BACKUP_RUN = "backup.run"
    BACKUP_DRILL = "backup.drill"
    BACKUP_TARGET_ADD = "backup.target.add"
    BACKUP_TARGET_REMOVE = "backup.target.remove"
    SCHEDULE_RUN = "schedule.run"  # one scheduled duty ran (`dangan scheduler`), with its outcome
    # an object put back from a verified good copy: a primary object from a backup (`dangan repair`), or a
    # backup copy from the primary (a backup run); the event's target says which side was repaired
    OBJECT_REPAIR = "object.repair"
    KEYS_ROTATE = "keys.rotate"  # a new master key active, every live data key rewrapped, the old key retired
    KEYS_RECOVER = "keys.recover"  # the master keyring put back from a backup's key escrow
    KEYS_ENCRYPT = "keys.encrypt"  # records raised to an encrypted level sealed (`dangan keys encrypt-pending`)
    RESTORE = "system.restore"  # a whole system rebuilt from a backup (`dangan restore`)
    # retention and disposition
    RETENTION_SET = "retention.set"  # a record given its own code (overriding its series'), or back to the series'
    RETENTION_APPRAISE = "retention.appraise"  # a due record's decision: keep (a new period), destroy, transfer
    LEGAL_HOLD_SET = "legal_hold.set"
    LEGAL_HOLD_LIFT = "legal_hold.lift"
    DISPOSITION_PROPOSE = "disposition.propose"
    DISPOSITION_APPROVE = "disposition.approve"  # by another person than the proposer
    DISPOSITION_CANCEL = "disposition.cancel"
    DISPOSITION_EXECUTE = "disposition.execute"  # records destroyed or transferred, the certificate written
    DISPOSITION_REFUSED = "disposition.refused"  # a step refused by a legal hold or the two-person rule
    CERTIFICATE_VERIFY = "certificate.verify"
    # the log itself
    AUDIT_VERIFY = "audit.verify"
    AUDIT_EXPORT = "audit.export"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    AUDIT_PRUNE = "audit.prune"


SYSTEM_ACTOR = "system"  # work the system does on its own (recovery, schedules): never a person's action
