"""Injected faults with exact counts, on the primary store and on a backup target: one bit flipped in each of
20 originals and 5 derivatives, 5 deleted, 5 truncated, 5 untracked, 2 swapped pairs — and nothing else."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.verification import VerificationService
from api.wiring import Context
from archive.models import StoredObject
from archive.ports import BlobStore, content_key
from tests.actors import SYSADMIN, bearer
from tests.catalogue_rows import documents_with_objects
from tests.conftest import make_context

DOCUMENTS = 40
ROLES = ("original", "pdfa", "text")


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Context]:
    """40 documents, each with an original, a PDF/A and a text object of distinct random sizes and bytes."""
    context = make_context(tmp_path / "var")
    rng = random.Random(3)
    documents_with_objects(context, "FX", "fixity", DOCUMENTS, ROLES, lambda: 1000 + rng.randrange(50_000))
    yield context
    context.close()


def inject_faults(store: BlobStore, root: Path, keys_by_role: dict[str, list[str]]) -> dict[str, int]:
    originals, derivatives = keys_by_role["original"], keys_by_role["pdfa"] + keys_by_role["text"]
    for key in originals[:20] + derivatives[:5]:  # one flipped bit each
        path = root / key
        data = bytearray(path.read_bytes())
        data[len(data) // 3] ^= 0x10
        path.write_bytes(bytes(data))
    for key in originals[20:25]:
        (root / key).unlink()
    for key in originals[25:30]:
        path = root / key
        path.write_bytes(path.read_bytes()[:-7])
    for n in range(5):
        store.put_bytes(content_key(hashlib.sha256(f"stray {n}".encode()).hexdigest()), f"stray {n}".encode())
    for first, second in ((originals[30], originals[31]), (originals[32], originals[33])):
        a, b = (root / first).read_bytes(), (root / second).read_bytes()
        (root / first).write_bytes(b)
        (root / second).write_bytes(a)
    return {"content_changed": 25, "missing": 5, "size_changed": 5, "untracked": 5, "swapped": 2}


def keys(context: Context) -> dict[str, list[str]]:
    with context.db.session() as session:
        rows = session.query(StoredObject).order_by(StoredObject.id).all()
        return {role: [row.key for row in rows if row.role == role] for role in ROLES}


def test_exact_counts_on_the_primary_store(archive: Context) -> None:
    expected = inject_faults(archive.store, archive.settings.resolved_storage_path, keys(archive))
    report = VerificationService(archive).verify(SYSADMIN, level="full")
    assert report.counts == expected
    assert report.exit_code == 9
    flagged = {f.key for f in report.findings} | {f.partner_key for f in report.findings}
    untouched = set(keys(archive)["original"][34:]) | set(keys(archive)["text"][5:])
    assert not flagged & untouched  # zero false positives


def test_exact_counts_on_a_backup_target(archive: Context, tmp_path: Path) -> None:
    target_root = tmp_path / "offsite"
    BackupTargets(archive).add(SYSADMIN, TargetSpec(name="offsite", kind="local", path=str(target_root)))
    backups, verification = BackupService(archive), VerificationService(archive)
    assert backups.run(SYSADMIN, target="offsite").status == "complete"
    assert verification.verify(SYSADMIN, target="offsite", level="backup").status == "clean"
    store, _, _ = backups.latest("offsite")
    expected = inject_faults(store, target_root, keys(archive))
    report = verification.verify(SYSADMIN, target="offsite", level="backup")
    counts = {key: value for key, value in report.counts.items() if value}
    assert counts == expected
    assert report.exit_code == 9


def test_backup_verification_over_http(archive: Context, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.http.app import create_app

    BackupTargets(archive).add(SYSADMIN, TargetSpec(name="copy", kind="local", path=str(tmp_path / "c")))
    BackupService(archive).run(SYSADMIN, target="copy")
    headers = bearer(archive, "sysadmin")
    with TestClient(create_app(archive)) as client:
        clean = client.post("/api/v1/verify", headers=headers, json={"level": "backup", "target": "copy"})
        assert clean.status_code == 200 and clean.json()["status"] == "clean"
        assert client.post("/api/v1/verify", headers=headers, json={"level": "backup"}).status_code == 400
