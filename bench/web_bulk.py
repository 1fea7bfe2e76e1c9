"""Filing records in bulk the way an ingest job files them, without running OCR (for bench/web_seed.py).

For each item: the job row `IngestService` queues for it (its reference code rendered from the fonds' template,
the next item numbers of the sequence), its objects in the store (a unique multi-page TIFF original, its text,
and a small shared PDF per page count as the access copy), the document with its pages and objects made by the
filing's own `new_document` and `attach_objects`, the job done, and the submit and process events as
`audit.record` writes them (chained with `recompute_hash`), a few hundred items per transaction with one INSERT
per table for jobs and events (a flush per item and event took ~40 ms per record on a loaded machine).
Page texts come from bench/search_corpus.py's Zipf vocabulary (40% Chinese), 1–3 pages per record, as the
null OCR engine would have read them from sidecars.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ingest.filing import attach_objects, new_document
from api.wiring import Context
from archive.access import Principal
from archive.audit.log import GENESIS_HASH, recompute_hash
from archive.catalogue.numbering import batch_year, next_item_number
from archive.catalogue.reference import ReferenceParts, render
from archive.events import AuditAction
from archive.hashing import sha256_bytes, sha256_file
from archive.models import AuditEvent, Batch, Document, IngestJob, utcnow
from archive.ports import BlobInfo, content_key
from archive.values import JobState, ObjectRole
from bench.search_corpus import DEPARTMENTS, LEVELS, Vocabulary
from ingest.results import OcrResult, PageResult

PER_TRANSACTION = 250
PAGE_BYTES = 600  # of generated text per page (a short typed page; the index's time grows with it)
A4_PX = (2480, 3508)  # what the catalogue records for a page at 300 dpi

Planned = list[tuple[str, Path | bytes, str, str]]


@dataclass(frozen=True)
class Item:
    name: str
    title: str
    texts: tuple[str, ...]
    language: str
    level: int
    departments: tuple[str, ...]
    date: str


def make_item(vocabulary: Vocabulary, rng: random.Random, number: int) -> Item:
    chinese = rng.random() < 0.4
    pages = rng.choice((1, 1, 2, 2, 3))
    texts = tuple(_cut(vocabulary.chinese_page(rng) if chinese else vocabulary.english_page(rng)) for _ in range(pages))
    words = rng.choices(vocabulary.zh if chinese else vocabulary.en, k=4)
    return Item(
        name=f"item-{number:05d}.tif",
        title=("" if chinese else " ").join(words),
        texts=texts,
        language="chi_sim+eng" if chinese else "eng",
        level=rng.choice(LEVELS),
        departments=tuple(sorted(rng.sample(DEPARTMENTS, rng.choice((0, 0, 0, 1))))),
        date=f"{rng.randint(1980, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    )


def _cut(text: str) -> str:
    """The page's text up to the last sentence that ends within PAGE_BYTES."""
    head = text.encode()[:PAGE_BYTES].decode(errors="ignore")
    end = max(head.rfind("。"), head.rfind(". "))
    return head[: end + 1] if end > 0 else head


def access_copies(folder: Path) -> dict[int, Path]:
    """One small PDF per page count, shared by the bulk records (content-addressed: stored once)."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for pages in (1, 2, 3):
        path = folder / f"access-{pages}.pdf"
        if not path.exists():
            images = [Image.new("L", (248, 351), 255) for _ in range(pages)]
            images[0].save(path, format="PDF", resolution=30.0, save_all=True, append_images=images[1:])
        copies[pages] = path
    return copies


def _original(item: Item) -> bytes:
    """A small multi-page TIFF, unique to the item (its name is drawn on it): the scan as handed over."""
    frames = []
    for number in range(len(item.texts)):
        image = Image.new("L", (124, 175), 255)
        image.putpixel((number, 0), 0)
        for at, byte in enumerate(item.name.encode()):
            image.putpixel((at % 124, 1 + at // 124), byte)
        frames.append(image)
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return out.getvalue()


def _planned(item: Item, copies: dict[int, Path]) -> Planned:
    original = _original(item)
    text = "\f".join(item.texts).encode("utf-8")
    pdf = copies[len(item.texts)]
    return [
        (ObjectRole.ORIGINAL, original, sha256_bytes(original), "image/tiff"),
        (ObjectRole.PDFA, pdf, sha256_file(pdf)[0], "application/pdf"),
        (ObjectRole.TEXT, text, sha256_bytes(text), "text/plain; charset=utf-8"),
    ]


def _store(context: Context, planned: Sequence[Planned]) -> list[list[BlobInfo]]:
    """Every object into the store (fsynced by it), four at a time; a shared access copy once."""
    stored: dict[str, BlobInfo] = {}

    def put(row: tuple[str, Path | bytes, str, str]) -> BlobInfo:
        _role, content, sha, _media = row
        if isinstance(content, Path):
            return context.store.put_file(content_key(sha), content, expected_sha256=sha)
        return context.store.put_bytes(content_key(sha), content)

    unique = {row[2]: row for rows in planned for row in rows}
    with ThreadPoolExecutor(4) as pool:
        for sha, info in zip(unique, pool.map(put, unique.values()), strict=True):
            stored[sha] = info
    return [[stored[row[2]] for row in rows] for rows in planned]


def file_bulk(context: Context, batch_id: int, items: list[Item], actor: Principal, shared: Path) -> None:
    """The items filed into the batch as done jobs, PER_TRANSACTION to a transaction."""
    copies = access_copies(shared)
    for start in range(0, len(items), PER_TRANSACTION):
        chunk = items[start : start + PER_TRANSACTION]
        planned = [_planned(item, copies) for item in chunk]
        infos = _store(context, planned)
        with context.db.write() as session:
            batch = session.get(Batch, batch_id)
            assert batch is not None
            first = next_item_number(session, batch)
            jobs = [
                _queued_job(batch, item, rows, actor, first + n)
                for n, (item, rows) in enumerate(zip(chunk, planned, strict=True))
            ]
            session.add_all(jobs)
            session.flush()
            events = [_submitted(job, actor) for job in jobs]
            deferred = cast(Session, _FlushOnce(session))
            documents = []
            for job, item, rows, stored in zip(jobs, chunk, planned, infos, strict=True):
                result = OcrResult(pages=_pages(item), pdfa_path=copies[len(item.texts)], ocr_seconds=0.0)
                documents.append(new_document(deferred, job, batch, result))
                attach_objects(documents[-1], rows, stored, per_page=False)
            session.flush()  # one INSERT per table for the chunk's documents, pages and objects
            for job, document in zip(jobs, documents, strict=True):
                job.state, job.document_id, job.finished_at, job.seconds = JobState.DONE, document.id, utcnow(), 0.0
                job.options = job.options | {"timing": {"ocr_seconds": 0.0, "quality_seconds": 0.0}}
                events.append(_processed(job, document, batch))
            append_events(session, events)


class _FlushOnce:
    """The session `new_document` is given: it adds the document now; its flush waits for the chunk's one."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Document) -> None:
        self.session.add(row)

    def flush(self) -> None:
        """Deferred to the end of the chunk."""


