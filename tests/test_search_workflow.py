"""The search index follows the workflow: filing a batch makes its items filed in the index at once, a
rejected page's text is not served as current text, and a withdrawn item stays out (real tesseract, Whoosh)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.records.documents import update_document, withdraw_document
from api.search.service import SearchService
from api.wiring import Context
from archive.access import SearchScope, search_scope
from archive.errors import NotFound
from archive.models import Document, Page
from archive.values import DocumentStatus
from tests.actors import ARCHIVIST, REVIEWER, STAFF, SYSADMIN
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

STAFF_SCOPE: SearchScope = search_scope(STAFF)  # filed_only, from the permission table
OPERATOR = search_scope(SYSADMIN)  # sees unfiled and withdrawn records: what is in the index at all


@pytest.fixture
def batch(context: Context, tmp_path: Path) -> tuple[int, dict[str, int]]:
    """One batch of two one-page items, processed and not filed."""
    batch_id = int(BatchService(context).create(actor=ARCHIVIST, fonds="W1", languages="eng", level="public").id)
    pages = [
        render(tmp_path / "in", "ledger.png", "Quarterly harbour dues ledger", "eng", seed=3),
        render(tmp_path / "in", "register.png", "Lighthouse keepers register", "eng", seed=4),
    ]
    jobs = ingest_paths(context, pages, actor=ARCHIVIST, batch_id=batch_id).jobs
    return batch_id, {job.source_name.split(".")[0]: int(job.document_id or 0) for job in jobs}


def test_filing_a_batch_reaches_the_index_before_it_returns(
    context: Context, batch: tuple[int, dict[str, int]]
) -> None:
    batch_id, ids = batch
    assert STAFF_SCOPE.filed_only and not OPERATOR.filed_only
    assert context.index.search("harbour OR lighthouse", scope=OPERATOR).total_documents == 2
    assert context.index.search("harbour OR lighthouse", scope=STAFF_SCOPE).total_documents == 0  # not filed
    assert context.index.suggest("W1", scope=STAFF_SCOPE) == []
    withdraw_document(context, SYSADMIN, ids["register"], reason="ingested by mistake")
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
    [hit] = search.search(SYSADMIN, "ledger").hits
    assert ">ledger</mark>" in hit.snippets[0].text
    ReviewService(context).reject(page_id, actor=REVIEWER, reason="blurred: rescan")
    assert context.index.search("harbour", scope=OPERATOR).total_documents == 0  # its text left the index
    [hit] = search.search(SYSADMIN, "ledger").hits  # still found by its title (ledger.png) ...
    assert hit.document_id == ids["ledger"] and hit.snippets == []  # ... but no rejected text shown
    ReviewService(context).accept(page_id, actor=REVIEWER, note="legible after all")
    assert [h.document_id for h in context.index.search("harbour", scope=OPERATOR).hits] == [ids["ledger"]]


def test_a_withdrawn_record_stays_out_of_the_index_whatever_changes_it_later(
    context: Context, batch: tuple[int, dict[str, int]]
) -> None:
    _, ids = batch
    with context.db.session() as session:
        page_id = session.scalars(select(Page.id).where(Page.document_id == ids["register"])).one()
    withdraw_document(context, SYSADMIN, ids["register"], reason="ingested by mistake")
    update_document(context, SYSADMIN, ids["register"], title="Lighthouse keepers (withdrawn)")
    # Page reviews of a withdrawn record are refused now (only the system administrator sees it, and only an
    # archivist reviews pages): refused like a missing page, and nothing is upserted on the way.
    review = ReviewService(context)
    with pytest.raises(NotFound):
        review.reject(page_id, actor=REVIEWER, reason="blurred")
    with pytest.raises(NotFound):
        review.accept(page_id, actor=REVIEWER)
    assert context.index.search("lighthouse", scope=OPERATOR).total_documents == 0
    assert context.index.suggest("Lighthouse", scope=OPERATOR) == []
    with context.db.session() as session:
        withdrawn = session.get(Document, ids["register"])
        assert withdrawn is not None and withdrawn.status == DocumentStatus.WITHDRAWN  # a review does not undo it
