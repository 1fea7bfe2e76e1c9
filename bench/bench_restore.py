"""Restore RTO per GB, against a plain copy of the same bytes measured in the same run.

Seeds an archive with random objects (bench.bench_fixity.fill), backs it up to a local target, deletes the whole
data directory and runs the restore (`dangan restore`: escrow opened, catalogue placed, every object downloaded,
re-hashed and stored, index rebuilt, full fixity, audit verification). The reference is `cp -r` done by Python
(shutil.copytree) of the target's objects into a fresh folder: the floor of any restore from that disk.
Usage: python -m bench.bench_restore [MiB_PER_OBJECT] [OBJECTS]   (defaults: 8 MiB x 32 = 256 MiB)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.maintenance import MaintenanceService
from api.preservation.restore import RestoreService
from api.wiring import Context, build_context
from archive.access import Principal
from archive.values import AccessLevel, Role
from bench.bench_fixity import fill
from storage_config.settings import Settings

OPERATOR = Principal("bench-sysadmin", frozenset({Role.SYSADMIN}), AccessLevel.TOP_SECRET)


def plain_copy(source: Path, destination: Path) -> float:
    started = time.perf_counter()
    shutil.copytree(source, destination)
    return time.perf_counter() - started


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    objects = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    with tempfile.TemporaryDirectory(prefix="dangan-restore-") as tmp:
        root = Path(tmp)
        (root / "scratch").mkdir()
        settings = Settings(home=root / "home", workers=2, backup_escrow_passphrase=SecretStr("bench escrow phrase"))
        context = build_context(settings)
        MaintenanceService(context).initialise()
        paths = fill(context, objects=objects, mib=mib, scratch=root / "scratch")
        total = sum(path.stat().st_size for path in paths)
        BackupTargets(context).add(OPERATOR, TargetSpec(name="bench", kind="local", path=str(root / "backup")))
        backup = BackupService(context).run(OPERATOR, target="bench")
        context.close()
        shutil.rmtree(root / "home")  # the primary is lost

        def account(_context: Context, _name: str) -> Principal:
            return OPERATOR

        reference = plain_copy(root / "backup" / "sha256", root / "copy")  # the same bytes, the same disk
        restore = RestoreService(settings, accounts=account).restore(
            target="bench", username=OPERATOR.username, path=root / "backup"
        )
    gb = total / 1e9
    plain_rto = reference / gb
    print(f"objects: {objects} x {mib} MiB = {total / 2**20:.0f} MiB (random bytes), local target; {backup.status}")
    print(f"plain copy of the objects:   {reference:6.2f} s  {plain_rto:6.1f} s/GB")
    print(
        f"dangan restore:              {restore.seconds:6.2f} s  {restore.rto_seconds_per_gb or 0:6.1f} s/GB  "
        f"(grade {restore.grade.value}; fixity {restore.fixity_grade.value}, audit {restore.audit_grade.value})"
    )
    ratio = (restore.rto_seconds_per_gb or 0) / plain_rto if plain_rto else float("nan")
    print(f"restore RTO / plain copy: {ratio:.2f}x  (the restore reads every object twice: re-hash, then fixity)")


if __name__ == "__main__":
    main()
