"""Restore drill: prove a backup can be restored, and measure how old it is (RPO) and how fast (RTO).

Restores a seeded sample (or all) of the backed-up objects into a scratch directory and re-hashes them, opens
each PDF and extracts its text, restores the catalogue snapshot into a scratch SQLite database and checks its
integrity and counts, rebuilds a scratch search index from it and runs canary queries. Nothing touches the
live archive; the drill is stored and audited.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.preservation.backups import BackupService
from api.search.rows import indexed_document
from api.wiring import Context
from archive.access import Principal, search_scope, system_principal
from archive.audit import log as audit
from archive.db import Database
from archive.errors import NotFound
from archive.events import AuditAction
from archive.hashing import CHUNK, sha256_file
from archive.models import BackupDrill, Document, Page, StoredObject, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.manifest import Entry
from archive.values import DocumentStatus
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
    ) -> dict[str, Any]:
        authorize(principal.roles, Action.RUN_BACKUP)
        started_at, clock = utcnow(), time.perf_counter()
        store, run, manifest = BackupService(self.context).latest(target)
        seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        chosen = sorted(manifest.objects, key=lambda e: e.key)
        if sample is not None and sample < len(chosen):
            chosen = sorted(random.Random(seed).sample(chosen, max(sample, 1)), key=lambda e: e.key)
        report: dict[str, Any] = {"target": target, "backup_run_id": run.id, "seed": seed, "sample": sample}
        with tempfile.TemporaryDirectory(dir=self.context.settings.spool_dir, prefix="drill-") as scratch:
            root = Path(scratch)
            report["objects"] = restore_objects(store, chosen, root / "objects", progress)
            if manifest.snapshot is None:
                raise NotFound(f"backup run {run.id} has no catalogue snapshot; run a new backup")
            report["catalogue"] = restore_catalogue(store, manifest.snapshot, root)
            report["search"] = rebuild_and_query(root, self.context.settings.search_engine)
        seconds = time.perf_counter() - clock
        restored = report["objects"]["bytes"] + manifest.snapshot.size
        report["seconds"] = round(seconds, 3)
        report["bytes_restored"] = restored
        report["rto_seconds_per_gb"] = seconds / (restored / GB) if restored else None
        newest = report["catalogue"].get("newest_object_at")
        report["rpo_seconds"] = (utcnow() - dt.datetime.fromisoformat(newest)).total_seconds() if newest else None
        report["status"] = "passed" if _passed(report) else "failed"
        return self._store(principal, report, started_at, client)

    def _store(
        self, principal: Principal, report: dict[str, Any], started_at: dt.datetime, client: str | None
    ) -> dict[str, Any]:
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
                    "rpo_seconds": report["rpo_seconds"],
                    "rto_seconds_per_gb": report["rto_seconds_per_gb"],
                },
            )
            report["drill_id"] = row.id
        return report

    def drills(self, principal: Principal, *, target: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        authorize(principal.roles, Action.READ_BACKUPS)
        with self.context.db.session() as session:
            query = select(BackupDrill).order_by(BackupDrill.id.desc()).limit(limit)
            if target is not None:
                query = query.where(BackupDrill.target == target)
            return [{"id": d.id, **d.report} for d in session.scalars(query)]


def _passed(report: dict[str, Any]) -> bool:
    objects, catalogue, searching = report["objects"], report["catalogue"], report["search"]
    return (
        not objects["missing"]
        and not objects["hash_mismatch"]
        and not objects["pdf_failures"]
        and catalogue["integrity"] == "ok"
        and all(canary["found"] for canary in searching["canaries"])
    )


def restore_objects(store: BlobStore, entries: list[Entry], folder: Path, progress: Progress | None) -> dict[str, Any]:
    """Download each entry, re-hash it, and open and extract text from each PDF."""
    result: dict[str, Any] = {"restored": 0, "bytes": 0, "missing": [], "hash_mismatch": [], "pdfs_opened": 0}
    result.update(pdf_pages=0, pdf_text_chars=0, pdf_failures=[])
    folder.mkdir(parents=True)
    for position, entry in enumerate(entries, start=1):
        path = folder / entry.sha256
        try:
            _download(store, entry.key, path)
        except NotFound:
            result["missing"].append(entry.key)
            continue
        sha, size = sha256_file(path)
        result["restored"] += 1
        result["bytes"] += size
        if sha != entry.sha256:
            result["hash_mismatch"].append(entry.key)
        elif _is_pdf(path):
            _check_pdf(path, entry.key, result)
        path.unlink()
        if progress is not None:
            progress(position, len(entries))
    return result


def _is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"%PDF-"


def _download(store: BlobStore, key: str, path: Path) -> None:
    with store.open_read(key) as source, path.open("wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)


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


def restore_catalogue(store: BlobStore, snapshot: Entry, root: Path) -> dict[str, Any]:
    """The snapshot into a scratch SQLite file: hash, PRAGMA integrity_check, row counts, newest object."""
    path = root / "catalogue.sqlite3"
    _download(store, snapshot.key, path)
    sha, _size = sha256_file(path)
    result: dict[str, Any] = {"key": snapshot.key, "sha256_ok": sha == snapshot.sha256, "path": str(path)}
    if not snapshot.key.endswith(".sqlite3"):
        result.update(integrity="not checked: restore PostgreSQL dumps with pg_restore")
        return result
    try:
        with sqlite3.connect(path) as connection:
            result["integrity"] = connection.execute("PRAGMA integrity_check").fetchone()[0]
        connection.close()
    except sqlite3.DatabaseError as exc:
        result["integrity"] = f"unreadable: {exc}"
        return result
    if not result["sha256_ok"]:
        result["integrity"] = "snapshot hash mismatch"
    database = Database(f"sqlite:///{path}")
    try:
        with database.session() as session:
            result["documents"] = session.scalar(select(func.count(Document.id))) or 0
            result["pages"] = session.scalar(select(func.count(Page.id))) or 0
            result["stored_objects"] = session.scalar(select(func.count(StoredObject.id))) or 0
            newest = session.scalar(select(func.max(StoredObject.created_at)))
            result["newest_object_at"] = newest.isoformat() if newest else None
    finally:
        database.dispose()
    return result


def rebuild_and_query(root: Path, engine: str) -> dict[str, Any]:
    """A scratch index (the configured engine) from the restored catalogue; each canary must find its document."""
    database = Database(f"sqlite:///{root / 'catalogue.sqlite3'}")
    index = open_index(root / "index", engine)
    try:
        with database.session() as session:
            query = select(Document).options(selectinload(Document.pages), selectinload(Document.fonds))
            query = query.where(Document.status != DocumentStatus.WITHDRAWN).order_by(Document.id)
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
