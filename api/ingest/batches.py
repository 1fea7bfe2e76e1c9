"""Batches: create one (with its manifest and quality profile), and report its state: jobs per state,
findings per check, held pages, and the reconciliation against the manifest."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ingest.manifest_rows import manifest_items, read_manifest
from api.ingest.process import ScanProcess, declare, process_view, record_declaration
from api.views.ingest import BatchLinks, BatchList, BatchStatus, BatchSummary
from api.views.urls import batch_report_url, batch_url
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.reconcile import DuplicatePage, ExpectedItem, ReceivedItem, reconcile
from archive.catalogue.reference import check_template
from archive.errors import Conflict, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import DEFAULT_REF_TEMPLATE, Batch, Document, Fonds, IngestJob, Page, QualityFinding
from archive.permissions import Action, authorize
from archive.values import AccessLevel
from archive.visibility import batch_visible, document_visible, job_visible
from ingest.engines import ENGINES, get_engine
from ingest.quality.duplicates import same_scans
from ingest.quality.profiles import get_profile

SEVERITIES = ("fail", "warn")


class BatchService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def create(
        self,
        *,
        actor: Principal,
        fonds: str,
        series: str | None = None,
        box: str | None = None,
        label: str | None = None,
        manifest_text: str | None = None,
        manifest_name: str | None = None,
        manifest_data: bytes | None = None,
        languages: str | None = None,
        engine: str | None = None,
        level: str | None = None,
        year: int | None = None,
        retention: str = "Y30",
        profile: str = "dat31",
        overrides: dict[str, float] | None = None,
        ref_template: str | None = None,
        client: str | None = None,
        process: ScanProcess | None = None,
    ) -> BatchSummary:
        """A new batch; `process` is what it declares of its scan (device, settings, operator, times)."""
        languages, level_name = self.check_new(
            actor=actor,
            fonds=fonds,
            languages=languages,
            engine=engine,
            level=level,
            profile=profile,
            overrides=overrides,
        )
        given = manifest_text or manifest_data
        name = manifest_name or "manifest"
        rows = read_manifest(text=manifest_text, data=manifest_data, name=name) if given else []
        with self.context.db.write() as session:
            fonds_row = _fonds(session, fonds, ref_template, actor=actor, client=client)
            batch = Batch(
                fonds=fonds_row,
                series=series,
                box=box,
                label=label or _label(fonds, series, box),
                languages=languages,
                ocr_engine=engine,
                level=level_name,
                year=year or dt.date.today().year,
                retention=retention,
                profile=profile,
                profile_overrides=dict(overrides or {}),
                manifest_name=manifest_name,
                created_by=actor.username,
            )
            batch.manifest = manifest_items(session, fonds_row.id, series, rows, name=name)
            session.add(batch)
            session.flush()
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_CREATE,
                target=f"batch:{batch.id}",
                client=client,
                details={"fonds": fonds, "series": series, "box": box, "manifest_rows": len(rows)},
            )
            if process is not None and not process.empty():
                record_declaration(session, batch, actor, client, declare(session, batch, process, actor))
            return self.summary(session, batch)

    def check_new(
        self,
        *,
        actor: Principal,
        fonds: str,
        languages: str | None = None,
        engine: str | None = None,
        level: str | None = None,
        profile: str = "dat31",
        overrides: dict[str, float] | None = None,
    ) -> tuple[str, str]:
        """Refuse a batch that could not be made, before anything is written: (languages, level label)."""
        authorize(actor.roles, Action.INGEST)
        settings = self.context.settings
        languages = languages or settings.ocr_languages
        if engine is not None and engine not in ENGINES:
            raise InvalidInput(
                f"OCR engine {engine!r} is not one of: {', '.join(ENGINES)}",
                InvalidInput.OCR_ENGINE,
                {"engine": engine},
            )
        get_engine(engine or settings.ocr_engine).check_languages(languages)
        batch_level = AccessLevel.parse(level or settings.default_level)
        if batch_level > actor.clearance:
            raise InvalidInput(
                f"a batch's level cannot be above your own clearance ({actor.clearance.label})",
                InvalidInput.LEVEL_ABOVE_CLEARANCE,
            )
        get_profile(profile, overrides)  # refuses unknown names and keys now, not at the first page
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fonds):
            raise InvalidInput(
                f"fonds code {fonds!r} must be letters, digits, '.', '_' or '-'",
                InvalidInput.FONDS_CODE,
                {"fonds": fonds},
            )
        return languages, batch_level.label

    def get(self, actor: Principal, batch_id: int) -> Batch:
        authorize(actor.roles, Action.READ_WORK)
        with self.context.db.read() as session:
            batch = visible_batch(session, actor, batch_id)
            session.expunge(batch)
            return batch

    def status(
        self, actor: Principal, batch_id: int, *, check: str | None = None, severity: str | None = None
    ) -> BatchStatus:
        """Counts, findings, held pages and reconciliation — of the items the caller may see only. Every
        finding is also listed by file name and page number (`page_findings`), optionally of one check or
        severity only."""
        authorize(actor.roles, Action.READ_WORK)
        if severity is not None and severity not in SEVERITIES:
            raise InvalidInput(f"severity {severity!r} is not one of: {', '.join(SEVERITIES)}")
        with self.context.db.read() as session:
            batch = visible_batch(session, actor, batch_id)
            status = self.summary(session, batch).as_json() | self._progress(session, batch, actor)
        status["page_findings"] = [
            f
            for f in status["page_findings"]
            if (check is None or f["check"] == check) and (severity is None or f["severity"] == severity)
        ]
        return BatchStatus.model_validate(status)

    def all(self, actor: Principal) -> BatchList:
        authorize(actor.roles, Action.READ_WORK)
        with self.context.db.read() as session:
            batches = session.scalars(select(Batch).order_by(Batch.id))
            return BatchList(batches=[self.summary(session, b) for b in batches if batch_visible(actor, b)])

    @staticmethod
    def summary(session: Session, batch: Batch) -> BatchSummary:
        return BatchSummary(
            id=batch.id,
            label=batch.label,
            fonds=batch.fonds.code,
            series=batch.series,
            box=batch.box,
            status=batch.status,
            languages=batch.languages,
            level=batch.level,
            year=batch.year,
            retention=batch.retention,
            profile=batch.profile,
            profile_overrides=dict(batch.profile_overrides),
            manifest_rows=len(batch.manifest),
            decision=batch.decision,
            decided_by=batch.decided_by,
            decided_at=batch.decided_at.isoformat() if batch.decided_at else None,
            created_by=batch.created_by,
            created_at=batch.created_at.isoformat(),
            process=process_view(session, batch),
            links=BatchLinks(self=batch_url(batch.id), report=batch_report_url(batch.id)),
        )

    def _progress(self, session: Session, batch: Batch, actor: Principal) -> dict[str, Any]:
        jobs = [
            job
            for job in session.scalars(select(IngestJob).where(IngestJob.batch_id == batch.id).order_by(IngestJob.id))
            if job_visible(session, actor, job)
        ]
        documents = {
            d.id: d
            for d in session.scalars(select(Document).where(Document.batch_id == batch.id))
            if document_visible(actor, d)
        }
        pages = [p for d in documents.values() for p in d.pages]
        findings = list(session.scalars(select(QualityFinding).join(Page).where(Page.id.in_([p.id for p in pages]))))
        by_check: Counter[str] = Counter(f"{f.check}:{f.severity}" for f in findings)
        return {
            "jobs": dict(Counter(job.state for job in jobs)),
            "items": len(jobs),
            "pages": len(pages),
            "pages_by_review": dict(Counter(p.review for p in pages)),
            "findings": dict(sorted(by_check.items())),
            "failed_jobs": [
                {"job": j.id, "item": j.source_name, "error": j.error} for j in jobs if j.state == "failed"
            ],
            "held_pages": [
                {
                    "page_id": p.id,
                    "document_id": p.document_id,
                    "reference_code": documents[p.document_id].reference_code,
                    "page": p.number,
                    "findings": [
                        f"{f.check} {f.measured:g} (limit {f.threshold:g})" for f in p.findings if f.severity == "fail"
                    ],
                }
                for p in pages
                if p.review == "held"
            ],
            "page_findings": _page_findings(documents, findings),
            "reconciliation": self.reconciliation(session, batch, jobs, documents, pages).as_dict(),
        }

    def filing_gaps(self, batch_id: int) -> str:
        """What blocks filing without a justification: missing items and page-count mismatches (over every
        item of the batch, counted only — a message names no record)."""
        with self.context.db.read() as session:
            batch = session.get(Batch, batch_id)
            if batch is None:
                return ""
            jobs = list(session.scalars(select(IngestJob).where(IngestJob.batch_id == batch_id)))
            documents = {d.id: d for d in session.scalars(select(Document).where(Document.batch_id == batch_id))}
            pages = [p for d in documents.values() for p in d.pages]
            found = self.reconciliation(session, batch, jobs, documents, pages)
        gaps = []
        if found.missing_items:
            gaps.append(f"{len(found.missing_items)} item(s) of the manifest are missing")
        if found.page_count_mismatches:
            gaps.append(f"{len(found.page_count_mismatches)} item(s) have another page count than the manifest")
        return "; ".join(gaps)

    def reconciliation(
        self, session: Session, batch: Batch, jobs: list[IngestJob], documents: dict[int, Document], pages: list[Page]
    ) -> Any:
        expected = [
            ExpectedItem(m.id, m.row_number, m.item_number, m.reference_code, m.expected_pages, m.title)
            for m in batch.manifest
        ]
        received = [
            ReceivedItem(
                j.source_name,
                j.manifest_item_id,
                j.item_number,
                j.reference_code,
                j.state,
                documents[j.document_id].page_count if j.document_id in documents else None,
                j.document_id,
            )
            for j in jobs
            if j.state != "failed"
        ]
        return reconcile(expected, received, _duplicates(batch, documents, pages))


def _page_findings(documents: dict[int, Document], findings: list[QualityFinding]) -> list[dict[str, Any]]:
    """Each finding where an archivist finds it: the file (the item's name), the page number, what is wrong."""
    rows = [
        {
            "file": documents[f.page.document_id].original_filename,
            "page": f.page.number,
            "page_id": f.page_id,
            "document_id": f.page.document_id,
            "reference_code": documents[f.page.document_id].reference_code,
            "check": f.check,
            "severity": f.severity,
            "measured": f.measured,
            "threshold": f.threshold,
            "message": f.message,
            "review": str(f.page.review),
        }
        for f in findings
    ]
    return sorted(rows, key=lambda row: (str(row["file"]), int(row["page"]), str(row["check"])))


def _duplicates(batch: Batch, documents: dict[int, Document], pages: list[Page]) -> list[DuplicatePage]:
    """Pages of the batch that are the same scan: hashes within the profile's distance, same colour and text."""
    profile = get_profile(batch.profile, batch.profile_overrides)
    described = [(f"{documents[p.document_id].reference_code} p.{p.number}", p.measurements, p.text) for p in pages]
    return [
        DuplicatePage(first, second, "identical" if distance == 0 else "near", distance)
        for first, second, distance in same_scans(described, profile)
    ]


def visible_batch(session: Session, actor: Principal, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or not batch_visible(actor, batch):
        raise NotFound(f"batch {batch_id} does not exist")
    return batch


def _fonds(session: Session, code: str, ref_template: str | None, *, actor: Principal, client: str | None) -> Fonds:
    """The fonds of a new batch; a template given for an existing fonds must be the one it has (changing it is
    its own logged action, `dangan fonds template`)."""
    fonds = session.scalars(select(Fonds).where(Fonds.code == code)).first()
    if fonds is not None:
        if ref_template and check_template(ref_template) != fonds.ref_template:
            raise Conflict(
                f"fonds {code} numbers its items as {fonds.ref_template!r}; to change its scheme use "
                f"`dangan fonds template {code} TEMPLATE --reason ...` (a logged action)",
                Conflict.FONDS_TEMPLATE_DIFFERS,
                {"fonds": code, "template": fonds.ref_template},
            )
        return fonds
    fonds = Fonds(
        code=code, name=code, ref_template=check_template(ref_template) if ref_template else DEFAULT_REF_TEMPLATE
    )
    session.add(fonds)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        roles=actor.roles,
        action=AuditAction.FONDS_CREATE,
        target=f"fonds:{code}",
        client=client,
        details={"ref_template": fonds.ref_template},
    )
    return fonds


def _label(fonds: str, series: str | None, box: str | None) -> str:
    return " / ".join(part for part in (fonds, series and f"series {series}", box and f"box {box}") if part)
