"""`dangan verify` re-hashes every object: a flipped byte and a deleted object are found, by document and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.wiring import Context
from archive.errors import IntegrityFailure
from archive.models import Document
from tests.conftest import Cli, make_context
from tests.pages import chinese_page, english_page


@pytest.fixture
def archived(cli: Cli, tmp_path: Path) -> Context:
    scans = tmp_path / "scans"
    chinese_page(scans)
    english_page(scans)
    assert cli("ingest", str(scans)).exit_code == 0
    return make_context(cli.home)


def object_path(context: Context, filename: str, role: str) -> tuple[int, str, Path]:
    with context.db.session() as session:
        document = session.query(Document).filter_by(original_filename=filename).one()
        stored = next(o for o in document.objects if o.role == role)
        return document.id, stored.key, context.settings.resolved_storage_path / stored.key


def test_clean_archive_verifies_clean(cli: Cli, archived: Context) -> None:
    result = cli("--user", "sysadmin", "verify", "--json")
    assert result.exit_code == 0
    assert result.json["clean"] is True
    assert result.json["objects_checked"] == 6
    assert result.json["status"] == "clean" and result.json["exit_code"] == 0
    assert result.json["counts"] == {
        "missing": 0,
        "size_changed": 0,
        "content_changed": 0,
        "swapped": 0,
        "untracked": 0,
    }


def test_flipped_byte_and_deleted_object_are_reported(cli: Cli, archived: Context) -> None:
    flipped_doc, flipped_key, flipped = object_path(archived, "notice-zh.png", "original")
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    deleted_doc, deleted_key, deleted = object_path(archived, "schedule-en.jpg", "pdfa")
    deleted.unlink()

    result = cli("--user", "sysadmin", "verify", "--json")
    assert result.exit_code == IntegrityFailure.exit_code == 9
    report = result.json
    assert report["clean"] is False
    assert report["counts"] == {
        "missing": 1,
        "size_changed": 0,
        "content_changed": 1,
        "swapped": 0,
        "untracked": 0,
    }
    found = {(f["category"], f["document_id"], f["key"], f["role"]) for f in report["findings"]}
    assert found == {
        ("content_changed", flipped_doc, flipped_key, "original"),
        ("missing", deleted_doc, deleted_key, "pdfa"),
    }
    text = cli("--user", "sysadmin", "verify")
    assert text.exit_code == 9
    assert "CONTENT_CHANGED" in text.stdout and "MISSING" in text.stdout and flipped_key in text.stdout


def test_truncated_object_is_a_size_change(cli: Cli, archived: Context) -> None:
    _, key, path = object_path(archived, "schedule-en.jpg", "text")
    path.write_bytes(path.read_bytes()[:-5])
    report = cli("--user", "sysadmin", "verify", "--json").json
    assert report["counts"]["size_changed"] == 1 and report["findings"][0]["key"] == key


def test_each_run_is_an_audit_event(cli: Cli, archived: Context) -> None:
    from archive.models import AuditEvent

    cli("--user", "sysadmin", "verify")
    with archived.db.session() as session:
        events = session.query(AuditEvent).filter_by(action="verify.run").all()
        assert len(events) == 1 and events[0].outcome == "clean"
        assert events[0].details["objects"] == 6
