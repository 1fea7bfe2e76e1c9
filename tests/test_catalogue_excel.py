"""Excel catalogues (目录): exported with only the records the caller may see (and an audit event), read back as
a batch manifest (round trip), and bad workbooks refused with a reason or read sensibly."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.manifest_rows import read_manifest
from api.records.catalogue_excel import export_catalogue
from api.wiring import Context
from archive.errors import InvalidInput, UnsupportedFile
from archive.models import AuditEvent, Batch, ManifestItem
from tests import actors
from tests.actors import ARCHIVIST
from tests.conftest import Cli
from tests.metadata_records import FONDS, SERIES, archive_context, filed_records

INTERNAL_STAFF = actors.principal("staff", "internal", name="t-staff-internal")


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, dict[str, int]]]:
    home = tmp_path_factory.mktemp("catalogue")
    context = archive_context(home / "var")
    yield context, filed_records(context, home / "box")
    context.close()


def sheet_rows(content: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def workbook_bytes(rows: list[list[object]], *, merge: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_export_lists_only_what_the_caller_may_see_and_is_audited(filed: tuple[Context, dict[str, int]]) -> None:
    context, _ids = filed
    full = export_catalogue(context, ARCHIVIST, fonds=FONDS)
    rows = sheet_rows(full.content)
    assert rows[0][:7] == ["档号", "题名", "责任者", "文号", "日期", "页数", "密级"]
    assert rows[0][7:] == ["保管期限", "归档年度", "机构", "关键词", "项目编号", "备注"]
    assert [row[3] for row in rows[1:]] == ["档发〔2021〕7号", "财发〔2021〕12号", "HB-2021-3"]
    second = rows[2]
    assert second[1:11] == ["预算执行情况报告", "财政处", "财发〔2021〕12号", "2021", 1, "秘密", "Y30", 2022, "财务科",
                            "预算；审计"]  # fmt: skip
    assert second[11] == "P-18"
    staff = export_catalogue(context, INTERNAL_STAFF, fonds=FONDS, lang="en")
    staff_rows = sheet_rows(staff.content)
    assert staff_rows[0][:4] == ["Reference code", "Title", "Creator", "Document number"]
    numbers = [row[3] for row in staff_rows[1:]]
    assert numbers == ["档发〔2021〕7号", "HB-2021-3"] and staff.view.records == 2  # not the confidential one
    assert b"\xe8\xb4\xa2\xe5\x8f\x91" not in staff.content  # 财发: not even in the zip's parts, compressed or not
    assert all("财发" not in str(cell) for row in staff_rows for cell in row)
    assert export_catalogue(context, ARCHIVIST, fonds=FONDS, year=2022).view.records == 1
    with context.db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.catalogue")).all()
    assert (ARCHIVIST.username, 1, {"fonds": FONDS, "year": 2022}) in [
        (e.actor, e.details["records"], e.details["scope"]) for e in events
    ]
    assert any(e.actor == INTERNAL_STAFF.username and e.details["records"] == 2 for e in events)


def test_round_trip_export_edit_a_cell_import_as_a_new_batch(filed: tuple[Context, dict[str, int]]) -> None:
    context, _ids = filed
    workbook = openpyxl.load_workbook(io.BytesIO(export_catalogue(context, ARCHIVIST, fonds=FONDS).content))
    sheet = workbook.worksheets[0]
    sheet["C2"] = "改过的责任者"  # 责任者 of the first row
    sheet["A2"] = "M7-NEW-0001"  # new 档号s: these are new items of a new batch
    sheet["A3"] = "M7-NEW-0002"
    sheet["A4"] = "M7-NEW-0003"
    out = io.BytesIO()
    workbook.save(out)
    batch = BatchService(context).create(
        actor=ARCHIVIST, fonds=FONDS, series=SERIES, manifest_data=out.getvalue(), manifest_name="目录.xlsx"
    )
    assert batch.manifest_rows == 3
    with context.db.read() as session:
        items = session.scalars(
            select(ManifestItem).where(ManifestItem.batch_id == batch.id).order_by(ManifestItem.row_number)
        ).all()
        assert session.get(Batch, batch.id) is not None
    first, second, third = (item.descriptive for item in items)
    assert first["creator"] == "改过的责任者" and first["document_number"] == "档发〔2021〕7号"
    assert first["keywords"] == ["城建", "档案", "通知"] and first["archival_year"] == 2021
    assert first["custom_fields"] == {"project_code": "P-17"} and first["level"] == "internal"
    assert second["level"] == "confidential" and second["retention"] == "Y30" and items[1].title == "预算执行情况报告"
    assert third["retention"] == "YJ" and "custom_fields" not in third
    assert [item.reference_code for item in items] == ["M7-NEW-0001", "M7-NEW-0002", "M7-NEW-0003"]
    assert items[0].date == dt.date(2021, 3, 1) and items[0].date_precision == "month"


def test_the_cli_and_http_export(cli: Cli, tmp_path: Path) -> None:
    assert cli("batch", "create", "--fonds", FONDS, "--series", SERIES).exit_code == 0
    target = tmp_path / "out" / "目录.xlsx"
    done = cli("catalogue", "export", "--fonds", FONDS, "-o", str(target), "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json["records"] == 0 and target.exists() and sheet_rows(target.read_bytes())[0][0] == "档号"
    refused = cli("catalogue", "export", "--fonds", FONDS, "-o", str(tmp_path / "x.csv"))
    assert refused.exit_code == 2 and "an .xlsx workbook" in refused.stderr
    missing = cli("catalogue", "export", "--fonds", "NOPE", "-o", str(target))
    assert missing.exit_code != 0 and "fonds 'NOPE' does not exist" in missing.stderr


def test_the_http_export_answers_a_workbook_of_visible_records(context: Context, tmp_path: Path) -> None:
    filed_records(context, tmp_path / "box")
    headers = actors.bearer(context, "xl-staff", ["staff"], clearance="internal")
    with TestClient(create_app(context)) as client:
        answer = client.get("/api/v1/catalogue.xlsx", params={"fonds": FONDS, "lang": "en"}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in answer.headers["content-disposition"]
        rows = sheet_rows(answer.content)
        assert [row[3] for row in rows[1:]] == ["档发〔2021〕7号", "HB-2021-3"]
        missing = client.get("/api/v1/catalogue.xlsx", params={"fonds": "NOPE"}, headers=headers)
        assert missing.status_code == 404


def test_numbers_kept_as_floats_and_dates_as_serials_are_read_as_written() -> None:
    data = workbook_bytes(
        [
            ["件号", "题名", "日期", "页数", "归档年度", "成文日期"],
            [1.0, "a", dt.datetime(2021, 3, 4), 12.0, 2021.0, None],
            [2, "b", 44261, 3, 2021, None],  # 44261: Excel's serial number of 2021-03-06
        ]
    )
    rows = read_manifest(text=None, data=data, name="目录.xlsx")
    assert [(r.item_number, r.expected_pages, r.descriptive.get("archival_year")) for r in rows] == [
        (1, 12, 2021),
        (2, 3, 2021),
    ]
    assert [str(r.date) for r in rows] == ["2021-03-04", "2021-03-06"]


def test_merged_data_cells_give_each_row_the_value_and_merged_headers_are_refused() -> None:
    merged_data = workbook_bytes([["件号", "题名", "机构"], [1, "a", "办公室"], [2, "b", None]], merge="C2:C3")
    rows = read_manifest(text=None, data=merged_data, name="m.xlsx")
    assert [r.descriptive["organisation"] for r in rows] == ["办公室", "办公室"]
    merged_header = workbook_bytes([["件号", "题名", None], [1, "a", "x"]], merge="B1:C1")
    with pytest.raises(UnsupportedFile, match=r"header cells B1:C1 are merged"):
        read_manifest(text=None, data=merged_header, name="m.xlsx")


def test_formulas_are_refused_with_their_cell() -> None:
    data = workbook_bytes([["件号", "题名", "页数"], [1, "a", "=1+1"]])
    with pytest.raises(UnsupportedFile, match="cell C2 holds a formula") as refused:
        read_manifest(text=None, data=data, name="m.xlsx")
    assert refused.value.reason is not None and refused.value.reason.name == "workbook_unreadable"


def test_not_a_workbook_and_a_zip_bomb_are_refused_before_parsing() -> None:
    with pytest.raises(UnsupportedFile, match=r"not an \.xlsx file"):
        read_manifest(text=None, data=b"PK but not a zip at all", name="m.xlsx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024 // 8))  # ~37 MB of zeros
    with pytest.raises(UnsupportedFile, match="zip bomb"):
        read_manifest(text=None, data=bomb.getvalue(), name="m.xlsx")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnsupportedFile, match="not an Excel workbook"):
        read_manifest(text=None, data=plain_zip.getvalue(), name="m.xlsx")


def test_a_huge_sheet_is_refused_by_its_size() -> None:
    data = workbook_bytes([["件号", "题名"], [1, "a"], ["x"] * 201])
    with pytest.raises(UnsupportedFile, match="201 columns"):
        read_manifest(text=None, data=data, name="m.xlsx")


def test_a_workbook_without_a_key_column_says_what_it_found() -> None:
    data = workbook_bytes([["题名", "责任者"], ["a", "b"]])
    with pytest.raises(
        InvalidInput, match=r"needs an `item` \(件号\) or a `reference_code` \(档号\) column; found 题名, 责任者"
    ):
        read_manifest(text=None, data=data, name="m.xlsx")


def test_an_xlsx_manifest_through_the_cli_and_the_http_api(cli: Cli, tmp_path: Path) -> None:
    import base64

    data = workbook_bytes(
        [["件号", "题名", "责任者", "关键词", "日期"], [1, "通知", "办公室", "甲、乙", dt.datetime(2020, 5, 1)]]
    )
    manifest = tmp_path / "目录.xlsx"
    manifest.write_bytes(data)
    made = cli("batch", "create", "--fonds", FONDS, "--manifest", str(manifest), "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json["manifest_rows"] == 1
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    refused = cli("batch", "create", "--fonds", FONDS, "--manifest", str(broken))
    assert refused.exit_code == 3 and "not an .xlsx file" in refused.stderr
    from tests.conftest import make_context

    context = make_context(cli.home)
    try:
        headers = actors.bearer(context, "xl-archivist", ["archivist"])
        with TestClient(create_app(context)) as client:
            body = {"fonds": FONDS, "manifest_xlsx": base64.b64encode(data).decode()}
            answer = client.post("/api/v1/batches", json=body, headers=headers)
            assert answer.status_code == 201, answer.text
            assert answer.json()["manifest_rows"] == 1
            bad = client.post("/api/v1/batches", json={"fonds": FONDS, "manifest_xlsx": "%%%"}, headers=headers)
            assert bad.status_code == 400 and "not base64" in bad.json()["message"]
        with context.db.read() as session:
            items = session.scalars(select(ManifestItem).order_by(ManifestItem.id)).all()
        assert [item.descriptive["keywords"] for item in items] == [["甲", "乙"], ["甲", "乙"]]
        assert {item.date for item in items} == {dt.date(2020, 5, 1)}
    finally:
        context.close()
