"""The staff search page in a real browser: Debian's chromium, driven by Playwright, against the real app.

The app is served by uvicorn on 127.0.0.1 (a free port, a background thread) over a small OCR'd archive with
one record above the staff user's clearance; that record must never show, in results, counts or suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from api.preservation.maintenance import MaintenanceService
from tests import actors
from tests.actors import SYSADMIN, account
from tests.browser import WAIT_MS, answered, error_free_tab, filed_record, search, served, wait_for_answer
from tests.conftest import make_context
from tests.pages import render

SCREENSHOT = Path("/tmp/dangan-ui.png")
STAFF, PASSWORD = "clerk", actors.PASSWORD
SECRET_WORD = "zephyrine"  # only in the record above the clerk's clearance

# (fonds, level, page text, title)
RECORDS = [
    ("HARB", "public", "Harbour ledger of ships entering the port in spring.", "Harbour ledger of arriving ships"),
    ("CUST", "internal", "Harbour customs tariff for imported tea and silk.", "Harbour customs tariff schedule"),
    ("HARB", "secret", f"Harbour {SECRET_WORD} dossier on naval movements.", f"Harbour {SECRET_WORD} dossier"),
]


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    ids: dict[str, int]  # title -> document id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app under uvicorn (tests/browser.py) over the archive, and chromium."""
    root = tmp_path_factory.mktemp("web-ui")
    context = make_context(root / "var")
    ids: dict[str, int] = {}
    for n, (fonds, level, text, title) in enumerate(RECORDS):
        page = render(root / "in" / str(n), f"record-{n}.png", text, "eng", seed=40 + n)
        ids[title] = filed_record(context, [page], fonds=fonds, level=level, title=title)  # staff see filed ones only
    MaintenanceService(context).reindex(SYSADMIN)
    account(context, STAFF, ["staff"], "confidential")
    with served(context) as (url, browser):
        yield Site(url, browser, ids)


@pytest.fixture
def page(site: Site) -> Iterator[Page]:
    """A fresh browser context per test: its own, empty sessionStorage; the served CSP in force."""
    with error_free_tab(site.browser, site.url, locale="en-GB", width=1200, height=860, bypass_csp=False) as tab:
        yield tab


def sign_in(page: Page) -> None:
    page.get_by_label("Username").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("searchbox", name="Search the archive").or_(page.locator("#q"))).to_be_visible()
    expect(page.locator("#who")).to_have_text(STAFF)


def act(page: Page, action: Callable[[], object]) -> None:
    """Do something that starts a search (a click, a choice) and wait until the page has its answer."""
    before = answered(page)
    action()
    wait_for_answer(page, before)


def suggestions_for(page: Page, typed: str) -> list[str]:
    """Type into the box and return the offered titles once the answer for exactly `typed` is rendered."""
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially(typed, delay=30)
    page.locator(f'#suggestions[data-query="{typed}"]').wait_for(state="attached")
    if page.locator("#suggestions").is_hidden():
        return []
    return page.locator("#suggestions .suggestion-title").all_inner_texts()


def hit_titles(page: Page) -> list[str]:
    return page.locator("#results .hit .title").all_inner_texts()


