"""Master keys of encryption at rest, for the system administrator: status (which keys, how many objects each
wraps, whether they are in a backup's escrow), rotation (a new active key, every live data key rewrapped — the
catalogue rows only, no object rewritten — the old key retired), recovery of a lost keyring from a backup's key
escrow, and sealing records raised to an encrypted level. Envelope: storage_config/encryption.py."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from api.preservation.backup_targets import BackupTargets, TargetSpec, declared_spec, open_spec
from api.preservation.key_escrow import install_keyring, read_escrow, required_secret
from api.preservation.restore import latest_manifest
from api.sealing import has_encrypted_objects, seal_of
from api.search.sealing import pending_records
from api.views.keys import KeyRecoveryView, KeyRotationView, KeyStatusView, MasterKeyView
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import ConfigurationError, KeyUnavailable, NotFound
from archive.events import AuditAction
from archive.keys import MANIFEST_PATTERN, MANIFEST_PREFIX
from archive.models import StoredObject
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.escrow import EscrowPayload, EscrowSecret
from archive.preservation.manifest import Manifest
from storage_config.keyring import FileKeyProvider


class KeyService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def status(self, principal: Principal) -> KeyStatusView:
        authorize(principal.roles, Action.MANAGE_KEYS)
        return self.key_status()

    def key_status(self) -> KeyStatusView:
        """The status without a permission check (for `dangan status`, whose caller was checked already)."""
        settings, provider = self.context.settings, self.context.envelope.provider
        with self.context.db.read() as session:
            per_key = dict(
                session.execute(
                    select(StoredObject.key_id, func.count())
                    .where(StoredObject.key_id.is_not(None))
                    .group_by(StoredObject.key_id)
                ).all()
            )
        present = not isinstance(provider, FileKeyProvider) or provider.exists()
        keys = [
            MasterKeyView(
                key_id=info.key_id,
                state=info.state,
                created_at=info.created_at,
                escrowed=info.escrowed,
                objects=int(per_key.get(info.key_id, 0)),
            )
            for info in (provider.master_keys() if present else [])
        ]
        return KeyStatusView(
            enabled=settings.encryption.enabled,
            min_level=settings.encryption.min_level,
            provider=settings.encryption.provider,
            keyring_present=present,
            encrypted_objects=sum(int(count) for count in per_key.values()),
            pending_records=len(pending_records(self.context)),
            keys=keys,
            warnings=key_warnings(keys, present=present, needed=bool(per_key), known={str(k) for k in per_key}),
        )

    def rotate(self, principal: Principal, *, client: str | None = None) -> KeyRotationView:
        """A new active master key; every data key rewrapped by it in one transaction with the audit event and a
        history event per object. A crash after the new key is made leaves rows wrapped by the retired key, which
        is kept: they stay readable, and rotating again rewraps them."""
        authorize(principal.roles, Action.MANAGE_KEYS)
        envelope = self.context.envelope
        old = [info.key_id for info in envelope.provider.master_keys()] if self._present() else []
        new_id = envelope.provider.rotate()
        rewrapped = 0
        with self.context.db.write() as session:
            rows = session.scalars(select(StoredObject).where(StoredObject.key_id.is_not(None))).all()
            events = []
            for row in rows:
                seal = seal_of(row)
                if seal is None or row.key_id == new_id:
                    continue
                previous = row.key_id
                row.key_id, row.wrapped_key = envelope.rewrap(seal)
                rewrapped += 1
                detail = {"from_key": previous, "to_key": new_id, "role": row.role}
                events.append(
                    history.Event(
                        row.document_id, history.EventType.KEY_ROTATION, principal.username, row.key, detail=detail
                    )
                )
            history.record_many(session, events)
            audit.record(
                session,
                actor=principal.username,
                action=AuditAction.KEYS_ROTATE,
                target=f"key:{new_id}",
                client=client,
                roles=principal.roles,
                details={"new_key": new_id, "retired": old, "rewrapped": rewrapped},
            )
        return KeyRotationView(new_key_id=new_id, retired=old, rewrapped=rewrapped)

    def _present(self) -> bool:
        provider = self.context.envelope.provider
        return not isinstance(provider, FileKeyProvider) or provider.exists()

    def recover(
        self,
        principal: Principal,
        *,
        target: str,
        path: Path | None = None,
        run_id: int | None = None,
        client: str | None = None,
    ) -> KeyRecoveryView:
        """Put the master keys back from the newest (or the given) backup run's key escrow, opened with the escrow
        secret; keys already in the keyring are kept."""
        authorize(principal.roles, Action.MANAGE_KEYS)
        if not isinstance(self.context.envelope.provider, FileKeyProvider):
            raise ConfigurationError("the configured key provider keeps its own keys: recover them from it")
        store = self._target_store(target, path)  # an unknown target is not found, whatever the settings
        secret = required_secret(self.context.settings)
        manifest, escrow = escrow_with_keyring(store, target, run_id, secret)
        added = install_keyring(self.context.settings, escrow, where=f"the key escrow of backup run {manifest.run_id}")
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                action=AuditAction.KEYS_RECOVER,
                target=f"backup_target:{target}",
                client=client,
                roles=principal.roles,
                details={"run": manifest.run_id, "added": added},
            )
        keys = self.key_status().keys
        return KeyRecoveryView(target=target, run_id=manifest.run_id, added=added, keys=keys)

    def _target_store(self, target: str, path: Path | None) -> BlobStore:
        if path is not None:
            spec = TargetSpec(name=target, kind="local", path=str(path.expanduser().resolve()), source="recover")
            return open_spec(spec, self.context.settings)
        try:
            return BackupTargets(self.context).open(BackupTargets(self.context).spec(target))
        except NotFound:
            declared = declared_spec(self.context.settings, target)
            if declared is None:
                raise
            return open_spec(declared, self.context.settings)


def escrow_with_keyring(
    store: BlobStore, target: str, run_id: int | None, secret: EscrowSecret
) -> tuple[Manifest, EscrowPayload]:
    """The given run's escrow, or the newest run's whose escrow carries a master keyring (a run made while the
    keyring was missing carries none: the one before it still does)."""
    if run_id is not None:
        runs = [run_id]
    else:
        runs = sorted(
            (int(m.group(1)) for key in store.iter_keys(MANIFEST_PREFIX) if (m := MANIFEST_PATTERN.match(key))),
            reverse=True,
        )
        if not runs:
            latest_manifest(store, target, None)  # raises NotFound saying the target holds no run
    for run in runs:
        manifest = latest_manifest(store, target, run)
        if manifest.escrow is None:
            continue
        escrow = read_escrow(secret, store, manifest)  # a wrong secret: refused, nothing written
        if escrow.master_keyring is not None:
            return manifest, escrow
    raise KeyUnavailable(
        f"no backup run {'' if run_id is None else f'{run_id} '}of {target!r} carries a master keyring in its key "
        "escrow (they ran before encryption at rest, without an escrow secret, or while the keyring was missing); "
        "try another target"
    )


def key_warnings(keys: list[MasterKeyView], *, present: bool, needed: bool, known: set[str]) -> list[str]:
    """What `dangan keys status` and `dangan status` say loudly: a keyring missing while objects need it, master
    keys the catalogue names that are not in it, an active key in no backup escrow yet."""
    warnings = []
    if not present and needed:
        warnings.append(
            "the master keyring is MISSING and encrypted records cannot be read; recover it from a backup's key "
            "escrow now: `dangan keys recover --target NAME`"
        )
    absent = sorted(known - {key.key_id for key in keys})
    if present and absent:
        warnings.append(
            f"master key(s) {', '.join(absent)} wrap live objects but are not in the keyring; recover them: "
            "`dangan keys recover --target NAME`"
        )
    for key in keys:
        if key.state == "active" and not key.escrowed:
            warnings.append(
                f"the active master key {key.key_id} is in no backup's key escrow yet: if this machine's keyring "
                "is lost, records encrypted under it are lost; run a backup (`dangan backup run`) with the escrow "
                "secret set"
            )
    return warnings


__all__ = ["KeyService", "has_encrypted_objects", "key_warnings"]  # has_encrypted_objects: for `dangan status`
