"""The one error tree.

Every error a user or operator can cause is a subclass of :class:`DanganError` with a class-level
``exit_code`` (CLI) and ``http_status`` (API) and a message that says what to do next.  The CLI and the
API each map this tree in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

# What a reason's params may hold: JSON-safe scalars only (they go into the HTTP body as they are).
ParamValue = str | int | float | bool | None


class ExitCode(IntEnum):
    """Every exit status the CLI uses, and the only place they are defined (the README lists them)."""

    OK = 0  # done; a verification: clean
    FAILED = 1  # a bug: the traceback is in the log
    INVALID_INPUT = 2  # a usage error or a request that cannot be acted on as given
    UNSUPPORTED_FILE = 3  # a file of a kind or size the archive does not take
    NOT_FOUND = 4  # no such record, batch, job or target (or not visible to you)
    CONFLICT = 5  # already there, or not in a state that allows it
    DENIED = 6  # not signed in, or not allowed
    PROCESSING_FAILED = 7  # OCR or PDF/A failed for an item
    STORAGE_UNAVAILABLE = 8  # the object store or the catalogue cannot be reached
    INTEGRITY_FAILURE = 9  # a verification found errors: missing, changed or unreadable data
    WARNINGS = 10  # a verification found warnings only (nothing lost)
    SEARCH_UNAVAILABLE = 11  # the search index cannot be used; rebuild it
    CONFIGURATION = 12  # a setting is wrong: the message names the variable
    TOO_MANY_ATTEMPTS = 13  # too many failed logins from here; wait
    DISK_FULL = 14  # a disk the archive writes to is full, or below its free-space reserve; free space
    INTERRUPTED = 130  # stopped with Ctrl-C (128 + SIGINT)


@dataclass(frozen=True)
class Reason:
    """A finer, stable cause of a refusal than its class's `code`, so that a page can say it in its own language.

    `name` is snake_case and never changes once published (the page's catalogue has `errors.<code>.<name>`);
    `params` are the names of the values the refusal carries, which the catalogue's text may name as
    `{placeholders}`. Reasons are declared as class attributes of the error class that raises them (see
    `reasons_of`), so each class's table is in one place and a test can enumerate them all."""

    name: str
    params: tuple[str, ...] = ()

    def __init__(self, name: str, *params: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "params", params)


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


class UnsupportedFile(InvalidInput):
    """A file that is empty, not what its extension says, encrypted, broken or too large."""

    exit_code = ExitCode.UNSUPPORTED_FILE
    http_status = 415
    code = "unsupported_file"


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
