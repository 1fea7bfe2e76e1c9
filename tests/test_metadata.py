"""Descriptive metadata: Dublin Core and the Chinese archival fields on records, custom fields per series,
manifests in Chinese headers, edits (use case, CLI, HTTP) with their audit and history events, and search by
and filtered on the new fields on both engines, never beyond the caller's clearance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.records.documents import DocumentService, update_document
from api.records.series_fields import define_field, list_fields, remove_field
from api.search.filters import search_filters
from api.search.service import SearchService
from api.wiring import Context
from archive.catalogue.manifest import parse_manifest
from archive.catalogue.metadata import FieldDefinition, MetadataEdit
from archive.errors import Conflict, InvalidInput, PermissionDenied
from archive.models import AuditEvent, Document, ObjectEvent
from search.index import ENGINES
from tests import actors
from tests.actors import ARCHIVIST
from tests.conftest import Cli
from tests.metadata_records import FONDS, SERIES, archive_context, define_project_code, filed_records

INTERNAL_STAFF = actors.principal("staff", "internal", name="t-staff-internal")


@pytest.fixture(scope="module", params=sorted(ENGINES))
def filed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Context, dict[str, int]]]:
    """The three records of tests/metadata_records.py filed, on each search engine."""
    home = tmp_path_factory.mktemp(f"meta-{request.param}")
    context = archive_context(home / "var", str(request.param))
    ids = filed_records(context, home / "box")
    yield context, ids
    context.close()


def test_a_manifest_in_chinese_headers_files_its_metadata_onto_the_records(
    filed: tuple[Context, dict[str, int]],
) -> None:
    context, ids = filed
    assert set(ids) == {"档发〔2021〕7号", "财发〔2021〕12号", "HB-2021-3"}
    view = DocumentService(context).get(ARCHIVIST, ids["财发〔2021〕12号"])
    meta = view.metadata
    assert view.title == "预算执行情况报告" and view.access_level == "confidential"  # 密级 秘密
    assert (meta.creator, meta.organisation, meta.archival_year) == ("财政处", "财务科", 2022)
    assert meta.keywords == ["预算", "审计"] and meta.retention == "Y30"
    assert meta.custom_fields == {"project_code": "P-18"} and meta.dc_type == "Text"
    assert meta.dc_format == "image/png"
    first = DocumentService(context).get(ARCHIVIST, ids["档发〔2021〕7号"])
    assert first.metadata.keywords == ["城建", "档案", "通知"] and first.metadata.retention == "Y10"
    assert first.access_level == "internal" and first.date == "2021-03"  # the partial date kept


@pytest.mark.parametrize(
    ("query", "number"),
    [
        ("财政处", "财发〔2021〕12号"),
        ("市档案局", "档发〔2021〕7号"),
        ("城建", "档发〔2021〕7号"),
        ("HB-2021-3", "HB-2021-3"),
    ],
)
def test_full_text_finds_a_record_by_its_creator_number_or_keyword(
    filed: tuple[Context, dict[str, int]], query: str, number: str
) -> None:
    context, ids = filed
    found = SearchService(context).search(ARCHIVIST, query)
    assert ids[number] in [hit.document_id for hit in found.hits], (query, found)


def test_filters_by_organisation_creator_keyword_and_archival_year(filed: tuple[Context, dict[str, int]]) -> None:
    context, ids = filed
    search = SearchService(context)

    def found(**given: object) -> set[int]:
        filters = search_filters(**given)  # type: ignore[arg-type]
        return {hit.document_id for hit in search.search(ARCHIVIST, "档案 OR 预算 OR harbour", filters=filters).hits}

    assert found(organisation="财务科") == {ids["财发〔2021〕12号"]}
    assert found(organisation="HARBOUR OFFICE") == set()  # organisation is 港务科; the creator is Harbour Office
    assert found(creator="harbour office") == {ids["HB-2021-3"]}
    assert found(keyword="审计") == {ids["财发〔2021〕12号"]}
    assert found(year=2021) == {ids["档发〔2021〕7号"], ids["HB-2021-3"]}
    facets = search.search(ARCHIVIST, "档案 OR 预算 OR harbour").facets
    assert facets["organisation"] == {"办公室": 1, "港务科": 1, "财务科": 1}
    assert facets["archival_year"] == {"2021": 2, "2022": 1}


def test_staff_with_internal_clearance_never_see_a_confidential_record_by_its_number(
    filed: tuple[Context, dict[str, int]],
) -> None:
    context, ids = filed
    search = SearchService(context)
    hidden = search.search(INTERNAL_STAFF, "财发〔2021〕12号")
    assert hidden.total == 0 and hidden.hits == []
    by_creator = search.search(INTERNAL_STAFF, "财政处 OR 市档案局")
    assert [hit.document_id for hit in by_creator.hits] == [ids["档发〔2021〕7号"]]
    assert "财政处" not in by_creator.facets["creator"] and "财务科" not in by_creator.facets["organisation"]
    assert "2022" not in by_creator.facets["archival_year"]
    filtered = search.search(INTERNAL_STAFF, "预算", filters=search_filters(organisation="财务科"))
    assert filtered.total == 0


def test_an_edit_of_descriptive_fields_is_audited_recorded_and_searchable(
    filed: tuple[Context, dict[str, int]],
) -> None:
    context, ids = filed
    record = ids["HB-2021-3"]
    edit = MetadataEdit(
        creator="Port Authority", keywords="港口；测量", archival_year="2023", custom_fields={"project_code": "P-99"}
    )
    view = update_document(context, ARCHIVIST, record, metadata=edit)
    assert view.metadata.creator == "Port Authority" and view.metadata.keywords == ["港口", "测量"]
    assert view.metadata.archival_year == 2023 and view.metadata.custom_fields == {"project_code": "P-99"}
    with context.db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.target == f"document:{record}").order_by(AuditEvent.id.desc())
        ).first()
        history = session.scalars(select(ObjectEvent).where(ObjectEvent.document_id == record)).all()
    assert event is not None and event.action == "document.update"
    assert event.details["changed"]["creator"] == "Port Authority"
    assert event.details["before"]["creator"] == "Harbour Office"
    modifications = [e for e in history if e.event_type == "metadata modification"]
    assert modifications and "creator" in modifications[-1].detail["fields"]
    hits = SearchService(context).search(ARCHIVIST, "港口", filters=search_filters(creator="port authority"))
    assert [hit.document_id for hit in hits.hits] == [record]  # the index has the edit before the call returns
    cleared = update_document(context, ARCHIVIST, record, metadata=MetadataEdit(custom_fields={"project_code": None}))
    assert cleared.metadata.custom_fields == {}


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (MetadataEdit(custom_fields={"colour": "red"}), "custom_field_unknown"),
        (MetadataEdit(archival_year="twenty"), "metadata_value"),
        (MetadataEdit(creator="x" * 300), "metadata_value"),
    ],
)
def test_a_bad_edit_is_refused_with_its_reason_and_changes_nothing(
    filed: tuple[Context, dict[str, int]], edit: MetadataEdit, reason: str
) -> None:
    context, ids = filed
    record = ids["档发〔2021〕7号"]
    before = DocumentService(context).get(ARCHIVIST, record).metadata
    with pytest.raises(InvalidInput) as refused:
        update_document(context, ARCHIVIST, record, metadata=edit, title="changed too")
    assert refused.value.reason is not None and refused.value.reason.name == reason
    after = DocumentService(context).get(ARCHIVIST, record)
    assert after.metadata == before and after.title == "关于城市建设档案的通知"


def test_custom_fields_are_typed_and_defined_by_archivists(context: Context) -> None:
    define_project_code(context)
    count = FieldDefinition("sheet_count", "张数", "Sheets", "integer", required=True)
    define_field(context, ARCHIVIST, fonds=FONDS, series=SERIES, definition=count)
    choice = FieldDefinition("medium", "载体", "Medium", "choice", ("纸质", "胶片"))
    define_field(context, ARCHIVIST, fonds=FONDS, series=None, definition=choice)  # every series of the fonds
    listed = list_fields(context, actors.STAFF, fonds=FONDS, series=SERIES)
    assert [f.name for f in listed.fields] == ["medium", "project_code", "sheet_count"]
    with pytest.raises(Conflict):
        define_field(context, ARCHIVIST, fonds=FONDS, series=SERIES, definition=choice)  # fonds-wide already
    with pytest.raises(InvalidInput, match="not the name of a built-in field"):
        define_field(context, ARCHIVIST, fonds=FONDS, series=SERIES, definition=FieldDefinition("creator", "", ""))
    with pytest.raises(PermissionDenied):
        define_field(context, actors.STAFF, fonds=FONDS, series=SERIES, definition=FieldDefinition("x_y", "", ""))
    header = "件号,题名,张数,载体,项目编号\n"
    from api.ingest.batches import BatchService

    create = BatchService(context).create
    with pytest.raises(InvalidInput, match=r"row 2: custom field sheet_count: '12页' is not a whole number"):
        create(actor=ARCHIVIST, fonds=FONDS, series=SERIES, manifest_text=header + "1,a,12页,纸质,P\n")
    with pytest.raises(InvalidInput, match="row 3: custom field medium: '磁带' is not one of 纸质, 胶片"):
        create(actor=ARCHIVIST, fonds=FONDS, series=SERIES, manifest_text=header + "1,a,3,纸质,P\n2,b,4,磁带,Q\n")
    with pytest.raises(InvalidInput, match="sheet_count is required"):
        create(actor=ARCHIVIST, fonds=FONDS, series=SERIES, manifest_text=header + "1,a,,纸质,P\n")
    made = create(actor=ARCHIVIST, fonds=FONDS, series=SERIES, manifest_text=header + "1,a,12.0,胶片,P-1\n")
    assert made.manifest_rows == 1
    removed = remove_field(context, ARCHIVIST, fonds=FONDS, series=SERIES, name="sheet_count")
    assert removed.kind == "integer"


def test_manifest_keywords_years_and_levels_are_read_and_checked() -> None:
    rows = parse_manifest("档号,题名,关键词,归档年度,密级\nX-1,a,甲，乙、丙;丁,2020.0,绝密\n")
    assert rows[0].descriptive == {"keywords": ["甲", "乙", "丙", "丁"], "archival_year": 2020, "level": "top_secret"}
    with pytest.raises(InvalidInput, match="row 2: archival_year: '20' is not a year") as refused:
        parse_manifest("件号,归档年度\n1,20\n")
    assert refused.value.reason is not None and refused.value.reason.name == "manifest_row_field"
    with pytest.raises(InvalidInput, match="unknown access level"):
        parse_manifest("件号,密级\n1,很秘密\n")


def test_the_cli_edits_and_shows_the_new_fields(cli: Cli, tmp_path: Path) -> None:
    batch = cli("batch", "create", "--fonds", FONDS, "--series", SERIES, "--level", "internal", "--json").json["id"]
    added = cli(
        "series", "field", "add", "project_code", "--fonds", FONDS, "--series", SERIES, "--label-zh", "项目编号"
    )
    assert added.exit_code == 0, added.stderr
    from tests.pages import render

    page = render(tmp_path / "box", "a.png", "城市建设档案馆全年接收工程档案。", "chi_sim")
    ingested = cli("ingest", str(page), "--batch", str(batch), "--json")
    assert ingested.exit_code == 0, ingested.stderr
    document_id = ingested.json["jobs"][0]["document_id"]
    edited = cli(
        "document", "edit", str(document_id), "--creator", "市档案局", "--number", "档发〔2021〕7号",
        "--organisation", "办公室", "--year", "2021", "--keywords", "城建、档案", "--field", "project_code=P-1",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    assert "责任者 creator: 市档案局" in edited.stdout and "project_code (custom): P-1" in edited.stdout
    shown = cli("document", "show", str(document_id), "--json").json["metadata"]
    assert shown["document_number"] == "档发〔2021〕7号" and shown["keywords"] == ["城建", "档案"]
    refused = cli("document", "edit", str(document_id), "--field", "colour=red")
    assert refused.exit_code == 2 and "custom field 'colour' is not defined" in refused.stderr
    found = cli("search", "市档案局", "--organisation", "办公室", "--year", "2021", "--json")
    assert found.exit_code == 0 and [hit["document_id"] for hit in found.json["hits"]] == [document_id]


def test_the_http_api_edits_descriptive_fields_and_defines_custom_fields(context: Context, tmp_path: Path) -> None:
    ids = filed_records(context, tmp_path / "box")
    token = actors.bearer(context, "meta-archivist", ["archivist"])
    staff_token = actors.bearer(context, "meta-staff", ["staff"], clearance="internal")
    with TestClient(create_app(context)) as client:
        record = ids["档发〔2021〕7号"]
        answer = client.patch(
            f"/api/v1/documents/{record}",
            json={"creator": "新责任者", "keywords": ["甲", "乙"], "custom_fields": {"project_code": "P-2"}},
            headers=token,
        )
        assert answer.status_code == 200, answer.text
        meta = answer.json()["metadata"]
        assert (
            meta["creator"] == "新责任者"
            and meta["keywords"] == ["甲", "乙"]
            and meta["custom_fields"]["project_code"] == "P-2"
        )
        wrong = client.patch(f"/api/v1/documents/{record}", json={"custom_fields": {"nope": "1"}}, headers=token)
        assert wrong.status_code == 400 and wrong.json()["reason"] == "custom_field_unknown"
        added = client.post(
            f"/api/v1/fonds/{FONDS}/fields",
            json={"name": "box_count", "series": SERIES, "kind": "integer", "label_zh": "盒数"},
            headers=token,
        )
        assert added.status_code == 201, added.text
        denied = client.post(f"/api/v1/fonds/{FONDS}/fields", json={"name": "other"}, headers=staff_token)
        assert denied.status_code == 403
        listed = client.get(f"/api/v1/fonds/{FONDS}/fields", params={"series": SERIES}, headers=staff_token).json()
        assert {f["name"] for f in listed["fields"]} == {"project_code", "box_count"}
        hits = client.get("/api/v1/search", params={"q": "财发〔2021〕12号"}, headers=staff_token).json()
        assert hits["total"] == 0  # confidential: beyond an internal clearance
        found = client.get("/api/v1/search", params={"q": "新责任者", "creator": "新责任者"}, headers=staff_token)
        assert [hit["document_id"] for hit in found.json()["hits"]] == [record]


def test_existing_records_keep_working_with_the_default_type(filed: tuple[Context, dict[str, int]]) -> None:
    context, ids = filed
    with context.db.read() as session:
        rows = session.scalars(select(Document).where(Document.id.in_(ids.values()))).all()
    assert {row.dc_type for row in rows} == {"Text"}


def test_a_bagit_export_carries_the_descriptive_metadata(filed: tuple[Context, dict[str, int]], tmp_path: Path) -> None:
    import csv
    import json

    from api.records.bagit_export import export_bag

    context, ids = filed
    export_bag(context, fonds=FONDS, batch_id=None, target=tmp_path / "bag", actor=ARCHIVIST)
    metadata = tmp_path / "bag" / "data" / "metadata"
    records = json.loads((metadata / "documents.json").read_text(encoding="utf-8"))["documents"]
    budget = next(r for r in records if r["id"] == ids["财发〔2021〕12号"])
    assert budget["creator"] == "财政处" and budget["keywords"] == ["预算", "审计"]
    assert budget["custom_fields"] == {"project_code": "P-18"} and budget["archival_year"] == 2022
    rows = list(csv.DictReader((metadata / "documents.csv").read_text(encoding="utf-8").splitlines()))
    row = next(r for r in rows if r["id"] == str(ids["财发〔2021〕12号"]))
    assert row["document_number"] == "财发〔2021〕12号" and row["keywords"] == "预算;审计"


def test_migration_0015_gives_existing_records_their_batch_year_and_empty_metadata(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from archive.db import Database, alembic_config

    database = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
        connection.execute(
            text("INSERT INTO fonds (id, code, name, ref_template, created_at) VALUES (1, 'F', 'F', 't', '2020-01-01')")
        )
        connection.execute(
            text(
                "INSERT INTO batch (id, fonds_id, label, status, languages, level, year, retention, profile, "
                "profile_overrides, created_by, created_at) VALUES (1, 1, 'b', 'filed', 'eng', 'internal', 2019, "
                "'Y30', 'dat31', '{}', 'a', '2020-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO document (id, fonds_id, batch_id, reference_code, title, departments, language, status, "
                "original_filename, original_sha256, page_count, created_at, updated_at) VALUES (1, 1, 1, 'F-1', 't', "
                "'[]', 'eng', 'filed', 'a.png', 'x', 0, '2020-01-01', '2020-01-01')"
            )
        )
        connection.execute(text("INSERT INTO manifest_item (id, batch_id, row_number, title) VALUES (1, 1, 2, 't')"))
    database.migrate()
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT archival_year, keywords, custom_fields, dc_type FROM document")).one()
        manifest = connection.execute(text("SELECT descriptive FROM manifest_item")).scalar_one()
    assert tuple(row) == (2019, "[]", "{}", "Text") and manifest == "{}"
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    with database.engine.connect() as connection:
        columns = [c[1] for c in connection.execute(text("PRAGMA table_info(document)"))]
    assert "creator" not in columns and "archival_year" not in columns
    database.dispose()


def test_migrations_0014_to_0016_go_down_and_up_under_real_records_on_sqlite(tmp_path: Path) -> None:
    """With pages, objects and findings referring to the changed tables, SQLite's enforced foreign keys must not
    stop the downgrade (no table is recreated under them), and the upgrade brings the columns back."""
    from alembic import command
    from sqlalchemy import text

    from archive.db import Database, alembic_config
    from tests.ingested import ingested_home

    home = ingested_home(tmp_path, ["Harbour ledger of 1931, with the pilots' fees."])
    database = Database(f"sqlite:///{home / 'catalogue.sqlite3'}")
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM page")).scalar_one() == 1
        columns = {c[1] for c in connection.execute(text("PRAGMA table_info(stored_object)"))}
    assert "wrapped_key" not in columns
    database.migrate()
    with database.engine.connect() as connection:
        columns = {c[1] for c in connection.execute(text("PRAGMA table_info(batch)"))}
        assert {"scan_device", "process"} <= columns
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    database.dispose()
