"""One graded-report contract: each of the four reports — fixity (primary store and backup target), backup runs,
the audit log, restore drills — grades clean → exit 0, warnings → 10, errors → 9 through the real CLI, and
answers with `grade`, `exit_code` and findings that carry a severity, a code, a subject and a message.

Faults go in through real seams: the files of the local store and of the backup target, catalogue rows added
and audit rows deleted with SQL, and a backup run left "running" as a killed process leaves it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.http.app import create_app
from api.wiring import Context
from archive.errors import ExitCode
from archive.models import BackupRun, Document, StoredObject
from archive.ports import content_key
from tests.actors import bearer
from tests.catalogue_rows import add_object, documents_with_objects
from tests.conftest import Cli, CliResult, make_context

DOCUMENTS = 4
OK, WARNINGS, ERRORS = ExitCode.OK, ExitCode.WARNINGS, ExitCode.INTEGRITY_FAILURE


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Context]:
    """Four catalogued documents, each with two stored objects of random bytes (real SQLite, real local store)."""
    context = make_context(tmp_path / "var")
    rng = random.Random(11)
    documents_with_objects(context, "GR", "graded", DOCUMENTS, ("original", "text"), lambda: 500 + rng.randrange(5000))
    yield context
    context.close()


def add_document_later(context: Context, data: bytes) -> str:
    """A catalogue object archived after a backup: its key."""
    with context.db.write() as session:
        document = session.query(Document).first()
        assert document is not None
        return add_object(context, document, "extra", data).key


@pytest.fixture
def cli(archive: Context, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(archive.settings.home_dir, capsys, user="sysadmin")


@pytest.fixture
def offsite(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "offsite"
    assert cli("backup", "target", "add", "offsite", "--path", str(folder)).exit_code == OK
    return folder


def keys(context: Context) -> list[str]:
    with context.db.session() as session:
        return sorted({row.key for row in session.query(StoredObject)})


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def graded(result: CliResult, exit_code: ExitCode, grade: str) -> dict[str, Any]:
    """The JSON answer, after checking that its grade, its exit code and the process's exit code agree."""
    assert result.exit_code == exit_code, result.stdout + result.stderr
    report: dict[str, Any] = result.json
    assert report["grade"] == grade and report["exit_code"] == exit_code
    severities = [finding["severity"] for finding in report["findings"]]
    assert report["severity_counts"] == {"error": severities.count("error"), "warning": severities.count("warning")}
    for finding in report["findings"]:
        assert finding["code"] and finding["message"] and finding["severity"] in ("error", "warning")
    return report


def only(report: dict[str, Any], code: str) -> dict[str, Any]:
    (finding,) = [f for f in report["findings"] if f["code"] == code]
    return finding


def test_fixity_of_the_primary_store(cli: Cli, archive: Context) -> None:
    clean = graded(cli("verify", "--json"), OK, "clean")
    assert clean["findings"] == [] and clean["status"] == "clean"

    stray = content_key(hashlib.sha256(b"stray").hexdigest())
    archive.store.put_bytes(stray, b"stray")
    warned = graded(cli("verify", "--json"), WARNINGS, "warnings")
    finding = only(warned, "untracked")
    assert finding["severity"] == "warning" and finding["subject"] == finding["key"] == stray
    assert warned["status"] == "warnings" and "no catalogue row" in finding["message"]

    corrupted = keys(archive)[0]
    flip(archive.settings.resolved_storage_path / corrupted)
    failed = graded(cli("verify", "--json"), ERRORS, "errors")
    finding = only(failed, "content_changed")
    assert (
        finding["severity"] == "error" and finding["subject"] == corrupted and finding["category"] == "content_changed"
    )
    assert f"document {finding['document_id']} (GR-" in finding["message"]
    assert failed["severity_counts"] == {"error": 1, "warning": 1}
    text_out = cli("verify")
    assert text_out.exit_code == ERRORS and "ERRORS" in text_out.stdout and "{" not in text_out.stdout


def test_fixity_of_a_backup_target(cli: Cli, archive: Context, offsite: Path) -> None:
    assert cli("backup", "run", "--target", "offsite").exit_code == OK
    graded(cli("verify", "--target", "offsite", "--level", "backup", "--json"), OK, "clean")

    later = add_document_later(archive, b"archived after the backup")
    warned = graded(cli("verify", "--target", "offsite", "--level", "backup", "--json"), WARNINGS, "warnings")
    assert only(warned, "not_backed_up")["subject"] == later

    flip(offsite / keys(archive)[1])
    failed = graded(cli("verify", "--target", "offsite", "--level", "backup", "--json"), ERRORS, "errors")
    assert only(failed, "content_changed")["subject"] == keys(archive)[1] and failed["target"] == "offsite"
    assert cli("verify", "--level", "backup", "--json").exit_code == ExitCode.INVALID_INPUT  # no target named


