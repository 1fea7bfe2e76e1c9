"""Views of graded reports (archive.reports): every verification answers with `grade`, `exit_code`,
`severity_counts` and `findings`, each finding with `severity`, `code`, `subject` and `message` beside the
fields of its own report (which keep the names they always had). The codes and their sentences are
archive.finding_codes; the web application translates them from `variant`, `params` and those fields."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View
from archive.reports import Grade, Severity


class FindingView(View):
    severity: Severity
    code: str = Field(description="What was found, e.g. missing, content_changed, edited, unsealed")
    subject: str | None = Field(description="What it is about: an object key, an event, a document")
    subject_kind: str | None = Field(
        default=None, description="event, backup_run or document: the page says findings.subject.<kind> with the id"
    )
    subject_id: int | None = Field(default=None, description="The number of the event, backup run or document")
    message: str = Field(description="What was found and what to do, for a person (in English)")
    variant: str | None = Field(
        default=None, description="Which of the code's sentences: the page's catalogue key is findings.<code>.<variant>"
    )
    params: dict[str, str | int | None] = Field(
        default_factory=dict, description="The values the sentence names beside subject and the finding's own fields"
    )


class Graded(View):
    """The graded part of a report: the worst severity found is the grade, and the grade is the exit code."""

    grade: Grade
    exit_code: int = Field(description="0 clean, 10 warnings only, 9 errors (the CLI's exit status)")
    severity_counts: dict[str, int]


class ObjectFindingView(FindingView):
    """A fixity finding, of the primary store or of a backup target; a swapped pair is one finding."""

    category: str
    key: str
    document_id: int | None = None
    reference_code: str | None = None
    role: str | None = None
    page_id: int | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    expected_size: int | None = None
    actual_size: int | None = None
    partner_key: str | None = None
    partner_document_id: int | None = None
    partner_reference_code: str | None = None
    partner_role: str | None = None


class AuditFindingView(FindingView):
    kind: str = Field(description="The old name of `code`")
    event_id: int | None
    detail: str = Field(description="The old name of `message`")


class AuditVerificationView(Graded):
    """The audit log checked against itself and its signed checkpoints. `ok`: no error (warnings may remain)."""

    ok: bool
    events_checked: int
    checkpoints_checked: int
    anchor_event_id: int
    last_event_id: int
    sealed_through: int | None
    first_bad_event_id: int | None
    counts: dict[str, int]
    findings: list[AuditFindingView]
