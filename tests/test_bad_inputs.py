"""Bad input gets a clear error and changes nothing: no rows, no objects, no spooled files."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.http.app import create_app
from api.wiring import Context
from archive.errors import UnsupportedFile
from archive.models import Batch, Document, IngestJob, Page, StoredObject
from tests.actors import bearer
from tests.conftest import Cli
from tests.pages import english_page


def zero_byte(folder: Path) -> Path:
    path = folder / "empty.tif"
    path.write_bytes(b"")
    return path


def fake_pdf(folder: Path) -> Path:
    path = folder / "letter.pdf"
    path.write_bytes(b"PK\x03\x04 this is a zip archive, not a PDF")
    return path


def encrypted_pdf(folder: Path) -> Path:
    path = folder / "locked.pdf"
    with pikepdf.Pdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path, encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))
    return path


def png_named_jpeg(folder: Path) -> Path:
    source = english_page(folder / "src", name="page.png").path
    path = folder / "page.jpg"
    path.write_bytes(source.read_bytes())
    return path


BAD_INPUTS = {
    "zero-byte file": (zero_byte, "empty (0 bytes)"),
    "pdf that is not a pdf": (fake_pdf, "named as application/pdf but its content is"),
    "encrypted pdf": (encrypted_pdf, "password-protected"),
    "png named .jpg": (png_named_jpeg, "named as image/jpeg but its content is image/png"),
}


def assert_nothing_changed(context: Context) -> None:
    with context.db.session() as session:
        for table in (Document, Page, StoredObject, IngestJob):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
    assert list(context.store.iter_keys()) == []
    leftovers = [p for p in context.settings.spool_dir.rglob("*") if p.is_file()]
    assert leftovers == []


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_cli_rejects_with_reason_and_writes_nothing(cli: Cli, tmp_path: Path, case: str, context: Context) -> None:
    make, reason = BAD_INPUTS[case]
    path = make(tmp_path)
    result = cli("ingest", str(path), "--json")
    assert result.exit_code == UnsupportedFile.exit_code
    rejected = result.json["rejected"]
    assert len(rejected) == 1 and reason in rejected[0]["message"] and path.name in rejected[0]["message"]
    assert_nothing_changed(context)


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_api_rejects_with_415_and_writes_nothing(
    client: TestClient, context: Context, tmp_path: Path, case: str
) -> None:
    headers = bearer(context, "clerk", ["archivist"])  # uploading is the archivist's
    make, reason = BAD_INPUTS[case]
    path = make(tmp_path)
    response = client.post(
        "/api/v1/documents",
        headers=headers,
        files={"file": (path.name, path.read_bytes())},
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_file" and reason in response.json()["message"]
    assert_nothing_changed(context)


def test_a_folder_with_one_bad_file_still_ingests_the_good_ones(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "box"
    english_page(folder)
    zero_byte(folder)
    result = cli("ingest", str(folder), "--json")
    assert result.exit_code == UnsupportedFile.exit_code
    assert result.json["summary"] | {"wall_seconds": 0} == {
        "items": 2,
        "done": 1,
        "needs_review": 0,
        "failed": 0,
        "retrying": 0,
        "skipped": 0,
        "rejected": 1,
        "pages": 1,
        "wall_seconds": 0,
    }


def test_a_damaged_image_fails_its_job_without_leaving_objects(cli: Cli, tmp_path: Path, context: Context) -> None:
    page = english_page(tmp_path, name="torn.png").path
    data = page.read_bytes()
    page.write_bytes(data[: len(data) // 3])  # truncated mid-stream: decodes the header, fails on the pixels
    result = cli("ingest", str(page), "--json")
    assert result.exit_code == UnsupportedFile.exit_code
    assert "damaged" in result.json["rejected"][0]["message"]
    assert_nothing_changed(context)


def test_a_truncated_jpeg_is_refused_at_validation(cli: Cli, tmp_path: Path, context: Context) -> None:
    page = english_page(tmp_path, name="half.jpg").path
    data = page.read_bytes()
    page.write_bytes(data[: len(data) // 2])  # the scanner's transfer stopped halfway
    result = cli("ingest", str(page), "--json")
    assert result.exit_code == UnsupportedFile.exit_code
    assert "half.jpg: the image is damaged" in result.json["rejected"][0]["message"]
    assert_nothing_changed(context)


MAX_ID = 2**63 - 1


@pytest.fixture
def people(context: Context) -> dict[str, dict[str, str]]:
    """Whose job each address is: the archivist's work and records, the auditor's log, the sysadmin's operations."""
    return {
        "archivist": bearer(context, "clerk", ["archivist"]),
        "auditor": bearer(context, "auditor"),
        "sysadmin": bearer(context, "sysadmin"),
    }


