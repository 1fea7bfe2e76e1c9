"""Object store on any S3-compatible server (MinIO, Ceph RGW, AWS S3) through the minio SDK.

A single PUT (or a completed multipart upload) is atomic on S3, so no temp objects are needed; the bytes
are hashed before sending (to refuse a wrong expected_sha256 before anything is stored), hashed again
while sending (to catch a source that changed in between), and by default read back after writing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from urllib3.exceptions import HTTPError
from urllib3.util import Timeout

from archive.errors import ConfigurationError, IntegrityFailure, NotFound, StorageTimeout, StorageUnavailable
from archive.hashing import CHUNK, sha256_file, sha256_stream
from archive.ports import BlobInfo, check_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SHA256_METADATA = "x-amz-meta-sha256"
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# What the SDK and urllib3 raise when the server is slow, gone or garbled (OSError: a reset or refused socket).
_TRANSPORT_ERRORS = (MinioException, HTTPError, OSError)


class S3BlobStore:
    """Objects in one bucket; every key passes check_key so both backends accept the same keys."""

    name = "s3"

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        secure: bool,
        region: str | None = None,
        create_bucket: bool = True,
        verify_writes: bool = True,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.verify_writes = verify_writes
        try:
            self._client = Minio(
                endpoint,
                access_key=access_key or None,
                secret_key=secret_key or None,
                secure=secure,
                region=region,
                http_client=_http_client(timeout_seconds),
            )
        except ValueError as exc:
            raise ConfigurationError(
                f"S3 endpoint {endpoint!r} is not usable ({exc}); give host[:port] without scheme or path "
                "and set DANGAN_STORAGE__S3__SECURE for https"
            ) from exc
        self._ensure_bucket(create_bucket=create_bucket, region=region)

    def _ensure_bucket(self, *, create_bucket: bool, region: str | None) -> None:
        """Fail at start-up, not at the first upload, when the bucket is wrong."""
        with self._talking("check that the bucket exists"):
            try:
                if self._client.bucket_exists(self.bucket):
                    return
                if not create_bucket:
                    raise ConfigurationError(
                        f"bucket {self.bucket!r} does not exist on S3 server {self.endpoint}; create it "
                        "(e.g. `mc mb`) or set DANGAN_STORAGE__S3__CREATE_BUCKET=true"
                    )
                self._client.make_bucket(self.bucket, location=region)
            except ValueError as exc:
                raise ConfigurationError(
                    f"bucket name {self.bucket!r} is not valid for S3 ({exc}); set DANGAN_STORAGE__S3__BUCKET"
                ) from exc
            except S3Error as exc:
                if exc.code == "BucketAlreadyOwnedByYou":  # another process created it first
                    return
                if exc.code == "BucketAlreadyExists":
                    raise ConfigurationError(
                        f"bucket {self.bucket!r} belongs to another account on {self.endpoint}; "
                        "choose another DANGAN_STORAGE__S3__BUCKET"
                    ) from exc
                raise

    @property
    def where(self) -> str:
        """The server and bucket, as messages name them."""
        return f"S3 server {self.endpoint}, bucket {self.bucket}"

    @contextmanager
    def _talking(self, action: str) -> Iterator[None]:
        """Turn SDK and transport errors into StorageTimeout (no answer in time) or StorageUnavailable (refused,
        dropped, a 5xx or another refusal), naming where and what failed."""
        try:
            yield
        except S3Error as exc:
            raise StorageUnavailable(
                f"S3 server {self.endpoint} (bucket {self.bucket}) refused to {action}: {exc.code}: "
                f"{exc.message}; check the credentials, the bucket and the server's logs"
            ) from exc
        except _TRANSPORT_ERRORS as exc:
            raise transport_error(exc, f"S3 server {self.endpoint} (bucket {self.bucket})", action) from exc

    def put_file(self, key: str, path: Path, *, expected_sha256: str | None = None) -> BlobInfo:
        check_key(key)
        sha, size = sha256_file(path)
        if expected_sha256 is not None and sha != expected_sha256:
            raise IntegrityFailure(f"bytes for {key} hash to {sha}, expected {expected_sha256}; nothing was stored")
        with path.open("rb") as source:
            return self._upload(key, source, size=size, sha=sha)

    def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        check_key(key)
        sha = hashlib.sha256(data).hexdigest()
        return self._upload(key, io.BytesIO(data), size=len(data), sha=sha)

    def _upload(self, key: str, source: BinaryIO, *, size: int, sha: str) -> BlobInfo:
        """One put_object (atomic), then check that what was sent and stored is what was hashed."""
        reader = _HashingReader(source, key=key, length=size)
        with self._talking(f"write {key}"):
            self._client.put_object(
                self.bucket,
                key,
                io.BufferedReader(reader, buffer_size=CHUNK),
                size,
                content_type="application/octet-stream",
                metadata={"sha256": sha},
            )
        sent = reader.hexdigest()
        if sent != sha:
            raise IntegrityFailure(
                f"the source of {key} changed while uploading (hashed {sha}, sent {sent})"
                f"{self._discard(key)}; upload it again"
            )
        if self.verify_writes:
            self._verify(key, size=size, sha=sha)
        return BlobInfo(key=key, size=size, sha256=sha)

    def _verify(self, key: str, *, size: int, sha: str) -> None:
        """Read back what the server stored: the only proof that the write is intact."""
        info = self.stat(key)
        if info is None:
            raise IntegrityFailure(f"object {key} vanished from bucket {self.bucket} right after writing")
        if info.size != size:
            raise IntegrityFailure(f"object {key} was stored with {info.size} bytes, sent {size}{self._discard(key)}")
        try:
            with self.open_read(key) as stream:
                stored, stored_size = sha256_stream(stream)
        except NotFound as exc:
            raise IntegrityFailure(f"object {key} vanished from bucket {self.bucket} right after writing") from exc
        if stored != sha or stored_size != size:
            raise IntegrityFailure(
                f"object {key} reads back as {stored} ({stored_size} bytes), wrote {sha} ({size} bytes)"
                f"{self._discard(key)}"
            )

    def _discard(self, key: str) -> str:
        """Delete a bad write; say in the error message whether that worked."""
        try:
            self.delete(key)
        except StorageUnavailable as exc:
            return f"; deleting the bad object failed too ({exc.message}), delete {key} by hand"
        return "; the bad object was deleted"

    def open_read(self, key: str) -> BinaryIO:
        check_key(key)
        with self._talking(f"read {key}"):
            try:
                response = self._client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_KEY_CODES:
                    raise NotFound(f"object {key} is missing from bucket {self.bucket}") from exc
                raise
        raw = _ResponseStream(response, server=f"S3 server {self.endpoint} (bucket {self.bucket})", key=key)
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def stat(self, key: str) -> BlobInfo | None:
        check_key(key)
        with self._talking(f"stat {key}"):
            try:
                found = self._client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING_KEY_CODES:
                    return None
                raise
        return BlobInfo(key=key, size=found.size or 0, sha256=_recorded_sha256(found.metadata))

    def delete(self, key: str) -> None:
        check_key(key)
        with self._talking(f"delete {key}"):
            self._client.remove_object(self.bucket, key)  # S3 answers 204 for absent keys too

    def check_available(self) -> None:
        """This client keeps no memory of failures; storage_config.resilience.ResilientStore adds the breaker."""

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        with self._talking(f"list keys under {prefix!r}"):
            for found in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if found.object_name and not found.is_dir:
                    yield found.object_name


def _http_client(timeout_seconds: float) -> urllib3.PoolManager:
    """Every request ends within the timeout; urllib3 never retries (ResilientStore retries whole calls, with
    backoff, behind a breaker): minio's default waits 5 minutes and retries 5 times."""
    if timeout_seconds <= 0:
        raise ConfigurationError(f"S3 timeout must be positive, got {timeout_seconds}")
    return urllib3.PoolManager(
        timeout=Timeout(connect=timeout_seconds, read=timeout_seconds),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=False,
    )


