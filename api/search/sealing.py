"""Sealing the clear objects of records at an encrypted level: after their level is raised, after a rescan of
one of their pages (`seal_if_due`, from records and ingest), and by the sweep `dangan keys encrypt-pending`
(api/preservation/key_sealing.py). Here beside the page images because ingest, records and preservation all
use it.

A record filed below the threshold keeps its objects in the clear until its level is raised to it; this sweep
then seals each of its objects: the plaintext is read from the store and checked against the catalogue's hash,
sealed into the spool, stored under its new content key, and the row switched to it in one transaction with a
history event (encryption) and the audit event; the clear object is removed afterwards when no row names it.
A crash leaves at worst an uncatalogued sealed object (verification lists it as untracked) or a clear object
no row names (removed by the next sweep's cleanup or listed as untracked). Backups made before hold the clear
copy: the README says so. A record lowered below the threshold stays encrypted."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.sealing import apply_seal, encrypts, seal_content
from api.search.page_images import prune_superseded, source_of
from api.wiring import Context
from archive import history
from archive.errors import DanganError, IntegrityFailure
from archive.hashing import CHUNK
from archive.keys import content_key
from archive.models import Document, StoredObject
from archive.scratch import owned_name

log = logging.getLogger(__name__)


def pending_records(context: Context, *, only: int | None = None) -> list[int]:
    """Records at an encrypted level that still have an object stored in the clear (of record `only`, if given)."""
    with context.db.read() as session:
        query = (
            select(Document.id, Document.access_level)
            .join(StoredObject, StoredObject.document_id == Document.id)
            .where(StoredObject.key_id.is_(None))
            .distinct()
        )
        if only is not None:
            query = query.where(Document.id == only)
        return sorted(doc_id for doc_id, level in session.execute(query) if encrypts(context.settings, level))


def seal_if_due(context: Context, document_id: int, agent: str) -> int:
    """After a change that may leave a record at an encrypted level with clear objects (its level raised, a page
    rescanned): seal them now. Never raises for the change's sake: what stays clear waits for the sweep
    (`dangan keys status` counts it, `dangan keys encrypt-pending` seals it)."""
    try:
        if document_id not in pending_records(context, only=document_id):
            return 0
        return seal_record(context, document_id, agent)
    except DanganError as exc:
        log.warning("document %s: left unsealed until `dangan keys encrypt-pending`: %s", document_id, exc.message)
        return 0


def _plaintext_copy(context: Context, row: StoredObject, folder_name: str) -> Path:
    folder = context.settings.spool_dir / "seal"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / folder_name
    digest = hashlib.sha256()
    with context.store.open_read(row.key) as source, path.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != row.sha256:
        path.unlink(missing_ok=True)
        raise IntegrityFailure(
            f"object {row.key} of document {row.document_id} changed since it was filed; repair it (`dangan repair`) "
            "before sealing it"
        )
    return path


def seal_record(context: Context, document_id: int, agent: str) -> int:
    with context.db.read() as session:
        document = session.scalars(
            select(Document)
            .where(Document.id == document_id)
            .options(selectinload(Document.objects), selectinload(Document.pages))
        ).one()
        clear = [(row.id, row.key, row.sha256) for row in document.objects if row.key_id is None]
        old_source = source_of(document)
    done, old_keys = 0, set()
    for row_id, key, sha in clear:
        with context.db.read() as session:
            row = session.get(StoredObject, row_id)
            assert row is not None
            path = _plaintext_copy(context, row, owned_name("clear"))
        try:
            sealed = seal_content(context.envelope, path, sha, context.settings.spool_dir / "seal")
        finally:
            path.unlink(missing_ok=True)
        try:
            info = context.store.put_file(content_key(sealed.sha256), sealed.path, expected_sha256=sealed.sha256)
        finally:
            sealed.path.unlink(missing_ok=True)
        with context.db.write() as session:
            row = session.get(StoredObject, row_id)
            assert row is not None
            row.key, row.sha256, row.size = info.key, sealed.sha256, sealed.size
            apply_seal(row, sealed)
            detail = {"cipher": "AES-256-GCM", "key_id": sealed.key_id, "plain_sha256": sha, "clear_key": key}
            history.record(
                session, history.Event(document_id, history.EventType.ENCRYPTION, agent, info.key, detail=detail)
            )
        old_keys.add(key)
        done += 1
    _remove_clear(context, old_keys)
    if old_source is not None:
        prune_superseded(context, old_source)  # the clear page images: drawn again, sealed, when next asked for
    return done


def _remove_clear(context: Context, keys: set[str]) -> None:
    with context.db.read() as session:
        named = set(session.scalars(select(StoredObject.key).where(StoredObject.key.in_(sorted(keys)))))
    for key in sorted(keys - named):
        context.store.delete(key)


__all__ = ["pending_records", "seal_if_due", "seal_record"]