def test_sign_in_search_with_highlights_and_sign_out(page: Page, site: Site) -> None:
    expect(page).to_have_title(re.compile("Dang'an"))
    assert page.evaluate("document.characterSet") == "UTF-8"
    expect(page.locator("#search-view")).to_be_hidden()
    page.get_by_label("Username").fill(STAFF)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("Sign-in failed")

    sign_in(page)
    assert page.evaluate("sessionStorage.getItem('dangan.token')").startswith("dgn_")
    search(page, "ledger")
    expect(page.locator("#count")).to_have_text("1 document match “ledger”.")
    assert hit_titles(page) == ["Harbour ledger of arriving ships"]
    hit = page.locator("#results .hit").first
    expect(hit.locator(".snippet mark").first).to_have_text(re.compile("ledger", re.IGNORECASE))
    expect(hit.locator(".access dd")).to_have_text("public")
    expect(hit.locator(".pages dd")).to_have_text("1")
    expect(hit.locator(".ref")).not_to_be_empty()

    search(page, "harbour")
    expect(page.locator("#count")).to_have_text("2 documents match “harbour”.")
    assert sorted(hit_titles(page)) == ["Harbour customs tariff schedule", "Harbour ledger of arriving ships"]
    expect(page.locator("#page-info")).to_have_text("Page 1 of 1")
    expect(page.locator("#next")).to_be_disabled()
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#search-view")).to_be_hidden()
    expect(page.get_by_label("Username")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('dangan.token')") is None
    page.reload()  # and the token is really gone: a reload still asks for a password
    expect(page.locator("#signin-view")).to_be_visible()


def test_suggestions_offer_visible_titles_only(page: Page, site: Site) -> None:
    sign_in(page)
    offered = suggestions_for(page, "harb")
    assert "Harbour ledger of arriving ships" in offered
    assert "Harbour customs tariff schedule" in offered
    assert not any(SECRET_WORD in title for title in offered)
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "true")

    assert suggestions_for(page, "zeph") == []
    assert suggestions_for(page, f"Harbour {SECRET_WORD[:4]}") == []
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "false")

    suggestions_for(page, "Harbour cus")  # choosing one (keyboard) fills the box with its title and searches
    page.locator("#q").press("ArrowDown")
    expect(page.locator("#suggestions .suggestion").first).to_have_attribute("aria-selected", "true")
    act(page, lambda: page.locator("#q").press("Enter"))
    expect(page.locator("#q")).to_have_value("Harbour customs tariff schedule")
    assert hit_titles(page)[0] == "Harbour customs tariff schedule"

    suggestions_for(page, "harb")  # typing on after choosing with ↓ drops the choice: Enter searches the text
    page.locator("#q").press("ArrowDown")
    page.locator("#q").press_sequentially("our")
    act(page, lambda: page.locator("#q").press("Enter"))
    expect(page.locator("#q")).to_have_value("harbour")
    expect(page.locator("#count")).to_have_text("2 documents match “harbour”.")

    suggestions_for(page, "harb")  # and by mouse
    act(page, lambda: page.locator("#suggestions .suggestion", has_text="ledger").click())
    expect(page.locator("#q")).to_have_value("Harbour ledger of arriving ships")
    assert hit_titles(page)[0] == "Harbour ledger of arriving ships"


def test_a_facet_narrows_and_its_chip_removes_the_filter(page: Page, site: Site) -> None:
    sign_in(page)
    search(page, "harbour")
    fonds = page.locator("#facets .facet-value[data-facet='fonds']")
    expect(fonds).to_have_count(2)
    expect(page.locator("#facets")).to_contain_text("CUST")
    act(page, lambda: page.locator("#facets .facet-value[data-facet='fonds'][data-value='CUST']").click())
    expect(page.locator("#count")).to_have_text("1 document match “harbour”.")
    assert hit_titles(page) == ["Harbour customs tariff schedule"]
    chip = page.get_by_role("button", name="Remove filter Fonds: CUST")
    expect(chip).to_be_visible()
    assert "fonds=CUST" in page.url  # the search is in the address, so Back, Forward and reload keep it

    act(page, page.go_back)
    expect(page.locator("#count")).to_have_text("2 documents match “harbour”.")
    act(page, page.go_forward)
    expect(page.locator("#count")).to_have_text("1 document match “harbour”.")
    page.reload()
    expect(page.locator("#count")).to_have_text("1 document match “harbour”.")
    act(page, lambda: page.get_by_role("button", name="Remove filter Fonds: CUST").click())
    expect(page.locator("#count")).to_have_text("2 documents match “harbour”.")
    expect(page.locator("#chips")).to_be_hidden()

    act(page, lambda: page.get_by_label("Sort by").select_option("date"))
    expect(page.locator("#count")).to_have_text("2 documents match “harbour”.")
    assert "sort=date" in page.url


