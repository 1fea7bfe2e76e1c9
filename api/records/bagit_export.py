"""BagIt 1.0 export of a fonds or a batch: current objects per document, metadata as JSON and CSV, each record's
preservation events as PREMIS 3 (data/metadata/premis.xml), SHA-256 manifests. Objects are hashed while they
stream out of the store and checked against the catalogue; the bag is built in a hidden sibling folder and renamed
into place only when complete, so an error leaves nothing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import mimetypes
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from importlib import metadata as package_metadata
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.records.bag_parts import BagDocument, BagFile, event_row
from api.records.premis import premis_xml
from api.views.catalogue import level_label
from api.views.records import BagExportView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.fields import descriptive_of
from archive.dates import stored_text
from archive.durable import fsync_dir
from archive.errors import IntegrityFailure, InvalidInput, NotFound
from archive.events import AuditAction
from archive.hashing import CHUNK
from archive.history import histories_of
from archive.models import Batch, Document, Fonds, ObjectEvent, StoredObject
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.values import ObjectRole
from archive.visibility import document_visible

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
SOURCE_ORGANIZATION = "Dang'an archive"
METADATA_DIR = "metadata"
CSV_FIELDS = (
    "id",
    "reference_code",
    "title",
    "date",
    "level",
    "departments",
    "language",
    "status",
    "page_count",
    "fonds",
    "batch_id",
    "creator",
    "document_number",
    "organisation",
    "archival_year",
    "keywords",
    "original_sha256",
    "pdfa_sha256",
    "text_sha256",
)
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif", "application/pdf": ".pdf"}
_UNSAFE = re.compile(r"[/\\%\x00-\x1f\x7f]")

Progress = Callable[[int, int], None]


def safe_name(name: str) -> str:
    """A file or folder name that stays one plain path segment: no separators, '..', control characters or
    '%' (which BagIt manifests would have to percent-encode); Chinese and other letters are kept."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip()
    if cleaned in ("", ".", "..") or cleaned.startswith("~"):
        cleaned = "_" + cleaned
    return cleaned.replace("..", "__")


def _extension(media_type: str) -> str:
    base = media_type.split(";", maxsplit=1)[0].strip().lower()
    return _EXTENSIONS.get(base) or mimetypes.guess_extension(base) or ".bin"


def _original_names(document: Document, originals: list[StoredObject]) -> list[tuple[str, int | None]]:
    """One original without a page keeps its file name; page originals (folder items, rescans) are numbered."""
    if len(originals) == 1 and originals[0].page_id is None:
        return [(safe_name(document.original_filename), None)]
    numbers = {page.id: page.number for page in document.all_pages}
    names: list[tuple[str, int | None]] = []
    used: set[str] = set()
    for position, stored in enumerate(originals, start=1):
        number = numbers.get(stored.page_id or -1, position)
        name = f"page-{number:04d}{_extension(stored.media_type)}"
        while name in used:
            name = f"_{name}"
        used.add(name)
        names.append((name, number))
    return names


def _bag_document(document: Document, folder: str, events: list[ObjectEvent]) -> BagDocument:
    current = sorted((o for o in document.objects if o.current), key=lambda o: (o.page_id or 0, o.id))
    originals = [o for o in current if o.role == ObjectRole.ORIGINAL]
    files = [
        BagFile(f"data/{folder}/original/{name}", o.key, o.content_sha256, o.role, o.content_size, o.media_type, page)
        for o, (name, page) in zip(originals, _original_names(document, originals), strict=True)
    ]
    for role, name in ((ObjectRole.PDFA, "access.pdf"), (ObjectRole.TEXT, "text.txt")):
        stored = next((o for o in current if o.role == role), None)
        if stored is not None:
            files.append(
                BagFile(
                    f"data/{folder}/{name}",
                    stored.key,
                    stored.content_sha256,
                    role,
                    stored.content_size,
                    stored.media_type,
                    None,
                )
            )
    row = {
        "id": document.id,
        "reference_code": document.reference_code,
        "title": document.title,
        "date": stored_text(document.date, document.date_precision),
        "level": level_label(document.access_level),
        "departments": list(document.departments),
        "language": document.language,
        "status": document.status,
        "page_count": document.page_count,
        "fonds": document.fonds.code,
        "batch_id": document.batch_id,
        "original_filename": document.original_filename,
        "folder": f"data/{folder}",
    } | descriptive_of(document)  # 责任者, 文号, 机构, 归档年度, 关键词, Dublin Core, custom fields
    return BagDocument(row=row, page_count=document.page_count, files=files, events=[event_row(e) for e in events])


