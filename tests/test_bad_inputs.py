"""Bad input gets a clear error and changes nothing: no rows, no objects, no spooled files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.web import create_app
from api.wiring import Context
from archive.errors import UnsupportedFile
from archive.models import Document, IngestJob, Page, StoredObject
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
