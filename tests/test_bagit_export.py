"""BagIt export: real pages ingested with real OCR, exported by batch and by fonds, and validated by the
independent bagit-python library; a flipped byte in the store stops the export and leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bagit
import pytest

from api.ingest.batches import BatchService
from api.records.bagit_export import export_bag
from api.wiring import Context
from archive.errors import IntegrityFailure, InvalidInput, NotFound
from archive.models import AuditEvent, Document
from tests.actors import principal
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import CHINESE_TEXT, ENGLISH_TEXT, render

CHINESE_NAME = "关于档案数字化的通知.png"
CHINESE_TITLE = "关于档案数字化的通知"
FONDS = "BAGF"
TESTER = principal("archivist", name="tester")  # scans, uploads and exports


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, int]]:
    """One fonds, one batch: a Chinese-named page, an English page, and a folder item of two pages."""
    root = tmp_path_factory.mktemp("bagit")
    scans = root / "scans"
    render(scans, CHINESE_NAME, CHINESE_TEXT, "chi_sim")
    render(scans, "schedule-en.jpg", ENGLISH_TEXT, "eng", seed=8)
    render(scans / "register", "p1.png", "Register of deeds. Volume one, first page.", "eng", seed=11)
    render(scans / "register", "p2.png", "Register of deeds. Volume one, second page of the list.", "eng", seed=12)
    context = make_context(root / "var")
    batch_id = BatchService(context).create(actor=TESTER, fonds=FONDS, languages="eng").id
    outcome = ingest_paths(context, [scans], actor=TESTER, batch_id=batch_id)  # a sub-folder is one item
    assert outcome.exit_code() == 0, outcome.as_json()
    assert len(outcome.jobs) == 3
    yield context, batch_id
    context.close()


def read_bag(path: Path) -> bagit.Bag:
    bag = bagit.Bag(str(path))
    bag.validate()  # raises BagValidationError with the reasons when anything is off
    assert bag.is_valid()
    return bag


def documents(context: Context) -> list[Document]:
    with context.db.session() as session:
        rows = session.query(Document).order_by(Document.reference_code).all()
        for row in rows:
            _ = row.objects, row.fonds
        return rows


def payload_sizes(path: Path) -> tuple[int, int]:
    files = [p for p in (path / "data").rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def test_batch_export_is_a_valid_bag(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, batch_id = archived
    seen: list[tuple[int, int]] = []
    target = tmp_path / "bag"

    def step(done: int, total: int) -> None:
        seen.append((done, total))

    summary = export_bag(context, fonds=None, batch_id=batch_id, target=target, actor=TESTER, progress=step)
    bag = read_bag(tmp_path / "bag")
    octets, count = payload_sizes(tmp_path / "bag")
    assert summary.payload_oxum == bag.info["Payload-Oxum"] == f"{octets}.{count}"
    assert summary.documents == 3 and summary.files == count and summary.bytes == octets
    # 4 originals + 3 PDF/A + 3 texts, then documents.json, documents.csv and premis.xml
    assert count == 13 and seen[-1] == (10, 10)
    assert bag.info["External-Identifier"] == f"batch-{batch_id}"
    assert bag.info["Source-Organization"] == "Dang'an archive"
    codes = [d.reference_code for d in documents(context)]
    assert bag.info["Dangan-Reference-Code"] == codes  # a repeated label, one line per document
    assert bag.info["Dangan-Document-Count"] == "3" and bag.info["Dangan-Page-Count"] == "4"
    assert (tmp_path / "bag" / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    tagged = {line.split()[1] for line in (tmp_path / "bag" / "tagmanifest-sha256.txt").read_text().splitlines()}
    assert tagged == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt"}
    assert not [p for p in tmp_path.iterdir() if p.name != "bag"]  # no temp folder left next to it


def test_payload_layout_and_names(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, batch_id = archived
    export_bag(context, fonds=None, batch_id=batch_id, target=tmp_path / "bag", actor=TESTER)
    by_name = {d.original_filename: d for d in documents(context)}
    chinese = tmp_path / "bag" / "data" / by_name[CHINESE_NAME].reference_code
    assert (chinese / "original" / CHINESE_NAME).is_file()
    assert (chinese / "access.pdf").read_bytes().startswith(b"%PDF")
    assert (chinese / "text.txt").is_file()
    folder = tmp_path / "bag" / "data" / by_name["register"].reference_code / "original"
    assert sorted(p.name for p in folder.iterdir()) == ["page-0001.png", "page-0002.png"]
    manifest = (tmp_path / "bag" / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert f"original/{CHINESE_NAME}" in manifest  # UTF-8 names kept as they are


def test_metadata_json_and_csv(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, batch_id = archived
    export_bag(context, fonds=None, batch_id=batch_id, target=tmp_path / "bag", actor=TESTER)
    metadata = tmp_path / "bag" / "data" / "metadata"
    records: list[dict[str, Any]] = json.loads((metadata / "documents.json").read_text(encoding="utf-8"))["documents"]
    rows = list(csv.DictReader(io.StringIO((metadata / "documents.csv").read_text(encoding="utf-8"), newline="")))
    catalogue = documents(context)
    assert (
        [r["reference_code"] for r in records]
        == [r["reference_code"] for r in rows]
        == [d.reference_code for d in catalogue]
    )
    for document, record, row in zip(catalogue, records, rows, strict=True):
        assert record["id"] == document.id and row["id"] == str(document.id)
        assert record["title"] == row["title"] == document.title
        assert record["fonds"] == row["fonds"] == FONDS and record["batch_id"] == batch_id
        assert record["page_count"] == document.page_count and row["page_count"] == str(document.page_count)
        assert record["level"] == row["level"] == "internal"
        assert set(row) >= {"date", "departments", "language", "status", "pdfa_sha256", "text_sha256"}
        current = {o.sha256 for o in document.objects if o.current}
        assert {o["sha256"] for o in record["objects"]} == current
        originals = sorted(o.sha256 for o in document.objects if o.current and o.role == "original")
        assert sorted(row["original_sha256"].split(";")) == originals
        for obj in record["objects"]:
            assert (tmp_path / "bag" / obj["path"]).stat().st_size == obj["size"]
    assert CHINESE_TITLE in {r["title"] for r in records} and CHINESE_TITLE in {r["title"] for r in rows}


def test_fonds_export_and_audit_event(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, _ = archived
    (tmp_path / "empty").mkdir()
    summary = export_bag(context, fonds=FONDS, batch_id=None, target=tmp_path / "empty", actor=TESTER)
    bag = read_bag(tmp_path / "empty")
    assert bag.info["External-Identifier"] == FONDS and summary.documents == 3
    with context.db.session() as session:
        event = session.query(AuditEvent).filter_by(action="export.bagit").order_by(AuditEvent.id.desc()).first()
        assert event is not None and event.actor == TESTER.username == "tester"
        assert event.details == {
            "scope": {"fonds": FONDS},
            "documents": 3,
            "files": 13,
            "bytes": summary.bytes,
            "roles": ["archivist"],  # the actor's roles at the time, covered by the hash
        }


def test_refusals(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, batch_id = archived
    with pytest.raises(NotFound):
        export_bag(context, fonds="NOPE", batch_id=None, target=tmp_path / "a", actor=TESTER)
    with pytest.raises(NotFound):
        export_bag(context, fonds=None, batch_id=9999, target=tmp_path / "a", actor=TESTER)
    with pytest.raises(InvalidInput):
        export_bag(context, fonds=FONDS, batch_id=batch_id, target=tmp_path / "a", actor=TESTER)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput):
        export_bag(context, fonds=FONDS, batch_id=None, target=tmp_path / "full", actor=TESTER)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_flipped_byte_stops_the_export_and_leaves_nothing(archived: tuple[Context, int], tmp_path: Path) -> None:
    context, batch_id = archived
    with context.db.session() as session:
        stored = next(o for d in session.query(Document) for o in d.objects if o.role == "pdfa" and o.current)
        key = stored.key
    path = context.settings.resolved_storage_path / key
    original = path.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    try:
        with pytest.raises(IntegrityFailure) as caught:
            export_bag(context, fonds=None, batch_id=batch_id, target=tmp_path / "out" / "bag", actor=TESTER)
        assert key in caught.value.message
    finally:
        path.write_bytes(original)
    assert list((tmp_path / "out").iterdir()) == []  # no bag, no temp folder


def test_cli_export(archived: tuple[Context, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context, batch_id = archived
    cli = Cli(context.settings.home_dir, capsys)
    result = cli("export", "bagit", "--batch", str(batch_id), str(tmp_path / "bag"), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json["path"] == str(tmp_path / "bag") and result.json["documents"] == 3
    assert result.json["payload_oxum"] == read_bag(tmp_path / "bag").info["Payload-Oxum"]
    text = cli("export", "bagit", "--fonds", FONDS, str(tmp_path / "bag2"))
    assert text.exit_code == 0 and "3 document(s)" in text.stdout
    missing = cli("export", "bagit", "--fonds", "NOPE", str(tmp_path / "bag3"), "--json")
    assert missing.exit_code == NotFound.exit_code == 4
    assert missing.json["error"] == "not_found" and not (tmp_path / "bag3").exists()
    assert cli("export", "bagit", str(tmp_path / "bag4")).exit_code == InvalidInput.exit_code
