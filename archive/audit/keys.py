"""The Ed25519 key that signs audit checkpoints: loaded from a PEM file, created there (0600) when absent.

Plain values only: the caller (api wiring) decides where the key lives.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from archive.diskfull import disk_full
from archive.durable import fsync_dir
from archive.errors import ConfigurationError

_MAX_KEY_FILE = 64 * 1024


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The signing key stored at `path` (PEM, PKCS8, unencrypted); a new one is written atomically if absent.

    Creation never overwrites: if another process creates the file first, its key is loaded and used.
    """
    try:
        data = _read_key_file(path)
    except FileNotFoundError:
        return _create_key_file(path)
    return _parse_key(path, data)


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the public key (what checkpoints carry and verifiers trust)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw public key bytes: short enough to print, compare and pin."""
    return hashlib.sha256(public_key_raw(key)).hexdigest()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public key as SubjectPublicKeyInfo PEM, for handing to an auditor who verifies independently."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as source:
            data = source.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigurationError(f"cannot read the audit signing key at {path}: {exc}") from exc
    if len(data) > _MAX_KEY_FILE:
        raise ConfigurationError(f"{path} is too large to be an Ed25519 PEM key; point the key path at the key file")
    return data


def _parse_key(path: Path, data: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{path} is not an unencrypted PEM private key ({exc}); restore the key file or move it aside"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(
            f"{path} holds a {type(key).__name__}, not an Ed25519 key; audit checkpoints need Ed25519"
        )
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS8 PEM: what the key file holds (and a backup's escrow seals)."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def install_signing_key(path: Path, pem: bytes) -> Ed25519PrivateKey:
    """Put a key recovered from an escrow at `path` (0600, atomic). Never overwrites: when a key is there
    already, it must be the same key (a ConfigurationError otherwise: move the other one aside first)."""
    key = _parse_key(path, pem)
    installed = _create_key_file(path, key)
    if public_key_raw(installed) != public_key_raw(key):
        raise ConfigurationError(
            f"{path} holds another audit signing key than the escrowed one; move it aside and restore again"
        )
    return installed


def _create_key_file(path: Path, key: Ed25519PrivateKey | None = None) -> Ed25519PrivateKey:
    key = key or Ed25519PrivateKey.generate()
    pem = private_key_pem(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")  # mkstemp: mode 0600
    except OSError as exc:
        raise ConfigurationError(f"cannot create the audit signing key at {path}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp_name, path)  # atomic and never clobbers an existing key
        except FileExistsError:
            return _parse_key(path, _read_key_file(path))
        fsync_dir(path.parent)
    except OSError as exc:
        full = disk_full(exc, place="audit key folder", path=path.parent, needed=len(pem), what="the signing key")
        if full is not None:
            raise full from exc
        raise ConfigurationError(f"cannot create the audit signing key at {path}: {exc}") from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return key
