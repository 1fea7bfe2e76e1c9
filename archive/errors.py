"""The one error tree.

Every error a user or operator can cause is a subclass of :class:`DanganError` with a class-level
``exit_code`` (CLI) and ``http_status`` (API) and a message that says what to do next.  The CLI and the
API each map this tree in exactly one place.
"""

from __future__ import annotations

from typing import ClassVar


class DanganError(Exception):
    """Base of every error a user or operator can cause."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DanganError):
    """A request or argument that cannot be acted on as given."""

    exit_code = 2
    http_status = 400
    code = "invalid_input"


class UnsupportedFile(InvalidInput):
    """A file that is empty, not what its extension says, encrypted, broken or too large."""

    exit_code = 3
    http_status = 415
    code = "unsupported_file"


class TooLarge(UnsupportedFile):
    """An upload over the configured size limit."""

    http_status = 413
    code = "too_large"


class QueryError(InvalidInput):
    """A search query that cannot be parsed."""

    code = "bad_query"


class NotFound(DanganError):
    """The thing does not exist, or the caller may not see it (never a 403 for hidden records)."""

    exit_code = 4
    http_status = 404
    code = "not_found"


class Conflict(DanganError):
    """The request collides with what is already archived."""

    exit_code = 5
    http_status = 409
    code = "conflict"


class AuthenticationRequired(DanganError):
    """No valid credentials were given."""

    exit_code = 6
    http_status = 401
    code = "unauthenticated"


class TooManyAttempts(DanganError):
    """Logins from this address failed too often; further attempts wait `retry_after` seconds."""

    exit_code = 13
    http_status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermissionDenied(DanganError):
    """The caller is known but their role does not allow the action (records they may not see are 404)."""

    exit_code = 6
    http_status = 403
    code = "forbidden"


class ProcessingFailed(DanganError):
    """OCR or conversion of a valid file failed; the job is marked failed with this reason."""

    exit_code = 7
    http_status = 422
    code = "processing_failed"


class StorageUnavailable(DanganError):
    """The object store cannot be reached or refused an operation."""

    exit_code = 8
    http_status = 503
    code = "storage_unavailable"


class IntegrityFailure(DanganError):
    """Stored bytes do not match their recorded SHA-256, or an object is missing."""

    exit_code = 9
    http_status = 500
    code = "integrity_failure"


class SearchUnavailable(DanganError):
    """The search index is missing, corrupt or of another schema version; it must be rebuilt."""

    exit_code = 11
    http_status = 503
    code = "search_unavailable"


class ConfigurationError(DanganError):
    """Settings are inconsistent or name something that does not exist."""

    exit_code = 12
    http_status = 500
    code = "configuration_error"


def all_error_classes() -> list[type[DanganError]]:
    """Every class of the tree, the base included (used by the mapping tests)."""
    found: list[type[DanganError]] = [DanganError]
    index = 0
    while index < len(found):
        found.extend(found[index].__subclasses__())
        index += 1
    return found
