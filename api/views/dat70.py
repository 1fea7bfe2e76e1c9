"""Typed results of the DA/T 70 four-property checks (archive.preservation.dat70): a report in the graded-report
contract (`grade`, `exit_code`, `severity_counts`, `findings`) beside one row per check — its code, property,
result (passed, failed, warning, not_run) and detail."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.views.base import View
from api.views.reports import FindingView, Graded

Result = Literal["passed", "failed", "warning", "not_run"]


class Dat70CheckView(View):
    code: str = Field(description="The check's stable code, e.g. auth.fixity, integ.page_sequence, sec.virus_scan")
    property: Literal["authenticity", "integrity", "usability", "security"]
    result: Result = Field(description="not_run: it could not run here (not_run_reason says why); never a pass")
    checked: int = Field(description="How many objects, pages or items it looked at")
    problems: int = Field(description="Its findings (listed in `findings` with this code)")
    checks: str = Field(description="What it checks, in English")
    detail: str = Field(description="What it found, in English")
    not_run_reason: str | None = None


class Dat70FindingView(FindingView):
    """A finding of one check: `code` is the check's code; the values its sentence names are in `params`."""


class Dat70ReportView(Graded):
    run_id: int
    trigger: Literal["filing", "demand"]
    actor: str
    started_at: str
    scope: Literal["batch", "document"]
    subject_id: int
    documents: int
    objects: int
    seconds: float
    properties: dict[str, Result] = Field(description="The worst result of each property's checks")
    checks: list[Dat70CheckView]
    counts: dict[str, int] = Field(description="Findings per check code")
    notes: list[str] = Field(description="What the checks cannot see (e.g. the limits of the PDF/A check)")
    findings: list[Dat70FindingView]


class Dat70RunSummary(View):
    id: int
    scope: Literal["batch", "document"]
    subject_id: int
    trigger: Literal["filing", "demand"]
    started_at: str
    seconds: float
    grade: str
    actor: str


class Dat70RunList(View):
    runs: list[Dat70RunSummary]
