"""The key escrow of backups, wired to the settings: which secret seals it, writing it in a run, opening it in a
restore. The format and the cryptographic choices: archive/preservation/escrow.py."""

from __future__ import annotations

from archive.audit.keys import load_or_create_signing_key, private_key_pem, public_key_fingerprint
from archive.errors import ConfigurationError, NotFound
from archive.hashing import sha256_bytes
from archive.keys import escrow_key
from archive.models import utcnow
from archive.ports import BlobStore, KeyProvider
from archive.preservation.escrow import (
    SECRET_HINT,
    EscrowPayload,
    EscrowSecret,
    key_file_secret,
    open_escrow,
    passphrase_secret,
    seal,
)
from archive.preservation.manifest import Entry, Manifest
from storage_config.keyring import FileKeyProvider
from storage_config.settings import Settings

_MAX_KEY_FILE = 64 * 1024
_MAX_ESCROW = 256 * 1024
# Settings a restored system should share with the one backed up (none of them secret).
CARRIED_SETTINGS = ("search_engine", "default_fonds", "default_level", "audit_retention_days")


def escrow_secret(settings: Settings) -> EscrowSecret | None:
    """The configured escrow secret (None when neither is set; a ConfigurationError when both are)."""
    passphrase, key_file = settings.backup_escrow_passphrase, settings.backup_escrow_key_file
    if passphrase is not None and key_file is not None:
        raise ConfigurationError(
            "both DANGAN_BACKUP_ESCROW_PASSPHRASE and DANGAN_BACKUP_ESCROW_KEY_FILE are set; keep the one the "
            "backups were sealed with"
        )
    if key_file is not None:
        path = key_file.expanduser()
        try:
            with path.open("rb") as source:
                data = source.read(_MAX_KEY_FILE + 1)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the escrow key file DANGAN_BACKUP_ESCROW_KEY_FILE={path}: {exc.strerror}"
            ) from exc
        if len(data) > _MAX_KEY_FILE:
            raise ConfigurationError(f"DANGAN_BACKUP_ESCROW_KEY_FILE={path} is too large to be an escrow key file")
        return key_file_secret(data, path=str(path))
    if passphrase is not None:
        return passphrase_secret(passphrase.get_secret_value())
    return None


def required_secret(settings: Settings) -> EscrowSecret:
    secret = escrow_secret(settings)
    if secret is None:
        raise ConfigurationError(
            f"no escrow secret: the backup's audit signing key is sealed and a restore needs its secret; {SECRET_HINT}"
        )
    return secret


def write_escrow(
    settings: Settings, store: BlobStore, run_id: int, provider: KeyProvider | None = None
) -> Entry | None:
    """Seal the signing key, the master keyring (of `provider`) and the carried settings into the target for this
    run, then mark the master keys escrowed; None without a secret."""
    secret = escrow_secret(settings)
    if secret is None:
        return None
    key = load_or_create_signing_key(settings.resolved_audit_key_path)
    keyring = provider.escrow_material() if provider is not None else None
    payload = EscrowPayload(
        audit_signing_key_pem=private_key_pem(key).decode("ascii"),
        public_key_fingerprint=public_key_fingerprint(key),
        settings={name: getattr(settings, name) for name in CARRIED_SETTINGS},
        master_keyring=keyring,
    )
    data = seal(secret, payload, run_id=run_id, created_at=utcnow().isoformat())
    entry = Entry(escrow_key(run_id), len(data), sha256_bytes(data))
    store.put_bytes(entry.key, data)
    if provider is not None and keyring is not None:
        provider.mark_escrowed([info.key_id for info in provider.master_keys()])
    return entry


def read_escrow(secret: EscrowSecret, store: BlobStore, manifest: Manifest) -> EscrowPayload:
    """Open the escrow a manifest lists (hash-checked against it first)."""
    entry = manifest.escrow
    if entry is None:
        raise ConfigurationError(
            f"backup run {manifest.run_id} holds no key escrow (no escrow secret was set when it ran): its access "
            "log would verify as signed by another key; restore from a run made with "
            "DANGAN_BACKUP_ESCROW_PASSPHRASE or DANGAN_BACKUP_ESCROW_KEY_FILE set"
        )
    try:
        with store.open_read(entry.key) as stream:
            data = stream.read(_MAX_ESCROW + 1)
    except NotFound as exc:
        raise NotFound(
            f"the key escrow {entry.key} of backup run {manifest.run_id} is missing from the target"
        ) from exc
    if sha256_bytes(data) != entry.sha256:
        raise ConfigurationError(
            f"the key escrow {entry.key} does not hash to what manifest {manifest.run_id} recorded; restore from "
            "another backup run (--snapshot RUN)"
        )
    return open_escrow(secret, data, where=f"the key escrow of backup run {manifest.run_id}")


def differing_settings(settings: Settings, carried: dict[str, object]) -> dict[str, tuple[object, object]]:
    """Carried settings the restoring environment sets otherwise: name → (backed-up value, current value)."""
    return {
        name: (value, getattr(settings, name))
        for name, value in carried.items()
        if name in CARRIED_SETTINGS and getattr(settings, name) != value
    }


def install_keyring(settings: Settings, escrow: EscrowPayload, *, where: str) -> list[str]:
    """Put the escrow's master keys into the keyring file (merged with any there); returns the ids added."""
    if escrow.master_keyring is None:
        return []
    return FileKeyProvider(settings.resolved_keyring_path).install(escrow.master_keyring, where=where)
