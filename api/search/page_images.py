"""Page images and thumbnails as derived data (DESIGN.md rule 8): drawn from a record's access copy after
filing, again by `dangan derive`, or when first asked for; used by ingest, records and maintenance alike.

Each is keyed by the SHA-256 of the access copy it was drawn from and the page number (archive.keys.derived_key),
so there are no catalogue rows to keep in step: a rescan makes a new access copy and so new keys, and
verification and backups leave the `derived/` prefix alone. Making one never decides whether an item is filed:
a failure is logged (a warning) and the image is drawn when first asked for.

Pruning: a derived object that no current page refers to (the images of an access copy a rescan superseded,
of an earlier DERIVED_VERSION, of a record no longer catalogued) is removed: by the replacement, for the access
copy it superseded, after its catalogue commit; and by `dangan derive` over the whole `derived/` prefix. Only
keys under that prefix are ever removed, and never one that a current access copy's page (of any record, of
any status: administrators still read withdrawn ones) or any catalogue row names. A leftover (a crash before
the removal, an image drawn on demand from a copy read just before it was superseded) is harmless: it is never
served, and the next `dangan derive` removes it.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.wiring import Context
from archive.errors import DanganError, IntegrityFailure, NotFound
from archive.hashing import CHUNK
from archive.keys import DERIVED_PREFIX, derived_key
from archive.models import Document, Page, StoredObject
from archive.values import ObjectRole
from archive.workflow import OUT_OF_USE
from ingest.derived import PageImages, render_page

log = logging.getLogger(__name__)
KINDS = (ObjectRole.PAGE_IMAGE, ObjectRole.THUMBNAIL)


@dataclass(frozen=True)
class ImageSource:
    document_id: int
    pdfa_key: str
    pdfa_sha256: str  # of the stored bytes: derived keys are named by it
    pages: tuple[int, ...]
    pdfa_content_sha256: str = ""  # of the plaintext (differs for an encrypted record's); "" means pdfa_sha256

    @property
    def content_sha256(self) -> str:
        return self.pdfa_content_sha256 or self.pdfa_sha256


def _store(context: Context, pdfa_sha256: str, images: PageImages) -> None:
    # through the plaintext store: the images of an encrypted record are sealed with its access copy's data key
    context.plain.put_bytes(derived_key(pdfa_sha256, images.number, ObjectRole.PAGE_IMAGE), images.display.data)
    context.plain.put_bytes(derived_key(pdfa_sha256, images.number, ObjectRole.THUMBNAIL), images.thumbnail.data)


def _missing(context: Context, source: ImageSource, number: int) -> bool:
    return any(context.store.stat(derived_key(source.pdfa_sha256, number, kind)) is None for kind in KINDS)


def derive_from(
    context: Context, source: ImageSource, pdf: Path, *, force: bool = False, only: int | None = None
) -> tuple[int, int]:
    """Draw the pages of `source` (whose access copy is the local file `pdf`) that lack an image or a thumbnail
    (all with `force`; page `only` alone if given); returns (pages drawn, pages that failed). A failure is
    logged, never raised (a passing store fault is: the caller tries again later)."""
    drawn = failed = 0
    for number in source.pages if only is None else (only,):
        try:
            if force or _missing(context, source, number):
                _store(context, source.pdfa_sha256, render_page(pdf, number))
                drawn += 1
        except (DanganError, OSError, ValueError) as exc:  # Pillow's decoding errors are OSError or ValueError
            if isinstance(exc, DanganError) and exc.transient:
                raise
            failed += 1
            log.warning("document %s page %s: no page image (%s)", source.document_id, number, exc)
    return drawn, failed


def _source(context: Context, document_id: int) -> ImageSource | None:
    with context.db.read() as session:
        query = select(Document).where(Document.id == document_id)
        document = session.scalars(query.options(selectinload(Document.pages), selectinload(Document.objects))).first()
        if document is None:
            return None
        return source_of(document)


def source_of(document: Document) -> ImageSource | None:
    pdfa = next((o for o in document.objects if o.role == ObjectRole.PDFA and o.current), None)
    if pdfa is None:
        return None
    pages = tuple(page.number for page in document.pages)
    return ImageSource(document.id, pdfa.key, pdfa.sha256, pages, pdfa.content_sha256)


def derive_after_filing(context: Context, document_id: int, pdf: Path) -> None:
    """After an item is filed (its access copy still in the job's work folder): make its images. Never raises
    for the images' sake: the item is filed whatever happens here."""
    try:
        source = _source(context, document_id)
        if source is not None:
            derive_from(context, source, pdf)
    except DanganError as exc:
        log.warning("document %s: filed, but its page images were not made: %s", document_id, exc.message)


def derive_document(
    context: Context, source: ImageSource, *, force: bool = False, only: int | None = None
) -> tuple[int, int]:
    """Fetch the (checked) access copy from the store and draw what is missing (of page `only`, if given)."""
    numbers = source.pages if only is None else (only,)
    if not force and not any(_missing(context, source, number) for number in numbers):
        return 0, 0
    folder = context.settings.spool_dir / "derive"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".pdf") as local:
        digest = hashlib.sha256()
        try:
            with context.plain.open_read(source.pdfa_key) as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    local.write(chunk)
        except (NotFound, IntegrityFailure):  # gone, or an encrypted copy that no longer decrypts
            digest = hashlib.sha256(b"missing")
        local.flush()
        if digest.hexdigest() != source.content_sha256:  # drawn only from the bytes that were filed
            log.warning("document %s: its access copy is damaged or gone; no page images drawn", source.document_id)
            return 0, len(numbers)
        return derive_from(context, source, Path(local.name), force=force, only=only)


