"""Typed results of the preservation use cases: initialise, reindex, verification runs, backup targets, backup
runs and restore drills. Field names are the JSON keys the API and `--json` have always answered with; graded
reports also carry `grade`, `exit_code`, `severity_counts` and `findings` (api/views/reports.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.views.base import View
from api.views.reports import FindingView, Graded, ObjectFindingView
from archive.reports import Grade


class InitView(View):
    home: str
    database: str
    storage: str
    index: str


class ReindexView(View):
    documents: int
    index: str
    engine: str


class RebuildStateView(View):
    """The search index rebuild of this installation: the one under way, or the last one this place recorded."""

    state: Literal["idle", "running", "finished", "failed", "interrupted"] = Field(
        description="idle: none recorded; interrupted: its process stopped before it finished (start another)"
    )
    started_by: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    done: int = Field(default=0, description="Documents indexed so far")
    total: int = Field(default=0, description="Documents to index")
    engine: str | None = None
    error: str | None = Field(default=None, description="Why it failed (the error code)")


class DeriveView(View):
    """What `dangan derive` did: page images and thumbnails drawn again from the access copies."""

    documents: int = Field(description="Records looked at")
    pages_drawn: int = Field(description="Pages whose image and thumbnail were drawn")
    pages_failed: int = Field(
        description="Pages that could not be drawn (logged; served as 404 page_image_unavailable)"
    )
    forced: bool = Field(description="True: every page drawn again; false: only missing ones")
    objects_pruned: int = Field(description="Derived objects removed: no current page refers to them")
    pruned_keys: list[str] = Field(description="The first 100 keys removed")


class NoteView(View):
    code: str
    params: dict[str, str | int | float | None]


class VerificationView(Graded):
    """Fixity of the primary store or of a backup target (then `target`, `backup_run_id`, `manifest_key`)."""

    run_id: int | None = Field(default=None, description="The stored verification run")
    store: str
    level: str
    percent: float | None
    seed: int | None
    status: str = Field(description="The old spelling of `grade`")
    clean: bool
    objects_checked: int
    objects_hashed: int
    bytes_read: int
    seconds: float
    counts: dict[str, int]
    notes: list[str] = Field(description="How it checked, for a person (in English)")
    note_codes: list[NoteView] = Field(
        default_factory=list,
        description="The notes' codes and values (the page's catalogue: findings.note.<code>)",
    )
    findings: list[ObjectFindingView]
    target: str | None = None
    backup_run_id: int | None = None
    manifest_key: str | None = None


class VerificationRunSummary(View):
    id: int
    level: str
    store: str
    started_at: str
    seconds: float
    status: str
    grade: Grade
    exit_code: int | None
    seed: int | None
    percent: float | None
    objects_checked: int | None
    bytes_read: int | None
    counts: dict[str, int]
    actor: str


class VerificationRunDetail(VerificationRunSummary):
    report: VerificationView


class VerificationRunList(View):
    runs: list[VerificationRunSummary]


class TargetView(View):
    name: str
    kind: str
    path: str | None
    endpoint: str | None
    bucket: str | None
    secure: bool
    region: str | None
    credentials_file: str | None = Field(description="A path; the secret stays in the file")
    source: str = Field(description="catalogue (registered) or settings (declared)")


class TargetList(View):
    targets: list[TargetView]


class TargetRemoved(View):
    removed: str


class CopyFailure(View):
    key: str
    error: str


class ReplacedCopy(View):
    """A copy on the target that had another size or other bytes, copied again from the primary."""

    key: str
    found_size: int | None = None
    found_sha256: str | None = None
    sha256: str


class BackupRunReport(View):
    """What a run copied and found; empty while it runs, only `error` when it failed."""

    run: int | None = None
    objects_total: int | None = None
    objects_copied: int | None = None
    bytes_copied: int | None = None
    checkpoints: int | None = None
    destroyed_removed: int | None = Field(
        default=None, description="Objects of destroyed records removed from this target (retention disposal)"
    )
    failed: list[CopyFailure] = Field(default_factory=list)
    replaced: list[ReplacedCopy] = Field(default_factory=list)
    copies_checked: int | None = Field(default=None, description="Copies already on the target re-hashed")
    escrow_key: str | None = Field(default=None, description="The run's key escrow; null: none (no escrow secret)")
    keyring_escrowed: bool | None = Field(
        default=None, description="The escrow carries the master keyring of encrypted records (null: none needed)"
    )
    manifest_key: str | None = None
    manifest_sha256: str | None = None
    snapshot_key: str | None = None
    newest_object_at: str | None = None
    interrupted_runs: list[int] = Field(default_factory=list)
    error: str | None = None
    grade: Grade | None = None
    exit_code: int | None = None
    severity_counts: dict[str, int] | None = None
    findings: list[FindingView] = Field(default_factory=list)


class BackupRunView(View):
    """One backup run. `status`: running, complete, incomplete (objects could not be copied), failed, interrupted;
    `grade` is null while it runs."""

    id: int
    target: str
    status: str
    grade: Grade | None
    exit_code: int | None
    severity_counts: dict[str, int] | None
    started_at: str
    finished_at: str | None
    objects_copied: int
    bytes_copied: int
    manifest_key: str | None
    manifest_sha256: str | None
    snapshot_key: str | None
    report: BackupRunReport
    findings: list[FindingView]
    actor: str


class BackupRunList(View):
    runs: list[BackupRunView]


class KeyFailure(View):
    key: str
    error: str


class DrillObjects(View):
    restored: int
    bytes: int
    missing: list[str]
    hash_mismatch: list[str]
    pdfs_opened: int
    pdf_pages: int
    pdf_text_chars: int
    pdf_failures: list[KeyFailure]


class DrillCatalogue(View):
    key: str
    sha256_ok: bool
    path: str
    integrity: str
    documents: int | None = None
    pages: int | None = None
    stored_objects: int | None = None
    newest_object_at: str | None = None


class Canary(View):
    query: str
    document_id: int
    found: bool


class DrillSearch(View):
    documents_indexed: int
    canaries: list[Canary]


class DrillView(Graded):
    """A restore drill. `status` (passed / failed) is the old spelling: passed means no errors."""

    id: int
    drill_id: int = Field(description="The old name of `id`")
    target: str
    backup_run_id: int
    seed: int
    sample: int | None
    objects: DrillObjects
    catalogue: DrillCatalogue
    search: DrillSearch
    not_backed_up: int = Field(default=0, description="Catalogue objects the restored backup does not hold")
    seconds: float
    bytes_restored: int
    rto_seconds_per_gb: float | None
    rpo_seconds: float | None
    status: str
    findings: list[FindingView]


class DrillList(View):
    drills: list[DrillView]


class ScheduleRunView(View):
    """One run of a scheduled duty (`dangan scheduler`)."""

    id: int
    duty: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str = Field(description="running, success, warnings or failed")
    summary: dict[str, Any]


class DutyPlan(View):
    duty: str
    every_seconds: float | None = Field(description="Its interval; null: switched off in Settings.schedule")
    last_started: dt.datetime | None
    next_due: dt.datetime | None = Field(description="null: off, or never ran (due at the scheduler's next tick)")


class ScheduleView(View):
    plans: list[DutyPlan]
    runs: list[ScheduleRunView]


class ComplianceFindingView(View):
    """One thing the compliance report asks a person to look at: its code (the catalogue key
    compliance.finding.<code>), severity and the values its sentence names."""

    code: str
    severity: Literal["error", "warning"]
    params: dict[str, str | int] = Field(default_factory=dict)
    message: str = Field(description="The sentence in English")


class ComplianceReportView(Graded):
    """The periodic compliance report: the access log's verification, alerts, fixity, backups and drills."""

    key: str = Field(description="Where the report's JSON is kept in the object store")
    since: dt.datetime
    until: dt.datetime
    audit_log: dict[str, Any] = Field(description="The access log's verification: ok, grade, counts")
    alerts: dict[str, int] = Field(description="Alerts in the period, per kind")
    verifications: dict[str, int] = Field(description="Verification runs in the period, per grade")
    backups: dict[str, dict[str, int]] = Field(description="Backup runs in the period, per target and status")
    drills: dict[str, int] = Field(description="Restore drills in the period, passed and failed")
    scheduled: dict[str, int] = Field(description="Scheduled duty runs in the period, per outcome")
    dat70: dict[str, int] = Field(description="DA/T 70 four-property checks in the period, per grade")
    retention: dict[str, int] = Field(
        default_factory=dict,
        description="Records past their retention period and not yet disposed of, as the auditor may see them: "
        "due, held (a legal hold), in disposition (an open disposition names them)",
    )
    findings: list[str] = Field(description="What needs a person's attention, in English")
    items: list[ComplianceFindingView] = Field(
        default_factory=list, description="The same findings, coded (the HTML page says them in Chinese or English)"
    )


