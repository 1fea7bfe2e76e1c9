"""Page images, thumbnails, the page list, browsing the hierarchy and the recently filed items: real ingest
(null OCR engine), a real store and catalogue, the real app over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from api.access.auditing import AuditService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.maintenance import MaintenanceService
from api.wiring import Context
from archive.audit.alerts import AlertRules
from archive.audit.coalesce import COALESCE_SECONDS, recorded_recently
from archive.audit.query import AuditFilter
from archive.events import AuditAction
from archive.keys import DERIVED_PREFIX, derived_key
from archive.models import AuditEvent, Document, StoredObject
from archive.values import ObjectRole
from tests.actors import ARCHIVIST, AUDITOR, SYSADMIN, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


@dataclass
class Archive:
    context: Context
    client: TestClient
    ids: dict[str, list[int]]  # box -> document ids
    staff: dict[str, str]  # headers of a staff reader cleared to `internal`
    admin: dict[str, str]  # headers of the system administrator (sees everything)


def _box(context: Context, root: Path, box: str, level: str, count: int, *, filed: bool = True) -> list[int]:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="M1", series="S1", box=box, level=level).id
    pages = [
        render(root / box, f"{box}-{n}.png", f"Page {n} of box {box} 档案 {n}", "eng", seed=n) for n in range(count)
    ]
    run = ingest_paths(context, pages, actor=ARCHIVIST, batch_id=batch)
    if filed:
        file_batch(context, batch)
    return [int(job.document_id) for job in run.jobs if job.document_id is not None]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("images")
    context = make_context(root / "var")
    ids = {
        "B1": _box(context, root, "B1", "public", 2),
        "B2": _box(context, root, "B2", "secret", 1),
        "B3": _box(context, root, "B3", "public", 1, filed=False),
        "B4": _box(context, root, "B4", "internal", 1),
    }
    staff = bearer(context, "reader", ["staff"], clearance="internal")
    admin = bearer(context, "sysadmin")
    with TestClient(create_app(context)) as client:
        yield Archive(context, client, ids, staff, admin)
    context.close()


def _pdfa_sha(context: Context, document_id: int) -> str:
    with context.db.read() as session:
        query = select(StoredObject.sha256).where(
            StoredObject.document_id == document_id, StoredObject.role == ObjectRole.PDFA, StoredObject.current
        )
        return str(session.scalars(query).one())


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_ingest_makes_a_display_image_and_a_thumbnail_of_every_page(archive: Archive) -> None:
    store = archive.context.plain  # the secret box's images are sealed in the store (tests/test_encryption.py)
    for document_id in [*archive.ids["B1"], *archive.ids["B2"]]:
        sha = _pdfa_sha(archive.context, document_id)
        with store.open_read(derived_key(sha, 1, ObjectRole.PAGE_IMAGE)) as stream:
            display = _image(stream.read())
        with store.open_read(derived_key(sha, 1, ObjectRole.THUMBNAIL)) as stream:
            thumbnail = _image(stream.read())
        assert display.format == thumbnail.format == "JPEG"
        assert max(display.size) == 1600 and display.width > display.height  # the strip keeps its proportions
        assert max(thumbnail.size) == 200
        assert abs(display.width / display.height - thumbnail.width / thumbnail.height) < 0.05


def test_images_are_served_privately_under_the_records_rule(archive: Archive) -> None:
    visible, secret = archive.ids["B1"][0], archive.ids["B2"][0]
    for kind, side in (("image", 1600), ("thumbnail", 200)):
        response = archive.client.get(f"/api/v1/documents/{visible}/pages/1/{kind}", headers=archive.staff)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"].startswith("private, max-age=")
        assert "public" not in response.headers["cache-control"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert max(_image(response.content).size) == side
        hidden = archive.client.get(f"/api/v1/documents/{secret}/pages/1/{kind}", headers=archive.staff)
        missing = archive.client.get(f"/api/v1/documents/999999/pages/1/{kind}", headers=archive.staff)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["message"] == f"document {secret} does not exist"
        assert missing.json()["message"] == "document 999999 does not exist"
        assert hidden.json()["error"] == missing.json()["error"] == "not_found"
        no_page = archive.client.get(f"/api/v1/documents/{visible}/pages/7/{kind}", headers=archive.staff)
        assert no_page.status_code == 404 and "has no page 7" in no_page.json()["message"]
    admin = archive.client.get(f"/api/v1/documents/{secret}/pages/1/thumbnail", headers=archive.admin)
    assert admin.status_code == 200


def _events(context: Context, actor: str, target: str) -> list[AuditEvent]:
    with context.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.target == target, AuditEvent.actor == actor)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def test_image_reads_are_in_the_access_log_one_a_minute(archive: Archive) -> None:
    visible = archive.ids["B1"][1]
    for _ in range(3):  # a strip reloaded, a zoom: one event a minute per account, client and record (and page)
        for kind in ("thumbnail", "image"):
            url = f"/api/v1/documents/{visible}/pages/1/{kind}"
            assert archive.client.get(url, headers=archive.staff).status_code == 200
    events = _events(archive.context, "reader", f"document:{visible}")
    assert [(e.action, e.outcome) for e in events] == [
        ("document.thumbnail", "success"),
        ("document.page_image", "success"),
    ]
    for event in events:
        assert event.client == "testclient"
        assert event.details == {"page": 1, "covers_seconds": COALESCE_SECONDS, "roles": ["staff"]}
    with archive.context.db.read() as session:
        covered = {"actor": "reader", "target": f"document:{visible}", "client": "testclient"}
        assert recorded_recently(session, action=AuditAction.DOCUMENT_THUMBNAIL, **covered)
        assert not recorded_recently(session, action=AuditAction.DOCUMENT_THUMBNAIL, seconds=0, **covered)
        assert not recorded_recently(session, action=AuditAction.DOCUMENT_PAGE_IMAGE, same={"page": 2}, **covered)
        assert not recorded_recently(session, action=AuditAction.DOCUMENT_THUMBNAIL, **(covered | {"client": "x"}))


def test_refused_image_reads_are_each_recorded_and_raise_the_denied_alert(archive: Archive) -> None:
    context = archive.context
    prober = bearer(context, "prober", ["staff"], clearance="public")
    secret = archive.ids["B2"][0]
    for kind in ("thumbnail", "thumbnail", "thumbnail", "image", "image"):
        response = archive.client.get(f"/api/v1/documents/{secret}/pages/1/{kind}", headers=prober)
        assert response.status_code == 404 and response.json()["message"] == f"document {secret} does not exist"
    events = _events(context, "prober", f"document:{secret}")
    assert [(e.action, e.outcome) for e in events] == [
        *[("document.thumbnail", "denied_or_missing")] * 3,
        *[("document.page_image", "denied_or_missing")] * 2,
    ]
    assert all(e.client == "testclient" for e in events)
    alerts = AuditService(context).alerts(AUDITOR, AlertRules(), AuditFilter()).alerts
    [burst] = [a for a in alerts if a.kind == "denied_burst" and a.actor == "prober"]
    assert burst.event_ids == [e.id for e in events]


def test_a_removed_image_is_drawn_again_on_demand_and_by_derive(archive: Archive) -> None:
    context = archive.context
    document_id = archive.ids["B4"][0]
    sha = _pdfa_sha(context, document_id)
    thumb = derived_key(sha, 1, ObjectRole.THUMBNAIL)
    context.store.delete(thumb)
    response = archive.client.get(f"/api/v1/documents/{document_id}/pages/1/thumbnail", headers=archive.staff)
    assert response.status_code == 200 and max(_image(response.content).size) == 200
    assert context.store.stat(thumb) is not None  # kept: drawn once
    for key in list(context.store.iter_keys(DERIVED_PREFIX)):
        context.store.delete(key)
    result = MaintenanceService(context).derive(SYSADMIN)
    with context.db.read() as session:
        pages = sum(d.page_count for d in session.scalars(select(Document).where(Document.status != "withdrawn")))
    assert result.pages_drawn == pages and result.pages_failed == 0
    assert len(list(context.store.iter_keys(DERIVED_PREFIX))) == 2 * pages
    again = MaintenanceService(context).derive(SYSADMIN)
    assert again.pages_drawn == 0  # nothing missing: nothing drawn
    assert MaintenanceService(context).derive(SYSADMIN, force=True).pages_drawn == pages


def test_the_page_list_for_the_viewer(archive: Archive) -> None:
    document_id = archive.ids["B1"][0]
    body = archive.client.get(f"/api/v1/documents/{document_id}/pages", headers=archive.staff).json()
    assert body["document_id"] == document_id
    (page,) = body["pages"]
    assert page["number"] == 1 and page["engine"] == "null" and page["width_px"] > page["height_px"]
    assert page["findings_count"] == len(page["findings"])
    assert page["links"]["thumbnail"] == f"/api/v1/documents/{document_id}/pages/1/thumbnail"
    secret = archive.ids["B2"][0]
    assert archive.client.get(f"/api/v1/documents/{secret}/pages", headers=archive.staff).status_code == 404


def test_browse_counts_only_what_the_caller_may_see(archive: Archive) -> None:
    get = archive.client.get
    staff = get("/api/v1/browse", headers=archive.staff).json()
    assert [(e["key"], e["count"]) for e in staff["entries"]] == [("M1", 3)]  # B1 (2) + B4 (1): no secret, unfiled
    admin = get("/api/v1/browse", headers=archive.admin).json()
    assert [(e["key"], e["count"]) for e in admin["entries"]] == [("M1", 5)]  # + the secret and the unfiled box
    series = get("/api/v1/browse/M1", headers=archive.staff).json()
    assert [(e["key"], e["count"]) for e in series["entries"]] == [("S1", 3)]
    boxes = get("/api/v1/browse/M1/S1", headers=archive.staff).json()
    assert [(e["key"], e["count"]) for e in boxes["entries"]] == [("B1", 2), ("B4", 1)]
    assert boxes["entries"][0]["link"] == "/api/v1/browse/M1/S1/B1"
    items = get("/api/v1/browse/M1/S1/B1?limit=1", headers=archive.staff).json()
    assert items["total"] == 2 and len(items["items"]) == 1
    assert items["items"][0]["thumbnail"].endswith("/pages/1/thumbnail")
    hidden = get("/api/v1/browse/M1/S1/B2", headers=archive.staff)
    missing = get("/api/v1/browse/M1/S1/B9", headers=archive.staff)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"].replace("B2", "B9") == missing.json()["message"]
    assert get("/api/v1/browse/M1/S1/B2", headers=archive.admin).json()["total"] == 1
    assert get("/api/v1/browse/M9", headers=archive.staff).status_code == 404


def test_recent_items_are_visible_filed_ones_newest_first(archive: Archive) -> None:
    body = archive.client.get("/api/v1/documents/recent?limit=10", headers=archive.staff).json()
    ids = [item["id"] for item in body["items"]]
    assert ids == [archive.ids["B4"][0], *sorted(archive.ids["B1"], reverse=True)]
    admin = archive.client.get("/api/v1/documents/recent", headers=archive.admin).json()
    assert archive.ids["B2"][0] in [item["id"] for item in admin["items"]]
    assert archive.ids["B3"][0] not in [item["id"] for item in admin["items"]]  # not filed


def test_dangan_derive_is_the_system_administrators(cli: Cli) -> None:
    result = cli("--user", "sysadmin", "derive", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json == {
        "documents": 0,
        "pages_drawn": 0,
        "pages_failed": 0,
        "forced": False,
        "objects_pruned": 0,
        "pruned_keys": [],
    }
    assert cli("derive").exit_code != 0  # the archivist may not
