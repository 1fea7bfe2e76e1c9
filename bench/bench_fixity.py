"""Fixity and restore speed, measured in one run on the same bytes.

Full verification (`dangan verify --level full`: catalogue rows, streaming SHA-256 of every object, untracked
scan) against raw streaming SHA-256 of the same files from the page cache (1 MiB chunks, the best of two
passes), and the restore drill's seconds per GB after a backup to a local target.
Usage: python -m bench.bench_fixity [MiB_PER_OBJECT] [OBJECTS]   (defaults: 16 MiB x 48 = 768 MiB)
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.maintenance import MaintenanceService
from api.preservation.verification import VerificationService
from api.wiring import Context, build_context
from archive.access import Principal
from archive.hashing import CHUNK
from archive.models import Batch, Document, Fonds, StoredObject, utcnow
from archive.ports import content_key
from archive.values import AccessLevel, Role
from storage_config.settings import Settings


def fill(context: Context, *, objects: int, mib: int, scratch: Path) -> list[Path]:
    """Random objects catalogued as one document's originals (random bytes: no compression shortcuts)."""
    paths = []
    with context.db.write() as session:
        fonds = Fonds(code="BENCH", name="bench")
        batch = Batch(fonds=fonds, label="bench", created_by="bench", year=2026)
        document = Document(
            fonds=fonds,
            batch=batch,
            reference_code="BENCH-1",
            title="fixity bench",
            access_level=0,
            language="eng",
            status="ready",
            original_filename="bench.bin",
            original_sha256="0" * 64,
            created_at=utcnow(),
            indexed_at=utcnow(),
        )
        session.add(document)
        for n in range(objects):
            source = scratch / f"blob-{n}.bin"
            source.write_bytes(os.urandom(mib * 1024 * 1024))
            sha = hashlib.sha256(source.read_bytes()).hexdigest()
            info = context.store.put_file(content_key(sha), source, expected_sha256=sha)
            document.objects.append(
                StoredObject(
                    key=info.key, sha256=sha, size=info.size, media_type="application/octet-stream", role="original"
                )
            )
            paths.append(context.settings.resolved_storage_path / info.key)
            source.unlink()
    return paths


def raw_sha256(paths: list[Path]) -> float:
    """Seconds for streaming SHA-256 over the files, 1 MiB at a time."""
    started = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
    return time.perf_counter() - started


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    objects = int(sys.argv[2]) if len(sys.argv) > 2 else 48
    with tempfile.TemporaryDirectory(prefix="dangan-fixity-") as tmp:
        root = Path(tmp)
        (root / "scratch").mkdir()
        context = build_context(Settings(home=root / "home", workers=2))
        MaintenanceService(context).initialise()
        paths = fill(context, objects=objects, mib=mib, scratch=root / "scratch")
        total = sum(path.stat().st_size for path in paths)
        raw_sha256(paths)  # warm the page cache, as for the verification pass
        raw = min(raw_sha256(paths), raw_sha256(paths))
        operator = Principal("bench-sysadmin", frozenset({Role.SYSADMIN}), AccessLevel.TOP_SECRET)
        report = VerificationService(context).verify(operator, level="full")
        ours = float(report.seconds)
        BackupTargets(context).add(operator, TargetSpec(name="bench", kind="local", path=str(root / "backup")))
        backup = BackupService(context).run(operator, target="bench")
        drill = DrillService(context).drill(operator, target="bench")
        context.close()
    gb = total / 1e9
    print(f"objects: {objects} x {mib} MiB = {total / 2**20:.0f} MiB (random bytes), local store, page cache warm")
    print(f"raw streaming SHA-256:       {raw:6.2f} s  {gb / raw:5.2f} GB/s")
    print(f"dangan verify --level full:  {ours:6.2f} s  {gb / ours:5.2f} GB/s  (status {report.status})")
    print(f"verification / raw SHA-256 throughput: {raw / ours:.2f}x  (goal >= 0.80x)")
    print(
        f"backup run: {backup.status} ; restore drill: {drill.seconds:.2f} s for "
        f"{drill.bytes_restored / 2**20:.0f} MiB restored, RTO {drill.rto_seconds_per_gb or 0:.1f} s/GB "
        f"(drill status {drill.status})"
    )


if __name__ == "__main__":
    main()
