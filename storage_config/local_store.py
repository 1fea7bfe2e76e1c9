"""The embedded default object store: a directory, written atomically (temp file + fsync + rename)."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from archive.diskfull import disk_full
from archive.durable import fsync_dir
from archive.errors import IntegrityFailure, InvalidInput, NotFound, StorageUnavailable
from archive.failpoints import failpoint
from archive.hashing import CHUNK
from archive.ports import BlobInfo, check_key


class LocalBlobStore:
    """Objects as files under one root; keys can never resolve outside it. A full disk is InsufficientStorage
    naming `place` ("object store", or "backup target" for a backup copy); its temp file is removed."""

    name = "local"

    def __init__(self, root: Path, *, place: str = "object store") -> None:
        self.root = root.resolve()
        self.place = place
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / ".tmp").mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create the local object store folder: {exc.strerror}") from exc

    def _path(self, key: str) -> Path:
        check_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path.parent == self.root / ".tmp":
            raise InvalidInput(f"object key {key!r} escapes the store root")
        return path

    def put_file(self, key: str, path: Path, *, expected_sha256: str | None = None) -> BlobInfo:
        with path.open("rb") as source:
            return self._write(key, source, expected_sha256, os.fstat(source.fileno()).st_size)

    def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        return self._write(key, io.BytesIO(data), None, len(data))

    def _write(self, key: str, source: BinaryIO, expected_sha256: str | None, needed: int | None) -> BlobInfo:
        target = self._path(key)
        digest = hashlib.sha256()
        size = 0
        tmp_name = ""
        try:
            fd, tmp_name = tempfile.mkstemp(dir=self.root / ".tmp", prefix="put-")
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    failpoint("store.write")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            if expected_sha256 is not None and sha != expected_sha256:
                raise IntegrityFailure(f"bytes for {key} hash to {sha}, expected {expected_sha256}; nothing was stored")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
            fsync_dir(target.parent)
            return BlobInfo(key=key, size=size, sha256=sha)
        except OSError as exc:
            full = disk_full(exc, place=self.place, path=self.root, needed=needed, what="this object")
            if full is not None:
                raise full from exc
            raise StorageUnavailable(f"cannot write object {key} to the local store: {exc.strerror}") from exc
        finally:
            if tmp_name and os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def open_read(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise NotFound(f"object {key} is missing from the local store") from exc

    def stat(self, key: str) -> BlobInfo | None:
        path = self._path(key)
        try:
            return BlobInfo(key=key, size=path.stat().st_size)
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check_available(self) -> None:
        """A local folder has no breaker (see storage_config/stores.py): its faults show on the call itself."""

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not (dirpath == str(self.root) and d == ".tmp")]
            for filename in filenames:
                key = Path(dirpath, filename).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key
