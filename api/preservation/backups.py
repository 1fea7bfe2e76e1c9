"""Backups: copy what is new to a target, with a catalogue snapshot, the audit checkpoints, the key escrow and a
manifest. A run is a graded report: an object that cannot be copied is an error (the run is "incomplete"); an
earlier run that was interrupted and is resumed by this one, a copy on the target that had changed and was
replaced from the primary, and a run without a key escrow (no escrow secret set) are warnings. Verifying a
target: api/preservation/verification.py; restoring from one: api/preservation/restore.py.

Each run first seals the access log (a signed checkpoint), so the snapshot it carries is covered by a
checkpoint it carries too: a system restored from it verifies its log clean. It re-hashes
`backup_check_copies_percent` of the copies already on the target (all by default) and copies again those whose
bytes changed (each replacement an `object.repair` event), besides the missing ones and those of another size.

Resumable: a run is recorded as "running" before anything is copied. A crash leaves it so; the next run marks
it "interrupted" and copies whatever the target still lacks (keys are content addresses, so it is idempotent).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api.preservation.backup_targets import BackupTargets
from api.preservation.key_escrow import write_escrow
from api.sealing import has_encrypted_objects
from api.views.preservation import BackupRunList, BackupRunReport, BackupRunView
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.audit.checkpoints import write_checkpoint
from archive.audit.keys import load_or_create_signing_key
from archive.diskfull import disk_full
from archive.errors import IntegrityFailure, NotFound
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.finding_codes import FindingCode
from archive.hashing import CHUNK, sha256_bytes, sha256_file, sha256_stream
from archive.keys import CHECKPOINT_PREFIX, manifest_key, snapshot_key
from archive.models import BackupRun, DestroyedObject, StoredObject, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.fixity import choose_sample
from archive.preservation.manifest import (
    Entry,
    Manifest,
    parse_manifest,
)
from archive.preservation.snapshot import snapshot_database
from archive.reports import Finding, Grade, Report, Severity
from archive.scratch import owned_prefix

Progress = Callable[[int, int], None]
COPY_FAILED, INTERRUPTED = FindingCode.COPY_FAILED, FindingCode.INTERRUPTED
COPY_REPLACED, NOT_ESCROWED = FindingCode.COPY_REPLACED, FindingCode.KEY_NOT_ESCROWED
KEYRING_NOT_ESCROWED = FindingCode.KEYRING_NOT_ESCROWED


class BackupService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.targets = BackupTargets(context)

    # -- running ------------------------------------------------------------------------------------
    def run(
        self, principal: Principal, *, target: str, progress: Progress | None = None, client: str | None = None
    ) -> BackupRunView:
        """Copy what the target lacks, snapshot the catalogue, copy checkpoints, write the manifest."""
        authorize(principal.roles, Action.RUN_BACKUP)
        spec = self.targets.spec(target)
        store = self.targets.open(spec)
        run_id, interrupted = self._start(principal, target)
        try:
            result = self._copy_in_scratch(store, run_id, progress)
        except Exception as exc:
            self._finish(principal, run_id, status="failed", result={"error": str(exc)}, client=client)
            raise
        result["interrupted_runs"], result["run"] = interrupted, run_id
        replicated = result.pop("replicated_keys")
        result.update(graded_run(result).as_dict())
        status = "complete" if not result["failed"] else "incomplete"
        return self._finish(principal, run_id, status=status, result=result, client=client, replicated=replicated)

    def _start(self, principal: Principal, target: str) -> tuple[int, list[int]]:
        with self.context.db.write() as session:
            stale = list(
                session.scalars(select(BackupRun.id).where(BackupRun.target == target, BackupRun.status == "running"))
            )
            if stale:
                session.execute(update(BackupRun).where(BackupRun.id.in_(stale)).values(status="interrupted"))
            run = BackupRun(target=target, status="running", actor=principal.username)
            session.add(run)
            session.flush()
            return run.id, stale

    def _copy_in_scratch(self, store: BlobStore, run_id: int, progress: Progress | None) -> dict[str, Any]:
        """`_copy_all` with a scratch folder in the spool (removed at the end, also when a disk fills up: a full
        target says so itself; a full spool is named here). What reached the target stays: the next run goes on."""
        spool = self.context.settings.spool_dir
        try:
            with tempfile.TemporaryDirectory(dir=spool, prefix=owned_prefix("backup")) as scratch:
                return self._copy_all(store, run_id, Path(scratch), progress)
        except OSError as exc:
            full = disk_full(exc, place="spool", path=spool, what="the backup's scratch copy")
            if full is not None:
                raise full from exc
            raise

    def _copy_all(self, store: BlobStore, run_id: int, scratch: Path, progress: Progress | None) -> dict[str, Any]:
        manifest = Manifest(run_id=run_id, target=store.name, created_at=utcnow().isoformat())
        with self.context.db.session() as session:
            wanted = sorted(set(session.execute(select(StoredObject.key, StoredObject.sha256, StoredObject.size))))
        copied, copied_bytes, failed, replaced, replicated = 0, 0, [], [], []
        percent = self.context.settings.backup_check_copies_percent
        to_check = choose_sample([key for key, _, _ in wanted], percent=percent, seed=run_id) if percent else set()
        for position, (key, sha, size) in enumerate(wanted, start=1):
            present = store.stat(key)
            found = _target_sha(store, key) if present is not None and present.size == size and key in to_check else sha
            if present is None or present.size != size or found != sha:
                try:
                    self._copy_object(store, key, sha, scratch)
                except (IntegrityFailure, NotFound) as exc:  # a damaged primary copy is reported, not backed up
                    failed.append({"key": key, "error": exc.message})
                    continue
                copied, copied_bytes = copied + 1, copied_bytes + size
                replicated.append(key)
                if present is not None:  # a copy there, of another size or other bytes: replaced from the primary
                    replaced.append({"key": key, "found_size": present.size, "found_sha256": found, "sha256": sha})
                failpoint("backup.object_copied")
            manifest.objects.append(Entry(key, size, sha))
            if progress is not None:
                progress(position, len(wanted))
        removed = self._remove_destroyed(store, run_id)  # before the seal: what it records is sealed too
        self._seal_log()
        manifest.checkpoints = self._copy_checkpoints(store)
        manifest.escrow = write_escrow(self.context.settings, store, run_id, self.context.envelope.provider)
        manifest.snapshot = self._snapshot(store, run_id, scratch)
        failpoint("backup.snapshot_written")
        data = manifest.to_bytes()
        store.put_bytes(manifest_key(run_id), data)
        failpoint("backup.manifest_written")  # the target complete; the run not yet recorded as finished
        return {
            "objects_total": len(wanted),
            "objects_copied": copied,
            "bytes_copied": copied_bytes,
            "checkpoints": len(manifest.checkpoints),
            "destroyed_removed": removed,
            "failed": failed,
            "replaced": replaced,
            "copies_checked": len(to_check),
            "escrow_key": manifest.escrow.key if manifest.escrow else None,
            "keyring_escrowed": self._keyring_escrowed(manifest.escrow is not None),
            "manifest_key": manifest_key(run_id),
            "manifest_sha256": sha256_bytes(data),
            "snapshot_key": manifest.snapshot.key,
            "newest_object_at": self._newest_object_at(),
            "replicated_keys": replicated,  # for the records' histories, not kept in the run's report
        }

    def _keyring_escrowed(self, escrowed: bool) -> bool | None:
        """Whether the run's escrow carries the master keyring that encrypted records need (None: none needed)."""
        if not escrowed or not has_encrypted_objects(self.context.db):
            return None
        return self.context.envelope.provider.escrow_material() is not None

    def _remove_destroyed(self, store: BlobStore, run_id: int) -> int:
        """Objects of records destroyed by a disposition (api/records/disposal.py) leave this target too, unless a
        live record has the same bytes again; each removal is noted on its row. Older catalogue snapshots on the
        target keep the tombstones' former rows until they are deleted (see the README)."""
        with self.context.db.read() as session:
            run = session.get(BackupRun, run_id)
            target = run.target if run is not None else store.name
            live = select(StoredObject.id).where(StoredObject.key == DestroyedObject.key).exists()
            rows = list(session.scalars(select(DestroyedObject).where(~live).order_by(DestroyedObject.id)))
            pending = [(row.id, row.key) for row in rows if target not in (row.purged_from or [])]
        for row_id, key in pending:
            store.delete(key)
            with self.context.db.write() as session:
                row = session.get(DestroyedObject, row_id)
                if row is not None:
                    row.purged_from = sorted({*(row.purged_from or []), target})
        return len(pending)

    def _copy_object(self, store: BlobStore, key: str, sha: str, scratch: Path) -> None:
        """Stream the primary object to a temp file, then store it verified against its catalogued SHA-256."""
        temp = scratch / "object"
        with self.context.store.open_read(key) as source, temp.open("wb") as out:
            while chunk := source.read(CHUNK):
                failpoint("backup.copy")
                out.write(chunk)
        try:
            store.put_file(key, temp, expected_sha256=sha)
        finally:
            temp.unlink(missing_ok=True)

    def _seal_log(self) -> None:
        """A signed checkpoint of the log as it is now: the snapshot taken next is covered by it."""
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        with self.context.db.write() as session:
            write_checkpoint(session, self.context.store, key)

    def _copy_checkpoints(self, store: BlobStore) -> list[Entry]:
        entries = []
        for key in sorted(self.context.store.iter_keys(CHECKPOINT_PREFIX)):
            with self.context.store.open_read(key) as stream:
                data = stream.read()
            present = store.stat(key)
            if present is None or present.size != len(data) or _target_sha(store, key) != sha256_bytes(data):
                store.put_bytes(key, data)
            entries.append(Entry(key, len(data), sha256_bytes(data)))
        return entries

    def _snapshot(self, store: BlobStore, run_id: int, scratch: Path) -> Entry:
        """A consistent copy of the catalogue: SQLite's online backup API, or pg_dump on PostgreSQL."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        path = snapshot_database(self.context.db, scratch, name=f"snapshot-run{run_id}")
        key = snapshot_key(stamp, run_id, path.suffix)
        sha, size = sha256_file(path)
        store.put_file(key, path, expected_sha256=sha)
        path.unlink()
        return Entry(key, size, sha)

    def _newest_object_at(self) -> str | None:
        with self.context.db.session() as session:
            newest = session.scalars(select(StoredObject.created_at).order_by(StoredObject.created_at.desc())).first()
        return newest.isoformat() if newest else None

    def _finish(
        self,
        principal: Principal,
        run_id: int,
        *,
        status: str,
        result: dict[str, Any],
        client: str | None,
        replicated: Sequence[str] = (),
    ) -> BackupRunView:
        with self.context.db.write() as session:
            run = session.get(BackupRun, run_id)
            assert run is not None
            run.status, run.finished_at, run.report = status, utcnow(), result
            run.objects_copied = result.get("objects_copied", 0)
            run.bytes_copied = result.get("bytes_copied", 0)
            run.manifest_key, run.manifest_sha256 = result.get("manifest_key"), result.get("manifest_sha256")
            run.snapshot_key = result.get("snapshot_key")
            audit.record(
                session,
                actor=principal.username,
                action=AuditAction.BACKUP_RUN,
                outcome=status,
                target=f"backup:{run.target}",
                client=client,
                details={"run": run_id, **{k: v for k, v in result.items() if k not in _UNLOGGED}},
            )
            detail = {"backup_run": run_id, "target": run.target}
            history.record_many(
                session,
                (
                    history.Event(document_id, history.EventType.REPLICATION, principal.username, key, detail=detail)
                    for key, document_id in history.documents_of_keys(session, replicated)
                ),
            )
            for repaired in result.get("replaced", []):
                audit.record(
                    session,
                    actor=principal.username,
                    action=AuditAction.OBJECT_REPAIR,
                    outcome="repaired",
                    target=f"backup:{run.target}",
                    client=client,
                    details={"key": repaired["key"], "run": run_id, "source": "primary", **repaired},
                )
            return run_summary(run)

    def runs(self, principal: Principal, *, target: str | None = None, limit: int = 50) -> BackupRunList:
        authorize(principal.roles, Action.READ_BACKUPS)
        with self.context.db.session() as session:
            query = select(BackupRun).order_by(BackupRun.id.desc()).limit(limit)
            if target is not None:
                query = query.where(BackupRun.target == target)
            return BackupRunList(runs=[run_summary(run) for run in session.scalars(query)])

    def latest(self, target: str) -> tuple[BlobStore, BackupRun, Manifest]:
        """The target's store, its newest completed run and that run's manifest (hash-checked)."""
        store = self.targets.open(self.targets.spec(target))
        with self.context.db.session() as session:
            run = session.scalars(
                select(BackupRun)
                .where(BackupRun.target == target, BackupRun.status.in_(("complete", "incomplete")))
                .order_by(BackupRun.id.desc())
            ).first()
        if run is None or run.manifest_key is None:
            raise NotFound(
                f"backup target {target!r} has no finished backup; run `dangan backup run --target {target}`"
            )
        with store.open_read(run.manifest_key) as stream:
            manifest = parse_manifest(stream.read(), expected_sha256=run.manifest_sha256)
        return store, run, manifest


_UNLOGGED = ("failed", "findings", "replaced")


def _target_sha(store: BlobStore, key: str) -> str | None:
    """The SHA-256 of a copy on the target (None when it vanished meanwhile)."""
    try:
        with store.open_read(key) as stream:
            return sha256_stream(stream)[0]
    except NotFound:
        return None


def graded_run(result: dict[str, Any]) -> Report:
    """A run's findings: each object that could not be copied (an error), each interrupted run it resumed, each
    changed copy it replaced and a missing key escrow (warnings: nothing was lost, but find out why)."""
    findings = [
        Finding(Severity.ERROR, COPY_FAILED, subject=failure["key"], params={"error": failure["error"]})
        for failure in result.get("failed", [])
    ]
    findings.extend(
        Finding(Severity.WARNING, INTERRUPTED, subject_kind="backup_run", subject_id=stale, params={"run_id": stale})
        for stale in result.get("interrupted_runs", [])
    )
    findings.extend(
        Finding(Severity.WARNING, COPY_REPLACED, subject=repaired["key"]) for repaired in result.get("replaced", [])
    )
    if "escrow_key" in result and result["escrow_key"] is None:
        about = {"subject_kind": "backup_run", "subject_id": result["run"], "params": {"run_id": result["run"]}}
        findings.append(Finding(Severity.WARNING, NOT_ESCROWED, **about))
    if result.get("keyring_escrowed") is False:
        about = {"subject_kind": "backup_run", "subject_id": result["run"], "params": {"run_id": result["run"]}}
        findings.append(Finding(Severity.WARNING, KEYRING_NOT_ESCROWED, **about))
    return Report(tuple(findings))


def _grade(run: BackupRun) -> Grade | None:
    """The stored grade; for rows stored without one, what their status says (none while running)."""
    stored = run.report.get("grade")
    if stored is not None:
        return Grade(stored)
    return {"complete": Grade.CLEAN, "running": None}.get(run.status, Grade.ERRORS)


def run_summary(run: BackupRun) -> BackupRunView:
    grade = _grade(run)
    report = BackupRunReport.model_validate(run.report)
    return BackupRunView(
        id=run.id,
        target=run.target,
        status=run.status,
        grade=grade,
        exit_code=int(grade.exit_code) if grade is not None else None,
        severity_counts=report.severity_counts,
        started_at=run.started_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        objects_copied=run.objects_copied,
        bytes_copied=run.bytes_copied,
        manifest_key=run.manifest_key,
        manifest_sha256=run.manifest_sha256,
        snapshot_key=run.snapshot_key,
        report=report,
        findings=report.findings,
        actor=run.actor,
    )
