"""Backups: copy what is new to a target, with a catalogue snapshot, the audit checkpoints and a manifest;
verify a target against its manifest and the catalogue.

Resumable: a run is recorded as "running" before anything is copied. A crash leaves it so; the next run marks
it "interrupted" and copies whatever the target still lacks (keys are content addresses, so it is idempotent).
"""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from api.preservation.backup_targets import BackupTargets
from api.preservation.maintenance import store_verification
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import ConfigurationError, IntegrityFailure, NotFound, StorageUnavailable
from archive.events import AuditAction
from archive.hashing import CHUNK, sha256_bytes, sha256_file
from archive.keys import CHECKPOINT_PREFIX, MANIFEST_PREFIX, manifest_key, snapshot_key
from archive.models import BackupRun, StoredObject, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from archive.preservation.fixity import CONTENT_CHANGED, FULL, Finding, catalogued_rows, check_options
from archive.preservation.manifest import BackupReport, Entry, Manifest, parse_manifest, verify_backup

Progress = Callable[[int, int], None]
BACKUP_LEVEL = "backup"


class BackupService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.targets = BackupTargets(context)

    # -- running ------------------------------------------------------------------------------------
    def run(
        self, principal: Principal, *, target: str, progress: Progress | None = None, client: str | None = None
    ) -> dict[str, Any]:
        """Copy what the target lacks, snapshot the catalogue, copy checkpoints, write the manifest."""
        authorize(principal.roles, Action.RUN_BACKUP)
        spec = self.targets.spec(target)
        store = self.targets.open(spec)
        run_id, interrupted = self._start(principal, target)
        try:
            with tempfile.TemporaryDirectory(dir=self.context.settings.spool_dir, prefix="backup-") as scratch:
                result = self._copy_all(store, run_id, Path(scratch), progress)
        except Exception as exc:
            self._finish(principal, run_id, status="failed", result={"error": str(exc)}, client=client)
            raise
        result["interrupted_runs"] = interrupted
        status = "complete" if not result["failed"] else "incomplete"
        return self._finish(principal, run_id, status=status, result=result, client=client)

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

    def _copy_all(self, store: BlobStore, run_id: int, scratch: Path, progress: Progress | None) -> dict[str, Any]:
        manifest = Manifest(run_id=run_id, target=store.name, created_at=utcnow().isoformat())
        with self.context.db.session() as session:
            wanted = sorted(set(session.execute(select(StoredObject.key, StoredObject.sha256, StoredObject.size))))
        copied, copied_bytes, failed = 0, 0, []
        for position, (key, sha, size) in enumerate(wanted, start=1):
            present = store.stat(key)
            if present is None or present.size != size:
                try:
                    self._copy_object(store, key, sha, scratch)
                except (IntegrityFailure, NotFound) as exc:  # a damaged primary copy is reported, not backed up
                    failed.append({"key": key, "error": exc.message})
                    continue
                copied, copied_bytes = copied + 1, copied_bytes + size
            manifest.objects.append(Entry(key, size, sha))
            if progress is not None:
                progress(position, len(wanted))
        manifest.checkpoints = self._copy_checkpoints(store)
        manifest.snapshot = self._snapshot(store, run_id, scratch)
        data = manifest.to_bytes()
        store.put_bytes(manifest_key(run_id), data)
        return {
            "objects_total": len(wanted),
            "objects_copied": copied,
            "bytes_copied": copied_bytes,
            "checkpoints": len(manifest.checkpoints),
            "failed": failed,
            "manifest_key": manifest_key(run_id),
            "manifest_sha256": sha256_bytes(data),
            "snapshot_key": manifest.snapshot.key,
            "newest_object_at": self._newest_object_at(),
        }

    def _copy_object(self, store: BlobStore, key: str, sha: str, scratch: Path) -> None:
        """Stream the primary object to a temp file, then store it verified against its catalogued SHA-256."""
        temp = scratch / "object"
        with self.context.store.open_read(key) as source, temp.open("wb") as out:
            while chunk := source.read(CHUNK):
                out.write(chunk)
        try:
            store.put_file(key, temp, expected_sha256=sha)
        finally:
            temp.unlink(missing_ok=True)

    def _copy_checkpoints(self, store: BlobStore) -> list[Entry]:
        entries = []
        for key in sorted(self.context.store.iter_keys(CHECKPOINT_PREFIX)):
            with self.context.store.open_read(key) as stream:
                data = stream.read()
            present = store.stat(key)
            if present is None or present.size != len(data):
                store.put_bytes(key, data)
            entries.append(Entry(key, len(data), sha256_bytes(data)))
        return entries

    def _snapshot(self, store: BlobStore, run_id: int, scratch: Path) -> Entry:
        """A consistent copy of the catalogue: SQLite's online backup API, or pg_dump on PostgreSQL."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        if self.context.db.is_sqlite:
            key, path = snapshot_key(stamp, run_id, "sqlite3"), scratch / "snapshot.sqlite3"
            sqlite_snapshot(Path(str(self.context.db.engine.url.database)), path)
        else:
            key, path = snapshot_key(stamp, run_id, "pgdump"), scratch / "snapshot.pgdump"
            pg_dump_snapshot(self.context.db.url, path)
        sha, size = sha256_file(path)
        store.put_file(key, path, expected_sha256=sha)
        path.unlink()
        return Entry(key, size, sha)

    def _newest_object_at(self) -> str | None:
        with self.context.db.session() as session:
            newest = session.scalars(select(StoredObject.created_at).order_by(StoredObject.created_at.desc())).first()
        return newest.isoformat() if newest else None

    def _finish(
        self, principal: Principal, run_id: int, *, status: str, result: dict[str, Any], client: str | None
    ) -> dict[str, Any]:
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
                details={"run": run_id, **{k: v for k, v in result.items() if k not in ("failed",)}},
            )
            return run_summary(run)

    def runs(self, principal: Principal, *, target: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        authorize(principal.roles, Action.READ_BACKUPS)
        with self.context.db.session() as session:
            query = select(BackupRun).order_by(BackupRun.id.desc()).limit(limit)
            if target is not None:
                query = query.where(BackupRun.target == target)
            return [run_summary(run) for run in session.scalars(query)]

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

    # -- verifying ----------------------------------------------------------------------------------
    def verify(
        self,
        principal: Principal,
        *,
        target: str,
        level: str = FULL,
        percent: float = 5.0,
        seed: int | None = None,
        progress: Progress | None = None,
        client: str | None = None,
    ) -> dict[str, Any]:
        """Target vs latest manifest vs catalogue; stored as a VerificationRun with store = target name."""
        authorize(principal.roles, Action.RUN_VERIFICATION)
        depth = FULL if level == BACKUP_LEVEL else level
        check_options(depth, percent)
        started_at = utcnow()
        report = BackupReport(store=target, level=depth, target=target)
        report.percent = percent if depth == "sample" else None
        try:
            store, run, manifest = self.latest(target)
            report.backup_run_id, report.manifest_key = run.id, run.manifest_key
            with self.context.db.session() as session:
                rows = catalogued_rows(session)
            verify_backup(store, manifest, rows, report, seed=seed, progress=progress)
        except IntegrityFailure as exc:  # the manifest itself was damaged: a finding, not a crash
            report.notes.append(exc.message)
            report.findings.append(_manifest_finding(report.manifest_key))
        result = report.as_dict()
        result["level"] = BACKUP_LEVEL if level == BACKUP_LEVEL else depth
        return store_verification(
            self.context,
            principal,
            result,
            store=target,
            started_at=started_at,
            client=client,
            details={"level": result["level"], "target": target},
        )


def _manifest_finding(key: str | None) -> Finding:
    return Finding(category=CONTENT_CHANGED, severity="error", key=key or MANIFEST_PREFIX)


def run_summary(run: BackupRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "target": run.target,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "objects_copied": run.objects_copied,
        "bytes_copied": run.bytes_copied,
        "manifest_key": run.manifest_key,
        "manifest_sha256": run.manifest_sha256,
        "snapshot_key": run.snapshot_key,
        "report": run.report,
        "actor": run.actor,
    }


def sqlite_snapshot(source: Path, destination: Path) -> None:
    """SQLite's online backup API: a consistent copy while other connections keep writing."""
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(destination) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    except sqlite3.Error as exc:
        raise StorageUnavailable(f"cannot snapshot the catalogue {source}: {exc}") from exc


def pg_dump_snapshot(url: str, destination: Path) -> None:
    """`pg_dump --format=custom` of the catalogue (restore with pg_restore); needs pg_dump on PATH."""
    libpq_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={libpq_url}"],
            check=True,
            capture_output=True,
            timeout=6 * 3600,
        )
    except FileNotFoundError as exc:
        raise ConfigurationError("pg_dump is not installed; install the PostgreSQL client tools") from exc
    except subprocess.CalledProcessError as exc:
        raise StorageUnavailable(f"pg_dump failed: {exc.stderr.decode(errors='replace')[-500:]}") from exc
