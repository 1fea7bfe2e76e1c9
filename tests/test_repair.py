"""Repair on both sides: a corrupted or lost primary object put back from a verified backup copy (`dangan repair`
and POST /api/v1/backups/repair), never from a copy that is itself bad; a corrupted backup copy replaced from the
primary by the next backup run. Each repair is an `object.repair` audit event."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from archive.events import AuditAction
from archive.models import AuditEvent, ObjectEvent, StoredObject
from tests.actors import bearer
from tests.conftest import Cli, make_context
from tests.ingested import copy_home, ingested_home

TEXTS = (
    "Harbour Board minutes. The dredging contract was approved for the northern channel.",
    "School Council letter. New desks and lamps are requested for the evening classes.",
)


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingested_home(tmp_path_factory.mktemp("repair"), TEXTS)


@pytest.fixture
def cli(template_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(copy_home(template_home, tmp_path), capsys, user="sysadmin")


@pytest.fixture
def offsite(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "offsite"
    assert cli("backup", "target", "add", "offsite", "--path", str(folder)).exit_code == 0
    assert cli("backup", "run", "--target", "offsite").exit_code == 0
    return folder


def keys(home: Path) -> list[str]:
    context = make_context(home)
    try:
        with context.db.session() as session:
            return sorted(set(session.scalars(select(StoredObject.key))))
    finally:
        context.close()


def recovered_keys(home: Path) -> list[str]:
    context = make_context(home)
    try:
        with context.db.session() as session:
            query = select(ObjectEvent.object_key).where(
                ObjectEvent.event_type == "recovery", ObjectEvent.outcome == "success"
            )
            return sorted({str(key) for key in session.scalars(query)})
    finally:
        context.close()


def repair_events(home: Path) -> list[AuditEvent]:
    context = make_context(home)
    try:
        with context.db.session() as session:
            query = select(AuditEvent).where(AuditEvent.action == AuditAction.OBJECT_REPAIR).order_by(AuditEvent.id)
            events = list(session.scalars(query))
            session.expunge_all()
            return events
    finally:
        context.close()


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupted_and_lost_primary_objects_are_repaired_from_the_backup(cli: Cli, offsite: Path) -> None:
    changed, lost = keys(cli.home)[:2]
    primary = cli.home / "objects"
    good = sha(primary / changed)
    flip(primary / changed)
    (primary / lost).unlink()
    assert cli("verify", "--json").exit_code == 9

    repaired = cli("repair", "--json")
    assert repaired.exit_code == 10, repaired.stdout + repaired.stderr  # warnings: repaired, nothing lost now
    report = repaired.json
    assert report["damaged"] == 2 and report["repaired"] == 2
    assert {(o["key"], o["problem"], o["source"]) for o in report["objects"]} == {
        (changed, "changed", "offsite"),
        (lost, "missing", "offsite"),
    }
    assert {f["code"] for f in report["findings"]} == {"repaired"}
    assert sha(primary / changed) == good and (primary / lost).read_bytes() == (offsite / lost).read_bytes()
    assert cli("verify", "--json").exit_code == 0
    events = repair_events(cli.home)
    assert [(e.outcome, e.details["key"], e.target) for e in events] == sorted(
        [("repaired", changed, "store:local"), ("repaired", lost, "store:local")], key=lambda t: t[1]
    )
    assert cli("repair", "--json").json["damaged"] == 0  # nothing left: clean
    assert cli("repair").exit_code == 0
    assert recovered_keys(cli.home) == sorted([changed, lost])  # each is a recovery in its record's history


def test_a_bad_backup_copy_is_never_put_back(cli: Cli, offsite: Path) -> None:
    key = keys(cli.home)[0]
    flip(cli.home / "objects" / key)
    flip(offsite / key)  # both copies damaged
    before = (cli.home / "objects" / key).read_bytes()
    refused = cli("repair", "--json")
    assert refused.exit_code == 9 and refused.json["repaired"] == 0
    outcome = refused.json["objects"][0]
    assert outcome["source"] is None and "hashes to" in outcome["reasons"][0]
    assert (cli.home / "objects" / key).read_bytes() == before  # nothing written
    assert [e.outcome for e in repair_events(cli.home)] == ["failed"]


def test_repair_over_http_is_the_system_administrator_s(cli: Cli, offsite: Path) -> None:
    key = keys(cli.home)[0]
    (cli.home / "objects" / key).unlink()
    context = make_context(cli.home)
    try:
        with TestClient(create_app(context)) as client:
            clerk = bearer(context, "clerk", ["archivist"])
            assert client.post("/api/v1/backups/repair", json={}, headers=clerk).status_code == 403
            admin = bearer(context, "sysadmin", ["sysadmin"])
            unknown = client.post("/api/v1/backups/repair", json={"target": "nowhere"}, headers=admin)
            assert unknown.status_code == 404
            done = client.post("/api/v1/backups/repair", json={"target": "offsite"}, headers=admin)
            assert done.status_code == 200, done.text
            assert done.json()["repaired"] == 1 and done.json()["grade"] == "warnings"
    finally:
        context.close()
    assert (cli.home / "objects" / key).is_file()


def test_the_next_backup_run_replaces_a_corrupted_backup_copy(cli: Cli, offsite: Path) -> None:
    changed, shortened = keys(cli.home)[:2]
    flip(offsite / changed)  # same size: only a re-hash finds it
    (offsite / shortened).write_bytes((offsite / shortened).read_bytes()[:-10])
    assert cli("verify", "--level", "backup", "--target", "offsite").exit_code == 9

    run = cli("backup", "run", "--target", "offsite", "--json")
    assert run.exit_code == 10, run.stdout  # warnings: copies had gone bad, now replaced
    assert {r["key"] for r in run.json["report"]["replaced"]} == {changed, shortened}
    assert {f["code"] for f in run.json["findings"]} == {"copy_replaced"}
    assert run.json["objects_copied"] == 2
    for key in (changed, shortened):
        assert (offsite / key).read_bytes() == (cli.home / "objects" / key).read_bytes()
    assert cli("verify", "--level", "backup", "--target", "offsite").exit_code == 0
    events = repair_events(cli.home)
    assert {(e.details["key"], e.target, e.details["source"]) for e in events} == {
        (changed, "backup:offsite", "primary"),
        (shortened, "backup:offsite", "primary"),
    }
    assert cli("backup", "run", "--target", "offsite", "--json").json["report"]["replaced"] == []
