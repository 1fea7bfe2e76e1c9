"""Encryption at rest: the envelope (pure functions over streams and keys) and the store that reads through it.

The choice (README "Encryption at rest" says it for users):

- **Envelope encryption.** Every encrypted object gets its own random 256-bit *data key*. The object is
  encrypted with AES-256-GCM (`cryptography`) in fixed-size chunks (1 MiB), so a large scan streams in and out
  with constant memory. The data key is *wrapped* (AES-256-GCM, a fresh 96-bit nonce, the master key's id as
  associated data) by a *master key* of a key provider (archive.ports.KeyProvider: the keyring file of
  storage_config/keyring.py, or an external KMS/HSM behind the same Protocol).
- **Where the wrapped key lives.** In the catalogue row (StoredObject.key_id / wrapped_key), never in the object:
  rotating the master key rewraps the rows and rewrites no object; an old master key then unwraps nothing that
  is live (it is kept, retired, for the catalogue snapshots of older backups).
- **Stored format.** A 20-byte header — magic ``DANGENC1``, the chunk size (4 bytes, big-endian) and a random
  8-byte nonce prefix — then each chunk's ciphertext with its 16-byte tag. Chunk *i* has the nonce
  prefix ‖ i (4 bytes) and the associated data ``dangan-envelope/1|<name>|i|last``: the name binds the chunk to
  its object (the plaintext SHA-256 of a catalogued object, the derived key of a page image), the counter to its
  place and the last-chunk flag makes a truncated object fail to open instead of reading short.
- **Fixity.** A catalogued encrypted object keeps ``sha256`` = the hash of the *stored* bytes (so backups,
  restore, repair and store checks stay byte-level) and ``plain_sha256`` = the hash of the plaintext, which
  full verification and every read check after decrypting (GCM tag, then the hash).
- **Derived page images** of an encrypted record are sealed with its access copy's data key (a fresh nonce
  prefix, their own key as the name): they never exist in the clear in the store, and rotation covers them.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.errors import IntegrityFailure, KeyUnavailable
from archive.ports import BlobInfo, BlobStore, KeyProvider
from archive.scratch import owned_name

MAGIC = b"DANGENC1"
HEADER = struct.Struct(">8sI8s")  # magic, chunk size, nonce prefix
CHUNK_SIZE = 1 << 20
TAG_SIZE = 16
DATA_KEY_BYTES = 32
_WRAP_AAD = b"dangan-wrap/1|"


@dataclass(frozen=True)
class Seal:
    """How to open one sealed object: the master key id, the wrapped data key, the name in its associated data."""

    key_id: str
    wrapped_key: bytes = field(repr=False)
    name: str


@dataclass(frozen=True)
class Sealed:
    """An object sealed into a local file, ready to store under content_key(sha256)."""

    path: Path
    sha256: str  # of the stored (encrypted) bytes
    size: int
    plain_sha256: str
    plain_size: int
    key_id: str
    wrapped_key: bytes = field(repr=False)


def wrap_key(master: bytes, key_id: str, data_key: bytes) -> bytes:
    """The data key encrypted under the master key: nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _WRAP_AAD + key_id.encode("utf-8"))


def unwrap_key(master: bytes, key_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD + key_id.encode("utf-8"))
    except (InvalidTag, ValueError) as exc:
        raise KeyUnavailable(
            f"master key {key_id} does not open a data key wrapped by it: the keyring holds another key under "
            "that id; recover the keyring from a backup's escrow (`dangan keys recover --target NAME`)"
        ) from exc


def _aad(name: str, index: int, last: bool) -> bytes:
    return b"dangan-envelope/1|" + name.encode("utf-8") + b"|" + struct.pack(">Q?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _read_full(stream: BinaryIO, size: int) -> bytes:
    parts, wanted = [], size
    while wanted > 0:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def seal_stream(
    source: BinaryIO, out: BinaryIO, data_key: bytes, name: str, *, chunk_size: int = CHUNK_SIZE
) -> tuple[str, int, str, int]:
    """Encrypt `source` into `out`; returns (stored sha256, stored size, plaintext sha256, plaintext size)."""
    aes, prefix = AESGCM(data_key), os.urandom(8)
    stored, plain = hashlib.sha256(), hashlib.sha256()
    sizes = [0, 0]

    def emit(data: bytes) -> None:
        out.write(data)
        stored.update(data)
        sizes[0] += len(data)

    emit(HEADER.pack(MAGIC, chunk_size, prefix))
    index, current = 0, _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        last = not following
        plain.update(current)
        sizes[1] += len(current)
        emit(aes.encrypt(_nonce(prefix, index), current, _aad(name, index, last)))
        if last:
            return stored.hexdigest(), sizes[0], plain.hexdigest(), sizes[1]
        current, index = following, index + 1


def seal_bytes(data: bytes, data_key: bytes, name: str, *, chunk_size: int = CHUNK_SIZE) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(data), out, data_key, name, chunk_size=chunk_size)
    return out.getvalue()