def _load(
    context: Context,
    actor: Principal,
    *,
    fonds: str | None,
    batch_id: int | None,
    document_ids: list[int] | None = None,
    label: str = "",
) -> tuple[str, list[BagDocument]]:
    """The scope's label (fonds code, batch id, or `label` for named records) and its documents in
    reference-code order."""
    query = select(Document).options(
        selectinload(Document.objects), selectinload(Document.all_pages), selectinload(Document.fonds)
    )
    with context.db.session() as session:
        if document_ids is not None:
            query, scope = query.where(Document.id.in_(document_ids)), label
        elif fonds is not None:
            fonds_row = session.scalars(select(Fonds).where(Fonds.code == fonds)).first()
            if fonds_row is None:
                raise NotFound(f"fonds {fonds!r} does not exist; `dangan batch list` shows the fonds in use")
            query, scope = query.where(Document.fonds_id == fonds_row.id), fonds_row.code
        else:
            if session.get(Batch, batch_id) is None:
                raise NotFound(f"batch {batch_id} does not exist; `dangan batch list` shows the batches")
            query, scope = query.where(Document.batch_id == batch_id), f"batch-{batch_id}"
        ordered = session.scalars(query.order_by(Document.reference_code))
        documents = [document for document in ordered if document_visible(actor, document)]
        used: set[str] = {METADATA_DIR}
        bagged: list[BagDocument] = []
        events = histories_of(session, [document.id for document in documents])
        for document in documents:
            folder = safe_name(document.reference_code)
            while folder in used:
                folder = f"{folder}_"
            used.add(folder)
            bagged.append(_bag_document(document, folder, events[document.id]))
        return scope, bagged


def _copy_object(store: BlobStore, item: BagFile, root: Path) -> tuple[str, int]:
    """Stream one object into the bag, hashing as it goes; refuse bytes the catalogue does not know."""
    destination = root / item.path
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        source = store.open_read(item.key)
    except NotFound as exc:
        raise IntegrityFailure(f"object {item.key} ({item.path}) is missing from the store; restore it") from exc
    with source, destination.open("wb") as sink:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    if digest.hexdigest() != item.sha256:
        raise IntegrityFailure(
            f"object {item.key} ({item.path}) does not match its catalogue SHA-256; "
            "run `dangan verify` and restore it from a backup before exporting"
        )
    return digest.hexdigest(), size


def _write_bytes(root: Path, relative: str, data: bytes) -> tuple[str, int]:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as sink:
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())
    return hashlib.sha256(data).hexdigest(), len(data)


def _metadata_files(documents: list[BagDocument]) -> dict[str, bytes]:
    """documents.json (full rows with every file) and documents.csv (one row per document)."""
    records = [
        doc.row
        | {
            "objects": [
                {
                    "role": f.role,
                    "path": f.path,
                    "key": f.key,
                    "sha256": f.sha256,
                    "size": f.size,
                    "media_type": f.media_type,
                    "page": f.page,
                }
                for f in doc.files
            ]
        }
        for doc in documents
    ]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for doc in documents:
        hashes = {role: ";".join(f.sha256 for f in doc.files if f.role == role) for role in ObjectRole}
        writer.writerow(
            doc.row
            | {
                "departments": ";".join(doc.row["departments"]),
                "keywords": ";".join(doc.row["keywords"]),
                "original_sha256": hashes[ObjectRole.ORIGINAL],
                "pdfa_sha256": hashes[ObjectRole.PDFA],
                "text_sha256": hashes[ObjectRole.TEXT],
            }
        )
    body = json.dumps({"documents": records}, ensure_ascii=False, indent=2) + "\n"
    return {
        f"data/{METADATA_DIR}/documents.json": body.encode("utf-8"),
        f"data/{METADATA_DIR}/documents.csv": text.getvalue().encode("utf-8"),
        f"data/{METADATA_DIR}/premis.xml": premis_xml(documents, agent=_software_agent()),
    }


