"""The exit statuses of the CLI and the `Reason` of a refusal: the vocabulary archive/errors.py's error tree
is built from (kept apart so that the tree itself stays one screenful per family of errors)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

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