def append_events(session: Session, events: list[AuditEvent]) -> None:
    """Events appended to the chain as `audit.record` does (hash over the predecessor's and the event's fields,
    `recompute_hash`, which verification uses), one INSERT for all of them."""
    head = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    previous = head or GENESIS_HASH
    for event in events:
        event.prev_hash = previous
        event.hash = previous = recompute_hash(event)
    session.add_all(events)
    session.flush()


def event(
    actor: Principal | str,
    action: AuditAction,
    *,
    target: str | None = None,
    outcome: str = "success",
    client: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """An event as `audit.record` makes it (a person's roles at the time go into its details), not chained yet."""
    details = dict(details or {})
    if isinstance(actor, Principal):
        details["roles"] = sorted(str(role) for role in actor.roles)
    name = actor.username if isinstance(actor, Principal) else actor
    return AuditEvent(
        at=utcnow(), actor=name, action=action.value, target=target, outcome=outcome, client=client, details=details
    )


def _queued_job(batch: Batch, item: Item, rows: Planned, actor: Principal, number: int) -> IngestJob:
    """The job `IngestService._queue` makes for an accepted item, claimed (processing) by a runner."""
    parts = ReferenceParts(
        batch.fonds.code, batch.series or "", batch.box or "", batch_year(batch), batch.retention, number
    )
    sha = rows[0][2]
    return IngestJob(
        batch_id=batch.id,
        state=JobState.PROCESSING,
        source_name=item.name,
        submitted_by=actor.username,
        claim_sha256=sha,
        reference_code=render(batch.fonds.ref_template, parts),
        item_number=number,
        access_level=item.level,
        departments=list(item.departments),
        attempts=1,
        started_at=utcnow(),
        options={
            "languages": item.language,
            "engine": "null",
            "fonds": batch.fonds.code,
            "profile": batch.profile,
            "profile_overrides": {},
            "title": item.title,
            "date": item.date,
            "media_type": "image/tiff",
            "sha256": sha,
            "source_sha256": [sha],
            "spooled": [item.name],
        },
    )


def _submitted(job: IngestJob, actor: Principal) -> AuditEvent:
    details = {"item": job.source_name, "files": 1, "sha256": job.claim_sha256, "batch": job.batch_id}
    details["reference_code"] = job.reference_code
    return event(actor, AuditAction.INGEST_SUBMIT, target=f"job:{job.id}", details=details)


def _processed(job: IngestJob, document: Document, batch: Batch) -> AuditEvent:
    """`file_item`'s event (its actor is the submitter's name, as there)."""
    details = {"file": job.source_name, "pages": document.page_count, "job": job.id, "held_pages": 0}
    details |= {"reference_code": document.reference_code, "batch": batch.id}
    return event(job.submitted_by, AuditAction.INGEST_PROCESS, target=f"document:{document.id}", details=details)


def _pages(item: Item) -> tuple[PageResult, ...]:
    width, height = A4_PX
    return tuple(
        PageResult(n, n - 1, width, height, 300.0, text, None, "sidecar", engine="null")
        for n, text in enumerate(item.texts, start=1)
    )
