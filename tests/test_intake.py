"""The one intake use case behind `dangan ingest`, the batch upload and the hot folder: no batch for a run that
takes nothing, conflicts counted as skipped, every finding by file and page, and the job columns of 0003."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import create_engine, func, select, text

from api.access.users import UserService
from api.http.app import create_app
from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.ingest.intake import Intake
from api.views.report_html import render_report
from api.wiring import Context
from archive.db import Database, alembic_config
from archive.models import Batch, IngestJob
from archive.values import AccessLevel
from ingest.grouping import PlannedItem
from ingest.samples import SamplePage, render_page
from tests.actors import ARCHIVIST, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, english_page, render


def test_a_cli_run_that_takes_nothing_makes_no_batch(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = cli("ingest", str(empty), "--json")
    assert result.exit_code == 3, result.stdout
    assert result.json["batch_id"] is None and result.json["rejected"][0]["item"] == "empty.png"
    assert cli("batch", "list", "--json").json["batches"] == []
    text_run = cli("ingest", str(empty))
    assert "no batch made (nothing was accepted)" in text_run.stdout
    assert "REJECTED     empty.png:" in text_run.stdout


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def test_an_upload_that_is_refused_makes_no_uploads_batch(client: TestClient, context: Context) -> None:
    headers = bearer(context, "clerk", ["archivist"])
    response = client.post("/api/v1/documents", headers=headers, files={"file": ("scan.png", b"not a png")})
    assert response.status_code == 415, response.text
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0
    assert client.get("/api/v1/batches", headers=headers).json()["batches"] == []


def test_a_file_already_archived_counts_as_skipped_in_the_intake(context: Context, tmp_path: Path) -> None:
    page = english_page(tmp_path / "in").path
    batch = int(BatchService(context).create(actor=ARCHIVIST, fonds="F001", languages="eng").id)
    assert ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch).exit_code() == 0
    queued: list[int] = []
    again = Intake(context).accept(batch, [PlannedItem(page.name, (page,))], actor=ARCHIVIST, queue=queued.append)
    assert again.jobs == [] and again.rejected == [] and queued == []
    [skipped] = again.skipped
    assert skipped.item == page.name and skipped.error == "conflict" and "already archived as" in skipped.message


def test_the_hot_folder_counts_a_file_already_archived_as_skipped(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "hot"
    page = english_page(folder).path
    made = cli("batch", "create", "--fonds", "F001", "--lang", "eng", "--json")
    batch = str(made.json["id"])
    assert cli("ingest", str(page), "--batch", batch).exit_code == 0
    watched = cli(
        "ingest", str(folder), "--batch", batch, "--watch", "--interval", "0.3", "--watch-cycles", "3", "--json"
    )
    assert json.loads(watched.stdout) == {"submitted": 0, "skipped": 1, "rejected": 0}
    assert f"skipped: {page.name}: {page.name} is already archived as" in watched.stderr


def blank_page(folder: Path, name: str) -> Path:
    paper = np.asarray(render_page(SamplePage("", "eng"), height_mm=70, noise=0.002, seed=4), dtype=np.float64)
    noisy = np.clip(paper + np.random.default_rng(4).normal(0, 5, paper.shape), 0, 255).astype(np.uint8)
    path = folder / name
    Image.fromarray(noisy).save(path, dpi=(300, 300))
    return path


def test_batch_status_lists_each_finding_by_file_and_page(cli: Cli, tmp_path: Path) -> None:
    item = tmp_path / "box" / "scan_003"
    render(item, "p1.png", ENGLISH_TEXT, "eng", seed=5)
    blank_page(item, "p2.png")
    made = cli("batch", "create", "--fonds", "F001", "--lang", "eng", "--json")
    batch = int(made.json["id"])
    assert cli("ingest", str(tmp_path / "box"), "--batch", str(batch)).exit_code == 0
    shown = cli("batch", "status", str(batch))
    assert "scan_003 page 2: blank (warning): " in shown.stdout, shown.stdout
    only_blank = cli("batch", "status", str(batch), "--check", "blank", "--json").json["page_findings"]
    assert [(f["file"], f["page"], f["check"], f["severity"]) for f in only_blank] == [("scan_003", 2, "blank", "warn")]
    none = cli("batch", "status", str(batch), "--check", "skew", "--severity", "fail")
    assert "no skew fail findings" in none.stdout
    context = make_context(cli.home)
    try:  # the HTTP batch report (JSON and its HTML page) carries the same facts
        report = AcceptanceService(context).report(UserService(context).principal("archivist"), batch)
        assert ("scan_003", 2, "blank") in {(f["file"], f["page"], f["check"]) for f in report["page_findings"]}
        page = render_report(report)
        assert "<h2>Findings by page</h2>" in page and "<td>scan_003</td><td>2</td><td>blank</td>" in page
    finally:
        context.close()


def test_migration_0003_moves_the_queried_job_options_into_columns(tmp_path: Path) -> None:
    """A catalogue made at 0002 with a queued job: its level, departments, number, code and manifest row become
    columns; the free-form options keep the rest."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    config = alembic_config(url)
    options = {
        "languages": "eng",
        "level": "secret",
        "departments": ["legal", "hr"],
        "item_number": 7,
        "reference_code": "F1-2020-Y30-0007",
        "manifest_item_id": 1,
        "sha256": "ab" * 32,
        "title": "Minutes",
    }
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            text("INSERT INTO fonds (id, code, name, ref_template, created_at) VALUES (1, 'F1', 'F1', 't', '2026')")
        )
        connection.execute(
            text(
                "INSERT INTO batch (id, fonds_id, label, status, languages, level, retention, profile, "
                "profile_overrides, created_by, created_at) VALUES (1, 1, 'b', 'open', 'eng', 'internal', 'Y30', "
                "'dat31', '{}', 'clerk', '2026')"
            )
        )
        connection.execute(
            text("INSERT INTO manifest_item (id, batch_id, row_number, title) VALUES (1, 1, 2, 'Minutes')")
        )
        connection.execute(
            text(
                "INSERT INTO ingest_job (id, batch_id, state, source_name, options, attempts, submitted_by, "
                "created_at) VALUES (1, 1, 'queued', 'minutes.png', :options, 0, 'clerk', '2026-01-01')"
            ),
            {"options": json.dumps(options)},
        )
    engine.dispose()
    database = Database(url)
    database.migrate()
    with database.session() as session:
        job = session.get(IngestJob, 1)
        assert job is not None
        assert job.access_level == AccessLevel.SECRET and job.departments == ["hr", "legal"]
        assert (job.item_number, job.reference_code, job.manifest_item_id) == (7, "F1-2020-Y30-0007", 1)
        assert job.options == {"languages": "eng", "sha256": "ab" * 32, "title": "Minutes"}
        assert session.scalar(select(IngestJob.id).where(IngestJob.reference_code == "F1-2020-Y30-0007")) == 1
    with database.engine.connect() as connection:
        indexes = {row[1] for row in connection.execute(text("PRAGMA index_list('ingest_job')"))}
    database.dispose()
    assert {"ix_ingest_job_reference_code", "ix_ingest_job_manifest_item_id"} <= indexes
