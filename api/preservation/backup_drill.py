"""Restore drill: prove a backup can be restored, and measure how old it is (RPO) and how fast (RTO).

Restores a seeded sample (or all) of the backed-up objects into a scratch directory and re-hashes them, opens
each PDF and extracts its text, restores the catalogue snapshot into a scratch SQLite database (a PostgreSQL
dump: into a scratch database on the catalogue's server, dropped afterwards) and checks its integrity and
counts, rebuilds a scratch search index from it and runs canary queries. Nothing touches the live archive; the
drill is stored and audited.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.preservation.backups import BackupService
from api.search.rows import indexed_document
from api.views.preservation import DrillList, DrillView
from api.wiring import Context
from archive.access import Principal, search_scope, system_principal
from archive.audit import log as audit
from archive.db import Database
from archive.errors import NotFound
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.finding_codes import FindingCode
from archive.hashing import sha256_file
from archive.models import BackupDrill, Document, StoredObject, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.manifest import Entry
from archive.preservation.snapshot import (
    INTEGRITY_OK,
    PG_NOT_CHECKED,
    RestoredCatalogue,
    download,
    drop_restored,
    restore_catalogue,
)
from archive.reports import Finding, Grade, Report, Severity
from archive.scratch import owned_prefix
from archive.workflow import OUT_OF_USE
from ingest.pdfa import page_geometry, page_text
from search.index import open_index

Progress = Callable[[int, int], None]
CANARIES = 5
GB = 1_000_000_000


class DrillService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def drill(
        self,
        principal: Principal,
        *,
        target: str,
        sample: int | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
        client: str | None = None,
    ) -> DrillView:
        authorize(principal.roles, Action.RUN_BACKUP)
        started_at, clock = utcnow(), time.perf_counter()
        store, run, manifest = BackupService(self.context).latest(target)
        seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        chosen = sorted(manifest.objects, key=lambda e: e.key)
        if sample is not None and sample < len(chosen):
            chosen = sorted(random.Random(seed).sample(chosen, max(sample, 1)), key=lambda e: e.key)
        report: dict[str, Any] = {"target": target, "backup_run_id": run.id, "seed": seed, "sample": sample}
        with tempfile.TemporaryDirectory(dir=self.context.settings.spool_dir, prefix=owned_prefix("drill")) as scratch:
            root = Path(scratch)
            report["objects"] = restore_objects(store, chosen, root / "objects", progress)
            if manifest.snapshot is None:
                raise NotFound(f"backup run {run.id} has no catalogue snapshot; run a new backup")
            server = None if self.context.db.is_sqlite else self.context.db.url
            snapshot = manifest.snapshot
            catalogue = restore_catalogue(store, snapshot.key, snapshot.sha256, root, server_url=server)
            try:
                report["catalogue"] = catalogue.as_dict()
                failpoint("drill.catalogue_restored")
                report["search"] = rebuild_and_query(root, self.context.settings.search_engine, catalogue)
            finally:
                drop_restored(catalogue, server)
        seconds = time.perf_counter() - clock
        restored = report["objects"]["bytes"] + manifest.snapshot.size
        report.update(seconds=round(seconds, 3), bytes_restored=restored)
        report["rto_seconds_per_gb"] = seconds / (restored / GB) if restored else None
        newest = catalogue.newest_object_at
        report["rpo_seconds"] = (utcnow() - dt.datetime.fromisoformat(newest)).total_seconds() if newest else None
        report["not_backed_up"] = self._not_backed_up({entry.key for entry in manifest.objects})
        graded = graded_drill(report)
        report.update(graded.as_dict(), status="failed" if graded.grade is Grade.ERRORS else "passed")
        return self._store(principal, report, started_at, client)

    def _not_backed_up(self, held: set[str]) -> int:
        """Catalogue objects the backup does not hold (archived since it ran, or not copyable then)."""
        with self.context.db.session() as session:
            return len(set(session.scalars(select(StoredObject.key))) - held)

    def _store(
        self, principal: Principal, report: dict[str, Any], started_at: dt.datetime, client: str | None
    ) -> DrillView:
        with self.context.db.write() as session:
            row = BackupDrill(
                target=report["target"],
                backup_run_id=report["backup_run_id"],
                started_at=started_at,
                seconds=report["seconds"],
                status=report["status"],
                rpo_seconds=report["rpo_seconds"],
                rto_seconds_per_gb=report["rto_seconds_per_gb"],
                report=report,
                actor=principal.username,
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                actor=principal.username,
                action=AuditAction.BACKUP_DRILL,
                outcome=report["status"],
                target=f"backup:{report['target']}",
                client=client,
                details={
                    "drill": row.id,
                    "run": report["backup_run_id"],
                    "seed": report["seed"],
                    "objects": report["objects"]["restored"],
                    "grade": report["grade"],
                    "rpo_seconds": report["rpo_seconds"],
                    "rto_seconds_per_gb": report["rto_seconds_per_gb"],
                },
            )
            return drill_view(row.id, report)

    def drills(self, principal: Principal, *, target: str | None = None, limit: int = 50) -> DrillList:
        authorize(principal.roles, Action.READ_BACKUPS)
        with self.context.db.session() as session:
            query = select(BackupDrill).order_by(BackupDrill.id.desc()).limit(limit)
            if target is not None:
                query = query.where(BackupDrill.target == target)
            return DrillList(drills=[drill_view(d.id, d.report) for d in session.scalars(query)])


def drill_view(drill_id: int, report: dict[str, Any]) -> DrillView:
    """A stored drill as a view; drills stored before the graded contract get their grade from their status."""
    fields = dict(report)
    if "grade" not in fields:
        grade = Grade.CLEAN if fields.get("status") == "passed" else Grade.ERRORS
        fields.update(grade=grade, exit_code=grade.exit_code, severity_counts={}, findings=[])
    return DrillView(id=drill_id, drill_id=drill_id, **fields)


def graded_drill(report: dict[str, Any]) -> Report:
    """Restored objects missing, changed or unreadable, a damaged catalogue, a canary not found: errors. A
    catalogue that could not be checked here (PostgreSQL) or objects the backup does not hold yet: warnings."""
    objects, catalogue = report["objects"], report["catalogue"]
    error, warning = Severity.ERROR, Severity.WARNING
    findings = [Finding(error, FindingCode.MISSING, subject=k, variant="restore") for k in objects["missing"]]
    findings += [Finding(error, FindingCode.HASH_MISMATCH, subject=key) for key in objects["hash_mismatch"]]
    findings += [
        Finding(error, FindingCode.PDF_UNREADABLE, subject=failure["key"], params={"error": failure["error"]})
        for failure in objects["pdf_failures"]
    ]
    if not catalogue["sha256_ok"]:
        findings.append(Finding(error, FindingCode.SNAPSHOT_CHANGED, subject=catalogue["key"]))
    if catalogue["integrity"].startswith(PG_NOT_CHECKED):
        findings.append(Finding(warning, FindingCode.CATALOGUE_NOT_CHECKED, subject=catalogue["key"]))
    elif catalogue["integrity"] != INTEGRITY_OK:
        integrity = {"integrity": catalogue["integrity"]}
        findings.append(Finding(error, FindingCode.CATALOGUE_DAMAGED, subject=catalogue["key"], params=integrity))
    findings += [
        Finding(
            error,
            FindingCode.CANARY_NOT_FOUND,
            subject_kind="document",
            subject_id=canary["document_id"],
            params={"query": canary["query"], "document": canary["document_id"]},
        )
        for canary in report["search"]["canaries"]
        if not canary["found"]
    ]
    if report["not_backed_up"]:
        run = {"count": report["not_backed_up"], "backup_run_id": report["backup_run_id"]}
        about = {"subject_kind": "backup_run", "subject_id": report["backup_run_id"]}
        findings.append(Finding(warning, FindingCode.NOT_BACKED_UP, params=run, variant="run", **about))
    return Report(tuple(findings))


def restore_objects(
    store: BlobStore,
    entries: list[Entry],
    folder: Path,
    progress: Progress | None,
    *,
    keep: Callable[[Entry, Path], None] | None = None,
) -> dict[str, Any]:
    """Download each entry and re-hash it; then open and extract text from each PDF (a drill), or hand each good
    one to `keep` (a restore: it puts the object in place) before its scratch copy is removed."""
    result: dict[str, Any] = {"restored": 0, "bytes": 0, "missing": [], "hash_mismatch": [], "pdfs_opened": 0}
    result.update(pdf_pages=0, pdf_text_chars=0, pdf_failures=[])
    folder.mkdir(parents=True)
    for position, entry in enumerate(entries, start=1):
        path = folder / entry.sha256
        try:
            download(store, entry.key, path)
        except NotFound:
            result["missing"].append(entry.key)
            continue
        failpoint("drill.object_restored")  # mid-restore: one object in the drill's scratch folder
        sha, size = sha256_file(path)
        result["restored"] += 1
        result["bytes"] += size
        if sha != entry.sha256:
            result["hash_mismatch"].append(entry.key)
        elif keep is not None:
            keep(entry, path)
        elif _is_pdf(path):
            _check_pdf(path, entry.key, result)
        path.unlink(missing_ok=True)
        if progress is not None:
            progress(position, len(entries))
    return result


def _is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"%PDF-"


def _check_pdf(path: Path, key: str, result: dict[str, Any]) -> None:
    try:
        pages = len(page_geometry(path))
        text = "".join(page_text(path, index) for index in range(pages))
    except Exception as exc:  # any parser failure is a finding of the drill
        result["pdf_failures"].append({"key": key, "error": f"{type(exc).__name__}: {exc}"})
        return
    result["pdfs_opened"] += 1
    result["pdf_pages"] += pages
    result["pdf_text_chars"] += len(text)


def rebuild_and_query(root: Path, engine: str, catalogue: RestoredCatalogue) -> dict[str, Any]:
    """A scratch index (the configured engine) from the restored catalogue; each canary must find its document."""
    if not catalogue.readable or catalogue.database_url is None:  # nothing restored to index
        return {"documents_indexed": 0, "canaries": []}
    database = Database(catalogue.database_url)
    index = open_index(root / "index", engine)
    try:
        with database.session() as session:
            query = select(Document).options(selectinload(Document.pages), selectinload(Document.fonds))
            query = query.where(Document.status.not_in(OUT_OF_USE)).order_by(Document.id)
            documents = [indexed_document(d) for d in session.scalars(query)]
        count = index.rebuild(documents)
        canaries = []
        scope = search_scope(system_principal())
        for document in documents:
            word = canary_word(" ".join(page.text for page in document.pages))
            if word is None:
                continue
            hits = index.search(word, scope=scope, limit=50).hits
            found = any(hit.document_id == document.document_id for hit in hits)
            canaries.append({"query": word, "document_id": document.document_id, "found": found})
            if len(canaries) >= CANARIES:
                break
        return {"documents_indexed": count, "canaries": canaries}
    finally:
        index.close()
        database.dispose()


def canary_word(text: str) -> str | None:
    """The longest Latin word (5+ letters), else the first two Han characters, of a document's text."""
    words: list[str] = sorted(re.findall(r"[A-Za-z]{5,}", text), key=lambda w: (-len(w), w))
    if words:
        return words[0].lower()
    han = re.search(r"[\u4e00-\u9fff]{2}", text)
    return str(han.group(0)) if han else None
