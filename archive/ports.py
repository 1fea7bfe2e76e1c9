"""Protocols the domain needs from the outside (object storage), implemented in storage_config."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from archive.errors import InvalidInput
from archive.keys import content_key

__all__ = ["BlobInfo", "BlobStore", "KeyProvider", "MasterKeyInfo", "check_key", "content_key"]

_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows of one object after writing or statting it."""

    key: str
    size: int
    sha256: str | None = None


def check_key(key: str) -> str:
    """Refuse keys that could escape a store's root or mean different things on different backends."""
    if not key or len(key) > 512 or key.startswith("/") or "\\" in key:
        raise InvalidInput(f"object key {key!r} is not a relative path of plain segments")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _KEY_SEGMENT.match(segment):
            raise InvalidInput(f"object key {key!r} has an unsafe segment {segment!r}")
    return key


@runtime_checkable
class BlobStore(Protocol):
    """An object store. Writes are atomic and verified against the SHA-256 computed while streaming."""

    name: str

    def put_file(self, key: str, path: Path, *, expected_sha256: str | None = None) -> BlobInfo:
        """Store the file under key; raise IntegrityFailure if the bytes do not hash to expected_sha256."""
        ...

    def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        """Store a small object in one write."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """A stream of the object's bytes; the caller closes it. NotFound when absent."""
        ...

    def stat(self, key: str) -> BlobInfo | None:
        """Size of the object, or None when it does not exist."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; absent objects are not an error."""
        ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under prefix, in no particular order."""
        ...

    def check_available(self) -> None:
        """Without any I/O: raise StorageUnavailable (with retry_after) when the store is known to be out of reach
        (its circuit breaker is open); return when it may be called. Cheap enough for every request."""
        ...


@dataclass(frozen=True)
class MasterKeyInfo:
    """One master key of a key provider, as status reports show it (never its material)."""

    key_id: str
    state: str  # active (wraps new data keys) | retired (unwraps old catalogue snapshots only)
    created_at: str
    escrowed: bool  # in a backup run's key escrow (False for a provider that escrows its keys itself: see README)


@runtime_checkable
class KeyProvider(Protocol):
    """Master keys that wrap the data keys of encrypted objects (storage_config/encryption.py). One is active.
    A KMS or HSM plugs in here: it wraps and unwraps without ever handing out its master keys."""

    name: str

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """(id of the active master key, the data key wrapped by it)."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """The data key; KeyUnavailable (saying how to recover) when the master key is not here."""
        ...

    def master_keys(self) -> list[MasterKeyInfo]:
        """Every master key, the active one first."""
        ...

    def rotate(self) -> str:
        """Make a new master key active (the previous one retired); returns its id."""
        ...

    def escrow_material(self) -> str | None:
        """What a backup's key escrow must carry to bring these keys back (None: the provider keeps them)."""
        ...

    def mark_escrowed(self, key_ids: list[str]) -> None:
        """Note that a backup run's escrow now holds these keys."""
        ...
