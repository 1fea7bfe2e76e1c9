"""The search index follows the workflow: filing a batch makes its items filed in the index at once, a
rejected page's text is not served as current text, and a withdrawn item stays out (real tesseract, Whoosh)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from api.cli.ingesting import ingest_paths
from api.services.acceptance import AcceptanceService
from api.services.batches import BatchService
from api.services.documents import update_document, withdraw_document
from api.services.review import ReviewService
from api.services.search import SearchService
from api.wiring import Context
from archive.access import Principal, SearchScope, search_scope, system_operator
from archive.models import Document, Page
from archive.values import AccessLevel, DocumentStatus, Role
from tests.pages import render

STAFF = Principal("reader", frozenset({Role.STAFF}), AccessLevel.TOP_SECRET)
# What search_scope gives staff once it sets filed_only from the permission table (the lead's change):
STAFF_SCOPE: SearchScope = dataclasses.replace(search_scope(STAFF), filed_only=True)
OPERATOR = search_scope(system_operator())


@pytest.fixture
def batch(context: Context, tmp_path: Path) -> tuple[int, dict[str, int]]:
    """One batch of two one-page items, processed and not filed."""
    batch_id = int(BatchService(context).create(actor="t", fonds="W1", languages="eng", level="public")["id"])
    pages = [
        render(tmp_path / "in", "ledger.png", "Quarterly harbour dues ledger", "eng", seed=3),
        render(tmp_path / "in", "register.png", "Lighthouse keepers register", "eng", seed=4),
    ]
    jobs = ingest_paths(context, pages, batch_id=batch_id).jobs
    return batch_id, {str(job["source_name"]).split(".")[0]: int(job["document_id"]) for job in jobs}


def file_batch(context: Context, batch_id: int) -> dict[str, object]:
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch_id, actor="t", percent=100, minimum=1, seed=1)
    for page in sample["pages"]:
        acceptance.record_verdict(batch_id, int(page["page_id"]), actor="t", passed=True)
    assert acceptance.decide(batch_id, actor="t")["decision"] == "accepted"
    return acceptance.file(batch_id, actor="t")


def test_filing_a_batch_reaches_the_index_before_it_returns(
    context: Context, batch: tuple[int, dict[str, int]]
) -> None:
    batch_id, ids = batch
    assert context.index.search("harbour OR lighthouse", scope=OPERATOR).total_documents == 2
    assert context.index.search("harbour OR lighthouse", scope=STAFF_SCOPE).total_documents == 0  # not filed
    assert context.index.suggest("W1", scope=STAFF_SCOPE) == []
    withdraw_document(context, system_operator(), ids["register"], reason="ingested by mistake")
    assert file_batch(context, batch_id)["documents"] == 1  # the withdrawn item is not filed
    found = context.index.search("harbour OR lighthouse", scope=STAFF_SCOPE)
    assert [hit.document_id for hit in found.hits] == [ids["ledger"]]  # the very next search
    assert context.index.suggest("W1", scope=STAFF_SCOPE) == [ids["ledger"]]
    with context.db.session() as session:
        rows = {d.id: d for d in session.scalars(select(Document))}
        assert rows[ids["register"]].status == DocumentStatus.WITHDRAWN  # filing does not bring it back
        assert rows[ids["ledger"]].status == DocumentStatus.FILED and rows[ids["ledger"]].indexed_at is not None


def test_a_rejected_page_is_not_searchable_text_until_accepted(
    context: Context, batch: tuple[int, dict[str, int]]
) -> None:
    _, ids = batch
    with context.db.session() as session:
        page_id = session.scalars(select(Page.id).where(Page.document_id == ids["ledger"])).one()
    search = SearchService(context)
    [hit] = search.search(system_operator(), "ledger")["hits"]
    assert ">ledger</mark>" in hit["snippets"][0]["text"]
    ReviewService(context).reject(page_id, actor="t", reason="blurred: rescan")
    assert context.index.search("harbour", scope=OPERATOR).total_documents == 0  # its text left the index
    [hit] = search.search(system_operator(), "ledger")["hits"]  # still found by its title (ledger.png) ...
    assert hit["document_id"] == ids["ledger"] and hit["snippets"] == []  # ... but no rejected text shown
    ReviewService(context).accept(page_id, actor="t", note="legible after all")
    assert [h.document_id for h in context.index.search("harbour", scope=OPERATOR).hits] == [ids["ledger"]]


def test_a_withdrawn_record_stays_out_of_the_index_whatever_changes_it_later(
    context: Context, batch: tuple[int, dict[str, int]]
) -> None:
    _, ids = batch
    with context.db.session() as session:
        page_id = session.scalars(select(Page.id).where(Page.document_id == ids["register"])).one()
    withdraw_document(context, system_operator(), ids["register"], reason="ingested by mistake")
    update_document(context, system_operator(), ids["register"], title="Lighthouse keepers (withdrawn)")
    ReviewService(context).reject(page_id, actor="t", reason="blurred")
    ReviewService(context).accept(page_id, actor="t")
    assert context.index.search("lighthouse", scope=OPERATOR).total_documents == 0
    assert context.index.suggest("Lighthouse", scope=OPERATOR) == []
    with context.db.session() as session:
        withdrawn = session.get(Document, ids["register"])
        assert withdrawn is not None and withdrawn.status == DocumentStatus.WITHDRAWN  # a review does not undo it
