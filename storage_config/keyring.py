"""Master-key providers (archive.ports.KeyProvider) by name, and the keyring file that is the default one.

The keyring file (default <home>/keys/master-keys.json, mode 0600 in a 0700 folder) holds every master key this
archive made: one active (it wraps the data keys of new objects), the others retired (rotation rewrapped every
live data key, but the catalogue snapshots of older backups still name them, so they are kept). It is written
atomically (temp file, fsync, rename). Each backup run seals a copy into its key escrow and marks the keys it
carried as escrowed; `dangan keys status` and `dangan status` warn while the active key is in no escrow.

The file is made only when the catalogue holds no encrypted object (a fresh archive, or one that never
encrypted): a lost keyring is never silently replaced by a new one while objects need the old keys
(api/records/sealing.py decides; recovery is `dangan keys recover` or a restore).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.errors import ConfigurationError, KeyUnavailable
from archive.ports import KeyProvider, MasterKeyInfo
from storage_config.encryption import unwrap_key, wrap_key

FORMAT = "dangan-keyring/1"
ACTIVE, RETIRED = "active", "retired"
RECOVERY_HINT = (
    "put the keyring back from a backup's key escrow: `dangan keys recover --target NAME` with the escrow secret "
    "(DANGAN_BACKUP_ESCROW_PASSPHRASE or DANGAN_BACKUP_ESCROW_KEY_FILE) set"
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _new_key(state: str = ACTIVE) -> dict[str, Any]:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return {
        "id": f"mk-{stamp}-{os.urandom(3).hex()}",
        "material": base64.b64encode(os.urandom(32)).decode("ascii"),
        "state": state,
        "created_at": _now(),
        "escrowed": False,
    }


def parse_keyring(data: str, *, where: str) -> list[dict[str, Any]]:
    """The keys of a keyring document (ConfigurationError when it is not one)."""
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"format {document.get('format')!r}")
        keys = [dict(key) for key in document["keys"]]
        for key in keys:
            if len(base64.b64decode(key["material"])) != 32 or key["state"] not in (ACTIVE, RETIRED):
                raise ValueError(f"key {key.get('id')!r} is malformed")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"{where} is not a readable master keyring ({exc}); {RECOVERY_HINT}") from exc
    return keys


def dump_keyring(keys: list[dict[str, Any]]) -> str:
    return json.dumps({"format": FORMAT, "keys": keys}, indent=1, sort_keys=True)


class FileKeyProvider:
    """Master keys in a keyring file. `may_create` says whether a missing file may be made (with a new key)."""

    name = "file"

    def __init__(self, path: Path, *, may_create: Callable[[], bool] = lambda: True) -> None:
        self.path, self._may_create = path, may_create

    def exists(self) -> bool:
        return self.path.is_file()

    def _load(self, *, create: bool = False) -> list[dict[str, Any]]:
        if not self.path.is_file():
            if create and self._may_create():
                keys = [_new_key()]
                self._save(keys)
                return keys
            raise KeyUnavailable(f"the master keyring {self.path} is missing; {RECOVERY_HINT}")
        try:
            text = self.path.read_text("utf-8")
        except OSError as exc:
            raise KeyUnavailable(
                f"cannot read the master keyring {self.path}: {exc.strerror}; {RECOVERY_HINT}"
            ) from exc
        return parse_keyring(text, where=f"the master keyring {self.path}")

    def _save(self, keys: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dump_keyring(keys))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self.path)

    def ensure(self) -> bool:
        """Make the keyring when it is missing and may be made; True when it exists afterwards."""
        if not self.exists() and self._may_create():
            self._load(create=True)
        return self.exists()

    def _active(self, keys: list[dict[str, Any]]) -> dict[str, Any]:
        for key in keys:
            if key["state"] == ACTIVE:
                return key
        raise KeyUnavailable(f"the master keyring {self.path} has no active key; run `dangan keys rotate`")

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        active = self._active(self._load(create=True))
        return str(active["id"]), wrap_key(base64.b64decode(active["material"]), str(active["id"]), data_key)

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        for key in self._load():
            if key["id"] == key_id:
                return unwrap_key(base64.b64decode(key["material"]), key_id, wrapped)
        raise KeyUnavailable(
            f"master key {key_id} is not in the keyring {self.path} (it holds another archive's keys, or an older "
            f"copy); {RECOVERY_HINT}"
        )

    def master_keys(self) -> list[MasterKeyInfo]:
        keys = sorted(self._load(), key=lambda key: (key["state"] != ACTIVE, key["created_at"]))
        return [
            MasterKeyInfo(str(k["id"]), str(k["state"]), str(k["created_at"]), bool(k.get("escrowed"))) for k in keys
        ]

    def rotate(self) -> str:
        keys = self._load(create=True)
        for key in keys:
            key["state"] = RETIRED
        fresh = _new_key()
        self._save([*keys, fresh])
        return str(fresh["id"])

    def escrow_material(self) -> str | None:
        return dump_keyring(self._load()) if self.exists() else None

    def mark_escrowed(self, key_ids: list[str]) -> None:
        keys = self._load()
        for key in keys:
            if key["id"] in key_ids:
                key["escrowed"] = True
        self._save(keys)

    def install(self, material: str, *, where: str) -> list[str]:
        """Merge the keys of an escrowed keyring into this one (the escrow's active key stays active unless this
        keyring already has one); returns the ids added."""
        incoming = parse_keyring(material, where=where)
        current = self._load() if self.exists() else []
        known = {key["id"] for key in current}
        has_active = any(key["state"] == ACTIVE for key in current)
        added = []
        for key in incoming:
            if key["id"] not in known:
                if has_active:
                    key["state"] = RETIRED
                key["escrowed"] = True
                current.append(key)
                added.append(str(key["id"]))
        self._save(current)
        return added


def _file_provider(path: Path, may_create: Callable[[], bool]) -> KeyProvider:
    return FileKeyProvider(path, may_create=may_create)


KEY_PROVIDERS: dict[str, Callable[[Path, Callable[[], bool]], KeyProvider]] = {"file": _file_provider}


def open_key_provider(name: str, path: Path, may_create: Callable[[], bool]) -> KeyProvider:
    """The provider DANGAN_ENCRYPTION__PROVIDER names (an external KMS only needs an entry above)."""
    factory = KEY_PROVIDERS.get(name)
    if factory is None:
        known = ", ".join(sorted(KEY_PROVIDERS))
        raise ConfigurationError(f"DANGAN_ENCRYPTION__PROVIDER={name!r} is not a key provider; choose one of: {known}")
    return factory(path, may_create)
