"""Backups to a second target, backup verification with exact counts, interrupted runs, restore drills.

Faults go in through real seams: the files of the local backup target (flipped byte, deleted object, swapped
pair, stray file), and a progress callback that raises mid-copy the way a killed process stops.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access.auditing import AuditService
from api.http.app import create_app
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.verification import VerificationService
from api.wiring import Context, build_context
from archive.models import AuditEvent, BackupRun, StoredObject, VerificationRun
from archive.preservation.manifest import BACKUP_CATEGORIES
from storage_config.settings import BackupTargetOptions, Settings
from tests.actors import ARCHIVIST, SYSADMIN, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.s3server import S3Endpoint

TEXTS = (
    "Harbour Board minutes. The dredging contract was approved for the northern channel.",
    "Water Works ledger. Pump station repairs were paid from the capital reserve fund.",
    "School Council letter. New desks and lamps are requested for the evening classes.",
)
OBJECTS = len(TEXTS) * 3  # original, pdfa, text per item


def _template(tmp_path_factory: pytest.TempPathFactory, ocr_engine: str) -> Path:
    root = tmp_path_factory.mktemp(f"backups-{ocr_engine}")
    scans = [render(root / "scans", f"item-{n}.png", text, "eng", seed=n) for n, text in enumerate(TEXTS)]
    context = make_context(root / "var", ocr_engine=ocr_engine)
    try:
        assert ingest_paths(context, scans, actor=ARCHIVIST, languages="eng").exit_code() == 0
        AuditService(context).checkpoint(SYSADMIN)
    finally:
        context.close()
    return root / "var"


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template(tmp_path_factory, "null")


@pytest.fixture(scope="module")
def ocr_template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made only for tests marked `ocr`: access copies with tesseract's text layer."""
    return _template(tmp_path_factory, "tesseract")


@pytest.fixture
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    marked = request.node.get_closest_marker("ocr") is not None
    template: Path = request.getfixturevalue("ocr_template_home" if marked else "template_home")
    shutil.copytree(template, tmp_path / "var")
    return tmp_path / "var"


@pytest.fixture
def context(home: Path) -> Iterator[Context]:
    ctx = make_context(home)
    yield ctx
    ctx.close()


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Backups, verification and drills are the system administrator's."""
    return Cli(home, capsys, user="sysadmin")


