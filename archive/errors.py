"""The one error tree.

Every error a user or operator can cause is a subclass of :class:`DanganError` with a class-level
``exit_code`` (CLI) and ``http_status`` (API) and a message that says what to do next.  The CLI and the
API each map this tree in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

# re-exported: callers import them from here, with the error classes
from archive.exit_codes import ExitCode as ExitCode  # noqa: PLC0414 (an explicit re-export, for mypy)
from archive.exit_codes import ParamValue as ParamValue  # noqa: PLC0414 (an explicit re-export, for mypy)
from archive.exit_codes import Reason as Reason  # noqa: PLC0414 (an explicit re-export, for mypy)


class DanganError(Exception):
    """Base of every error a user or operator can cause.

    A refusal may carry a `reason` declared on its own class and the `params` that reason names (exactly those):
    the HTTP body adds them as `reason` and `params`; the message stays the English sentence for the log and CLI."""

    exit_code: ClassVar[int] = ExitCode.FAILED
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "error"
    # A passing fault (a store or catalogue out of reach, a full disk): the work waits and is tried again,
    # instead of ending as failed. A job that meets one goes to `retrying`, not `failed`.
    transient: ClassVar[bool] = False
    # Seconds after which a new try may succeed, when the part that failed says so (HTTP `Retry-After`).
    retry_after: int | None = None

    def __init__(
        self, message: str, reason: Reason | None = None, params: Mapping[str, ParamValue] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        given = dict(params or {})
        if reason is not None and (reason not in reasons_of(type(self)) or set(given) != set(reason.params)):
            raise ValueError(f"{type(self).__name__}: {reason} is not one of its reasons or its params differ")
        if reason is None and given:
            raise ValueError(f"{type(self).__name__}: params without a reason")
        self.reason = reason
        self.params = given


class InvalidInput(DanganError):
    """A request or argument that cannot be acted on as given."""

    exit_code = ExitCode.INVALID_INPUT
    http_status = 400
    code = "invalid_input"

    TARGET_NAME = Reason("backup_target_name", "name")
    TARGET_NEEDS_PATH = Reason("backup_target_needs_path")
    TARGET_NEEDS_BUCKET = Reason("backup_target_needs_bucket")
    TARGET_KIND = Reason("backup_target_kind", "kind")
    TARGET_INSIDE_ARCHIVE = Reason("backup_target_inside_archive")
    TARGET_PATH_NOT_ABSOLUTE = Reason("backup_target_path_not_absolute", "path")
    ADMIN_ROLE_SPLIT = Reason("admin_role_split")
    UNKNOWN_ROLE = Reason("unknown_role")
    USERNAME_LENGTH = Reason("username_length")
    PASSWORD_TOO_SHORT = Reason("password_too_short", "minimum")
    DUTIES_COMBINED = Reason("duties_combined")
    LEVEL_UNKNOWN = Reason("level_unknown", "level")
    LEVEL_ABOVE_CLEARANCE = Reason("level_above_clearance")
    FONDS_CODE = Reason("fonds_code", "fonds")
    OCR_ENGINE = Reason("ocr_engine", "engine")
    TITLE_EMPTY = Reason("title_empty")
    DATE_FORM = Reason("date_form", "date")
    DATE_NOT_REAL = Reason("date_not_real", "date")
    WITHDRAW_REASON_MISSING = Reason("withdraw_reason_missing")
    TEMPLATE_REASON_MISSING = Reason("template_reason_missing")
    REOPEN_REASON_MISSING = Reason("reopen_reason_missing")
    REJECT_NOTE_MISSING = Reason("reject_note_missing")
    RESCAN_ONE_PAGE = Reason("rescan_one_page")
    PAGE_NOT_IN_SAMPLE = Reason("page_not_in_sample", "page", "batch")
    SAMPLE_TOO_SMALL = Reason("sample_too_small", "minimum")
    SAMPLE_MINIMUM = Reason("sample_minimum")
    NOTHING_TO_SAMPLE = Reason("nothing_to_sample")
    DEFECT_MISSING = Reason("defect_missing")
    VERDICTS_MISSING = Reason("verdicts_missing", "count", "sampled")
    RANGE_REVERSED = Reason("range_reversed")
    RETENTION_CODE = Reason("retention_code", "code")
    RETENTION_REASON_MISSING = Reason("retention_reason_missing")
    KEEP_NEEDS_PERIOD = Reason("keep_needs_period")
    NO_RECORDS_NAMED = Reason("no_records_named")
    TRANSFER_NEEDS_DESTINATION = Reason("transfer_needs_destination")
    DEVICE_CODE = Reason("device_code", "code")
    SCAN_SETTING = Reason("scan_setting", "setting", "value")
    # A batch manifest (archive/catalogue/manifest.py): the file as a whole, or the first of `count` row problems.
    MANIFEST_EMPTY = Reason("manifest_empty", "columns")
    MANIFEST_NO_KEY_COLUMN = Reason("manifest_no_key_column", "found")
    MANIFEST_TOO_MANY_ROWS = Reason("manifest_too_many_rows", "limit")
    MANIFEST_UNREADABLE = Reason("manifest_unreadable", "row")
    MANIFEST_NO_ROWS = Reason("manifest_no_rows")
    MANIFEST_ROW_NO_KEY = Reason("manifest_row_no_key", "count", "row")
    MANIFEST_ROW_ITEM = Reason("manifest_row_item", "count", "row", "value", "maximum")
    MANIFEST_ROW_PAGES = Reason("manifest_row_pages", "count", "row", "value", "maximum")
    MANIFEST_ROW_DATE = Reason("manifest_row_date", "count", "row", "date")
    MANIFEST_ROW_REPEATS = Reason("manifest_row_repeats", "count", "row", "column", "value", "first_row")
    MANIFEST_ROW_FIELD = Reason("manifest_row_field", "count", "row", "field", "value")
    # Descriptive metadata and custom fields per series (archive/catalogue/metadata.py).
    METADATA_VALUE = Reason("metadata_value", "field", "value")
    CUSTOM_FIELD_NAME = Reason("custom_field_name", "field")
    CUSTOM_FIELD_KIND = Reason("custom_field_kind", "kind", "kinds")
    CUSTOM_FIELD_VALUE = Reason("custom_field_value", "field", "value", "expected")
    CUSTOM_FIELD_UNKNOWN = Reason("custom_field_unknown", "field", "defined")
    CUSTOM_FIELD_REQUIRED = Reason("custom_field_required", "field")


class UnsupportedFile(InvalidInput):
    """A file that is empty, not what its extension says, encrypted, broken or too large."""

    exit_code = ExitCode.UNSUPPORTED_FILE
    http_status = 415
    code = "unsupported_file"

    # The file's name is not a param: the page shows it before the refusal.
    WRONG_SUFFIX = Reason("wrong_suffix", "suffix", "allowed")
    EMPTY_FILE = Reason("empty_file")
    CONTENT_MISMATCH = Reason("content_mismatch")
    TOO_MANY_PAGES = Reason("too_many_pages", "limit")
    PDF_ENCRYPTED = Reason("pdf_encrypted")
    PDF_DAMAGED = Reason("pdf_damaged")
    PDF_NO_PAGES = Reason("pdf_no_pages")
    SPOOLED_COPY_GONE = Reason("spooled_copy_gone", "job")
    WORKBOOK_UNREADABLE = Reason("workbook_unreadable", "problem")


class TooLarge(UnsupportedFile):
    """An upload over the configured size limit."""

    http_status = 413
    code = "too_large"


class QueryError(InvalidInput):
    """A search query that cannot be parsed."""

    code = "bad_query"


class BadTemplate(InvalidInput):
    """A reference-code template that is malformed, names unknown fields, lacks `{item}` or cannot be filled."""

    code = "bad_template"

    # One per kind of archive.catalogue.reference.TemplateProblem.
    MALFORMED = Reason("malformed")
    UNKNOWN_FIELD = Reason("unknown_field", "names", "allowed")
    NO_ITEM = Reason("no_item")
    UNFILLABLE = Reason("unfillable")


class PasswordReused(InvalidInput):
    """The password someone else set, chosen again by its holder when they must choose their own."""

    code = "password_reused"


class NotFound(DanganError):
    """The thing does not exist, or the caller may not see it (never a 403 for hidden records)."""

    exit_code = ExitCode.NOT_FOUND
    http_status = 404
    code = "not_found"


class PageImageUnavailable(NotFound):
    """A visible page whose image or thumbnail cannot be drawn (its access copy is damaged or unreadable)."""

    code = "page_image_unavailable"


class Conflict(DanganError):
    """The request collides with what is already archived."""

    exit_code = ExitCode.CONFLICT
    http_status = 409
    code = "conflict"

    BACKUP_TARGET_EXISTS = Reason("backup_target_exists", "name")
    USER_EXISTS = Reason("user_exists", "username")
    DUPLICATE_FILE = Reason("duplicate_file")
    ALREADY_ARCHIVED = Reason("already_archived", "name", "reference_code")
    ALREADY_SUBMITTED = Reason("already_submitted", "name", "job")
    EXTERNAL_ID_TAKEN = Reason("external_id_taken", "external_id")
    REFERENCE_CODE_IN_USE = Reason("reference_code_in_use", "reference_code")
    FONDS_TEMPLATE_DIFFERS = Reason("fonds_template_differs", "fonds", "template")
    DOCUMENT_WITHDRAWN = Reason("document_withdrawn", "reference_code")
    BATCH_STATE = Reason("batch_state", "batch", "current", "target")
    DOCUMENT_STATE = Reason("document_state", "document", "current", "target")
    PAGE_STATE = Reason("page_state", "page", "current", "target")
    JOB_STATE = Reason("job_state", "job", "current", "target")
    BATCH_FILED = Reason("batch_filed", "batch")
    BATCH_NOT_CHANGEABLE = Reason("batch_not_changeable", "batch", "status")
    PAGES_HELD = Reason("pages_held", "batch", "count")
    PAGES_AWAIT_RESCAN = Reason("pages_await_rescan", "batch", "count")
    FAILED_PAGES_UNCHANGED = Reason("failed_pages_unchanged", "batch", "count", "pages")
    NOTHING_RESCANNED = Reason("nothing_rescanned", "batch")
    BATCH_NOT_SAMPLING = Reason("batch_not_sampling", "batch", "status")
    BATCH_NOT_ACCEPTED = Reason("batch_not_accepted", "batch", "status")
    FILING_NEEDS_JUSTIFICATION = Reason("filing_needs_justification", "batch")
    NO_SAMPLE = Reason("no_sample", "batch")
    PAGE_REPLACED = Reason("page_replaced", "page")
    PAGE_ITEM_CHANGED = Reason("page_item_changed", "page")
    JOB_RUNNING = Reason("job_running", "job")
    JOB_QUEUED = Reason("job_queued", "job")
    JOB_NOT_RETRYABLE = Reason("job_not_retryable", "job", "state")
    JOB_FILE_GONE = Reason("job_file_gone", "job")
    DISPOSITION_STATE = Reason("disposition_state", "disposition", "current", "target")
    LEGAL_HOLD = Reason("legal_hold", "reference_code")
    ALREADY_HELD = Reason("already_held", "reference_code")
    CUSTOM_FIELD_EXISTS = Reason("custom_field_exists", "field", "series")
    NOT_HELD = Reason("not_held", "reference_code")
    NOT_DISPOSABLE = Reason("not_disposable", "reference_code", "status")
    NOT_APPRAISED = Reason("not_appraised", "reference_code", "action")
    NOT_DUE = Reason("not_due", "reference_code", "due_on")
    IN_ANOTHER_DISPOSITION = Reason("in_another_disposition", "reference_code", "disposition")
    DEVICE_EXISTS = Reason("device_exists", "code")
    DEVICE_RETIRED = Reason("device_retired", "code")


class RebuildRunning(Conflict):
    """A search index rebuild is under way already (started over HTTP or with `dangan reindex`)."""

    code = "rebuild_running"


class AuthenticationRequired(DanganError):
    """No valid credentials were given."""

    exit_code = ExitCode.DENIED
    http_status = 401
    code = "unauthenticated"


class TooManyAttempts(DanganError):
    """Logins from this address failed too often; further attempts wait `retry_after` seconds."""

    exit_code = ExitCode.TOO_MANY_ATTEMPTS
    http_status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermissionDenied(DanganError):
    """The caller is known but their role does not allow the action (records they may not see are 404)."""

    exit_code = ExitCode.DENIED
    http_status = 403
    code = "forbidden"

    OWN_ACCOUNT = Reason("own_account")
    CLEARANCE_ABOVE_OWN = Reason("clearance_above_own")
    DISABLE_SELF = Reason("disable_self")
    PEER_SECADMIN = Reason("peer_secadmin")
    LAST_AUDITOR = Reason("last_auditor", "username")
    OWN_PAGES_IN_SAMPLE = Reason("own_pages_in_sample", "pages")
    ITEM_LEVEL_ABOVE_CLEARANCE = Reason("item_level_above_clearance")
    OWN_PROPOSAL = Reason("own_proposal", "disposition")


class PasswordChangeRequired(PermissionDenied):
    """A session opened with a password that someone else set (a security administrator's reset or new account,
    the bootstrap's): until its holder chooses their own, it may only read its own account, change that
    password and sign out."""

    code = "password_change_required"


class ProcessingFailed(DanganError):
    """OCR or conversion of a valid file failed; the job is marked failed with this reason."""

    exit_code = ExitCode.PROCESSING_FAILED
    http_status = 422
    code = "processing_failed"


class StorageUnavailable(DanganError):
    """The object store (or the catalogue) cannot be reached or refused an operation; try again later.

    `retry_after`: seconds after which a new try may succeed (HTTP `Retry-After`), when known."""

    exit_code = ExitCode.STORAGE_UNAVAILABLE
    http_status = 503
    code = "storage_unavailable"
    transient = True

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageTimeout(StorageUnavailable):
    """The object store did not answer in time (a slow or black-holed server)."""

    http_status = 504
    code = "storage_timeout"


class CatalogueBusy(StorageUnavailable):
    """The catalogue stayed locked by other writers (or unreachable) longer than the bounded wait."""

    code = "catalogue_busy"


class InsufficientStorage(DanganError):
    """A disk the archive writes to is full, or would fall below the configured free-space reserve.

    `place` names what was being written (spool, object store, catalogue, index, audit log, backup target);
    `needed_bytes` is how much more free space the operation needs, when known."""

    exit_code = ExitCode.DISK_FULL
    http_status = 507
    code = "insufficient_storage"
    transient = True

    def __init__(self, message: str, *, place: str = "disk", needed_bytes: int | None = None) -> None:
        super().__init__(message)
        self.place = place
        self.needed_bytes = needed_bytes

    def __reduce__(self) -> tuple[object, ...]:  # keep place and size across a process pool (OCR workers)
        return (_insufficient_storage, (self.message, self.place, self.needed_bytes))


def _insufficient_storage(message: str, place: str, needed_bytes: int | None) -> InsufficientStorage:
    return InsufficientStorage(message, place=place, needed_bytes=needed_bytes)


class IntegrityFailure(DanganError):
    """Stored bytes do not match their recorded SHA-256, or an object is missing."""

    exit_code = ExitCode.INTEGRITY_FAILURE
    http_status = 500
    code = "integrity_failure"


class SearchUnavailable(DanganError):
    """The search index is missing, corrupt or of another schema version; it must be rebuilt."""

    exit_code = ExitCode.SEARCH_UNAVAILABLE
    http_status = 503
    code = "search_unavailable"


class ConfigurationError(DanganError):
    """Settings are inconsistent or name something that does not exist."""

    exit_code = ExitCode.CONFIGURATION
    http_status = 500
    code = "configuration_error"


class KeyUnavailable(ConfigurationError):
    """An encrypted object's master key is not in the keyring (its key file lost, or another put in its place)."""

    http_status = 503
    code = "key_unavailable"


def reasons_of(cls: type[DanganError]) -> tuple[Reason, ...]:
    """The reasons a class declares itself (not its parents'): `errors.<cls.code>.<reason>` in the catalogues."""
    return tuple(value for value in vars(cls).values() if isinstance(value, Reason))


def all_error_classes() -> list[type[DanganError]]:
    """Every class of the tree, the base included (used by the mapping tests)."""
    found: list[type[DanganError]] = [DanganError]
    index = 0
    while index < len(found):
        found.extend(found[index].__subclasses__())
        index += 1
    return found
