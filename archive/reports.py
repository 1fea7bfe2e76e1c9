"""The one graded-report contract: every verification grades its findings the same way.

A verification (fixity of the primary store or of a backup target, a backup run, the audit log, a restore drill)
reports; it does not raise on a finding. Each finding has a severity; the report's grade is the worst severity
found (no findings: clean), and each grade has one exit code from the one ExitCode table:

    clean → ExitCode.OK (0) · warnings → ExitCode.WARNINGS (10) · errors → ExitCode.INTEGRITY_FAILURE (9)

It lives at the top of `archive` (not in archive.audit or archive.preservation) because both of those grade
their reports with it and must stay independent of each other (an import-linter contract).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from archive.errors import ExitCode
from archive.finding_codes import english, subject_of


class Severity(StrEnum):
    """How bad one finding is: a warning loses nothing (yet); an error is missing, changed or unreadable data."""

    WARNING = "warning"
    ERROR = "error"


class Grade(StrEnum):
    """A report's verdict: the worst severity among its findings."""

    CLEAN = "clean"
    WARNINGS = "warnings"
    ERRORS = "errors"

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


_EXIT_CODES = {Grade.CLEAN: ExitCode.OK, Grade.WARNINGS: ExitCode.WARNINGS, Grade.ERRORS: ExitCode.INTEGRITY_FAILURE}
_RESERVED = frozenset({"severity", "code", "subject", "message", "variant", "params", "subject_kind", "subject_id"})


@dataclass(frozen=True)
class Finding:
    """One thing a verification found: how bad, a stable code, what it is about, and a sentence for a person.

    `code` is one of archive.finding_codes.FindingCode; `variant` picks one of its sentences when it is found in
    more than one way. `subject` names what the finding is about (an object key, "event 12", a document); one
    that is not an object key is given as `subject_kind` (archive.finding_codes.SUBJECTS) and `subject_id`, which
    make the subject, so that a page can say it in its language;
    `details` carries the report's own fields (e.g. a fixity finding's document id and hashes), printed beside
    the four above; `params` carries the other values the sentence needs. The message is the registered English
    sentence filled from subject, details and params, so every value a sentence names is one the finding has.
    """

    severity: Severity
    code: str
    subject: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, str | int | None] = field(default_factory=dict)
    variant: str | None = None
    subject_kind: str | None = None
    subject_id: int | None = None

    def __post_init__(self) -> None:
        clash = _RESERVED & (set(self.details) | set(self.params))
        if clash:
            raise ValueError(f"finding details must not redefine {', '.join(sorted(clash))}")
        if (self.subject_kind is None) != (self.subject_id is None):
            raise ValueError("a finding's subject_kind and subject_id come together")
        if self.subject_kind is not None and self.subject_id is not None:
            made = subject_of(self.subject_kind, self.subject_id)
            if self.subject not in (None, made):
                raise ValueError(f"finding subject {self.subject!r} is not its kind's {made!r}")
            object.__setattr__(self, "subject", made)
        english(self.code, self.variant, self.values)  # a registered sentence, every value it names given

    @property
    def values(self) -> dict[str, Any]:
        """What the sentence is filled from: the subject, the details and the params."""
        return {"subject": self.subject, **self.details, **self.params}

    @property
    def message(self) -> str:
        return english(self.code, self.variant, self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.details,
            "severity": self.severity.value,
            "code": self.code,
            "variant": self.variant,
            "subject": self.subject,
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "message": self.message,
            "params": dict(self.params),
        }


def grade_of(severities: Iterable[Severity]) -> Grade:
    """The worst severity as a grade: any error → errors, else any warning → warnings, else clean."""
    seen = set(severities)
    if Severity.ERROR in seen:
        return Grade.ERRORS
    return Grade.WARNINGS if Severity.WARNING in seen else Grade.CLEAN


@dataclass(frozen=True)
class Report:
    """Findings, and what follows from them: the grade, the exit code, counts per code and per severity.

    `codes` are the codes this kind of report knows; they are counted even when nothing was found.
    """

    findings: tuple[Finding, ...] = ()
    codes: tuple[str, ...] = ()

    @property
    def grade(self) -> Grade:
        return grade_of(finding.severity for finding in self.findings)

    @property
    def exit_code(self) -> ExitCode:
        return self.grade.exit_code

    @property
    def clean(self) -> bool:
        return self.grade is Grade.CLEAN

    def counts(self) -> dict[str, int]:
        """Findings per code: the known codes first (zero when absent), then any other code found."""
        counted = Counter(finding.code for finding in self.findings)
        return {**{code: counted.get(code, 0) for code in self.codes}, **counted}

    def severity_counts(self) -> dict[str, int]:
        counted = Counter(finding.severity for finding in self.findings)
        return {severity.value: counted.get(severity, 0) for severity in (Severity.ERROR, Severity.WARNING)}

    def as_dict(self) -> dict[str, Any]:
        """The graded part every report's JSON carries: grade, exit_code, severity_counts and findings."""
        return {
            "grade": self.grade.value,
            "exit_code": int(self.exit_code),
            "severity_counts": self.severity_counts(),
            "findings": [finding.as_dict() for finding in self.findings],
        }