def _manifest(entries: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(entries)).encode("utf-8")


def _software_agent() -> str:
    try:
        return f"dangan {package_metadata.version('dangan')}"
    except package_metadata.PackageNotFoundError:
        return "dangan"


def _bag_info(scope: str, documents: list[BagDocument], octets: int, count: int) -> bytes:
    lines = [
        f"Source-Organization: {SOURCE_ORGANIZATION}",
        f"Bagging-Date: {dt.date.today().isoformat()}",
        f"Bag-Software-Agent: {_software_agent()}",
        f"External-Identifier: {scope}",
        f"Payload-Oxum: {octets}.{count}",
        f"Dangan-Document-Count: {len(documents)}",
        f"Dangan-Page-Count: {sum(doc.page_count for doc in documents)}",
        *(f"Dangan-Reference-Code: {doc.row['reference_code']}" for doc in documents),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _build(
    store: BlobStore, root: Path, scope: str, documents: list[BagDocument], progress: Progress | None
) -> tuple[int, int]:
    """Write the whole bag under root; returns the payload's (octets, file count)."""
    payload: dict[str, tuple[str, int]] = {}
    total = sum(len(doc.files) for doc in documents)
    for done, item in enumerate((f for doc in documents for f in doc.files), start=1):
        payload[item.path] = _copy_object(store, item, root)
        if progress is not None:
            progress(done, total)
    for relative, data in _metadata_files(documents).items():
        payload[relative] = _write_bytes(root, relative, data)
    octets = sum(size for _, size in payload.values())
    tags: dict[str, str] = {}
    for name, data in (
        ("bagit.txt", BAGIT_TXT.encode("utf-8")),
        ("bag-info.txt", _bag_info(scope, documents, octets, len(payload))),
        ("manifest-sha256.txt", _manifest((path, digest) for path, (digest, _) in payload.items())),
    ):
        tags[name] = _write_bytes(root, name, data)[0]
    _write_bytes(root, "tagmanifest-sha256.txt", _manifest(tags.items()))
    return octets, len(payload)


def _check_target(target: Path) -> Path:
    target = target.expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} already exists and is not an empty folder; choose a new folder for the bag")
    return target


def _place(staging: Path, target: Path) -> None:
    """Rename the finished bag into place (an empty target folder is replaced); then make the rename durable."""
    if target.is_dir():
        target.rmdir()
    staging.rename(target)
    fsync_dir(target.parent)


def export_bag(
    context: Context,
    *,
    fonds: str | None,
    batch_id: int | None,
    target: Path,
    actor: Principal,
    progress: Progress | None = None,
    records: tuple[str, list[int]] | None = None,
) -> BagExportView:
    """Write a BagIt 1.0 bag of one fonds or one batch (or of `records`: a label and document ids, for a
    transfer) to target (a new or empty folder) and audit it. Only the records the caller may see go in."""
    authorize(actor.roles, Action.EXPORT_RECORDS)
    if records is None and (fonds is None) == (batch_id is None):
        raise InvalidInput("give exactly one of a fonds code or a batch id to export")
    target = _check_target(target)
    label, ids = records if records is not None else ("", None)
    scope, documents = _load(context, actor, fonds=fonds, batch_id=batch_id, document_ids=ids, label=label)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".bag-tmp", dir=target.parent))
    placed = False
    try:
        octets, count = _build(context.plain, staging, scope, documents, progress)
        details = {
            "scope": {"records": scope} if records else {"fonds": fonds} if fonds is not None else {"batch": batch_id},
            "documents": len(documents),
            "files": count,
            "bytes": octets,
        }
        with context.db.write() as session:
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.EXPORT_BAGIT,
                target=f"bag:{scope}",
                details=details,
            )
            _place(staging, target)  # inside the transaction: a failed rename rolls the audit event back
            placed = True
    except BaseException:
        shutil.rmtree(target if placed else staging, ignore_errors=True)  # placed but not committed: no bag
        raise
    return BagExportView(
        path=str(target),
        scope=scope,
        documents=len(documents),
        files=count,
        bytes=octets,
        payload_oxum=f"{octets}.{count}",
    )
