"""The envelope of encryption at rest on its own (storage_config/encryption.py) and the one contract every
master-key provider meets (storage_config/keyring.py KEY_PROVIDERS): chunked AES-256-GCM that refuses changed,
truncated, reordered or misnamed objects; wrapped data keys; rotation keeping old keys; the keyring's escrow
material round-tripping; a missing keyring never silently replaced."""

from __future__ import annotations

import hashlib
import io
import os
import struct
from pathlib import Path

import pytest

from archive.errors import ConfigurationError, IntegrityFailure, KeyUnavailable
from archive.ports import KeyProvider
from storage_config.encryption import (
    HEADER,
    TAG_SIZE,
    Envelope,
    PlaintextStore,
    Seal,
    plain_size_of,
    seal_bytes,
    unwrap_key,
    wrap_key,
)
from storage_config.keyring import KEY_PROVIDERS, FileKeyProvider, open_key_provider
from storage_config.local_store import LocalBlobStore

CHUNK = 64  # small chunks: every path (several chunks, an exact multiple, one short last chunk) in a few bytes


def _open(data: bytes, key: bytes, name: str, envelope: Envelope) -> bytes:
    key_id, wrapped = envelope.provider.wrap(key)
    with envelope.open(io.BytesIO(data), Seal(key_id, wrapped, name), where="test") as stream:
        return stream.read()


@pytest.fixture
def envelope(tmp_path: Path) -> Envelope:
    return Envelope(FileKeyProvider(tmp_path / "keys" / "ring.json"), chunk_size=CHUNK)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 7])