def sources(context: Context) -> list[ImageSource]:
    """Every record that has pages to show (withdrawn ones too: administrators still read them)."""
    with context.db.read() as session:
        query = select(Document).options(selectinload(Document.pages), selectinload(Document.objects))
        documents = session.scalars(query.where(Document.status.not_in(OUT_OF_USE)).order_by(Document.id))
        return [source for document in documents if (source := source_of(document)) is not None]


def superseded_keys(source: ImageSource) -> list[str]:
    """The derived keys of `source`'s pages: what to prune once a rescan has made another access copy current."""
    return [derived_key(source.pdfa_sha256, number, kind) for number in source.pages for kind in KINDS]


def referenced_keys(context: Context) -> set[str]:
    """Every key a derived object may keep: each current access copy's current pages in both kinds (whatever
    the record's status), and any key a catalogue row names (never removed, whatever its prefix says)."""
    with context.db.read() as session:
        current_pages = (
            select(StoredObject.sha256, Page.number)
            .join(Page, (Page.document_id == StoredObject.document_id) & Page.current.is_(True))
            .where(StoredObject.role == ObjectRole.PDFA, StoredObject.current.is_(True))
        )
        wanted = {derived_key(sha, number, kind) for sha, number in session.execute(current_pages) for kind in KINDS}
        rows = select(StoredObject.key).where(StoredObject.key.startswith(DERIVED_PREFIX))
        return wanted | set(session.scalars(rows))


def prune_derived(context: Context, candidates: Iterable[str] | None = None) -> list[str]:
    """Remove the derived objects among `candidates` (every key under `derived/` if None) that no current page
    refers to; returns the keys removed, in order. The keys are found before the references are read: an
    image present when listed was drawn from a copy committed before then, so it is kept if still current."""
    if candidates is None:
        found = sorted(context.store.iter_keys(DERIVED_PREFIX))
    else:
        found = [key for key in candidates if context.store.stat(key) is not None]
    found = [key for key in found if key.startswith(DERIVED_PREFIX)]  # only derived objects, ever
    if not found:
        return []
    keep = referenced_keys(context)
    pruned = [key for key in found if key not in keep]
    for key in pruned:
        context.store.delete(key)
    return pruned


def prune_superseded(context: Context, source: ImageSource) -> list[str]:
    """After a replacement's commit: remove the images of the access copy it superseded (those no current page
    still refers to). Never raises: a leftover is harmless, and the next `dangan derive` removes it."""
    try:
        return prune_derived(context, superseded_keys(source))
    except (DanganError, OSError) as exc:
        log.warning("document %s: the superseded page images stay until `dangan derive`: %s", source.document_id, exc)
        return []
