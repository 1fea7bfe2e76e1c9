"""Encryption at rest end to end: a confidential record's objects and page images are ciphertext in the store
and on a backup target while a public record's are not; every read gives the plaintext back; fixity checks the
stored bytes and (full level) the plaintext; rotation rewraps rows only; a lost keyring is a clear error until
it is recovered from a backup's key escrow; a restore of a system with encrypted records works. Real ingest
(null OCR engine), real store, catalogue, app and command line; faults through real seams (a deleted keyring
file, a flipped byte in the store)."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.runners.local import ocr_in_child
from api.wiring import Context
from archive.events import AuditAction
from archive.keys import DERIVED_PREFIX, derived_key
from archive.models import AuditEvent, ObjectEvent, Page, StoredObject
from archive.values import ObjectRole
from tests.actors import ARCHIVIST, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

SECRET_WORDS = "Cipher Bureau ledger. The northern relay codes are kept in the iron cabinet."
OPEN_WORDS = "Harbour Board minutes. The dredging contract was approved for the northern channel."
PNG_MAGIC, JPEG_MAGIC = b"\x89PNG", b"\xff\xd8\xff"


@dataclass
class Template:
    home: Path
    scans: dict[str, Path]  # "open" | "secret" -> the scan filed
    ids: dict[str, int]


def _file(context: Context, root: Path, box: str, level: str, text: str) -> tuple[Path, int]:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="E1", series="S1", box=box, level=level).id
    scan = render(root / box, f"{box}.png", text, "eng", seed=3)
    run = ingest_paths(context, [scan], actor=ARCHIVIST, batch_id=batch, languages="eng")
    assert run.exit_code() == 0
    file_batch(context, batch)
    [job] = run.jobs
    assert job.document_id is not None
    return scan, int(job.document_id)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("encryption")
    context = make_context(root / "var")
    try:
        open_scan, open_id = _file(context, root, "B1", "public", OPEN_WORDS)
        secret_scan, secret_id = _file(context, root, "B2", "confidential", SECRET_WORDS)
    finally:
        context.close()
    return Template(root / "var", {"open": open_scan, "secret": secret_scan}, {"open": open_id, "secret": secret_id})


@pytest.fixture
def home(template: Template, tmp_path: Path) -> Path:
    shutil.copytree(template.home, tmp_path / "var")
    return tmp_path / "var"


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(home, capsys, user="sysadmin")


@pytest.fixture
def context(home: Path) -> Iterator[Context]:
    ctx = make_context(home)
    yield ctx
    ctx.close()


@pytest.fixture
def offsite(cli: Cli, tmp_path: Path) -> Path:
    folder = tmp_path / "offsite"
    assert cli("backup", "target", "add", "offsite", "--path", str(folder)).exit_code == 0
    run = cli("backup", "run", "--target", "offsite", "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    return folder


def rows_of(context: Context, document_id: int) -> list[StoredObject]:
    with context.db.read() as session:
        query = select(StoredObject).where(StoredObject.document_id == document_id).order_by(StoredObject.id)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def stored_bytes(home: Path, key: str) -> bytes:
    return (home / "objects" / key).read_bytes()


def all_objects(home: Path) -> dict[str, str]:
    root = home / "objects"
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (root / "sha256").rglob("*")
        if p.is_file()
    }


def download(context: Context, document_id: int, what: str) -> tuple[int, bytes, dict[str, str]]:
    headers = bearer(context, "sysadmin")
    with TestClient(create_app(context)) as client:
        response = client.get(f"/api/v1/documents/{document_id}/{what}", headers=headers)
        return response.status_code, response.content, dict(response.headers)


def test_a_confidential_record_is_ciphertext_in_the_store_and_a_public_one_is_not(
    template: Template, home: Path, context: Context
) -> None:
    secret_rows, open_rows = rows_of(context, template.ids["secret"]), rows_of(context, template.ids["open"])
    assert {row.role for row in secret_rows} == {ObjectRole.ORIGINAL, ObjectRole.PDFA, ObjectRole.TEXT}
    scan = template.scans["secret"].read_bytes()
    for row in secret_rows:
        data = stored_bytes(home, row.key)
        assert row.encrypted and row.key_id and row.wrapped_key and row.plain_sha256
        assert data.startswith(b"DANGENC1") and hashlib.sha256(data).hexdigest() == row.sha256 == row.key[-64:]
        assert b"Cipher Bureau" not in data and PNG_MAGIC not in data and b"%PDF" not in data
    original = next(row for row in secret_rows if row.role == ObjectRole.ORIGINAL)
    assert original.plain_sha256 == hashlib.sha256(scan).hexdigest() != original.sha256
    assert original.plain_size == len(scan) and original.size > len(scan)
    for row in open_rows:
        assert not row.encrypted and row.plain_sha256 is None
    open_original = next(row for row in open_rows if row.role == ObjectRole.ORIGINAL)
    assert stored_bytes(home, open_original.key) == template.scans["open"].read_bytes()
    open_text = next(row for row in open_rows if row.role == ObjectRole.TEXT)
    assert b"Harbour Board" in stored_bytes(home, open_text.key)
    with context.db.read() as session:  # the record's history says so, per object
        events = session.scalars(
            select(ObjectEvent).where(
                ObjectEvent.document_id == template.ids["secret"], ObjectEvent.event_type == "encryption"
            )
        ).all()
        assert sorted(str(event.object_key) for event in events) == sorted(row.key for row in secret_rows)
        assert all(event.detail["cipher"] == "AES-256-GCM" for event in events)


def test_reads_give_the_plaintext_back_and_page_images_are_sealed_too(template: Template, context: Context) -> None:
    secret = template.ids["secret"]
    status, body, _ = download(context, secret, "original")
    assert status == 200 and body == template.scans["secret"].read_bytes()
    status, body, _ = download(context, secret, "pdf")
    assert status == 200 and body.startswith(b"%PDF")
    status, body, headers = download(context, secret, "pages/1/image")
    assert status == 200 and body.startswith(JPEG_MAGIC) and int(headers["content-length"]) == len(body)
    assert Image.open(io.BytesIO(body)).format == "JPEG"
    pdfa = next(row for row in rows_of(context, secret) if row.role == ObjectRole.PDFA)
    for kind in (ObjectRole.PAGE_IMAGE, ObjectRole.THUMBNAIL):  # the store holds them sealed
        key = derived_key(pdfa.sha256, 1, kind)
        with context.store.open_read(key) as stream:
            assert stream.read(8) == b"DANGENC1"
    open_pdfa = next(row for row in rows_of(context, template.ids["open"]) if row.role == ObjectRole.PDFA)
    with context.store.open_read(derived_key(open_pdfa.sha256, 1, ObjectRole.THUMBNAIL)) as stream:
        assert stream.read(3) == JPEG_MAGIC
    assert any(key.startswith(DERIVED_PREFIX) for key in context.store.iter_keys(DERIVED_PREFIX))


def test_backup_copies_are_ciphertext_and_full_verification_checks_both_hashes(
    template: Template, home: Path, cli: Cli, offsite: Path
) -> None:
    for key, sha in all_objects(home).items():
        copy = offsite / key
        assert copy.is_file() and hashlib.sha256(copy.read_bytes()).hexdigest() == sha  # bit-identical
    context = make_context(home)
    try:
        secret_rows = rows_of(context, template.ids["secret"])
    finally:
        context.close()
    for row in secret_rows:
        assert b"Cipher Bureau" not in (offsite / row.key).read_bytes()
    clean = cli("verify", "--level", "full", "--json")
    assert clean.exit_code == 0, clean.stdout
    assert any(note["code"] == "plaintext" and note["params"]["checked"] == 3 for note in clean.json["note_codes"])
    flipped = next(row.key for row in secret_rows if row.role == ObjectRole.ORIGINAL)
    target = home / "objects" / flipped
    data = bytearray(target.read_bytes())
    data[40] ^= 0x01  # one flipped bit inside the first chunk's ciphertext
    target.write_bytes(bytes(data))
    found = cli("verify", "--level", "full", "--json")
    assert found.exit_code == 9
    assert [(f["code"], f["subject"]) for f in found.json["findings"]] == [("content_changed", flipped)]
    refused, body, _ = _download_home(home, template.ids["secret"], "original")
    assert refused == 500 and b"damaged" in body  # never half-decrypted bytes


def _download_home(home: Path, document_id: int, what: str) -> tuple[int, bytes, dict[str, str]]:
    context = make_context(home)
    try:
        return download(context, document_id, what)
    finally:
        context.close()


def test_rotation_rewraps_rows_only_and_retires_the_old_key(template: Template, home: Path, cli: Cli) -> None:
    before_status = cli("keys", "status", "--json")
    [old] = before_status.json["keys"]
    assert old["state"] == "active" and old["objects"] == 3
    before = all_objects(home)
    rotated = cli("keys", "rotate", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json["retired"] == [old["key_id"]] and rotated.json["rewrapped"] == 3
    assert all_objects(home) == before  # no object rewritten
    after = {key["key_id"]: key for key in cli("keys", "status", "--json").json["keys"]}
    assert after[old["key_id"]]["state"] == "retired" and after[old["key_id"]]["objects"] == 0
    new = after[rotated.json["new_key_id"]]
    assert new["state"] == "active" and new["objects"] == 3 and not new["escrowed"]
    status, body, _ = _download_home(home, template.ids["secret"], "original")
    assert status == 200 and body == template.scans["secret"].read_bytes()
    status, body, _ = _download_home(home, template.ids["secret"], "pages/1/thumbnail")  # drawn again, sealed
    assert status == 200 and body.startswith(JPEG_MAGIC)
    context = make_context(home)
    try:
        with context.db.read() as session:
            events = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.KEYS_ROTATE)).all()
            assert [event.actor for event in events] == ["sysadmin"]
            history = session.scalars(select(ObjectEvent).where(ObjectEvent.event_type == "key rotation")).all()
            assert len(history) == 3 and {event.detail["to_key"] for event in history} == {new["key_id"]}
    finally:
        context.close()


def test_a_lost_keyring_is_a_clear_error_until_recovered_from_the_escrow(
    template: Template, home: Path, cli: Cli, offsite: Path
) -> None:
    keyring = home / "keys" / "master-keys.json"
    assert keyring.stat().st_mode & 0o777 == 0o600
    assert cli("keys", "status").exit_code == 0  # escrowed by the backup run: no warning
    keyring.unlink()  # the fault: the key file is lost

    status, body, _ = _download_home(home, template.ids["secret"], "original")
    assert status == 503
    assert b"dangan keys recover" in body and b"key_unavailable" in body
    assert not keyring.exists()  # never silently replaced by a new keyring while objects need the old one
    warned = cli("keys", "status")
    assert warned.exit_code == 10 and "MISSING" in warned.stderr
    system = cli("status", "--json")
    codes = [(w["code"], str(w["params"]["problem"])) for w in system.json["warning_codes"]]
    assert any(code == "master_key_warning" and "MISSING" in problem for code, problem in codes), codes
    assert cli("document", "show", str(template.ids["open"])).exit_code == 0  # the rest stays readable
    # a full verification without the key: the stored bytes verify; the plaintext is unchecked, not "changed"
    verified = cli("verify", "--level", "full", "--json")
    assert verified.exit_code == 10, verified.stdout
    assert {f["code"] for f in verified.json["findings"]} == {"plaintext_unchecked"}
    assert len(verified.json["findings"]) == 3 and all(f["severity"] == "warning" for f in verified.json["findings"])
    history = cli("document", "history", str(template.ids["secret"]), "--json")
    checks = [e for e in history.json["events"] if e["event_type"] == "fixity check"]
    assert checks and all(e["outcome"] == "success" for e in checks)  # no object is recorded as damaged

    blind = cli("backup", "run", "--target", "offsite", "--json")  # a backup while the keyring is lost: warned
    assert blind.exit_code == 10 and [f["code"] for f in blind.json["report"]["findings"]] == ["keyring_not_escrowed"]

    recovered = cli("keys", "recover", "--target", "offsite", "--json")  # from the run before: it carries one
    assert recovered.exit_code == 0, recovered.stderr
    assert recovered.json["run_id"] == 1 and blind.json["id"] == 2
    assert len(recovered.json["added"]) == 1 and recovered.json["keys"][0]["objects"] == 3
    status, body, _ = _download_home(home, template.ids["secret"], "original")
    assert status == 200 and body == template.scans["secret"].read_bytes()
    assert cli("keys", "status").exit_code == 0


def test_recovery_needs_the_escrow_secret(home: Path, cli: Cli, offsite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "keys" / "master-keys.json").unlink()
    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", "not the passphrase at all")
    refused = cli("keys", "recover", "--target", "offsite")
    assert refused.exit_code == 12 and "escrow secret does not open" in refused.stderr
    assert not (home / "keys" / "master-keys.json").exists()


def test_a_system_with_encrypted_records_is_restored_from_its_backup(
    template: Template, home: Path, cli: Cli, offsite: Path
) -> None:
    shutil.rmtree(home)  # everything lost, the keyring too
    restored = cli("restore", "--target", "offsite", "--path", str(offsite), "--json")
    assert restored.exit_code == 0, restored.stdout + restored.stderr
    assert restored.json["fixity_grade"] == "clean"
    status, body, _ = _download_home(home, template.ids["secret"], "original")
    assert status == 200 and body == template.scans["secret"].read_bytes()
    verified = cli("verify", "--level", "full", "--json")
    assert verified.exit_code == 0, verified.stdout


def test_a_record_raised_to_confidential_is_sealed_at_once(template: Template, home: Path, cli: Cli) -> None:
    open_id = template.ids["open"]
    before = set(all_objects(home))
    assert cli("keys", "status", "--json").json["pending_records"] == 0  # (and the accounts are made)
    context = make_context(home)
    try:  # the archivist raises its level (HTTP: the command line has no edit)
        headers = bearer(context, "archivist")
        with TestClient(create_app(context)) as client:
            answer = client.patch(f"/api/v1/documents/{open_id}", json={"level": "confidential"}, headers=headers)
            assert answer.status_code == 200, answer.text
        rows = rows_of(context, open_id)
        assert all(row.encrypted for row in rows) and not any(row.key in before for row in rows)
        status, body, _ = download(context, open_id, "original")
        assert status == 200 and body == template.scans["open"].read_bytes()
    finally:
        context.close()
    gone = before - set(all_objects(home))
    assert len(gone) == 3  # the clear objects removed from the store
    assert cli("keys", "status", "--json").json["pending_records"] == 0
    assert cli("verify", "--level", "full").exit_code == 0


def test_a_lowered_threshold_leaves_records_pending_for_the_sweep(
    template: Template, home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGAN_ENCRYPTION__MIN_LEVEL", "public")
    open_id = template.ids["open"]
    before = set(all_objects(home))
    assert cli("keys", "status", "--json").json["pending_records"] == 1
    sealed = cli("keys", "encrypt-pending", "--json")
    assert sealed.exit_code == 0 and sealed.json == {"records": 1, "objects": 3}
    assert cli("keys", "status", "--json").json["pending_records"] == 0
    context = make_context(home)
    try:
        rows = rows_of(context, open_id)
        assert all(row.encrypted for row in rows) and not any(row.key in before for row in rows)
        status, body, _ = download(context, open_id, "original")
        assert status == 200 and body == template.scans["open"].read_bytes()
        with context.db.read() as session:
            events = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.KEYS_ENCRYPT)).all()
            assert [event.details["records"] for event in events] == [[open_id]]
    finally:
        context.close()
    assert cli("verify", "--level", "full").exit_code == 0


def test_a_rescanned_page_of_an_encrypted_record_is_sealed_too(tmp_path: Path) -> None:
    context = make_context(tmp_path / "var")
    try:
        batch = BatchService(context).create(actor=ARCHIVIST, fonds="E2", level="secret").id
        scan = render(tmp_path / "scans", "ledger.png", SECRET_WORDS, "eng", seed=61)
        run = ingest_paths(context, [scan], actor=ARCHIVIST, batch_id=batch, languages="eng")
        document_id = int(run.jobs[0].document_id or 0)
        before = {row.key for row in rows_of(context, document_id)}
        with context.db.read() as session:
            page_id = session.scalars(select(Page.id).where(Page.document_id == document_id, Page.current)).one()
        rescan = render(tmp_path / "rescan", "again.png", SECRET_WORDS + " Again.", "eng", seed=91)
        ReviewService(context).replace(page_id, rescan, actor=ARCHIVIST, ocr=ocr_in_child)
        rows = rows_of(context, document_id)
        assert len(rows) > len(before) and all(row.encrypted for row in rows)
        home = tmp_path / "var"
        for row in rows:
            assert stored_bytes(home, row.key).startswith(b"DANGENC1")
        clear = [key for key in all_objects(home) if not stored_bytes(home, key).startswith(b"DANGENC1")]
        assert clear == []  # the clear objects the rescan stored first are gone
        with context.db.read() as session:
            text = session.scalars(select(StoredObject).where(StoredObject.document_id == document_id)).all()
            current_text = next(o for o in text if o.role == ObjectRole.TEXT and o.current)
            session.expunge_all()
        with context.plain.open_read(current_text.key) as stream:
            assert b"Again." in stream.read()
    finally:
        context.close()