def test_sealed_bytes_open_to_the_same_plaintext(envelope: Envelope, size: int) -> None:
    plaintext, key = os.urandom(size), os.urandom(32)
    sealed = seal_bytes(plaintext, key, "obj", chunk_size=CHUNK)
    assert plaintext not in sealed or size == 0
    assert plain_size_of(len(sealed), CHUNK) == size
    assert len(sealed) == HEADER.size + size + TAG_SIZE * max(1, -(-size // CHUNK))
    assert _open(sealed, key, "obj", envelope) == plaintext


def test_changed_truncated_reordered_or_renamed_objects_do_not_open(envelope: Envelope) -> None:
    plaintext, key = os.urandom(3 * CHUNK), os.urandom(32)
    sealed = seal_bytes(plaintext, key, "obj", chunk_size=CHUNK)
    body = CHUNK + TAG_SIZE
    flipped = bytearray(sealed)
    flipped[HEADER.size + 5] ^= 1
    chunks = [sealed[HEADER.size + i * body : HEADER.size + (i + 1) * body] for i in range(3)]
    swapped = sealed[: HEADER.size] + chunks[1] + chunks[0] + chunks[2]
    for bad, name in (
        (bytes(flipped), "obj"),
        (sealed[: HEADER.size + 2 * body], "obj"),  # the last chunk cut off: the one before is not marked last
        (swapped, "obj"),
        (sealed, "another object"),
        (b"not an envelope at all, just bytes", "obj"),
    ):
        with pytest.raises(IntegrityFailure):
            _open(bad, key, name, envelope)
    with pytest.raises(IntegrityFailure):
        _open(sealed, os.urandom(32), "obj", envelope)  # another data key


def test_a_wrapped_key_opens_only_with_its_master_key_and_id() -> None:
    master, data_key = os.urandom(32), os.urandom(32)
    wrapped = wrap_key(master, "mk-1", data_key)
    assert data_key not in wrapped and unwrap_key(master, "mk-1", wrapped) == data_key
    with pytest.raises(KeyUnavailable):
        unwrap_key(os.urandom(32), "mk-1", wrapped)
    with pytest.raises(KeyUnavailable):
        unwrap_key(master, "mk-2", wrapped)


@pytest.mark.parametrize("name", sorted(KEY_PROVIDERS))
def test_every_key_provider_meets_the_contract(name: str, tmp_path: Path) -> None:
    provider = open_key_provider(name, tmp_path / "keys" / "ring.json", lambda: True)
    assert isinstance(provider, KeyProvider)
    data_key = os.urandom(32)
    first_id, wrapped = provider.wrap(data_key)
    assert provider.unwrap(first_id, wrapped) == data_key
    [info] = provider.master_keys()
    assert (info.key_id, info.state, info.escrowed) == (first_id, "active", False)
    second_id = provider.rotate()
    assert second_id != first_id and provider.wrap(data_key)[0] == second_id
    assert provider.unwrap(first_id, wrapped) == data_key  # a retired key still unwraps (older backups)
    assert [(k.key_id, k.state) for k in provider.master_keys()] == [(second_id, "active"), (first_id, "retired")]
    with pytest.raises(KeyUnavailable):
        provider.unwrap("mk-unknown", wrapped)
    material = provider.escrow_material()
    if material is not None:
        provider.mark_escrowed([second_id])
        assert {k.key_id: k.escrowed for k in provider.master_keys()} == {second_id: True, first_id: False}


def test_the_keyring_file_is_private_and_its_escrow_copy_restores_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ring.json"
    provider = FileKeyProvider(path)
    key_id, wrapped = provider.wrap(b"k" * 32)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    material = provider.escrow_material()
    assert material is not None
    path.unlink()
    with pytest.raises(KeyUnavailable, match="dangan keys recover"):
        provider.unwrap(key_id, wrapped)
    assert FileKeyProvider(path).install(material, where="test") == [key_id]
    assert FileKeyProvider(path).unwrap(key_id, wrapped) == b"k" * 32
    with pytest.raises(ConfigurationError):
        FileKeyProvider(path).install('{"format": "something else"}', where="test")


def test_a_missing_keyring_is_not_replaced_while_objects_need_it(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path / "ring.json", may_create=lambda: False)
    assert provider.ensure() is False
    with pytest.raises(KeyUnavailable, match="missing"):
        provider.wrap(b"k" * 32)
    assert not (tmp_path / "ring.json").exists()


def test_the_plaintext_store_decrypts_what_its_lookup_names(envelope: Envelope, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "objects")
    data_key = os.urandom(32)
    key_id, wrapped = envelope.provider.wrap(data_key)
    seals = {"derived/ab/x.jpg": Seal(key_id, wrapped, "derived/ab/x.jpg")}
    plain = PlaintextStore(store, envelope, seals.get)
    image = b"\xff\xd8\xff" + os.urandom(500)
    info = plain.put_bytes("derived/ab/x.jpg", image)
    assert info.size == len(image)
    with store.open_read("derived/ab/x.jpg") as raw:
        assert raw.read(8) == b"DANGENC1"
    with plain.open_read("derived/ab/x.jpg") as stream:
        assert stream.read() == image
    stat = plain.stat("derived/ab/x.jpg")
    assert stat is not None and stat.size == len(image)
    plain.put_bytes("reports/clear.json", b"{}")  # no seal: stored as given
    with store.open_read("reports/clear.json") as raw:
        assert raw.read() == b"{}"
    assert struct.calcsize(">8sI8s") == HEADER.size == 20


def test_content_that_changed_since_it_was_hashed_is_not_sealed(envelope: Envelope, tmp_path: Path) -> None:
    from api.sealing import seal_content

    source = tmp_path / "scan.bin"
    source.write_bytes(b"the bytes that were hashed")
    expected = hashlib.sha256(b"the bytes that were hashed").hexdigest()
    sealed = seal_content(envelope, source, expected, tmp_path / "seal")
    assert sealed.plain_sha256 == expected and sealed.path.is_file()
    source.write_bytes(b"other bytes written meanwhile")
    with pytest.raises(IntegrityFailure):
        seal_content(envelope, source, expected, tmp_path / "seal")
    assert sorted(p.name for p in (tmp_path / "seal").iterdir()) == [sealed.path.name]  # nothing else kept