def transport_error(exc: BaseException, server: str, action: str) -> StorageUnavailable:
    """StorageTimeout when the server did not answer in time, else StorageUnavailable (refused, reset, 5xx)."""
    if _timed_out(exc):
        return StorageTimeout(
            f"{server} did not answer in time to {action}; check that the server is up and not overloaded, "
            "or raise DANGAN_FAULTS__STORE_TIMEOUT_SECONDS"
        )
    return StorageUnavailable(
        f"cannot reach {server} to {action}: {_reason(exc)}; check that the server is running and "
        "DANGAN_STORAGE__S3__ENDPOINT/SECURE are right"
    )


def _timed_out(exc: BaseException) -> bool:
    """Whether a timeout is anywhere in the chain (urllib3 wraps socket timeouts in its own errors)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, TimeoutError | urllib3.exceptions.TimeoutError):
            return True
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        todo.extend(item for item in linked if isinstance(item, BaseException))
    return False


def _reason(exc: BaseException) -> str:
    """The innermost readable cause: 'Connection refused', 'Connection reset by peer', 'Remote end closed ...'."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    inner = [arg for arg in exc.args if isinstance(arg, BaseException)]
    if inner:
        return _reason(inner[-1])
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


def _recorded_sha256(metadata: Mapping[str, str] | None) -> str | None:
    """The SHA-256 put_file recorded, if the object has one that looks like a SHA-256."""
    for name, value in (metadata or {}).items():
        if name.lower() == SHA256_METADATA and _HEX_SHA256.fullmatch(value):
            return value
    return None


class _HashingReader(io.RawIOBase):
    """Hash exactly the bytes minio sends: never more than length, and refuse a source that ends early."""

    def __init__(self, source: BinaryIO, *, key: str, length: int) -> None:
        super().__init__()
        self._source = source
        self._key = key
        self._remaining = length
        self._length = length
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._remaining == 0 or len(view) == 0:
            return 0
        data = self._source.read(min(len(view), self._remaining))
        if not data:
            raise IntegrityFailure(
                f"the source of {self._key} ended after {self._length - self._remaining} of {self._length} "
                "bytes; it changed while uploading, nothing was stored"
            )
        self._digest.update(data)
        self._remaining -= len(data)
        view[: len(data)] = data
        return len(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class _ResponseStream(io.RawIOBase):
    """A urllib3 response as a raw stream; closing it gives the connection back to the pool."""

    def __init__(self, response: urllib3.BaseHTTPResponse, *, server: str, key: str) -> None:
        super().__init__()
        self._response = response
        self._server = server
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._response.read(len(view))
        except _TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self._server, f"finish reading {self._key}") from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._response.close()
                self._response.release_conn()
            finally:
                super().close()
