"""A record's event history (archive.history), written by the real use cases and read back through the service,
the CLI, the HTTP route and a BagIt export's premis.xml: ingestion, digests, accession, fixity checks (a damaged
object's check fails), replications to a backup target, metadata changes, a page replaced by a rescan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.verification import VerificationService
from api.records.bagit_export import export_bag
from api.records.documents import update_document
from api.records.history import document_history
from api.runners.local import ocr_in_child
from api.wiring import Context
from archive.errors import NotFound, PermissionDenied
from archive.models import Document, Page, StoredObject
from tests.actors import ARCHIVIST, AUDITOR, STAFF, SYSADMIN, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

P = "{http://www.loc.gov/premis/v3}"


@pytest.fixture
def filed(tmp_path: Path) -> Iterator[tuple[Context, list[int]]]:
    """Two filed items (one of two pages), ingested through the null engine."""
    scans = tmp_path / "scans"
    render(scans, "letter.png", "Letter of the municipal records office about retention.", "eng", seed=3)
    render(scans / "register", "p1.png", "Register of deeds, first page.", "eng", seed=4)
    render(scans / "register", "p2.png", "Register of deeds, second page.", "eng", seed=5)
    context = make_context(tmp_path / "var")
    batch_id = BatchService(context).create(actor=ARCHIVIST, fonds="HIST", languages="eng").id
    assert ingest_paths(context, [scans], actor=ARCHIVIST, batch_id=batch_id).exit_code() == 0
    file_batch(context, batch_id)
    with context.db.session() as session:
        ids = sorted(session.query(Document.id).all())
    yield context, [doc_id for (doc_id,) in ids]
    context.close()


def objects_of(context: Context, document_id: int) -> list[StoredObject]:
    with context.db.session() as session:
        return session.query(StoredObject).filter_by(document_id=document_id).all()


def types(context: Context, document_id: int) -> list[str]:
    return [event.event_type for event in document_history(context, ARCHIVIST, document_id).events]


def test_ingest_and_filing_write_the_first_history(filed: tuple[Context, list[int]]) -> None:
    context, ids = filed
    for doc_id in ids:
        view = document_history(context, ARCHIVIST, doc_id)
        objects = objects_of(context, doc_id)
        identified = [obj for obj in objects if obj.role in ("original", "pdfa")]
        assert [e.event_type for e in view.events] == [
            "imaging",  # the digitisation: device, settings, operator (what the batch declared), the image's tags
            "ingestion",
            *["message digest calculation"] * len(objects),
            "accession",
            *["format identification"] * len(identified),  # the DA/T 70 checks run at filing
        ]
        formats = {e.object_key: e.detail["puid"] for e in view.events if e.event_type == "format identification"}
        # PRONOM: fmt/11 PNG 1.0 (the scans), fmt/477 PDF/A-2b (the access copies)
        assert formats == {obj.key: "fmt/11" if obj.role == "original" else "fmt/477" for obj in identified}
        digests = {e.object_key: e.detail["sha256"] for e in view.events if e.event_type.startswith("message")}
        assert digests == {obj.key: obj.sha256 for obj in objects}
        assert view.events[1].agent == ARCHIVIST.username and view.events[1].detail["pages"] in (1, 2)
        assert all(e.outcome == "success" for e in view.events)


def test_fixity_checks_record_each_object_and_a_damaged_one_fails(filed: tuple[Context, list[int]]) -> None:
    context, ids = filed
    damaged = objects_of(context, ids[0])[0]
    VerificationService(context).verify(SYSADMIN, level="full")
    path = context.settings.resolved_storage_path / damaged.key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = VerificationService(context).verify(SYSADMIN, level="full")
    assert report.status == "errors"
    checks = [e for e in document_history(context, ARCHIVIST, ids[0]).events if e.event_type == "fixity check"]
    first, second = checks[: len(checks) // 2], checks[len(checks) // 2 :]
    assert {e.detail["verification"] for e in first} != {e.detail["verification"] for e in second}
    assert all(e.outcome == "success" for e in first)
    outcomes = {e.object_key: e.outcome for e in second}
    assert outcomes.pop(damaged.key) == "failure"
    assert set(outcomes.values()) == {"success"} and len(outcomes) == len(objects_of(context, ids[0])) - 1
    structural = VerificationService(context).verify(SYSADMIN, level="structure")  # nothing hashed: no event
    assert structural.run_id and types(context, ids[0]).count("fixity check") == len(checks)


def test_backup_replications_and_metadata_changes(filed: tuple[Context, list[int]], tmp_path: Path) -> None:
    context, ids = filed
    BackupTargets(context).add(SYSADMIN, TargetSpec(name="vault", kind="local", path=str(tmp_path / "vault")))
    BackupService(context).run(SYSADMIN, target="vault")
    BackupService(context).run(SYSADMIN, target="vault")  # nothing new: no second replication
    for doc_id in ids:
        copies = [e for e in document_history(context, ARCHIVIST, doc_id).events if e.event_type == "replication"]
        assert sorted(e.object_key or "" for e in copies) == sorted(o.key for o in objects_of(context, doc_id))
        assert {e.detail["target"] for e in copies} == {"vault"}
    update_document(context, ARCHIVIST, ids[1], title="Register of deeds, volume one")
    change = document_history(context, ARCHIVIST, ids[1]).events[-1]
    assert change.event_type == "metadata modification" and change.detail["fields"]["title"].endswith("volume one")


def test_who_may_read_a_history(filed: tuple[Context, list[int]]) -> None:
    context, ids = filed
    assert document_history(context, AUDITOR, ids[0]).events
    with pytest.raises(PermissionDenied):
        document_history(context, STAFF, ids[0])
    with pytest.raises(NotFound):
        document_history(context, ARCHIVIST, 999_999)
    client = TestClient(create_app(context))
    answer = client.get(f"/api/v1/documents/{ids[0]}/history", headers=bearer(context, "sysadmin"))
    assert answer.status_code == 200 and answer.json()["counts"]["accession"] == 1


def test_cli_history(filed: tuple[Context, list[int]], capsys: pytest.CaptureFixture[str]) -> None:
    context, ids = filed
    cli = Cli(context.settings.home, capsys, user="archivist")
    shown = cli("document", "history", str(ids[0]))
    assert shown.exit_code == 0, shown.stderr
    assert "ingestion (success)" in shown.stdout and "accession (success)" in shown.stdout
    as_json = cli("document", "history", str(ids[0]), "--json")
    assert [e["event_type"] for e in as_json.json["events"]] == types(context, ids[0])
    assert cli("--user", "staff", "document", "history", str(ids[0])).exit_code != 0


def test_a_bag_carries_the_events_as_premis(filed: tuple[Context, list[int]], tmp_path: Path) -> None:
    context, ids = filed
    VerificationService(context).verify(SYSADMIN, level="full")
    bag = tmp_path / "bag"
    export_bag(context, fonds="HIST", batch_id=None, target=bag, actor=ARCHIVIST)
    root = ET.parse(bag / "data" / "metadata" / "premis.xml").getroot()
    assert root.tag == f"{P}premis" and root.get("version") == "3.0"
    events = root.findall(f"{P}event")
    expected = sum(len(document_history(context, ARCHIVIST, i).events) for i in ids)
    assert len(events) == expected
    files = {
        obj.findtext(f"{P}objectIdentifier/{P}objectIdentifierValue"): obj.findtext(
            f"{P}objectCharacteristics/{P}fixity/{P}messageDigest"
        )
        for obj in root.findall(f"{P}object")
        if obj.findtext(f"{P}objectCharacteristics/{P}size") is not None
    }
    stored = {o.key: o.sha256 for i in ids for o in objects_of(context, i)}
    assert files == stored
    linked = {e.findtext(f"{P}linkingObjectIdentifier/{P}linkingObjectIdentifierValue") for e in events}
    assert set(stored) <= linked  # every file has events (its digest, its fixity check)
    fixity = [e for e in events if e.findtext(f"{P}eventType") == "fixity check"]
    assert len(fixity) == len(stored) and all(e.findtext(f".//{P}eventOutcome") == "success" for e in fixity)
    detail = json.loads(fixity[0].findtext(f".//{P}eventDetail") or "{}")
    assert detail["algorithm"] == "SHA-256"
    agents = {a.findtext(f"{P}agentIdentifier/{P}agentIdentifierValue") for a in root.findall(f"{P}agent")}
    assert {ARCHIVIST.username, SYSADMIN.username} <= agents


def test_a_rescan_is_a_modification_with_the_new_objects_digests(tmp_path: Path) -> None:
    context = make_context(tmp_path / "var")
    try:
        batch = BatchService(context).create(actor=ARCHIVIST, fonds="HIST", level="internal").id
        scan = render(tmp_path / "scans", "ledger.png", "Ledger of the harbour office", "eng", seed=61)
        run = ingest_paths(context, [scan], actor=ARCHIVIST, batch_id=batch)
        document_id = int(run.jobs[0].document_id or 0)
        before = {o.key for o in objects_of(context, document_id)}
        with context.db.read() as session:
            page_id = session.scalars(select(Page.id).where(Page.document_id == document_id, Page.current)).one()
        rescan = render(tmp_path / "rescan", "again.png", "Ledger of the harbour office, again", "eng", seed=91)
        ReviewService(context).replace(page_id, rescan, actor=ARCHIVIST, ocr=ocr_in_child)
        events = document_history(context, ARCHIVIST, document_id).events
        added = {o.key for o in objects_of(context, document_id)} - before
        assert added  # the rescan, its spliced access copy, the new text
        modification = next(i for i, e in enumerate(events) if e.event_type == "modification")
        assert events[modification].detail["page"] == 1 and events[modification].detail["version"] == 2
        digests = {e.object_key for e in events[modification + 1 :] if e.event_type == "message digest calculation"}
        assert digests == added
    finally:
        context.close()
