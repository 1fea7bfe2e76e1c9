"""The one contract every BlobStore backend must meet, run against each backend in STORE_FACTORIES.

Local runs on tmp_path, S3 on a real S3 server (moto, server mode) on loopback with a fresh bucket per
test. Stores are built through open_store, so the registry is exercised too.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path, PosixPath
from typing import Any

import pytest

from archive.errors import ConfigurationError, IntegrityFailure, InvalidInput, NotFound, StorageUnavailable
from archive.hashing import CHUNK
from archive.ports import BlobStore, content_key
from storage_config.local_store import LocalBlobStore
from storage_config.s3_store import S3BlobStore
from storage_config.settings import S3Options, Settings, StorageOptions
from storage_config.stores import STORE_FACTORIES, open_store
from tests.s3server import S3Endpoint, byte_flipping_proxy, closed_port, running_s3_server

MIB = 1024 * 1024
UNSAFE_KEYS = ["../x", "/abs", "a/../../b", "a//b", "a\\b", "", ".", "a/./b", ".tmp/put-x", "a/"]
WRONG_SHA = "0" * 64


def fresh_bucket() -> str:
    return f"contract-{uuid.uuid4().hex[:16]}"


def s3_settings(server: S3Endpoint, tmp_path: Path, **s3: Any) -> Settings:
    options = S3Options.model_validate(
        {
            "endpoint": server.endpoint,
            "bucket": fresh_bucket(),
            "access_key": server.access_key,
            "secret_key": server.secret_key,
            "secure": False,
            **s3,
        }
    )
    return Settings(home=tmp_path / "home", storage=StorageOptions(backend="s3", s3=options))


def s3_store(server: S3Endpoint, **options: Any) -> S3BlobStore:
    arguments: dict[str, Any] = {
        "endpoint": server.endpoint,
        "bucket": fresh_bucket(),
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "secure": False,
        **options,
    }
    return S3BlobStore(**arguments)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        local = StorageOptions(backend="local", path=tmp_path / "objects")
        settings = Settings(home=tmp_path / "home", storage=local)
    else:
        settings = s3_settings(request.getfixturevalue("s3_server"), tmp_path)
    opened = open_store(settings)
    assert opened.name == request.param
    assert isinstance(opened, BlobStore)
    return opened


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def read_all(store: BlobStore, key: str) -> bytes:
    with store.open_read(key) as stream:
        return stream.read()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the contract ---------------------------------------------------------------------------------------


def test_put_file_round_trips_exact_bytes(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(70_000) + b"\x00\r\n\xff"
    source = write_file(tmp_path / "p.tif", data)
    info = store.put_file("scans/box-1/page-001.tif", source, expected_sha256=sha(data))
    assert (info.key, info.size, info.sha256) == ("scans/box-1/page-001.tif", len(data), sha(data))
    assert read_all(store, "scans/box-1/page-001.tif") == data


def test_put_bytes_round_trips_and_stat_reports_size(store: BlobStore) -> None:
    data = "档案 text layer\n".encode()
    info = store.put_bytes("text/item-7.txt", data)
    assert (info.key, info.size, info.sha256) == ("text/item-7.txt", len(data), sha(data))
    assert read_all(store, "text/item-7.txt") == data
    stat = store.stat("text/item-7.txt")
    assert stat is not None
    assert (stat.key, stat.size) == ("text/item-7.txt", len(data))
    assert stat.sha256 in (None, sha(data))  # a backend may not record it, but never records a wrong one


def test_empty_object_round_trips(store: BlobStore, tmp_path: Path) -> None:
    info = store.put_file("empty.bin", write_file(tmp_path / "empty", b""), expected_sha256=sha(b""))
    assert (info.size, info.sha256) == (0, sha(b""))
    assert read_all(store, "empty.bin") == b""
    assert store.stat("empty.bin") is not None


def test_content_keys_work(store: BlobStore) -> None:
    data = b"original master scan"
    key = content_key(sha(data))
    assert store.put_bytes(key, data).sha256 == sha(data)
    assert read_all(store, key) == data
    assert list(store.iter_keys("sha256/")) == [key]


def test_absent_key_stat_is_none_and_read_is_not_found(store: BlobStore) -> None:
    assert store.stat("nothing/here") is None
    with pytest.raises(NotFound):
        store.open_read("nothing/here")


def test_expected_sha256_mismatch_stores_nothing(store: BlobStore, tmp_path: Path) -> None:
    source = write_file(tmp_path / "scan.png", b"bytes that do not hash to zeros")
    with pytest.raises(IntegrityFailure):
        store.put_file("scans/bad.png", source, expected_sha256=WRONG_SHA)
    assert store.stat("scans/bad.png") is None
    assert "scans/bad.png" not in set(store.iter_keys())
    assert list(store.iter_keys()) == []


def test_expected_sha256_mismatch_keeps_the_previous_object(store: BlobStore, tmp_path: Path) -> None:
    store.put_bytes("scans/kept.png", b"good old bytes")
    with pytest.raises(IntegrityFailure):
        store.put_file("scans/kept.png", write_file(tmp_path / "new", b"other"), expected_sha256=WRONG_SHA)
    assert read_all(store, "scans/kept.png") == b"good old bytes"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_everywhere(store: BlobStore, tmp_path: Path, key: str) -> None:
    source = write_file(tmp_path / "f", b"data")
    with pytest.raises(InvalidInput):
        store.put_file(key, source)
    with pytest.raises(InvalidInput):
        store.put_bytes(key, b"data")
    with pytest.raises(InvalidInput):
        store.open_read(key)
    with pytest.raises(InvalidInput):
        store.stat(key)
    with pytest.raises(InvalidInput):
        store.delete(key)
    assert list(store.iter_keys()) == []
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "b").exists()


def test_delete_removes_and_ignores_absent(store: BlobStore) -> None:
    store.delete("never/was")
    store.put_bytes("doomed", b"x")
    store.delete("doomed")
    assert store.stat("doomed") is None
    with pytest.raises(NotFound):
        store.open_read("doomed")
    store.delete("doomed")


def test_iter_keys_with_and_without_prefix(store: BlobStore) -> None:
    keys = {"a/1", "a/2", "a/deep/3", "ab", "b/1"}
    for key in keys:
        store.put_bytes(key, key.encode())
    assert set(store.iter_keys()) == keys
    assert set(store.iter_keys("")) == keys
    assert set(store.iter_keys("a/")) == {"a/1", "a/2", "a/deep/3"}
    assert set(store.iter_keys("a")) == {"a/1", "a/2", "a/deep/3", "ab"}  # a string prefix, not a folder
    assert set(store.iter_keys("a/deep/")) == {"a/deep/3"}
    assert list(store.iter_keys("zzz")) == []


def test_large_object_round_trips_and_streams_in_chunks(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(5 * MIB + 4321)  # past 5 MiB: a multipart upload on S3
    info = store.put_file("big/master.tif", write_file(tmp_path / "big", data), expected_sha256=sha(data))
    assert (info.size, info.sha256) == (len(data), sha(data))
    stat = store.stat("big/master.tif")
    assert stat is not None
    assert stat.size == len(data)
    pieces: list[bytes] = []
    with store.open_read("big/master.tif") as stream:
        while piece := stream.read(CHUNK // 4):
            assert len(piece) <= CHUNK // 4
            pieces.append(piece)
    assert len(pieces) > 20
    assert b"".join(pieces) == data
    with store.open_read("big/master.tif") as stream:  # closing early is fine and frees the connection
        assert stream.read(10) == data[:10]
    assert read_all(store, "big/master.tif") == data


def test_overwrite_replaces_the_object(store: BlobStore) -> None:
    store.put_bytes("pdfa/item-1.pdf", b"first version, longer than the second")
    info = store.put_bytes("pdfa/item-1.pdf", b"second")
    assert info.size == 6
    assert read_all(store, "pdfa/item-1.pdf") == b"second"
    stat = store.stat("pdfa/item-1.pdf")
    assert stat is not None
    assert stat.size == 6
    assert stat.sha256 in (None, sha(b"second"))
    assert list(store.iter_keys()) == ["pdfa/item-1.pdf"]


# --- registry -------------------------------------------------------------------------------------------


def test_registry_names_every_backend() -> None:
    assert set(STORE_FACTORIES) == {"local", "s3"}


def test_unknown_backend_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings = settings.model_copy(update={"storage": settings.storage.model_copy(update={"backend": "ftp"})})
    with pytest.raises(ConfigurationError, match="ftp"):
        open_store(settings)


# --- local backend --------------------------------------------------------------------------------------


def test_local_leaves_no_temp_files(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "objects")
    local.put_file("ok", write_file(tmp_path / "ok", b"fine"), expected_sha256=sha(b"fine"))
    assert list((tmp_path / "objects" / ".tmp").iterdir()) == []
    with pytest.raises(IntegrityFailure):
        local.put_file("bad", write_file(tmp_path / "bad", b"not zeros"), expected_sha256=WRONG_SHA)
    assert list((tmp_path / "objects" / ".tmp").iterdir()) == []
    assert set(local.iter_keys()) == {"ok"}


# --- S3 backend -----------------------------------------------------------------------------------------


def test_s3_records_sha256_in_metadata(s3_server: S3Endpoint) -> None:
    store = s3_store(s3_server)
    store.put_bytes("meta/x", b"recorded")
    stat = store.stat("meta/x")
    assert stat is not None
    assert stat.sha256 == sha(b"recorded")


def test_s3_without_write_verification_still_round_trips(s3_server: S3Endpoint, tmp_path: Path) -> None:
    store = s3_store(s3_server, verify_writes=False)
    data = os.urandom(1000)
    assert store.put_file("nv", write_file(tmp_path / "nv", data), expected_sha256=sha(data)).size == 1000
    assert read_all(store, "nv") == data


def test_s3_closed_port_is_unavailable_quickly() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        S3BlobStore(
            endpoint=f"127.0.0.1:{port}",
            bucket="dangan-down",
            access_key="testing",
            secret_key="testing",
            secure=False,
            timeout_seconds=1.0,
        )
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{port}" in caught.value.message
    assert "dangan-down" in caught.value.message


def test_s3_server_going_away_is_unavailable(tmp_path: Path) -> None:
    with running_s3_server() as server:
        store = s3_store(server, timeout_seconds=1.0)
        store.put_bytes("k", b"v")
    for operation in (
        lambda: store.put_bytes("k2", b"v"),
        lambda: store.put_file("k3", write_file(tmp_path / "f", b"v")),
        lambda: store.open_read("k"),
        lambda: store.stat("k"),
        lambda: store.delete("k"),
        lambda: list(store.iter_keys()),
    ):
        with pytest.raises(StorageUnavailable, match=server.endpoint):
            operation()


def test_s3_missing_bucket_without_create_is_a_configuration_error(s3_server: S3Endpoint) -> None:
    bucket = fresh_bucket()
    with pytest.raises(ConfigurationError, match=bucket):
        s3_store(s3_server, bucket=bucket, create_bucket=False)
    s3_store(s3_server, bucket=bucket)  # creates it
    assert list(s3_store(s3_server, bucket=bucket, create_bucket=False).iter_keys()) == []


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "127.0.0.1:9000/path"])
def test_s3_endpoint_with_scheme_or_path_is_a_configuration_error(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="endpoint"):
        S3BlobStore(endpoint=endpoint, bucket="dangan", access_key="a", secret_key="b", secure=False)


def test_s3_invalid_bucket_name_is_a_configuration_error(s3_server: S3Endpoint) -> None:
    with pytest.raises(ConfigurationError, match="Bad_Bucket"):
        s3_store(s3_server, bucket="Bad_Bucket")


def test_open_store_passes_s3_settings_through(s3_server: S3Endpoint, tmp_path: Path) -> None:
    settings = s3_settings(s3_server, tmp_path, create_bucket=False)
    with pytest.raises(ConfigurationError, match=settings.storage.s3.bucket):
        open_store(settings)


class _ChangesAfterHashing(PosixPath):
    """A real file that another process rewrites between the store hashing it and uploading it."""

    new_content = b""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        self.opened = getattr(self, "opened", 0) + 1
        if self.opened == 2:  # the first open hashes, the second uploads
            PosixPath(self).write_bytes(self.new_content)
        return super().open(*args, **kwargs)


@pytest.mark.parametrize("new_content", [b"short", b"same length, other bytes!!"])
def test_s3_source_changing_during_upload_stores_nothing(
    s3_server: S3Endpoint, tmp_path: Path, new_content: bytes
) -> None:
    original = b"same length, the hashed v1"
    assert len(original) == len(b"same length, other bytes!!")
    store = s3_store(s3_server)
    path = _ChangesAfterHashing(write_file(tmp_path / "changing", original))
    path.new_content = new_content
    with pytest.raises(IntegrityFailure, match="changed while uploading"):
        store.put_file("racy", path, expected_sha256=sha(original))
    assert store.stat("racy") is None
    assert list(store.iter_keys()) == []


def test_s3_write_verification_catches_a_flipped_byte(s3_server: S3Endpoint, tmp_path: Path) -> None:
    with byte_flipping_proxy(s3_server) as flipping:
        store = s3_store(flipping)
        with pytest.raises(IntegrityFailure, match="reads back"):
            store.put_file("flipped", write_file(tmp_path / "f", b"payload"), expected_sha256=sha(b"payload"))
        assert store.stat("flipped") is None
        unverified = s3_store(flipping, verify_writes=False)  # the proxy really corrupts what is read
        unverified.put_bytes("flipped", b"payload")
        assert read_all(unverified, "flipped") == b"payloae"


def test_a_working_store_says_it_is_available(store: BlobStore) -> None:
    assert store.check_available() is None  # no I/O: what the store knows of its own reachability
    store.put_bytes("avail/x", b"x")
    assert store.check_available() is None