def whose(people: dict[str, dict[str, str]], path: str) -> dict[str, str]:
    if path.startswith("/api/v1/audit/"):
        return people["auditor"]
    if path.startswith(("/api/v1/verify", "/api/v1/backups/")):
        return people["sysadmin"]
    return people["archivist"]


@pytest.fixture
def admin(people: dict[str, dict[str, str]]) -> dict[str, str]:
    """The archivist: batches, uploads and records."""
    return people["archivist"]


def test_framework_errors_answer_in_the_documented_shape(client: TestClient, admin: dict[str, str]) -> None:
    missing = client.post("/api/v1/batches", headers=admin, json={})
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "invalid_input", "message": "body.fonds: field required"},
    )
    smuggled = client.post("/api/v1/batches", headers=admin, json={"fonds": "F1", "status": "filed"})
    assert smuggled.status_code == 400 and smuggled.json()["message"] == "body.status: extra inputs are not permitted"
    garbled = client.post("/api/v1/batches", headers={**admin, "Content-Type": "application/json"}, content=b"{")
    assert garbled.status_code == 400 and garbled.json()["error"] == "invalid_input"
    unknown = client.get("/api/v1/no-such-thing", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found" and unknown.json()["message"]
    wrong_method = client.delete("/api/v1/batches", headers=admin)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    assert wrong_method.headers["allow"]  # the methods the address takes
    not_a_number = client.get("/api/v1/documents/abc", headers=admin)
    assert not_a_number.status_code == 400 and "path.document_id" in not_a_number.json()["message"]


OUT_OF_RANGE = [
    ("GET", f"/api/v1/documents/{MAX_ID + 1}", None, "path.document_id"),
    ("GET", "/api/v1/documents/0", None, "path.document_id"),
    ("GET", f"/api/v1/documents/{2**64}/pdf", None, "path.document_id"),
    ("PATCH", f"/api/v1/documents/{10**30}", {"title": "x"}, "path.document_id"),
    ("GET", f"/api/v1/jobs/{MAX_ID + 1}", None, "path.job_id"),
    ("GET", f"/api/v1/batches/{MAX_ID + 1}", None, "path.batch_id"),
    ("GET", f"/api/v1/batches/{MAX_ID + 1}/report", None, "path.batch_id"),
    ("POST", f"/api/v1/batches/{MAX_ID + 1}/decision", None, "path.batch_id"),
    ("POST", "/api/v1/batches/1/sample", {"seed": 2**31}, "body.seed"),
    ("POST", "/api/v1/batches/1/sample", {"seed": -1}, "body.seed"),
    ("POST", "/api/v1/batches/1/sample", b'{"percent": 1e999}', "body.percent"),
    ("POST", "/api/v1/batches/1/sample", {"minimum": 2**70}, "body.minimum"),
    ("POST", "/api/v1/batches/1/verdicts", {"page_id": MAX_ID + 1, "verdict": "pass"}, "body.page_id"),
    ("POST", f"/api/v1/pages/{MAX_ID + 1}/review", {"action": "accept"}, "path.page_id"),
    ("POST", "/api/v1/batches", {"fonds": "F1", "year": 10**20}, "body.year"),
    ("GET", f"/api/v1/audit/events?offset={2**64}", None, "query.offset"),
    ("GET", f"/api/v1/audit/events?document={MAX_ID + 1}", None, "query.document"),
    ("GET", f"/api/v1/audit/export?document={MAX_ID + 1}", None, "query.document"),
    ("GET", "/api/v1/audit/events?since=9999-12-31T23:59:59-14:00", None, "query.since"),
    ("GET", "/api/v1/audit/alerts?until=0001-01-01T00:00:00%2B14:00", None, "query.until"),
    ("GET", f"/api/v1/search?q=x&page={10**12}", None, "query.page"),
    ("GET", f"/api/v1/search?q=x&batch={MAX_ID + 1}", None, "query.batch"),
    ("POST", "/api/v1/verify", {"level": "sample", "seed": 2**63}, "body.seed"),
    ("GET", f"/api/v1/verify/runs/{MAX_ID + 1}", None, "path.run_id"),
    ("POST", "/api/v1/backups/offsite/drill", {"seed": 2**31}, "body.seed"),
    ("POST", "/api/v1/backups/offsite/drill", {"sample": MAX_ID + 1}, "body.sample"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    OUT_OF_RANGE,
    ids=[f"{m} {p}" for m, p, *_ in OUT_OF_RANGE],
)
def test_numbers_out_of_range_are_a_400_naming_the_field(
    client: TestClient, people: dict[str, dict[str, str]], method: str, path: str, body: Any, field: str
) -> None:
    admin = whose(people, path)
    if isinstance(body, bytes):  # JSON that Python reads as infinity
        response = client.request(method, path, headers=admin | {"Content-Type": "application/json"}, content=body)
    else:
        response = client.request(method, path, headers=admin, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_input" and response.json()["message"].startswith(f"{field}: ")


def test_an_upload_into_a_batch_id_out_of_range_is_a_400(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/documents",
        headers=admin,
        data={"batch_id": str(MAX_ID + 1)},
        files={"file": ("scan.png", b"\x89PNG\r\n\x1a\n")},
    )
    assert response.status_code == 400 and response.json()["message"].startswith("body.batch_id: ")


def test_the_largest_id_is_simply_not_found(client: TestClient, people: dict[str, dict[str, str]]) -> None:
    response = client.get(f"/api/v1/documents/{MAX_ID}", headers=people["archivist"])
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    in_the_log = f"/api/v1/audit/events?offset=1000000000&document={MAX_ID}"
    assert client.get(in_the_log, headers=people["auditor"]).status_code == 200


@pytest.mark.parametrize(
    "manifest",
    [
        "item,title,pages\r1,First letter,1\r2,Second letter,2\r",  # classic Mac OS
        "item,title,pages\r\n1,First letter,1\r\n2,Second letter,2\r\n",  # Windows
        'item,title,pages\n1,"First\rletter",1\n2,Second letter,2\n',  # a CR inside a quoted title
    ],
)
def test_manifests_with_carriage_returns_are_read(client: TestClient, admin: dict[str, str], manifest: str) -> None:
    response = client.post("/api/v1/batches", headers=admin, json={"fonds": "F1", "manifest_csv": manifest})
    assert response.status_code == 201, response.text
    assert response.json()["manifest_rows"] == 2


def test_a_stray_carriage_return_in_a_row_is_a_400_naming_the_row(
    client: TestClient, admin: dict[str, str], context: Context
) -> None:
    manifest = "item,title,pages\n1,First letter,1\n2,Second\rletter,2\n"
    response = client.post("/api/v1/batches", headers=admin, json={"fonds": "F1", "manifest_csv": manifest})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "manifest.csv: row 4: item 'letter' is not a whole number (at most 999,999,999)"
    )
    assert response.json()["reason"] == "manifest_row_item"  # the page says it in its language, with the values
    assert response.json()["params"] == {"count": 1, "row": 4, "value": "letter", "maximum": 999_999_999}
    huge = "item,title\n1," + "x" * 200_000 + "\n"  # over the CSV reader's field limit
    response = client.post("/api/v1/batches", headers=admin, json={"fonds": "F1", "manifest_csv": huge})
    assert response.status_code == 400 and "row 2 cannot be read as CSV" in response.json()["message"]
    assert response.json()["reason"] == "manifest_unreadable" and response.json()["params"] == {"row": 2}
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries:
            bundle.writestr(name, data)
    return buffer.getvalue()


def zip_with_nul_name() -> bytes:
    """zipfile cuts names at NUL when writing, so the NUL is put into both headers afterwards."""
    return zip_of([("page1.pngXreadme.txt", b"not a scan")]).replace(b"page1.pngX", b"page1.png\x00")


NO_SCANS = {
    "empty zip": (lambda: zip_of([]), "x.zip holds no scans (TIFF, PNG, JPEG or PDF); it is empty"),
    "readme only": (
        lambda: zip_of([("readme.txt", b"box 12"), ("__MACOSX/._readme.txt", b"")]),
        "x.zip holds no scans (TIFF, PNG, JPEG or PDF); it has only readme.txt (not a scan: .txt)",
    ),
    "NUL in a name": (zip_with_nul_name, "contains a NUL character"),
}


def batch_id_of(client: TestClient, admin: dict[str, str]) -> int:
    response = client.post("/api/v1/batches", headers=admin, json={"fonds": "F1"})
    assert response.status_code == 201
    return int(response.json()["id"])


@pytest.mark.parametrize("case", sorted(NO_SCANS))
def test_a_zip_without_scans_is_a_415_and_queues_nothing(
    client: TestClient, admin: dict[str, str], context: Context, case: str
) -> None:
    make, message = NO_SCANS[case]
    batch = batch_id_of(client, admin)
    response = client.post(f"/api/v1/batches/{batch}/files", headers=admin, files=[("files", ("x.zip", make()))])
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_file" and message in response.json()["message"]
    assert response.json()["jobs"] == [] and response.json()["rejected"][0]["item"] == "x.zip"
    assert_nothing_changed(context)


@pytest.mark.parametrize("case", sorted(NO_SCANS))
def test_cli_refuses_a_zip_without_scans_with_exit_3(cli: Cli, tmp_path: Path, context: Context, case: str) -> None:
    make, message = NO_SCANS[case]
    archive = tmp_path / "x.zip"
    archive.write_bytes(make())
    batch = cli("batch", "create", "--fonds", "F1", "--json").json["id"]
    result = cli("ingest", str(archive), "--batch", str(batch))
    assert result.exit_code == UnsupportedFile.exit_code, result.stdout + result.stderr
    assert message in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert_nothing_changed(context)


def many_page_tiff(folder: Path, pages: int) -> Path:
    """A real multi-page TIFF (16x16 bilevel pages sharing one strip), written directly: Pillow takes minutes."""
    tags = [(256, 3, 16), (257, 3, 16), (258, 3, 1), (259, 3, 1), (262, 3, 0), (273, 4, 8), (278, 3, 16), (279, 4, 32)]
    ifd_bytes = 2 + 12 * len(tags) + 4
    out = bytearray(struct.pack("<2sHI", b"II", 42, 8 + 32)) + b"\xff" * 32  # header, then the strip
    for index in range(pages):
        following = 0 if index == pages - 1 else len(out) + ifd_bytes
        out += struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            out += struct.pack("<HHII", tag, kind, 1, value)
        out += struct.pack("<I", following)
    path = folder / "ledger.tif"
    path.write_bytes(bytes(out))
    return path


def test_a_tiff_of_ten_thousand_pages_is_refused_from_its_page_chain(
    client: TestClient, admin: dict[str, str], context: Context, tmp_path: Path
) -> None:
    path = many_page_tiff(tmp_path, 10_000)
    response = client.post("/api/v1/documents", headers=admin, files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 415
    # counted from the IFD chain, stopping past the limit (Pillow decoded all 10,000 pages first: 45 s of CPU)
    assert response.json()["message"] == "ledger.tif: more than 2000 pages, over the limit per file; split the file"
    assert_nothing_changed(context)


def test_a_pdf_of_too_many_pages_is_refused_from_its_page_tree(
    client: TestClient, admin: dict[str, str], context: Context, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.pdf"
    with pikepdf.Pdf.new() as pdf:
        for _ in range(2001):
            pdf.add_blank_page()
        pdf.save(path)
    response = client.post("/api/v1/documents", headers=admin, files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 415
    assert response.json()["message"] == "ledger.pdf: 2001 pages exceed the limit of 2000; split the file"
    assert_nothing_changed(context)


BROKEN = {
    "tiff header, then junk": ("scan one.tif", b"II*\x00" + b"\x07" * 64),
    "png header, then junk": ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    "jpeg header, then junk": ("scan.jpg", b"\xff\xd8\xff" + b"\x01" * 64),
    "pdf header, then junk": ("scan.pdf", b"%PDF-1.7\n" + b"garbage " * 8),
    "tiff that points past its end": ("big.tif", b"II*\x00\xff\xff\xff\x7f"),
}


def assert_no_server_path(context: Context, message: str) -> None:
    for folder in (*context.settings.private_paths, context.settings.home):
        assert str(folder) not in message, message
    assert "/spool/" not in message and "/incoming/" not in message, message


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_refusals_name_the_file_as_uploaded_never_where_it_is_spooled(
    client: TestClient, admin: dict[str, str], context: Context, case: str
) -> None:
    name, data = BROKEN[case]
    single = client.post("/api/v1/documents", headers=admin, files={"file": (name, data)})
    assert single.status_code == 415, single.text
    assert single.json()["message"].startswith(f"{name}: ")
    assert_no_server_path(context, single.json()["message"])
    batch = batch_id_of(client, admin)
    bundle = zip_of([(f"box/{name}", data)])
    for files in ([("files", (name, data))], [("files", ("box.zip", bundle))]):
        response = client.post(f"/api/v1/batches/{batch}/files", headers=admin, files=files)
        assert response.status_code == 415, response.text
        for refusal in response.json()["rejected"]:
            assert_no_server_path(context, refusal["message"])
        assert_no_server_path(context, response.json()["message"])
    assert_nothing_changed(context)
