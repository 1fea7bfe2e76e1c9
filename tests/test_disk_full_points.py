"""A full disk at each write point a small filesystem cannot hit on cue, by failpoint (`NAME=enospc`: the write
raises ENOSPC there): the one-line error names the place, the CLI exits 14, HTTP answers 507 without server
paths, nothing half-written is left, and the work goes on once the fault is gone. Also the reserve over HTTP and
GET /api/v1/status. (The same faults on a real tmpfs: tests/test_disk_full.py.)"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.service import IngestService
from api.wiring import Context, build_context
from archive.errors import InsufficientStorage
from archive.failpoints import ENV
from archive.models import Document
from storage_config.settings import FaultOptions, Settings
from tests import actors
from tests.actors import ARCHIVIST
from tests.conftest import Cli
from tests.intake import ingest_paths
from tests.test_disk_full import admin, archive, assert_clean, dangan, run_due_jobs, scans, tally
from tests.test_uploads import QueueOnly


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "var"


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and "unexpected" not in text, text[-2000:]


def test_spool_copy(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive(home).close()
    cli = Cli(home, capsys)
    cli("users", "list")  # makes the accounts first
    names = [path.name for path in scans(tmp_path / "box", 3)]
    monkeypatch.setenv(ENV, "spool.copy=enospc")
    result = cli("ingest", str(tmp_path / "box"), "--json")
    assert result.exit_code == 14, result.stderr
    assert json.loads(result.stdout)["summary"]["rejected"] == 3
    assert result.stderr.count("error: the spool at") == 1 and "is full" in result.stderr, result.stderr
    no_traceback(result.stderr)
    assert [p for p in (home / "spool").iterdir() if p.name.endswith(".part")] == []

    monkeypatch.delenv(ENV)
    assert cli("ingest", str(tmp_path / "box")).exit_code == 0
    context = build_context(Settings(home=home))
    assert tally(context, names, faults=3, label="spool.copy")["filed"] == 3
    context.close()


def test_store_write(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = archive(home)
    names = [path.name for path in scans(tmp_path / "box", 3)]
    monkeypatch.setenv(ENV, "store.write=enospc")
    run = ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    assert [job.state for job in run.jobs] == ["retrying"] * 3
    assert all(str(job.error).startswith("the object store at") for job in run.jobs)
    assert run.exit_code() == 14
    assert_clean(context, home)
    monkeypatch.delenv(ENV)
    run_due_jobs(context)
    counts = tally(context, names, faults=3, label="store.write")
    assert counts == {"faults": 3, "acknowledged": 3, "filed": 3, "duplicates": 0, "stuck": 0}
    assert_clean(context, home)
    context.close()


def test_index_commit(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = archive(home)
    scans(tmp_path / "box", 2)
    monkeypatch.setenv(ENV, "index.commit=enospc")
    run = ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    assert [job.state for job in run.jobs] == ["done", "done"]  # filed; the index is derived data
    with pytest.raises(InsufficientStorage, match=r"^the search index at .* is full") as raised:
        IngestService(context).index_unindexed()
    assert raised.value.place == "search index"
    monkeypatch.delenv(ENV)
    assert IngestService(context).index_unindexed() == 2  # the writer was released: no lock left behind
    with context.db.session() as session:
        assert list(session.scalars(select(Document.id).where(Document.indexed_at.is_(None)))) == []
    context.close()


def test_backup_copy(home: Path, tmp_path: Path) -> None:
    context = archive(home)
    actors.account(context, "sysadmin", ["sysadmin"])
    scans(tmp_path / "box", 2)
    ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    context.close()
    assert admin(home, "backup", "target", "add", "t", "--path", str(tmp_path / "target")).returncode == 0
    full = dangan(home, "backup", "run", "--target", "t", user="sysadmin", env={ENV: "backup.copy=enospc"})
    assert full.returncode == 14, full.stderr
    assert "the spool at" in full.stderr and "the backup's scratch copy" in full.stderr, full.stderr
    no_traceback(full.stderr)
    assert not list((home / "spool").glob("backup-*"))
    assert admin(home, "backup", "run", "--target", "t").returncode == 0
    assert admin(home, "verify", "--level", "backup", "--target", "t").returncode == 0


def test_ocr_work_area(home: Path, tmp_path: Path) -> None:
    """In its own process: the OCR workers are forked from a fork server that takes the environment it starts with."""
    context = archive(home)
    actors.account(context, "archivist", ["archivist"])
    names = [path.name for path in scans(tmp_path / "box", 2)]
    run = dangan(home, "ingest", str(tmp_path / "box"), "--json", env={ENV: "ocr.workdir=enospc"})
    assert run.returncode == 14, run.stdout[-1500:] + run.stderr[-1500:]
    jobs = json.loads(run.stdout)["jobs"]
    assert [job["state"] for job in jobs] == ["retrying", "retrying"]
    assert all(job["error"].startswith("the OCR work area at") for job in jobs), jobs
    assert "RETRYING" not in run.stdout and "error: the OCR work area at" in run.stderr
    no_traceback(run.stderr)
    run_due_jobs(context)
    counts = tally(context, names, faults=2, label="ocr.workdir")
    assert counts == {"faults": 2, "acknowledged": 2, "filed": 2, "duplicates": 0, "stuck": 0}
    context.close()


def test_zip_unpacking(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive(home).close()
    pages = scans(tmp_path / "pages", 2)
    bundle = tmp_path / "in" / "box.zip"
    bundle.parent.mkdir()
    with zipfile.ZipFile(bundle, "w") as zf:
        for page in pages:
            zf.write(page, page.name)
    cli = Cli(home, capsys)
    monkeypatch.setenv(ENV, "unpack.write=enospc")
    result = cli("ingest", str(bundle), "--json")
    assert result.exit_code == 14, result.stderr
    [refused] = json.loads(result.stdout)["rejected"]
    assert refused["message"].startswith("the unpacking area at") and "unpacking box.zip" in refused["message"]
    no_traceback(result.stderr)
    assert not [p for p in (home / "spool").rglob("*") if p.is_file()]  # nothing unpacked is left


def test_audit_checkpoint(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    archive(home).close()
    cli = Cli(home, capsys, user="sysadmin")
    cli("users", "list")
    monkeypatch.setenv(ENV, "store.write=enospc")
    result = cli("audit", "checkpoint")
    assert result.exit_code == 14, result.stderr
    assert result.stderr.startswith("error: the object store at") and "is full" in result.stderr
    monkeypatch.delenv(ENV)
    assert cli("audit", "checkpoint").exit_code == 0


# --- HTTP: 507, no server path, nothing stored ---------------------------------------------------------------------


@pytest.fixture
def client(home: Path) -> Iterator[tuple[TestClient, Context]]:
    context = archive(home)
    with TestClient(create_app(context, runner=QueueOnly())) as test_client:
        yield test_client, context
    context.close()


def incoming(context: Context) -> list[Path]:
    folder = context.settings.spool_dir / "incoming"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_an_upload_into_a_full_spool_answers_507(
    client: tuple[TestClient, Context], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_client, context = client
    headers = actors.bearer(context, "clerk", ["archivist"])
    [page] = scans(tmp_path, 1)
    monkeypatch.setenv(ENV, "upload.receive=enospc")
    files = {"file": (page.name, page.read_bytes())}
    response = test_client.post("/api/v1/documents", headers=headers, files=files)
    assert response.status_code == 507, response.text
    body = response.json()
    assert body["error"] == "insufficient_storage" and body["message"].startswith("the spool at … is full")
    assert str(context.settings.home_dir) not in response.text
    assert incoming(context) == []
    batch = test_client.post("/api/v1/batches", headers=headers, json={"fonds": "F001", "label": "b"})
    assert batch.status_code == 201, batch.text
    upload = f"/api/v1/batches/{batch.json()['id']}/files"
    monkeypatch.setenv(ENV, "upload.receive=enospc")  # the batch upload route spools its body the same way
    response = test_client.post(upload, headers=headers, files={"files": (page.name, page.read_bytes())})
    assert response.status_code == 507, response.text
    assert str(context.settings.home_dir) not in response.text
    monkeypatch.delenv(ENV)
    response = test_client.post(upload, headers=headers, files={"files": (page.name, page.read_bytes())})
    assert response.status_code == 202, response.text
    assert incoming(context) == []


def test_the_reserve_refuses_an_upload_before_its_body_and_status_says_why(home: Path, tmp_path: Path) -> None:
    context = archive(home)
    huge = FaultOptions(free_space_reserve_mb=100_000_000)  # every disk is below this reserve
    refusing = build_context(Settings(home=home, workers=1, ocr_engine="null", faults=huge))
    [page] = scans(tmp_path, 1)
    with TestClient(create_app(refusing, runner=QueueOnly())) as test_client:
        headers = actors.bearer(refusing, "clerk", ["archivist"])
        response = test_client.post(
            "/api/v1/documents", headers=headers, files={"file": (page.name, page.read_bytes())}
        )
        assert response.status_code == 507, response.text
        assert "would fall below the free-space reserve" in response.json()["message"]
        assert str(refusing.settings.home_dir) not in response.text
        assert incoming(refusing) == []
        status = test_client.get("/api/v1/status", headers=actors.bearer(refusing, "sysadmin"))
        assert status.status_code == 200, status.text
        report = status.json()
        assert report["state"] == "refusing" and {p["place"] for p in report["places"]} >= {"spool", "catalogue"}
        assert all(p["path"] is None for p in report["places"]) and str(home) not in status.text
        assert (
            test_client.get("/api/v1/status", headers=actors.bearer(refusing, "reader", ["staff"])).status_code == 403
        )
    refusing.close()
    context.close()
