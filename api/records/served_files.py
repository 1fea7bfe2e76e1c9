"""What is served is what was stored: a file leaves the archive only after its bytes hash to the SHA-256 the
catalogue recorded when it was filed.

The object is copied once from the store into an anonymous temporary file in the spool area, hashed on the
way, and the response streams that copy. One pass over the store (an S3 GET is the expensive part), and the
bytes served are exactly the bytes checked: a second pass that streamed from the store again could serve bytes
that changed after the hash was taken. The copy has no name, so it disappears when the response closes it,
or with the process.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from archive.errors import DanganError, KeyUnavailable
from archive.hashing import CHUNK
from archive.ports import BlobStore


@dataclass(frozen=True)
class Damaged:
    """Why a stored object may not be served: its bytes changed, or it is gone."""

    actual_sha256: str | None  # None: missing or unreadable
    reason: str


@dataclass
class VerifiedCopy:
    stream: BinaryIO
    size: int


def verified_copy(store: BlobStore, key: str, expected_sha256: str, folder: Path) -> VerifiedCopy | Damaged:
    """A private, checked copy of the object, positioned at its start; or why there is none."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = tempfile.TemporaryFile(dir=folder, prefix="served-")  # noqa: SIM115 - the response closes it
    digest, size = hashlib.sha256(), 0
    try:
        with store.open_read(key) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                copy.write(chunk)
    except (DanganError, OSError) as exc:
        copy.close()
        if isinstance(exc, DanganError) and exc.transient:  # the store is out of reach: nothing is known damaged
            raise
        if isinstance(exc, KeyUnavailable):  # nothing is damaged: the master key is missing (says how to recover)
            raise
        return Damaged(None, f"unreadable: {exc.__class__.__name__}")
    if digest.hexdigest() != expected_sha256:
        copy.close()
        return Damaged(digest.hexdigest(), "checksum mismatch")
    copy.seek(0)
    return VerifiedCopy(copy, size)
