"""Key escrow: the secrets a restore needs, sealed into every backup run so that losing the primary does not
lose them (pure: plain values in, bytes out; the caller says where the secret comes from).

Why: the Ed25519 key that signs the access log's checkpoints (archive/audit/keys.py) lives beside the data.
A system rebuilt from a backup without it signs with a new key, and its own log then verifies as TAMPERED
("checkpoint 1: it is signed by a different key"). So each backup run writes `escrow/<run>.json` (key from
archive/keys.py) next to its manifest, which lists and hashes it.

The choice:

- **Cipher**: AES-256-GCM (`cryptography`), a fresh 96-bit nonce per escrow. GCM authenticates: a wrong
  secret and an altered escrow are both refused (the tag does not verify), never half-decrypted.
- **Key**: derived with scrypt (n=2^15, r=8, p=1, a fresh 16-byte salt per escrow) from the *escrow secret*:
  either a passphrase (DANGAN_BACKUP_ESCROW_PASSPHRASE) or the bytes of an escrow key file
  (DANGAN_BACKUP_ESCROW_KEY_FILE, at least 32 random bytes: `head -c 32 /dev/urandom > escrow.key`). The same
  derivation for both keeps one code path; for a random key file it only costs a tenth of a second.
- **Where the secret lives**: never in the archive's data directory nor in a backup. Keep it with the
  emergency plan (a sealed envelope, a password safe, a second administrator): the restore asks for it.
- **Authenticated header**: the format, cipher, KDF parameters, the kind of secret, the run and the public key's
  fingerprint are the AEAD's associated data, readable before decrypting (a restore says which key it expects)
  and impossible to change unnoticed.
- **What is sealed**: the signing key (PEM), the master keyring of encryption at rest (every master key, active
  and retired: without them the encrypted records of the backup cannot be read; storage_config/keyring.py) and
  the few settings a restore needs to rebuild what the backup describes (search engine, default fonds and
  level, audit retention): JSON, see `EscrowPayload`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from archive.errors import ConfigurationError

FORMAT = "dangan-key-escrow/1"
CIPHER = "AES-256-GCM"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_KEY_FILE_BYTES = 32
PASSPHRASE, KEY_FILE = "passphrase", "key_file"
SECRET_HINT = (
    "set DANGAN_BACKUP_ESCROW_PASSPHRASE to the escrow passphrase, or DANGAN_BACKUP_ESCROW_KEY_FILE to the escrow "
    "key file, that were set when the backup ran"
)


@dataclass(frozen=True)
class EscrowSecret:
    """What the escrow key is derived from: a passphrase or the bytes of a key file (`kind` says which)."""

    kind: str
    material: bytes = field(repr=False)


@dataclass(frozen=True)
class EscrowPayload:
    """What a restore needs that the backup's objects and catalogue do not hold."""

    audit_signing_key_pem: str
    public_key_fingerprint: str
    settings: dict[str, Any] = field(default_factory=dict)
    master_keyring: str | None = field(default=None, repr=False)  # None: no keyring (or a KMS keeps the keys)


def seal(secret: EscrowSecret, payload: EscrowPayload, *, run_id: int, created_at: str) -> bytes:
    """The payload encrypted under a key derived from the secret, as the JSON bytes of an escrow file."""
    salt, nonce = os.urandom(16), os.urandom(12)
    header: dict[str, Any] = {
        "format": FORMAT,
        "cipher": CIPHER,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "secret": secret.kind,
        "run_id": run_id,
        "created_at": created_at,
        "public_key_fingerprint": payload.public_key_fingerprint,
    }
    plaintext = json.dumps(
        {
            "audit_signing_key_pem": payload.audit_signing_key_pem,
            "public_key_fingerprint": payload.public_key_fingerprint,
            "settings": payload.settings,
            "master_keyring": payload.master_keyring,
        },
        sort_keys=True,
    ).encode("utf-8")
    ciphertext = AESGCM(_derive(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, plaintext, _aad(header))
    document = {**header, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
    return json.dumps(document, sort_keys=True, indent=1).encode("utf-8")


def read_header(data: bytes, *, where: str) -> dict[str, Any]:
    """The escrow's readable header (ConfigurationError when the file is not an escrow of this format)."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"format {document.get('format') if isinstance(document, dict) else None!r}")
        for name in ("cipher", "kdf", "secret", "run_id", "public_key_fingerprint", "nonce", "ciphertext"):
            if name not in document:
                raise ValueError(f"no {name}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{where} is not a readable key escrow ({exc}); restore from another backup run"
        ) from exc
    return document


def open_escrow(secret: EscrowSecret, data: bytes, *, where: str) -> EscrowPayload:
    """Decrypt an escrow file; ConfigurationError saying what to do when the secret is wrong or it was altered."""
    document = read_header(data, where=where)
    header = {k: v for k, v in document.items() if k not in ("nonce", "ciphertext")}
    kdf = document["kdf"]
    try:
        salt, nonce = base64.b64decode(kdf["salt"]), base64.b64decode(document["nonce"])
        ciphertext = base64.b64decode(document["ciphertext"])
        key = _derive(secret, salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag as exc:
        sealed_with = "passphrase" if document["secret"] == PASSPHRASE else "key file"
        raise ConfigurationError(
            f"the escrow secret does not open {where} (it was sealed with an escrow {sealed_with}, for the signing "
            f"key {str(document['public_key_fingerprint'])[:16]}…): the {secret.kind.replace('_', ' ')} given is "
            f"wrong, or the escrow was altered; {SECRET_HINT}"
        ) from exc
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ConfigurationError(
            f"{where} is not a readable key escrow ({exc}); restore from another backup run"
        ) from exc
    fields = json.loads(plaintext)
    return EscrowPayload(
        audit_signing_key_pem=str(fields["audit_signing_key_pem"]),
        public_key_fingerprint=str(fields["public_key_fingerprint"]),
        settings=dict(fields.get("settings") or {}),
        master_keyring=fields.get("master_keyring"),
    )


def key_file_secret(data: bytes, *, path: str) -> EscrowSecret:
    """An escrow secret from a key file's bytes (surrounding whitespace ignored, so a hex or base64 line works)."""
    material = data.strip()
    if len(material) < MIN_KEY_FILE_BYTES:
        raise ConfigurationError(
            f"the escrow key file {path} holds {len(material)} byte(s); it needs at least {MIN_KEY_FILE_BYTES} "
            "random bytes (make one with `head -c 32 /dev/urandom > escrow.key` and keep it off this machine)"
        )
    return EscrowSecret(KEY_FILE, material)


def passphrase_secret(passphrase: str) -> EscrowSecret:
    if len(passphrase) < 12:
        raise ConfigurationError(
            "DANGAN_BACKUP_ESCROW_PASSPHRASE is shorter than 12 characters; choose a longer escrow passphrase"
        )
    return EscrowSecret(PASSPHRASE, passphrase.encode("utf-8"))


def _derive(secret: EscrowSecret, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret.material)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