class ComplianceReportList(View):
    reports: list[str] = Field(description="The kept reports' stamps (UTC, YYYYMMDDTHHMMSSZ), newest first")


class RestoreView(Graded):
    """A system rebuilt from a backup (`dangan restore`): what was restored, the checks it ended with (fixity,
    audit verification, canary searches: their findings are this report's), and the RTO."""

    home: str
    target: str
    backup_run_id: int
    manifest_key: str
    objects_restored: int
    bytes_restored: int = Field(description="Objects and the catalogue snapshot")
    checkpoints_restored: int
    key_fingerprint: str = Field(description="SHA-256 of the audit signing key recovered from the escrow")
    documents_indexed: int
    fixity_grade: Grade
    verification_run_id: int | None
    audit_grade: Grade
    audit_events_checked: int
    canaries: list[Canary]
    seconds: float
    rto_seconds_per_gb: float | None = Field(description="Seconds of the whole restore per GB restored")
    findings: list[FindingView]


class RepairedObject(View):
    """One damaged primary object: `source` is the target its good copy came from (null: not repaired)."""

    key: str
    problem: Literal["missing", "changed"]
    source: str | None
    reasons: list[str] = Field(default_factory=list, description="Why each target tried could not give it")


class RepairView(Graded):
    """A repair of the primary store from backups: repaired objects are warnings, unrepaired ones errors."""

    checked: int = Field(description="Catalogued objects verified")
    damaged: int
    repaired: int
    objects: list[RepairedObject]
    findings: list[FindingView]
