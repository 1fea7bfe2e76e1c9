"""Catalogue rows made straight in the database, for tests of the stored objects themselves (fixity, graded
reports): documents with no pages, whose objects are random bytes put in the archive's real store."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

from api.wiring import Context
from archive.models import Batch, Document, Fonds, StoredObject, utcnow
from archive.ports import content_key


def documents_with_objects(
    context: Context, code: str, name: str, count: int, roles: Sequence[str], size: Callable[[], int]
) -> None:
    """`count` documents of fonds `code` (reference codes CODE-0000, CODE-0001, …), one batch, each with an
    object of `size()` random bytes for each of `roles`."""
    with context.db.write() as session:
        fonds = Fonds(code=code, name=name)
        batch = Batch(fonds=fonds, label=name, created_by="t", year=2026)
        for n in range(count):
            document = Document(
                fonds=fonds,
                batch=batch,
                reference_code=f"{code}-{n:04d}",
                title=f"item {n}",
                access_level=0,
                language="eng",
                status="ready",
                original_filename=f"{n}.tif",
                original_sha256="0" * 64,
                created_at=utcnow(),
                indexed_at=utcnow(),
            )
            for role in roles:
                add_object(context, document, role, os.urandom(size()))
            session.add(document)


def add_object(context: Context, document: Document, role: str, data: bytes) -> StoredObject:
    """`data` put in the store under its SHA-256 and catalogued as the document's `role` object."""
    sha = hashlib.sha256(data).hexdigest()
    info = context.store.put_bytes(content_key(sha), data)
    stored = StoredObject(key=info.key, sha256=sha, size=info.size, role=role, media_type="application/octet-stream")
    document.objects.append(stored)
    return stored
