"""`dangan restore`: a lost primary (the whole data directory deleted after a backup) rebuilt into an empty one
from the backup target alone — catalogue, objects, the escrowed signing key, checkpoints, index — ending clean:
fixity, the access log (not TAMPERED), a canary search. Refusals change nothing: a missing or wrong escrow
secret, a data directory that is not empty."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from archive.errors import ConfigurationError, Conflict
from tests.conftest import Cli
from tests.ingested import copy_home, ingested_home

TEXTS = (
    "Harbour Board minutes. The dredging contract was approved for the northern channel.",
    "Water Works ledger. Pump station repairs were paid from the capital reserve fund.",
)


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_home(tmp_path_factory.mktemp("restore"), TEXTS)


@pytest.fixture
def cli(template_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(copy_home(template_home, tmp_path), capsys, user="sysadmin")


@pytest.fixture
def offsite(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "offsite"
    assert cli("backup", "target", "add", "offsite", "--path", str(folder)).exit_code == 0
    run = cli("backup", "run", "--target", "offsite", "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.json["report"]["escrow_key"] == f"escrow/{run.json['id']:08d}.json"
    return folder


def objects_of(home: Path) -> dict[str, str]:
    root = home / "objects"
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (root / "sha256").rglob("*")
        if p.is_file()
    }


def test_a_lost_primary_is_restored_from_the_backup_alone(cli: Cli, offsite: Path) -> None:
    before = objects_of(cli.home)
    shown = [cli("document", "show", str(n), "--json") for n in range(1, len(TEXTS) + 1)]
    assert all(result.exit_code == 0 for result in shown), shown
    shutil.rmtree(cli.home)  # the primary is lost: catalogue, objects, signing key, index

    restored = cli("restore", "--target", "offsite", "--path", str(offsite), "--json")
    assert restored.exit_code == 0, restored.stdout + restored.stderr
    report = restored.json
    assert report["grade"] == "clean" and report["findings"] == []
    assert report["fixity_grade"] == "clean" and report["audit_grade"] == "clean"
    assert report["objects_restored"] == len(before) and report["documents_indexed"] == len(TEXTS)
    assert report["canaries"] and all(canary["found"] for canary in report["canaries"])
    assert report["rto_seconds_per_gb"] > 0 and report["checkpoints_restored"] >= 1
    assert objects_of(cli.home) == before  # every object back, bit for bit
    assert [cli("document", "show", str(n), "--json").json for n in range(1, len(TEXTS) + 1)] == [
        result.json for result in shown
    ]

    verified = cli("--user", "auditor", "audit", "verify", "--json")  # the escrowed key: not "another key"
    assert verified.json["ok"] is True, verified.stdout
    assert {f["code"] for f in verified.json["findings"]} <= {"unsealed"}  # what was read since the restore
    assert cli("--user", "auditor", "audit", "checkpoint").exit_code == 0
    sealed = cli("--user", "auditor", "audit", "verify", "--json")
    assert sealed.exit_code == 0 and sealed.json["grade"] == "clean", sealed.stdout
    found = cli("--user", "archivist", "search", "dredging", "--json")
    assert found.exit_code == 0 and found.json["total"] == 1
    again = cli("backup", "run", "--target", "offsite", "--json")  # the restored system backs up as before
    assert again.exit_code == 0 and again.json["objects_copied"] == 0, again.stdout


def test_restore_prints_its_rto_and_says_it_is_the_command_line_s(cli: Cli, offsite: Path) -> None:
    shutil.rmtree(cli.home)
    restored = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert restored.exit_code == 0, restored.stdout + restored.stderr
    assert "RTO " in restored.stdout and "s/GB" in restored.stdout and "audit log clean" in restored.stdout
    helped = cli("restore", "--help")
    assert "Command line only" in helped.stdout and "DANGAN_BACKUP_ESCROW_PASSPHRASE" in helped.stdout


def test_restore_without_or_with_a_wrong_escrow_secret_refuses_and_writes_nothing(
    cli: Cli, offsite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(cli.home)
    monkeypatch.delenv("DANGAN_BACKUP_ESCROW_PASSPHRASE")
    missing = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert missing.exit_code == ConfigurationError.exit_code == 12
    assert "no escrow secret" in missing.stderr and "DANGAN_BACKUP_ESCROW_PASSPHRASE" in missing.stderr
    assert not (cli.home / "catalogue.sqlite3").exists() and not (cli.home / "keys").exists()

    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", "not the passphrase it was sealed with")
    wrong = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert wrong.exit_code == 12 and "does not open" in wrong.stderr and "passphrase" in wrong.stderr
    assert not (cli.home / "catalogue.sqlite3").exists() and not list((cli.home / "objects").rglob("sha256/*"))

    key_file = cli.home.parent / "escrow.key"
    key_file.write_bytes(b"k" * 32)
    monkeypatch.delenv("DANGAN_BACKUP_ESCROW_PASSPHRASE")
    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_KEY_FILE", str(key_file))
    other = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert other.exit_code == 12 and "escrow passphrase" in other.stderr  # it names what it was sealed with

    monkeypatch.delenv("DANGAN_BACKUP_ESCROW_KEY_FILE")
    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", "the tests' escrow passphrase")
    assert cli("restore", "--target", "offsite", "--path", str(offsite)).exit_code == 0


def test_an_altered_escrow_is_refused(cli: Cli, offsite: Path) -> None:
    shutil.rmtree(cli.home)
    escrow = next((offsite / "escrow").iterdir())
    escrow.write_bytes(escrow.read_bytes().replace(b'"ciphertext": "', b'"ciphertext": "AAAA'))
    refused = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert refused.exit_code == 12 and "does not hash" in refused.stderr


def test_restore_refuses_a_data_directory_that_is_not_empty(cli: Cli, offsite: Path) -> None:
    refused = cli("restore", "--target", "offsite", "--path", str(offsite))
    assert refused.exit_code == Conflict.exit_code and "not empty" in refused.stderr
    assert cli("backup", "runs").exit_code == 0  # the live system untouched


def test_a_backup_run_without_an_escrow_secret_warns(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("backup", "target", "add", "bare", "--path", str(tmp_path / "bare")).exit_code == 0
    monkeypatch.delenv("DANGAN_BACKUP_ESCROW_PASSPHRASE")
    run = cli("backup", "run", "--target", "bare", "--json")
    assert run.exit_code == 10 and run.json["report"]["escrow_key"] is None
    assert [f["code"] for f in run.json["findings"]] == ["key_not_escrowed"]
    shutil.rmtree(cli.home)
    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", "the tests' escrow passphrase")
    refused = cli("restore", "--target", "bare", "--path", str(tmp_path / "bare"))
    assert refused.exit_code == 12 and "holds no key escrow" in refused.stderr
