"""Running the DA/T 70 checks over a batch or one document: gather the facts (each stored object streamed once
into a scratch file, hashed and probed), then apply the rules. Reports; never raises on a finding, and a probe
that breaks on one object is that object's finding, not a crash."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.errors import IntegrityFailure, NotFound
from archive.models import AuditEvent, Batch, Dat70Run, Document, Page, StoredObject
from archive.ports import BlobStore
from archive.preservation.dat70 import ContentProbe, Dat70Report, Identified, ImageFacts, PdfFacts, VirusScanner
from archive.scratch import owned_prefix
from archive.values import DocumentStatus, ObjectRole

CHUNK = 1 << 20
PROBED_ROLES = (ObjectRole.ORIGINAL, ObjectRole.PDFA)


@dataclass
class ObjectFacts:
    """One current stored object of a document: what the catalogue records and what the store holds."""

    row: StoredObject
    exists: bool = False
    sha256: str | None = None
    size: int | None = None
    path: Path | None = None
    identified: Identified | None = None
    image: ImageFacts | None = None
    pdf: PdfFacts | None = None
    text: str | None = None  # the text object decoded (None: not UTF-8, or not a text object)
    text_error: str | None = None

    @property
    def key(self) -> str:
        return self.row.key

    @property
    def role(self) -> str:
        return self.row.role


@dataclass
class DocumentFacts:
    document: Document
    pages: list[Page]
    objects: list[ObjectFacts] = field(default_factory=list)

    def of_role(self, role: str) -> list[ObjectFacts]:
        return [obj for obj in self.objects if obj.role == role]


@dataclass(frozen=True)
class Tools:
    """The outside help a run needs: the store, the content probe, the virus scanner and a scratch folder."""

    store: BlobStore
    probe: ContentProbe
    scanner: VirusScanner
    scratch: Path


def load_documents(session: Session, *, batch_id: int | None = None, document_id: int | None = None) -> list[Document]:
    query = select(Document).options(
        selectinload(Document.all_pages),
        selectinload(Document.objects),
        selectinload(Document.fonds),
        selectinload(Document.batch),
    )
    if batch_id is not None:
        query = query.where(Document.batch_id == batch_id, Document.status != DocumentStatus.WITHDRAWN)
    else:
        query = query.where(Document.id == document_id)
    return list(session.scalars(query.order_by(Document.item_number, Document.id)))


def events_of(session: Session, targets: Sequence[str]) -> set[tuple[str, str]]:
    """(action, target) of every audit event naming one of these targets."""
    if not targets:
        return set()
    query = select(AuditEvent.action, AuditEvent.target).where(AuditEvent.target.in_(list(targets)))
    return {(str(action), str(target)) for action, target in session.execute(query)}


def check_batch(session: Session, tools: Tools, batch_id: int) -> Dat70Report:
    from archive.preservation.dat70_batch import batch_rules, security_rules

    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"batch {batch_id} does not exist")
    documents = load_documents(session, batch_id=batch_id)
    report = Dat70Report(scope="batch", subject_id=batch_id)
    facts = _gather(tools, documents, report)
    batch_rules(report, batch, facts)
    targets = [f"document:{d.id}" for d in documents] + [f"batch:{batch_id}"]
    security_rules(report, facts, events_of(session, targets), tools)
    return report.finish()


def check_document(session: Session, tools: Tools, document_id: int) -> Dat70Report:
    from archive.preservation.dat70_batch import batch_rules, security_rules

    documents = load_documents(session, document_id=document_id)
    if not documents:
        raise NotFound(f"document {document_id} does not exist")
    report = Dat70Report(scope="document", subject_id=document_id)
    facts = _gather(tools, documents, report)
    batch_rules(report, documents[0].batch, facts, whole_batch=False)
    targets = [f"document:{document_id}"] + ([f"batch:{documents[0].batch_id}"] if documents[0].batch_id else [])
    security_rules(report, facts, events_of(session, targets), tools)
    return report.finish()


def _gather(tools: Tools, documents: list[Document], report: Dat70Report) -> list[DocumentFacts]:
    """Every document's current pages and objects, each object measured and probed (in a scratch folder that
    is removed afterwards; the virus scan runs while the copies are there)."""
    from archive.preservation.dat70_rules import document_rules

    tools.scratch.mkdir(parents=True, exist_ok=True)
    gathered: list[DocumentFacts] = []
    with tempfile.TemporaryDirectory(dir=tools.scratch, prefix=owned_prefix("dat70")) as folder:
        measured: dict[str, ObjectFacts] = {}
        for document in documents:
            pages = sorted((p for p in document.all_pages if p.current), key=lambda p: (p.number, p.id))
            facts = DocumentFacts(document, pages)
            for row in sorted((o for o in document.objects if o.current), key=lambda o: (o.role, o.id)):
                facts.objects.append(_measured(tools, Path(folder), row, measured))
            gathered.append(facts)
            document_rules(report, facts)
        report.documents, report.objects = len(documents), len(measured)
        _scan(tools, report, measured)
    for facts in gathered:  # the copies are gone: forget their paths
        for obj in facts.objects:
            obj.path = None
    return gathered


def _measured(tools: Tools, folder: Path, row: StoredObject, seen: dict[str, ObjectFacts]) -> ObjectFacts:
    known = seen.get(row.key)
    if known is not None:  # the same bytes under the same key: measured once
        return ObjectFacts(
            row,
            known.exists,
            known.sha256,
            known.size,
            known.path,
            known.identified,
            known.image,
            known.pdf,
            known.text,
            known.text_error,
        )
    facts = ObjectFacts(row)
    path = folder / f"{len(seen):06d}"
    try:
        stream = tools.store.open_read(row.key)
    except NotFound:
        seen[row.key] = facts
        return facts
    digest, size = hashlib.sha256(), 0
    try:
        with stream, path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except IntegrityFailure:  # an encrypted object that no longer decrypts: changed bytes (auth.fixity says so)
        facts.exists, facts.size = True, 0
        seen[row.key] = facts
        return facts
    facts.exists, facts.sha256, facts.size, facts.path = True, digest.hexdigest(), size, path
    _probe(tools.probe, facts)
    seen[row.key] = facts
    return facts


def _probe(probe: ContentProbe, facts: ObjectFacts) -> None:
    assert facts.path is not None
    if facts.role == ObjectRole.TEXT:
        try:
            facts.text = facts.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            facts.text_error = f"byte {exc.start} is not UTF-8"
        return
    if facts.role not in PROBED_ROLES:
        return
    facts.identified = probe.identify(facts.path)
    is_pdf = facts.role == ObjectRole.PDFA or facts.row.media_type == "application/pdf"
    if is_pdf:
        facts.pdf = probe.pdf(facts.path)
    else:
        facts.image = probe.image(facts.path)


def _scan(tools: Tools, report: Dat70Report, measured: dict[str, ObjectFacts]) -> None:
    from archive.preservation.dat70_batch import judge_scan

    paths = [facts.path for facts in measured.values() if facts.path is not None]
    judge_scan(report, measured, tools.scanner.scan(paths) if paths else None)


def new_run(report: Dat70Report, *, trigger: str, actor: str) -> Dat70Run:
    """The stored row of a finished report (the caller adds it with its audit event, in one transaction)."""
    result = report.as_dict()
    return Dat70Run(
        scope=report.scope,
        subject_id=report.subject_id,
        trigger=trigger,
        seconds=result["seconds"],
        grade=result["grade"],
        counts=result["counts"],
        report=result,
        actor=actor,
    )
