"""Restore: rebuild a complete system on an empty machine from a backup target (`dangan restore`).

There is no running system to ask, so this is the command line's alone and needs only what a new machine has:
the settings (DANGAN_HOME empty or absent, the escrow secret, the target declared in settings or given by path)
and the target. In order, each step refusing before anything is written when it can:

1. the target's newest manifest (or the run given), and its key escrow opened with the escrow secret — a
   missing or wrong secret stops here, with nothing written;
2. the catalogue snapshot, hash-checked and integrity-checked in scratch (archive/preservation/snapshot.py),
   then moved into place; the audit signing key from the escrow put at its path;
3. the acting account, from the restored catalogue, must be a system administrator (else all is removed);
4. every object and the run's checkpoints, each re-hashed against the manifest before it is put in the store
   (the drill's restoring loop, api/preservation/backup_drill.py);
5. the search index rebuilt; then a full fixity verification, canary searches and, once the restore is
   recorded and sealed, the audit verification. The report is graded; RTO is printed per GB restored.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from api.preservation.backup_drill import GB, canary_word, restore_objects
from api.preservation.backup_targets import TargetSpec, declared_spec, open_spec
from api.preservation.key_escrow import differing_settings, install_keyring, read_escrow, required_secret
from api.preservation.maintenance import MaintenanceService
from api.preservation.verification import VerificationService
from api.search.rows import indexed_document
from api.views.preservation import Canary, RestoreView
from api.views.reports import AuditVerificationView, FindingView
from api.wiring import Context, build_context
from archive.access import Principal, search_scope, system_principal
from archive.audit import log as audit
from archive.audit.checkpoints import write_checkpoint
from archive.audit.keys import install_signing_key, public_key_fingerprint, public_key_raw
from archive.audit.verify import verify_audit_log
from archive.errors import ConfigurationError, Conflict, IntegrityFailure, InvalidInput, NotFound
from archive.events import AuditAction
from archive.finding_codes import FindingCode
from archive.hashing import sha256_bytes
from archive.keys import MANIFEST_PATTERN, MANIFEST_PREFIX, OBJECT_PREFIX, manifest_key
from archive.models import BackupRun, Document, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.manifest import Entry, Manifest, parse_manifest
from archive.preservation.snapshot import INTEGRITY_OK, SQLITE_SUFFIX, restore_catalogue
from archive.reports import Finding, Severity, grade_of
from archive.scratch import owned_prefix
from storage_config.settings import Settings
from storage_config.stores import open_store

Progress = Callable[[int, int], None]
CANARIES = 5
SEVERITIES = (Severity.ERROR, Severity.WARNING)


Accounts = Callable[[Context, str], Principal]  # the enabled account of this name, in a context (api.access)


class RestoreService:
    """Needs no Context: there is no system yet. It builds one once the catalogue is in place, and asks
    `accounts` (the caller's: the accounts are api.access's) who the acting user is in it."""

    def __init__(self, settings: Settings, *, accounts: Accounts) -> None:
        self.settings = settings
        self.accounts = accounts

    def restore(
        self,
        *,
        target: str,
        username: str,
        path: Path | None = None,
        run_id: int | None = None,
        progress: Progress | None = None,
    ) -> RestoreView:
        clock = time.perf_counter()
        self._check_empty()
        secret = required_secret(self.settings)
        store = open_spec(self._spec(target, path), self.settings)
        manifest = latest_manifest(store, target, run_id)
        escrow = read_escrow(secret, store, manifest)  # a wrong or missing secret: refused, nothing written
        if manifest.snapshot is None or not manifest.snapshot.key.endswith(SQLITE_SUFFIX):
            raise ConfigurationError(
                f"backup run {manifest.run_id} carries no SQLite catalogue snapshot; a PostgreSQL dump is restored "
                "with pg_restore into DANGAN_DATABASE_URL before `dangan restore` (not yet automated)"
            )
        self.settings.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.spool_dir, prefix=owned_prefix("restore")) as scratch:
            root = Path(scratch)
            self._place_catalogue(store, manifest.snapshot, root)
            key = install_signing_key(self.settings.resolved_audit_key_path, escrow.audit_signing_key_pem.encode())
            install_keyring(self.settings, escrow, where=f"the key escrow of backup run {manifest.run_id}")
            context = build_context(self.settings)
            try:
                principal = self._principal(context, username)
                objects = restore_objects(store, manifest.objects, root / "objects", progress, keep=_keeper(context))
                if objects["missing"] or objects["hash_mismatch"]:
                    bad = [*objects["missing"], *objects["hash_mismatch"]]
                    raise IntegrityFailure(
                        f"{len(bad)} object(s) of backup run {manifest.run_id} are missing or changed on the target "
                        f"(first: {bad[0]}); restore from another run (--snapshot RUN) or another target"
                    )
                checkpoints = _restore_checkpoints(store, manifest.checkpoints, context.store)
                _finish_run_row(context, manifest, store)
                done = _Restored(target, manifest, escrow.settings, objects, checkpoints, key)
                return self._rebuild_and_check(context, principal, done, clock)
            finally:
                context.close()

    def _check_empty(self) -> None:
        """Refuse a data directory that holds a catalogue, objects or a signing key already (nothing is changed)."""
        settings = self.settings
        if not settings.resolved_database_url.startswith("sqlite:///"):
            raise ConfigurationError(
                "DANGAN_DATABASE_URL names a server database; `dangan restore` rebuilds the embedded SQLite "
                "catalogue: unset it, or restore the PostgreSQL dump with pg_restore"
            )
        catalogue = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        objects = settings.resolved_storage_path
        held = [
            str(place)
            for place, there in (
                (catalogue, catalogue.exists()),
                (settings.resolved_audit_key_path, settings.resolved_audit_key_path.exists()),
                (objects, objects.is_dir() and any(open_store(settings).iter_keys(OBJECT_PREFIX))),
            )
            if there
        ]
        if held:
            raise Conflict(
                f"the data directory is not empty ({', '.join(held)}): restore rebuilds a system on an empty "
                "machine; move the data directory aside (or point DANGAN_HOME at an empty one) and run it again"
            )

    def _spec(self, target: str, path: Path | None) -> TargetSpec:
        if path is not None:
            return TargetSpec(name=target, kind="local", path=str(path.expanduser().resolve()), source="restore")
        declared = declared_spec(self.settings, target)
        if declared is None:
            raise NotFound(
                f"backup target {target!r} is not declared in settings, and this machine has no catalogue to look it "
                f"up in: give its directory (--path DIR) or declare it (DANGAN_BACKUP_TARGETS__{target.upper()}__PATH)"
            )
        return declared

    def _place_catalogue(self, store: BlobStore, snapshot: Entry, root: Path) -> None:
        restored = restore_catalogue(store, snapshot.key, snapshot.sha256, root)
        if not restored.sha256_ok or restored.integrity != INTEGRITY_OK:
            raise IntegrityFailure(
                f"the catalogue snapshot {snapshot.key} is damaged ({restored.integrity}); restore from another "
                "backup run (--snapshot RUN)"
            )
        destination = Path(self.settings.resolved_database_url.removeprefix("sqlite:///"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(restored.path, destination)

    def _principal(self, context: Context, username: str) -> Principal:
        """The acting account, as the restored catalogue knows it; refused: what was restored is removed."""
        try:
            principal = self.accounts(context, username)
            authorize(principal.roles, Action.RESTORE_SYSTEM)
        except Exception:
            Path(self.settings.resolved_database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            self.settings.resolved_audit_key_path.unlink(missing_ok=True)
            raise
        return principal

    def _rebuild_and_check(self, context: Context, principal: Principal, done: _Restored, clock: float) -> RestoreView:
        """Index, fixity, canaries; then the restore recorded and sealed, and the audit log verified."""
        manifest = done.manifest
        indexed = MaintenanceService(context).reindex(principal).documents
        fixity = VerificationService(context).verify(principal, level="full")
        canaries = _canaries(context)
        findings = [_plain(f) for f in fixity.findings]
        graded = _restore_findings(canaries, differing_settings(context.settings, done.carried))
        findings += [FindingView.model_validate(f.as_dict()) for f in graded]
        seconds = time.perf_counter() - clock
        restored = done.objects["bytes"] + (manifest.snapshot.size if manifest.snapshot else 0)
        rto = seconds / (restored / GB) if restored else None
        summary = {"backup_run_id": manifest.run_id, "objects": done.objects["restored"], "bytes": restored}
        summary.update(seconds=round(seconds, 3), rto_seconds_per_gb=rto, fixity=fixity.grade.value)
        with context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.RESTORE,
                target=f"backup:{done.target}",
                details=summary,
            )
        with context.db.write() as session:
            write_checkpoint(session, context.store, done.key)
        with context.db.read() as session:
            checked = verify_audit_log(session, context.store, trusted_public_key_raw=public_key_raw(done.key))
        verified = AuditVerificationView.model_validate(checked.as_dict())
        findings += [_plain(f) for f in verified.findings]
        grade = grade_of(f.severity for f in findings)
        return RestoreView(
            grade=grade,
            exit_code=int(grade.exit_code),
            severity_counts={
                s.value: sum(f.severity is s for f in findings) for s in (Severity.ERROR, Severity.WARNING)
            },
            findings=findings,
            home=str(context.settings.home_dir),
            target=done.target,
            backup_run_id=manifest.run_id,
            manifest_key=manifest_key(manifest.run_id),
            objects_restored=done.objects["restored"],
            bytes_restored=restored,
            checkpoints_restored=done.checkpoints,
            key_fingerprint=public_key_fingerprint(done.key),
            documents_indexed=indexed,
            fixity_grade=fixity.grade,
            verification_run_id=fixity.run_id,
            audit_grade=verified.grade,
            audit_events_checked=verified.events_checked,
            canaries=canaries,
            seconds=round(seconds, 3),
            rto_seconds_per_gb=rto,
        )


@dataclass(frozen=True)
class _Restored:
    target: str
    manifest: Manifest
    carried: dict[str, object]
    objects: dict[str, Any]
    checkpoints: int
    key: Ed25519PrivateKey


def _plain(finding: FindingView) -> FindingView:
    """A finding of any graded report in the one shape (a fixity finding's own fields dropped)."""
    fields = finding.model_dump()
    return FindingView.model_validate({name: fields[name] for name in FindingView.model_fields})


def latest_manifest(store: BlobStore, target: str, run_id: int | None) -> Manifest:
    """The manifest of run `run_id`, or the target's newest one (found by listing: there is no catalogue yet)."""
    runs = sorted(int(m.group(1)) for key in store.iter_keys(MANIFEST_PREFIX) if (m := MANIFEST_PATTERN.match(key)))
    if not runs:
        raise NotFound(f"backup target {target!r} holds no backup run (no manifests/): check the path or the target")
    if run_id is not None and run_id not in runs:
        raise InvalidInput(f"backup target {target!r} holds no run {run_id}; it holds runs {', '.join(map(str, runs))}")
    chosen = run_id if run_id is not None else runs[-1]
    with store.open_read(manifest_key(chosen)) as stream:
        data = stream.read()
    return parse_manifest(data, expected_sha256=None)


def _keeper(context: Context) -> Callable[[Entry, Path], None]:
    def keep(entry: Entry, path: Path) -> None:
        context.store.put_file(entry.key, path, expected_sha256=entry.sha256)

    return keep


def _restore_checkpoints(source: BlobStore, entries: list[Entry], destination: BlobStore) -> int:
    """The run's checkpoints (only those: a later run's would seal events this snapshot does not hold)."""
    for entry in entries:
        with source.open_read(entry.key) as stream:
            data = stream.read()
        if sha256_bytes(data) != entry.sha256:
            raise IntegrityFailure(f"the checkpoint {entry.key} on the target does not hash to its manifest's SHA-256")
        destination.put_bytes(entry.key, data)
    return len(entries)


def _finish_run_row(context: Context, manifest: Manifest, store: BlobStore) -> None:
    """The snapshot was taken while its run was running: record it as the complete run it became."""
    with store.open_read(manifest_key(manifest.run_id)) as stream:
        sha = sha256_bytes(stream.read())
    with context.db.write() as session:
        run = session.get(BackupRun, manifest.run_id)
        if run is not None and run.status == "running":
            run.status, run.finished_at = "complete", utcnow()
            run.manifest_key, run.manifest_sha256 = manifest_key(manifest.run_id), sha
            run.snapshot_key = manifest.snapshot.key if manifest.snapshot else None


def _canaries(context: Context) -> list[Canary]:
    """A word of each of the first documents searched in the rebuilt live index: each must find its document."""
    found: list[Canary] = []
    scope = search_scope(system_principal())
    with context.db.session() as session:
        for document in session.scalars(select(Document).order_by(Document.id)):
            indexed = indexed_document(document)
            word = canary_word(" ".join(page.text for page in indexed.pages))
            if word is None:
                continue
            hits = context.index.search(word, scope=scope, limit=50).hits
            hit = any(h.document_id == indexed.document_id for h in hits)
            found.append(Canary(query=word, document_id=indexed.document_id, found=hit))
            if len(found) >= CANARIES:
                break
    return found


def _restore_findings(canaries: list[Canary], differing: dict[str, tuple[object, object]]) -> list[Finding]:
    findings = [
        Finding(
            Severity.ERROR,
            FindingCode.CANARY_NOT_FOUND,
            subject_kind="document",
            subject_id=c.document_id,
            params={"query": c.query, "document": c.document_id},
        )
        for c in canaries
        if not c.found
    ]
    findings += [
        Finding(
            Severity.WARNING,
            FindingCode.SETTING_DIFFERS,
            subject=name,
            params={"name": name, "backed_up": str(backed_up), "current": str(current)},
        )
        for name, (backed_up, current) in differing.items()
    ]
    return findings