def test_backup_runs(cli: Cli, archive: Context, offsite: Path) -> None:
    clean = graded(cli("backup", "run", "--target", "offsite", "--json"), OK, "clean")
    assert clean["status"] == "complete" and clean["report"]["grade"] == "clean"

    with archive.db.write() as session:  # what a process killed mid-copy leaves behind
        stale = BackupRun(target="offsite", status="running", actor="sysadmin")
        session.add(stale)
        session.flush()
        stale_id = stale.id
    warned = graded(cli("backup", "run", "--target", "offsite", "--json"), WARNINGS, "warnings")
    assert warned["status"] == "complete" and warned["report"]["interrupted_runs"] == [stale_id]
    assert only(warned, "interrupted")["subject"] == f"backup run {stale_id}"
    assert (only(warned, "interrupted")["subject_kind"], only(warned, "interrupted")["subject_id"]) == (
        "backup_run",
        stale_id,
    )

    damaged = add_document_later(archive, b"rotted before it was ever backed up")
    flip(archive.settings.resolved_storage_path / damaged)
    failed = graded(cli("backup", "run", "--target", "offsite", "--json"), ERRORS, "errors")
    assert failed["status"] == "incomplete" and only(failed, "copy_failed")["subject"] == damaged
    listed = cli("backup", "runs", "--json").json["runs"]
    assert [(run["status"], run["grade"]) for run in listed] == [
        ("incomplete", "errors"),
        ("complete", "warnings"),
        ("interrupted", "errors"),
        ("complete", "clean"),
    ]
    assert "incomplete errors" in " ".join(cli("backup", "runs").stdout.split())


def test_audit_log(cli: Cli, archive: Context) -> None:
    fresh = graded(cli("--user", "auditor", "audit", "verify", "--json"), WARNINGS, "warnings")
    assert fresh["ok"] is True and only(fresh, "no_checkpoint")["severity"] == "warning"

    assert cli("--user", "auditor", "audit", "checkpoint").exit_code == OK
    clean = graded(cli("--user", "auditor", "audit", "verify", "--json"), OK, "clean")
    assert clean["ok"] is True and clean["findings"] == [] and clean["sealed_through"] == clean["last_event_id"]

    for _ in range(3):  # events after the last checkpoint: the verification above, and three runs
        assert cli("verify", "--level", "structure").exit_code == OK
    warned = graded(cli("--user", "auditor", "audit", "verify", "--json"), WARNINGS, "warnings")
    unsealed = only(warned, "unsealed")
    assert warned["ok"] is True and unsealed["event_id"] == clean["last_event_id"] + 1
    assert f"events {clean['last_event_id'] + 1}..{warned['last_event_id']}" in unsealed["message"]
    assert "intact, with warnings" in cli("--user", "auditor", "audit", "verify").stdout

    with archive.db.engine.begin() as connection:  # delete an event after the last checkpoint (not the newest)
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": clean["last_event_id"] + 2})
    failed = graded(cli("--user", "auditor", "audit", "verify", "--json"), ERRORS, "errors")
    deleted = only(failed, "deleted")
    assert failed["ok"] is False and deleted["severity"] == "error" and deleted["kind"] == "deleted"
    assert deleted["subject"] == f"event {clean['last_event_id'] + 2}" and deleted["detail"] == deleted["message"]
    assert deleted["subject_kind"] == "event" and deleted["subject_id"] == clean["last_event_id"] + 2
    assert "TAMPERED" in cli("--user", "auditor", "audit", "verify").stdout


def test_restore_drills(cli: Cli, archive: Context, offsite: Path) -> None:
    assert cli("backup", "run", "--target", "offsite").exit_code == OK
    clean = graded(cli("backup", "drill", "--target", "offsite", "--json"), OK, "clean")
    assert clean["status"] == "passed" and clean["objects"]["restored"] == DOCUMENTS * 2 and clean["id"]

    add_document_later(archive, b"archived after the backup")
    warned = graded(cli("backup", "drill", "--target", "offsite", "--json"), WARNINGS, "warnings")
    assert warned["status"] == "passed" and warned["not_backed_up"] == 1  # passed: no errors (the old spelling)
    assert only(warned, "not_backed_up")["severity"] == "warning"

    lost = keys(archive)[2]
    (offsite / lost).unlink()
    failed = graded(cli("backup", "drill", "--target", "offsite", "--json"), ERRORS, "errors")
    assert failed["status"] == "failed" and only(failed, "missing")["subject"] == lost
    text_out = cli("backup", "drill", "--target", "offsite")
    assert text_out.exit_code == ERRORS and "FAILED, errors" in text_out.stdout and lost in text_out.stdout


def test_http_answers_carry_the_grade_and_document_the_errors(archive: Context, offsite: Path) -> None:
    client = TestClient(create_app(archive))
    admin, auditor = bearer(archive, "sysadmin"), bearer(archive, "auditor")
    assert client.post("/api/v1/backups/offsite/run", headers=admin).json()["grade"] == "clean"
    drill = client.post("/api/v1/backups/offsite/drill", json={}, headers=admin).json()
    assert (drill["grade"], drill["exit_code"], drill["status"]) == ("clean", 0, "passed")
    assert client.get("/api/v1/backups/drills", headers=admin).json()["drills"][0]["id"] == drill["id"]
    verified = client.post("/api/v1/verify", json={"level": "structure"}, headers=admin).json()
    assert (verified["grade"], verified["exit_code"]) == ("clean", 0)
    stored = client.get(f"/api/v1/verify/runs/{verified['run_id']}", headers=admin).json()
    assert stored["grade"] == "clean" and stored["report"]["run_id"] == verified["run_id"]
    log = client.post("/api/v1/audit/verify", headers=auditor).json()
    assert log["ok"] is True and log["grade"] == "warnings" and log["exit_code"] == WARNINGS  # nothing sealed yet

    paths = client.get("/openapi.json").json()["paths"]
    assert {"403", "404"} <= set(paths["/api/v1/verify"]["post"]["responses"])
    assert {"403", "404"} <= set(paths["/api/v1/backups/{target}/drill"]["post"]["responses"])
    schema = paths["/api/v1/audit/verify"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/AuditVerificationView")
