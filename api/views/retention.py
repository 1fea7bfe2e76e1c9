"""Typed results of retention and disposition: due lists, appraisals, legal holds, dispositions and their
certificates. Dates are ISO 8601 (`due_on`: the day the record falls due; None: permanent)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.views.base import View

Decision = Literal["keep", "destroy", "transfer"]
DispositionAction = Literal["destroy", "transfer"]
DispositionState = Literal["proposed", "approved", "executed", "cancelled"]


class DueRecordView(View):
    document_id: int
    reference_code: str
    title: str
    level: str | None
    status: str
    retention: str = Field(description="The code that decides: the record's own, else its series' (batch's)")
    retention_source: Literal["record", "series"]
    counted_after: int = Field(description="归档年度 (or a keep appraisal's year): the period counts from the next")
    due_on: dt.date | None = Field(description="1 January after the period's last year; None: permanent")
    overdue_days: int = Field(description="Days since due_on (negative: days until it falls due)")
    held: bool = Field(description="A legal hold blocks its disposition")
    appraisal: Decision | None = Field(description="The latest appraisal's decision, if any")
    disposition_id: int | None = Field(description="An open (proposed or approved) disposition naming it")


class DueListView(View):
    as_of: dt.date
    within_days: int
    records: list[DueRecordView]
    unreadable_codes: int = Field(description="Visible records whose retention code cannot be read (not listed)")


class AppraisalView(View):
    id: int
    document_id: int
    reference_code: str
    decision: Decision
    retention: str | None = Field(description="keep: the new code")
    reason: str
    decided_by: str
    decided_at: dt.datetime
    due_on: dt.date | None = Field(description="When the record now falls due")


class HoldView(View):
    id: int
    document_id: int
    reference_code: str
    reason: str
    set_by: str
    set_at: dt.datetime
    active: bool
    lifted_by: str | None
    lifted_at: dt.datetime | None
    lift_reason: str | None


class HoldListView(View):
    holds: list[HoldView]


class DispositionRecordView(View):
    document_id: int
    reference_code: str
    title: str
    status: str = Field(description="The record's state now (disposed or transferred once executed)")


class DispositionView(View):
    id: int
    action: DispositionAction
    status: DispositionState
    reason: str
    destination: str | None
    proposed_by: str
    proposed_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    executed_by: str | None
    executed_at: dt.datetime | None
    certificate_document_id: int | None = Field(description="The certificate, kept as a record of the archive")
    certificate_sha256: str | None = Field(description="SHA-256 of the certificate's JSON as stored")
    export_path: str | None = Field(description="transfer: the BagIt bag written for the receiving archive")
    objects_removed: int = Field(description="destroy: objects removed from the primary store so far")
    records: list[DispositionRecordView]


class DispositionListView(View):
    dispositions: list[DispositionView]


class CertificateCheckView(View):
    """A certificate verified again: its stored bytes, its signature and what the catalogue and the log say."""

    disposition_id: int
    certificate_document_id: int
    sha256: str
    key_fingerprint: str = Field(description="SHA-256 of the Ed25519 public key it is signed with")
    valid: bool
    checks: list[str] = Field(description="What was checked and held")
    problems: list[str] = Field(description="What did not hold (empty when valid)")