def test_a_malformed_query_shows_the_api_message(page: Page, site: Site) -> None:
    login = httpx.post(f"{site.url}/api/v1/auth/login", json={"username": STAFF, "password": PASSWORD}, timeout=10)
    answer = httpx.get(
        f"{site.url}/api/v1/search",
        params={"q": "((("},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        timeout=10,
    )
    assert answer.status_code == 400
    message = answer.json()["message"]
    sign_in(page)
    search(page, "harbour")
    search(page, "(((")
    expect(page.locator("#search-error")).to_be_visible()
    expect(page.locator("#search-error")).to_have_text(message)
    expect(page.locator("#results .hit")).to_have_count(0)

    search(page, "harbour")  # a good query clears the error
    expect(page.locator("#search-error")).to_be_hidden()


def test_the_record_above_clearance_never_shows(page: Page, site: Site) -> None:
    sign_in(page)
    search(page, SECRET_WORD)
    expect(page.locator("#count")).to_have_text(f"No documents match “{SECRET_WORD}”.")
    expect(page.locator("#results .hit")).to_have_count(0)

    search(page, "harbour OR dossier OR naval")
    expect(page.locator("#count")).to_have_text(re.compile(r"^2 documents match"))
    body = page.locator("body").inner_text()
    assert SECRET_WORD not in body.lower() and "secret" not in body.lower()
    counts = page.locator("#facets .facet-value[data-facet='level'] .facet-count").all_inner_texts()
    assert sum(int(n) for n in counts) == 2
    levels = page.locator("#facets .facet-value[data-facet='level'] .facet-name").all_inner_texts()
    assert set(levels) <= {"public", "internal", "confidential"}
    assert site.ids[RECORDS[2][3]] not in {
        int(i) for i in page.locator("#results .hit").evaluate_all("(nodes) => nodes.map((n) => n.dataset.documentId)")
    }


def test_open_pdf_fetches_with_the_token_and_shows_a_blob(page: Page, site: Site) -> None:
    sign_in(page)
    search(page, "ledger")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name=re.compile("^Open PDF")).first.click()
    popup = opened.value
    popup.wait_for_url(re.compile(r"^blob:"), timeout=WAIT_MS)
    expect(page.locator("#search-error")).to_be_hidden()


def test_answers_the_archive_cannot_produce_here_render_safely(page: Page, site: Site) -> None:
    """A 503, an inexact total and hostile text, answered by a stand-in for /search (the page is the real one)."""
    hostile = {
        "document_id": 1,
        "reference_code": "<b>REF</b>",
        "title": '<img src=x onerror="window.pwned=1">',
        "fonds": "HARB",
        "access_level": "public",
        "score": 1.0,
        "pages": [2, 5],
        "date": "1931-05-04",
        "snippets": [{"page": 2, "text": 'a <mark>ledger</mark> &lt;b&gt; <img src=x onerror="window.pwned=2">'}],
        "links": {"self": "/api/v1/documents/1", "pdf": "/api/v1/documents/1/pdf"},
    }
    answer = {
        "query": "ledger",
        "total": 25,
        "total_is_exact": False,
        "page": 1,
        "page_size": 10,
        "sort": "relevance",
        "hits": [hostile],
        "facets": {"year": {"1931": 25}},
    }
    unavailable = {"error": "search_unavailable", "message": "the index is being rebuilt"}
    replies = iter([(200, answer), (503, unavailable)])

    def reply(route: Route) -> None:
        status, body = next(replies)
        route.fulfill(status=status, json=body)

    sign_in(page)
    page.route(re.compile(r"/api/v1/search\?"), reply)
    search(page, "ledger")
    expect(page.locator("#count")).to_have_text("At least 25 documents match “ledger”.")
    expect(page.locator("#page-info")).to_have_text("Page 1 of at least 3")
    expect(page.locator("#next")).to_be_enabled()
    hit = page.locator("#results .hit")
    expect(hit.locator(".title")).to_have_text(str(hostile["title"]))  # shown as text, not made into an element
    expect(hit.locator(".ref")).to_have_text("<b>REF</b>")
    expect(hit.locator(".snippet mark")).to_have_text("ledger")
    expect(hit.locator(".snippet")).to_contain_text("<b>")
    assert hit.locator("img, b").count() == 0
    assert page.evaluate("window.pwned") is None
    expect(hit.locator(".pages dd")).to_have_text("2, 5")

    search(page, "ledger again")
    expect(page.locator("#search-error")).to_have_text("The search index is unavailable: the index is being rebuilt")