@pytest.fixture
def offsite(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "offsite"
    added = cli("backup", "target", "add", "offsite", "--path", str(folder), "--json")
    assert added.exit_code == 0, added.stderr
    return folder


def counts(**found: int) -> dict[str, int]:
    return {category: found.get(category, 0) for category in BACKUP_CATEGORIES}


def object_keys(context: Context) -> list[str]:
    with context.db.session() as session:
        return sorted({row.key for row in session.query(StoredObject)})


def test_backup_copies_everything_once_then_only_what_is_new(cli: Cli, context: Context, offsite: Path) -> None:
    first = cli("backup", "run", "--target", "offsite", "--json")
    assert first.exit_code == 0, first.stderr
    run = first.json
    assert run["status"] == "complete" and run["objects_copied"] == OBJECTS and run["bytes_copied"] > 0
    for key in object_keys(context):
        assert (offsite / key).read_bytes() == (context.settings.resolved_storage_path / key).read_bytes()
    assert (offsite / run["manifest_key"]).is_file() and (offsite / run["snapshot_key"]).is_file()
    manifest = (offsite / run["manifest_key"]).read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == run["manifest_sha256"]
    assert run["report"]["checkpoints"] >= 1 and list((offsite / "audit" / "checkpoints").iterdir())

    second = cli("backup", "run", "--target", "offsite", "--json").json
    assert second["objects_copied"] == 0 and second["bytes_copied"] == 0 and second["status"] == "complete"
    clean = cli("verify", "--level", "backup", "--target", "offsite", "--json")
    assert clean.exit_code == 0, clean.stdout
    assert clean.json["counts"] == counts() and clean.json["backup_run_id"] == second["id"]
    assert "complete" in cli("backup", "runs").stdout
    with context.db.session() as session:
        events = session.query(AuditEvent).filter_by(action="backup.run").all()
        stored = session.query(VerificationRun).filter_by(store="offsite").one()
    assert [e.outcome for e in events] == ["complete", "complete"] and stored.level == "backup"


def test_verify_backup_counts_each_fault_in_the_target(cli: Cli, context: Context, offsite: Path) -> None:
    assert cli("backup", "run", "--target", "offsite").exit_code == 0
    keys = object_keys(context)
    rotted = offsite / keys[0]
    data = bytearray(rotted.read_bytes())
    data[len(data) // 2] ^= 0x01
    rotted.write_bytes(bytes(data))
    (offsite / keys[1]).unlink()
    a, b = offsite / keys[2], offsite / keys[3]
    first, second = a.read_bytes(), b.read_bytes()
    a.write_bytes(second)
    b.write_bytes(first)
    stray = "sha256/00/" + "0" * 64
    (offsite / "sha256" / "00").mkdir(parents=True, exist_ok=True)
    (offsite / stray).write_bytes(b"stray")

    result = cli("verify", "--level", "backup", "--target", "offsite", "--json")
    assert result.exit_code == 9
    report = result.json
    assert report["counts"] == counts(content_changed=1, missing=1, swapped=1, untracked=1)
    by_category = {(f["category"], f["key"]) for f in report["findings"]}
    assert ("content_changed", keys[0]) in by_category and ("missing", keys[1]) in by_category
    assert ("untracked", stray) in by_category
    swapped = next(f for f in report["findings"] if f["category"] == "swapped")
    assert {swapped["key"], swapped["partner_key"]} == {keys[2], keys[3]} and swapped["document_id"] is not None
    structure = cli("verify", "--level", "structure", "--target", "offsite", "--json").json
    assert (
        structure["counts"] == counts(missing=1, size_changed=2 * (len(first) != len(second)), untracked=1)
        and structure["objects_hashed"] == 0
    )

    with context.db.write() as session:  # a catalogue object the backup does not hold yet: a warning
        row = session.query(StoredObject).first()
        assert row is not None
        session.add(
            StoredObject(
                document_id=row.document_id,
                key="sha256/ff/" + "f" * 64,
                sha256="f" * 64,
                size=1,
                media_type="text/plain",
                role="extra",
            )
        )
    (offsite / keys[1]).write_bytes((context.settings.resolved_storage_path / keys[1]).read_bytes())
    rotted.write_bytes((context.settings.resolved_storage_path / keys[0]).read_bytes())
    a.write_bytes(first)
    b.write_bytes(second)
    (offsite / stray).unlink()
    warned = cli("verify", "--level", "backup", "--target", "offsite", "--json")
    assert warned.exit_code == 10 and warned.json["counts"] == counts(not_backed_up=1)
    assert cli("verify", "--level", "backup", "--json").exit_code == 2


class Killed(BaseException):
    """Stands for the process being killed mid-copy: nothing after it runs, not even error handling."""


def test_interrupted_backup_is_resumed_by_the_next_run(context: Context, offsite: Path) -> None:
    service = BackupService(context)

    def crash_after_four(done: int, total: int) -> None:
        if done == 4:
            raise Killed

    with pytest.raises(Killed):
        service.run(SYSADMIN, target="offsite", progress=crash_after_four)
    with context.db.session() as session:
        (stale,) = session.query(BackupRun).all()
    assert stale.status == "running" and stale.manifest_key is None
    assert len(list((offsite / "sha256").rglob("*"))) - len(list((offsite / "sha256").glob("*"))) == 4

    resumed = service.run(SYSADMIN, target="offsite")
    assert resumed.status == "complete" and resumed.objects_copied == OBJECTS - 4
    assert resumed.report.interrupted_runs == [stale.id]
    with context.db.session() as session:
        assert session.get(BackupRun, stale.id).status == "interrupted"  # type: ignore[union-attr]
    report = VerificationService(context).verify(SYSADMIN, target="offsite", level="backup")
    assert report.status == "clean" and report.objects_checked >= OBJECTS + 2


@pytest.mark.ocr  # the drill extracts the access copies' text layers; the null engine's pages have none
def test_restore_drill_restores_verifies_and_measures(cli: Cli, context: Context, offsite: Path) -> None:
    assert cli("backup", "run", "--target", "offsite").exit_code == 0
    result = cli("backup", "drill", "--target", "offsite", "--json")
    assert result.exit_code == 0, result.stdout
    drill = result.json
    assert drill["status"] == "passed"
    objects, catalogue, searching = drill["objects"], drill["catalogue"], drill["search"]
    assert objects["restored"] == OBJECTS and not objects["missing"] and not objects["hash_mismatch"]
    assert objects["pdfs_opened"] == len(TEXTS) and objects["pdf_text_chars"] > 100
    assert catalogue["integrity"] == "ok" and catalogue["sha256_ok"]
    assert catalogue["documents"] == len(TEXTS) and catalogue["pages"] == len(TEXTS)
    assert searching["documents_indexed"] == len(TEXTS)
    assert len(searching["canaries"]) == len(TEXTS) and all(c["found"] for c in searching["canaries"])
    assert drill["rpo_seconds"] > 0 and drill["rto_seconds_per_gb"] > 0
    sampled = cli("backup", "drill", "--target", "offsite", "--sample", "2", "--seed", "5", "--json").json
    assert sampled["objects"]["restored"] == 2 and sampled["seed"] == 5 and sampled["status"] == "passed"
    assert "RPO" in cli("backup", "drill", "--target", "offsite", "--sample", "1").stdout
    with context.db.session() as session:
        assert session.query(AuditEvent).filter_by(action="backup.drill").count() == 3

    (offsite / object_keys(context)[0]).unlink()
    failed = cli("backup", "drill", "--target", "offsite", "--json")
    assert failed.exit_code == 9 and failed.json["objects"]["missing"] == [object_keys(context)[0]]


def test_targets_list_remove_settings_and_http(cli: Cli, context: Context, offsite: Path, tmp_path: Path) -> None:
    assert cli("backup", "target", "add", "offsite", "--path", str(tmp_path / "x")).exit_code == 5
    assert cli("backup", "target", "add", "Bad Name", "--path", str(tmp_path / "x")).exit_code == 2
    assert cli("backup", "target", "add", "inside", "--path", str(context.settings.home_dir / "b")).exit_code == 2
    assert [t["name"] for t in cli("backup", "target", "list", "--json").json["targets"]] == ["offsite"]
    assert cli("backup", "run", "--target", "nowhere").exit_code == 4

    declared = Settings(
        home=context.settings.home, backup_targets={"vault": BackupTargetOptions(path=tmp_path / "vault")}
    )
    other = build_context(declared)
    try:
        listed = BackupTargets(other).list(SYSADMIN).targets
        assert [(t.name, t.source) for t in listed] == [("offsite", "catalogue"), ("vault", "settings")]
        assert BackupService(other).run(SYSADMIN, target="vault").status == "complete"
    finally:
        other.close()

    admin = bearer(context, "sysadmin")
    client = TestClient(create_app(context))
    posted = client.post("/api/v1/backups/offsite/run", headers=admin)
    assert posted.status_code == 200 and posted.json()["status"] == "complete"
    drilled = client.post("/api/v1/backups/offsite/drill", json={"sample": 1, "seed": 1}, headers=admin)
    assert drilled.status_code == 200 and drilled.json()["status"] == "passed"
    assert (
        client.get("/api/v1/backups/runs?target=offsite", headers=admin).json()["runs"][0]["id"] == posted.json()["id"]
    )
    assert len(client.get("/api/v1/backups/drills", headers=admin).json()["drills"]) == 1
    assert client.post("/api/v1/backups/offsite/run").status_code == 401
    assert cli("backup", "target", "remove", "offsite").exit_code == 0
    assert cli("backup", "target", "list", "--json").json["targets"] == []


def test_s3_target_backup_and_verify(
    cli: Cli, context: Context, s3_server: S3Endpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = f"backup-{uuid.uuid4().hex[:12]}"
    args = ["backup", "target", "add", "cloud", "--s3-endpoint", s3_server.endpoint, "--bucket", bucket, "--no-secure"]
    assert cli(*args, "--region", s3_server.region).exit_code == 0
    assert cli("backup", "run", "--target", "cloud").exit_code == 12  # no credentials yet: a configuration error
    monkeypatch.setenv("DANGAN_BACKUP_CLOUD_ACCESS_KEY", s3_server.access_key)
    monkeypatch.setenv("DANGAN_BACKUP_CLOUD_SECRET_KEY", "s3cret-" + s3_server.secret_key)
    run = cli("backup", "run", "--target", "cloud", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json["objects_copied"] == OBJECTS
    verified = cli("verify", "--level", "backup", "--target", "cloud", "--json")
    assert verified.exit_code == 0 and verified.json["counts"] == counts()
    listed = cli("backup", "target", "list", "--json")
    assert "s3cret" not in listed.stdout + run.stdout + verified.stdout
    with context.db.session() as session:
        logged = " ".join(str(event.details) for event in session.query(AuditEvent))
    assert "s3cret" not in logged

    monkeypatch.delenv("DANGAN_BACKUP_CLOUD_ACCESS_KEY")
    monkeypatch.delenv("DANGAN_BACKUP_CLOUD_SECRET_KEY")
    secrets = tmp_path / "cloud.keys"
    secrets.write_text(f"ACCESS_KEY={s3_server.access_key}\nSECRET_KEY={s3_server.secret_key}\n")
    spec = TargetSpec(
        name="cloud2",
        kind="s3",
        endpoint=s3_server.endpoint,
        bucket=bucket,
        secure=False,
        region=s3_server.region,
        credentials_file=str(secrets),
    )
    BackupTargets(context).add(SYSADMIN, spec)
    again = BackupService(context).run(SYSADMIN, target="cloud2")
    assert again.status == "complete" and again.objects_copied == 0  # same bucket: nothing new
