"""Pruning derived objects (page images, thumbnails) that no current page refers to: after a page's replacement
(the superseded access copy's images), and by `dangan derive` over the whole `derived/` prefix. Real ingest
(null OCR engine), a real rescan, a real local store and catalogue, the real app over HTTP; the crash between
the replacement's commit and its pruning is a real failpoint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.preservation.maintenance import MaintenanceService
from api.runners.local import ocr_in_child
from api.search.page_images import KINDS, referenced_keys
from api.wiring import Context
from archive.failpoints import ENV
from archive.keys import DERIVED_PREFIX, content_key, derived_key
from archive.models import Page, StoredObject
from archive.values import ObjectRole
from tests.actors import ARCHIVIST, SYSADMIN, bearer
from tests.intake import ingest_paths
from tests.pages import render


@dataclass(frozen=True)
class Item:
    document_id: int
    page_id: int
    pdfa_sha256: str

    def keys(self) -> list[str]:
        return [derived_key(self.pdfa_sha256, 1, kind) for kind in KINDS]


def _items(context: Context, folder: Path, count: int = 2) -> list[Item]:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="P1", box="B1", level="internal").id
    scans = [
        render(folder, f"scan-{n}.png", f"Ledger of the harbour office {n}", "eng", seed=60 + n) for n in range(count)
    ]
    run = ingest_paths(context, scans, actor=ARCHIVIST, batch_id=batch)
    assert run.exit_code() == 0, run.as_json()
    return [_item(context, int(job.document_id)) for job in run.jobs if job.document_id is not None]


def _item(context: Context, document_id: int) -> Item:
    with context.db.read() as session:
        page_id = session.scalars(select(Page.id).where(Page.document_id == document_id, Page.current)).one()
        sha = session.scalars(
            select(StoredObject.sha256).where(
                StoredObject.document_id == document_id, StoredObject.role == ObjectRole.PDFA, StoredObject.current
            )
        ).one()
    return Item(document_id, int(page_id), str(sha))


def _replace(context: Context, item: Item, folder: Path) -> Item:
    rescan = render(
        folder / "rescan", f"rescan-{item.document_id}.png", "Ledger of the harbour office, again", "eng", seed=91
    )
    ReviewService(context).replace(item.page_id, rescan, actor=ARCHIVIST, ocr=ocr_in_child)
    return _item(context, item.document_id)


def _present(context: Context, keys: list[str]) -> list[str]:
    return [key for key in keys if context.store.stat(key) is not None]


def _catalogued_keys(context: Context) -> list[str]:
    with context.db.read() as session:
        return sorted(set(session.scalars(select(StoredObject.key))))


def test_a_replacement_prunes_the_superseded_images_and_the_new_ones_are_served(
    context: Context, tmp_path: Path
) -> None:
    first, second = _items(context, tmp_path)
    assert _present(context, first.keys()) == first.keys()  # drawn at ingest
    replaced = _replace(context, first, tmp_path)
    assert replaced.pdfa_sha256 != first.pdfa_sha256 and replaced.page_id != first.page_id
    assert _present(context, first.keys()) == []  # the superseded copy's images are gone
    assert _present(context, second.keys()) == second.keys()  # another record's are untouched
    catalogued = _catalogued_keys(context)
    assert content_key(first.pdfa_sha256) in catalogued  # the superseded access copy is kept, as its scan is
    assert _present(context, catalogued) == catalogued  # never an original or a preservation copy
    headers = bearer(context, "sysadmin")
    with TestClient(create_app(context)) as client:
        for kind in ("image", "thumbnail"):
            response = client.get(f"/api/v1/documents/{first.document_id}/pages/1/{kind}", headers=headers)
            assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert _present(context, replaced.keys()) == replaced.keys()  # the new copy's, drawn when asked for
    assert _present(context, first.keys()) == []


def test_a_crash_before_the_pruning_leaves_a_leftover_that_the_rebuild_collects(
    context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _items(context, tmp_path)
    monkeypatch.setenv(ENV, "rescan.committed=error")  # after the catalogue commit, before the pruning
    with pytest.raises(RuntimeError):
        _replace(context, first, tmp_path)
    monkeypatch.delenv(ENV)
    replaced = _item(context, first.document_id)
    assert replaced.pdfa_sha256 != first.pdfa_sha256  # the rescan is filed
    assert _present(context, first.keys()) == first.keys()  # a leftover: never served (no page refers to it)
    result = MaintenanceService(context).derive(SYSADMIN)
    assert result.pages_drawn == 1  # the new copy's page
    assert result.objects_pruned == 2 and result.pruned_keys == sorted(first.keys())
    assert _present(context, first.keys()) == []
    assert _present(context, [*replaced.keys(), *second.keys()]) == [*replaced.keys(), *second.keys()]


def test_the_rebuild_removes_orphaned_derived_objects_and_keeps_every_referenced_object(
    context: Context, tmp_path: Path
) -> None:
    items = _items(context, tmp_path)
    gone = hashlib.sha256(b"an access copy no record has").hexdigest()
    current = items[0].pdfa_sha256
    orphans = sorted(
        [
            derived_key(gone, 1, ObjectRole.THUMBNAIL),
            derived_key(gone, 1, ObjectRole.PAGE_IMAGE),
            derived_key(current, 1, ObjectRole.THUMBNAIL).replace("-v1.jpg", "-v0.jpg"),  # an earlier rendering
            derived_key(current, 9, ObjectRole.THUMBNAIL),  # a page the record does not have
            f"{DERIVED_PREFIX}stray.tmp",
        ]
    )
    for key in orphans:
        context.store.put_bytes(key, b"left behind")
    stray = content_key(hashlib.sha256(b"not derived").hexdigest())  # unreferenced, but not derived: not ours
    context.store.put_bytes(stray, b"not derived")
    referenced = sorted(k for k in referenced_keys(context) if k.startswith(DERIVED_PREFIX))
    assert len(referenced) == 2 * len(items)
    result = MaintenanceService(context).derive(SYSADMIN)
    assert result.objects_pruned == len(orphans) and result.pruned_keys == orphans
    assert _present(context, orphans) == []
    assert _present(context, referenced) == referenced
    catalogued = _catalogued_keys(context)
    assert _present(context, catalogued) == catalogued
    assert context.store.stat(stray) is not None
    assert MaintenanceService(context).derive(SYSADMIN).objects_pruned == 0  # nothing left to remove


def test_an_object_shared_by_two_rows_stays(context: Context, tmp_path: Path) -> None:
    first, second = _items(context, tmp_path)
    kept = f"{DERIVED_PREFIX}legacy/{second.document_id}-thumbnail.jpg"  # a derived key a catalogue row names
    context.store.put_bytes(kept, b"a thumbnail of an earlier release")
    with context.db.write() as session:  # the second record's access copy is the first's (byte-identical)
        pdfa = session.scalars(
            select(StoredObject).where(
                StoredObject.document_id == second.document_id,
                StoredObject.role == ObjectRole.PDFA,
                StoredObject.current,
            )
        ).one()
        source = session.scalars(
            select(StoredObject).where(StoredObject.key == content_key(first.pdfa_sha256), StoredObject.current)
        ).one()
        pdfa.key, pdfa.sha256, pdfa.size = source.key, source.sha256, source.size
        row = StoredObject(key=kept, sha256="0" * 64, size=33, media_type="image/jpeg", role=ObjectRole.THUMBNAIL)
        row.document_id, row.current = second.document_id, False
        session.add(row)
    _replace(context, first, tmp_path)  # the first record no longer refers to its old copy; the second still does
    assert _present(context, first.keys()) == first.keys()
    result = MaintenanceService(context).derive(SYSADMIN)
    assert sorted(result.pruned_keys) == sorted(second.keys())  # the second's own former copy: no page refers to it
    assert _present(context, first.keys()) == first.keys()
    assert context.store.stat(kept) is not None