def plain_size_of(stored_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """The plaintext size of a sealed object of `stored_size` bytes (header and one tag per chunk off)."""
    body = max(stored_size - HEADER.size, 0)
    chunks = max(1, -(-body // (chunk_size + TAG_SIZE)))
    return max(body - chunks * TAG_SIZE, 0)


class OpenedEnvelope(io.RawIOBase):
    """The plaintext of a sealed stream, decrypted chunk by chunk as it is read. A chunk whose tag does not
    verify (changed bytes, a truncated or reordered object, the wrong data key) raises IntegrityFailure."""

    def __init__(self, stream: BinaryIO, data_key: bytes, name: str, *, where: str) -> None:
        super().__init__()
        self._stream, self._aes, self._name, self._where = stream, AESGCM(data_key), name, where
        header = _read_full(stream, HEADER.size)
        magic, self._chunk, self._prefix = HEADER.unpack(header) if len(header) == HEADER.size else (b"", 0, b"")
        if magic != MAGIC or self._chunk <= 0:
            stream.close()
            raise IntegrityFailure(f"{where} is not an encrypted object of this archive (no envelope header)")
        self._index, self._buffer, self._done = 0, memoryview(b""), False
        self._next = _read_full(stream, self._chunk + TAG_SIZE)

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        current = self._next
        self._next = _read_full(self._stream, self._chunk + TAG_SIZE) if current else b""
        last = not self._next
        try:
            nonce, aad = _nonce(self._prefix, self._index), _aad(self._name, self._index, last)
            self._buffer = memoryview(self._aes.decrypt(nonce, current, aad))
        except (InvalidTag, ValueError) as exc:
            raise IntegrityFailure(
                f"{self._where}: chunk {self._index} does not decrypt (its bytes changed, or it was truncated); "
                "repair it from a backup (`dangan repair`)"
            ) from exc
        self._index += 1
        self._done = last

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer and not self._done:
            self._fill()
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]  # a view: no copy of what is left
        return size

    def close(self) -> None:
        self._stream.close()
        super().close()


class Envelope:
    """Sealing and opening objects with data keys wrapped by the provider's master keys."""

    def __init__(self, provider: KeyProvider, *, chunk_size: int = CHUNK_SIZE) -> None:
        self.provider, self.chunk_size = provider, chunk_size

    def seal_file(self, source: Path | bytes, folder: Path, name: str) -> Sealed:
        """Encrypt a file (or bytes) into a new file under `folder`, with a new data key."""
        data_key = os.urandom(DATA_KEY_BYTES)
        key_id, wrapped = self.provider.wrap(data_key)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / owned_name("seal")  # a killed process's leftover is swept (api/ingest/sweep.py)
        source_stream = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
        with source_stream, target.open("wb") as out:
            sha, size, plain_sha, plain_size = seal_stream(
                source_stream, out, data_key, name, chunk_size=self.chunk_size
            )
            out.flush()
            os.fsync(out.fileno())
        return Sealed(target, sha, size, plain_sha, plain_size, key_id, wrapped)

    def data_key(self, seal: Seal) -> bytes:
        return self.provider.unwrap(seal.key_id, seal.wrapped_key)

    def open(self, stream: BinaryIO, seal: Seal, *, where: str) -> BinaryIO:
        try:
            data_key = self.data_key(seal)
        except BaseException:
            stream.close()
            raise
        return io.BufferedReader(OpenedEnvelope(stream, data_key, seal.name, where=where), CHUNK_SIZE)

    def rewrap(self, seal: Seal) -> tuple[str, bytes]:
        """The same data key wrapped by the provider's active master key (no object is touched)."""
        return self.provider.wrap(self.data_key(seal))


SealLookup = Callable[[str], Seal | None]


class PlaintextStore:
    """A BlobStore whose reads give the plaintext: an object `lookup` names a seal for is decrypted on the way
    (a catalogued encrypted object, or a page image of one), any other is read as stored. `put_bytes` of a key
    with a seal (a page image of an encrypted record) seals it with that data key. Byte-level work (backups,
    restore, repair, stored-hash checks) keeps using the inner store."""

    def __init__(self, inner: BlobStore, envelope: Envelope, lookup: SealLookup) -> None:
        self.inner, self.envelope, self.lookup = inner, envelope, lookup
        self.name = inner.name

    def put_file(self, key: str, path: Path, *, expected_sha256: str | None = None) -> BlobInfo:
        return self.inner.put_file(key, path, expected_sha256=expected_sha256)

    def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        seal = self.lookup(key)
        if seal is None:
            return self.inner.put_bytes(key, data)
        sealed = seal_bytes(data, self.envelope.data_key(seal), seal.name, chunk_size=self.envelope.chunk_size)
        info = self.inner.put_bytes(key, sealed)
        return BlobInfo(info.key, len(data), None)

    def open_read(self, key: str) -> BinaryIO:
        seal = self.lookup(key)
        stream = self.inner.open_read(key)
        return stream if seal is None else self.envelope.open(stream, seal, where=f"object {key}")

    def stat(self, key: str) -> BlobInfo | None:
        info = self.inner.stat(key)
        if info is None or self.lookup(key) is None:
            return info
        return BlobInfo(info.key, plain_size_of(info.size, self.envelope.chunk_size), None)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        return self.inner.iter_keys(prefix)

    def check_available(self) -> None:
        self.inner.check_available()
