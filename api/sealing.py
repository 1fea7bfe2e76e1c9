"""Encryption at rest wired to the catalogue: which objects are sealed, with which wrapped key, and sealing the
objects a filing is about to store. The envelope itself is storage_config/encryption.py; the policy (which
levels) archive/encryption.py."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from archive.db import Database
from archive.encryption import must_encrypt
from archive.errors import IntegrityFailure
from archive.keys import DERIVED_PREFIX, OBJECT_PREFIX, content_key
from archive.models import StoredObject
from archive.ports import KeyProvider
from archive.values import ObjectRole
from storage_config.encryption import Envelope, Seal, Sealed, SealLookup
from storage_config.keyring import open_key_provider
from storage_config.settings import Settings

_DERIVED = re.compile(rf"^{DERIVED_PREFIX}[0-9a-f]{{2}}/([0-9a-f]{{64}})/")


def seal_of(obj: StoredObject) -> Seal | None:
    """How to open a catalogued object (None: stored in the clear)."""
    if obj.key_id is None or obj.wrapped_key is None or obj.plain_sha256 is None:
        return None
    return Seal(obj.key_id, obj.wrapped_key, obj.plain_sha256)


def catalogue_lookup(db: Database) -> SealLookup:
    """key → seal, from the catalogue: a catalogued encrypted object's own; a page image's (derived/) is its
    access copy's data key with the image's key as the name."""

    def lookup(key: str) -> Seal | None:
        derived = _DERIVED.match(key)
        if not key.startswith(OBJECT_PREFIX) and derived is None:
            return None
        query = select(StoredObject).where(StoredObject.key_id.is_not(None))
        if derived is not None:
            query = query.where(StoredObject.key == content_key(derived.group(1)), StoredObject.role == ObjectRole.PDFA)
        else:
            query = query.where(StoredObject.key == key)
        with db.read() as session:
            row = session.scalars(query.limit(1)).first()
            seal = seal_of(row) if row is not None else None
        if seal is not None and derived is not None:
            return Seal(seal.key_id, seal.wrapped_key, key)
        return seal

    return lookup


def has_encrypted_objects(db: Database) -> bool:
    if not db.is_initialised():
        return False
    with db.read() as session:
        return bool(session.scalar(select(func.count()).where(StoredObject.key_id.is_not(None))))


def key_provider(settings: Settings, db: Database) -> KeyProvider:
    """The configured provider; a missing keyring file is made only while no object needs the old keys."""
    return open_key_provider(
        settings.encryption.provider, settings.resolved_keyring_path, lambda: not has_encrypted_objects(db)
    )


def encrypts(settings: Settings, level: int | None) -> bool:
    return must_encrypt(level, enabled=settings.encryption.enabled, min_level=settings.encryption.min_level)


def seal_content(envelope: Envelope, content: Path | bytes, plain_sha256: str, folder: Path) -> Sealed:
    """Seal one object's content into a file under `folder` (named in the envelope by its plaintext hash), checked
    against that hash as it streams: content that changed since it was hashed is refused, nothing kept."""
    sealed = envelope.seal_file(content, folder, plain_sha256)
    if sealed.plain_sha256 != plain_sha256:
        sealed.path.unlink(missing_ok=True)
        raise IntegrityFailure(
            f"content sealed for storage hashes to {sealed.plain_sha256}, not the {plain_sha256} it was filed as; "
            "it changed on disk meanwhile: submit it again"
        )
    return sealed


def apply_seal(row: StoredObject, sealed: Sealed | None) -> None:
    if sealed is not None:
        row.key_id, row.wrapped_key = sealed.key_id, sealed.wrapped_key
        row.plain_sha256, row.plain_size = sealed.plain_sha256, sealed.plain_size
