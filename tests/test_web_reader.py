"""The reader's screens in a real browser (tests/browser.py): staff search, open the document page at the
matching page with the query's terms highlighted, turn pages by keyboard, browse fonds → series → box → item,
the recently filed items; a record above the staff user's clearance shows nowhere (search, browse counts and
lists, the document page by id, its thumbnail); axe-core 0 serious/critical on each screen in zh-CN and en;
an archivist edits a record's title and level on the document page.

The register is read by real tesseract (its batch's engine), so that its word boxes are real: the highlight on
the page image is checked against where the word was drawn. The other records use the null engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, expect
from sqlalchemy import select

from api.preservation.maintenance import MaintenanceService
from api.wiring import Context
from archive.models import Document
from tests import actors
from tests.actors import SYSADMIN, account
from tests.browser import (
    error_free_tab,
    filed_record,
    goto,
    language,
    open_page,
    page_errors,
    search,
    serious_violations,
    served,
    shots,
    sign_in,
)
from tests.conftest import make_context
from tests.pages import drawn_box, render

pytestmark = pytest.mark.ocr  # the register's word boxes come from real tesseract

PASSWORD = actors.PASSWORD
STAFF, EDITOR = "reader", "keeper"
SECRET_WORD = "zephyrine"  # only in the records above the reader's clearance
TOLERANCE_PX = 2.0  # the highlight's edges against the word box the route answers, on the shown image
REGISTER = ("Register of harbour dues paid in the winter months.", "Ledger of lighthouse keepers and their wages.")


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    ids: dict[str, int]  # name -> document id
    refs: dict[str, str]  # name -> reference code


def _tiff(folder: Path, pages: tuple[str, ...]) -> Path:
    """A multi-page TIFF with its text beside it (the null engine's sidecar, a form feed between pages)."""
    drawn = [render(folder / "img", f"p{n}.png", text, "eng", seed=80 + n) for n, text in enumerate(pages)]
    target = folder / "in" / "register.tif"
    target.parent.mkdir(parents=True)
    images = [Image.open(path) for path in drawn]
    images[0].save(target, save_all=True, append_images=images[1:], dpi=(300, 300), compression="tiff_lzw")
    for image in images:
        image.close()
    target.with_suffix(".txt").write_text("\n\f".join(pages) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web-reader")
    context: Context = make_context(root / "var")
    ids: dict[str, int] = {}
    # (name, fonds, series, box, level, files, title)
    plan = [
        ("register", "HARB", "S1", "B1", "public", [_tiff(root / "register", REGISTER)], "Harbour dues register"),
        (
            "tariff",
            "HARB",
            "S1",
            "B1",
            "internal",
            [render(root / "tariff", "tariff.png", "Customs tariff for tea and silk.", "eng", seed=90)],
            "Tea tariff",
        ),
        (
            "hidden",
            "HARB",
            "S1",
            "B1",
            "secret",
            [render(root / "hidden", "hidden.png", f"Lighthouse {SECRET_WORD} plans.", "eng", seed=91)],
            f"Lighthouse {SECRET_WORD} plans",
        ),
        (
            "vault",
            "VAULT",
            None,
            None,
            "secret",
            [render(root / "vault", "vault.png", f"Vault {SECRET_WORD} inventory.", "eng", seed=92)],
            "Vault inventory",
        ),
    ]
    for name, fonds, series, box, level, files, title in plan:
        engine = "tesseract" if name == "register" else None  # None: the context's null engine
        ids[name] = filed_record(
            context, files, fonds=fonds, series=series, box=box, level=level, title=title, engine=engine
        )
    with context.db.read() as session:
        codes = session.execute(select(Document.id, Document.reference_code).where(Document.id.in_(ids.values())))
        by_id = {int(row[0]): str(row[1]) for row in codes}
    refs = {name: by_id[document_id] for name, document_id in ids.items()}
    MaintenanceService(context).reindex(SYSADMIN)
    account(context, STAFF, ["staff"], "internal")
    account(context, EDITOR, ["archivist"], "top_secret")
    with served(context) as (url, browser):
        yield Site(url, browser, ids, refs)


@pytest.fixture
def tab(site: Site) -> Iterator[Page]:
    with error_free_tab(site.browser, site.url, locale="en-GB") as page:
        yield page


def fetch_json(page: Page, path: str) -> Any:
    """The JSON answer of an API call made in the page with its bearer token."""
    return page.evaluate(
        """async (path) => (await fetch(path, {
            headers: { Authorization: `Bearer ${sessionStorage.getItem("dangan.token")}` } })).json()""",
        path,
    )


def on_screen(image: FloatRect, box: list[float] | tuple[float, ...]) -> tuple[float, float, float, float]:
    """A box given as fractions of the page (left, top, right, bottom) in CSS pixels where the image is drawn."""
    left, top, right, bottom = box
    x, y, width, height = image["x"], image["y"], image["width"], image["height"]
    return (x + left * width, y + top * height, x + right * width, y + bottom * height)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two rectangles (left, top, right, bottom)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    shared = max(0.0, width) * max(0.0, height)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - shared
    return shared / union if union > 0 else 0.0


def assert_highlight_on_word(page: Page, document_id: int, number: int, word: str, line: str) -> None:
    """The overlay's one box is drawn where the words route says the word is on the shown image (within a
    pixel or two), and that is where the word was drawn on the page."""
    found = fetch_json(page, f"/api/v1/documents/{document_id}/pages/{number}/words?q={word}")
    assert [box["text"].lower() for box in found["boxes"]] == [word], found
    image = page.locator("#page-image").bounding_box()
    shown = page.locator("#page-overlay .word-box").bounding_box()
    assert image is not None and shown is not None
    assert image["width"] > 100 and image["height"] > 20, image
    drawn = (shown["x"], shown["y"], shown["x"] + shown["width"], shown["y"] + shown["height"])
    expected = on_screen(image, found["boxes"][0]["box"])
    assert all(abs(got - want) <= TOLERANCE_PX for got, want in zip(drawn, expected, strict=True)), (drawn, expected)
    truth = on_screen(image, drawn_box(line, word))
    assert overlap(drawn, truth) >= 0.6, (drawn, truth)


def fetch_status(page: Page, path: str) -> int:
    """The HTTP status of an API call made in the page with its bearer token."""
    status: int = page.evaluate(
        """async (path) => (await fetch(path, {
            headers: { Authorization: `Bearer ${sessionStorage.getItem("dangan.token")}` } })).status""",
        path,
    )
    return status


@pytest.mark.parametrize(
    ("locale", "lang", "page_of"),
    [("en-GB", "en", "Page {} of {}"), ("zh-CN", "zh-CN", "第 {} 页，共 {} 页")],
    ids=["en", "zh-CN"],
)
def test_staff_search_and_open_the_document_at_the_matching_page(
    site: Site, locale: str, lang: str, page_of: str
) -> None:
    tab = open_page(site.browser, site.url, locale=locale)
    expect(tab.locator("html")).to_have_attribute("lang", lang)
    sign_in(tab, STAFF, PASSWORD)
    recent = tab.locator("#recent-list li")  # the home screen lists what was filed lately, hidden records left out
    expect(recent).to_have_count(2)
    assert sorted(recent.evaluate_all("(items) => items.map((li) => Number(li.dataset.documentId))")) == sorted(
        [site.ids["register"], site.ids["tariff"]]
    )
    assert serious_violations(tab) == []
    shots(tab, f"reader-home-{lang}")

    search(tab, "lighthouse")
    expect(tab.locator("#results .hit")).to_have_count(1)  # the secret record with the word is not found
    expect(tab.locator("#results .hit .snippet mark")).to_have_text(["lighthouse"])
    assert serious_violations(tab) == []
    shots(tab, f"reader-search-{lang}")
    link = tab.locator("#results .hit h2 a")
    expect(link).to_have_attribute("href", f"#/documents/{site.ids['register']}?page=2&q=lighthouse")
    link.click()
    expect(tab.locator("#document-heading .ref")).to_have_text(site.refs["register"])
    expect(tab.locator("#viewer-page")).to_have_text(page_of.format(2, 2))  # opened at the matching page
    expect(tab.locator("#thumbs a[aria-current=page]")).to_have_attribute("data-page", "2")
    expect(tab.locator("#page-text mark")).to_have_text(["lighthouse"])
    expect(tab.locator("#page-text")).to_contain_text("Ledger of lighthouse keepers")
    expect(tab.locator("#doc-facts .fact-series dd")).to_have_text("S1")
    expect(tab.locator("#doc-facts .fact-box dd")).to_have_text("B1")
    expect(tab.locator("#page-image")).to_have_attribute("data-state", "loaded")
    expect(tab.locator("#page-overlay .word-box")).to_have_count(1)  # from the real words route
    assert_highlight_on_word(tab, site.ids["register"], 2, "lighthouse", REGISTER[1])
    tab.set_viewport_size({"width": 375, "height": 900})  # the viewer stacked on a phone's width: still on the word
    assert_highlight_on_word(tab, site.ids["register"], 2, "lighthouse", REGISTER[1])
    tab.set_viewport_size({"width": 1280, "height": 900})
    expect(tab.locator("#doc-facts .fact-language dd")).to_have_text("English" if lang == "en" else "英文")
    with tab.expect_download() as saved:  # fetched with the bearer token, offered as a blob download
        tab.locator("#download-pdf").click()
    assert saved.value.suggested_filename == f"{site.refs['register']}.pdf"
    assert Path(saved.value.path()).read_bytes().startswith(b"%PDF")
    expect(tab.locator("#download-original")).to_be_visible()
    expect(tab.locator("#edit-details")).to_have_count(0)  # staff may not edit
    assert serious_violations(tab) == []
    shots(tab, f"reader-document-{lang}")

    tab.locator("#page-text").focus()  # keyboard page navigation
    tab.keyboard.press("ArrowLeft")
    expect(tab.locator("#viewer-page")).to_have_text(page_of.format(1, 2))
    expect(tab.locator("#page-text")).to_contain_text("Register of harbour dues")
    expect(tab.locator("#page-text mark")).to_have_count(0)
    assert "page=" not in tab.url and "q=lighthouse" in tab.url
    tab.keyboard.press("End")
    expect(tab.locator("#viewer-page")).to_have_text(page_of.format(2, 2))
    expect(tab.locator("#page-text mark")).to_have_count(1)

    assert page_errors(tab) == []
    tab.context.close()


@pytest.mark.parametrize(
    ("locale", "lang", "items"), [("en-GB", "en", "2 items"), ("zh-CN", "zh-CN", "共 2 件")], ids=["en", "zh-CN"]
)
def test_staff_browse_down_to_an_item(site: Site, locale: str, lang: str, items: str) -> None:
    tab = open_page(site.browser, site.url, locale=locale)
    sign_in(tab, STAFF, PASSWORD)
    tab.locator("#nav a[data-screen=browse]").click()  # browse: fonds → series → box → item
    expect(tab.locator("#browse-view a[data-key]")).to_have_text(["HARB"])  # VAULT holds only a secret record
    assert serious_violations(tab) == []
    shots(tab, f"reader-browse-{lang}")
    tab.locator("#browse-view a[data-key=HARB]").click()
    expect(tab.locator("#browse-view td[data-column=count]")).to_have_text(["2"])
    tab.locator("#browse-view a[data-key=S1]").click()
    expect(tab.locator("#browse-view td[data-column=count]")).to_have_text(["2"])  # the secret record is not counted
    tab.locator("#browse-view a[data-key=B1]").click()
    expect(tab.locator("#browse-total")).to_have_text(items)
    expect(tab.locator("#browse-view td[data-column=reference_code] a")).to_have_text(
        sorted([site.refs["register"], site.refs["tariff"]])
    )
    expect(tab.locator(".breadcrumbs li")).to_have_count(4)
    expect(tab.locator("#browse-view td img.thumb").first).to_have_attribute("data-state", "loaded")
    assert serious_violations(tab) == []
    shots(tab, f"reader-items-{lang}")
    tab.locator(f"#browse-view a[data-document-id='{site.ids['tariff']}']").click()
    expect(tab.locator("#document-heading .title")).to_have_text("Tea tariff")
    expect(tab.locator("#viewer-page")).to_contain_text("1")
    assert page_errors(tab) == []
    tab.context.close()


def test_a_record_above_the_clearance_shows_nowhere(tab: Page, site: Site) -> None:
    sign_in(tab, STAFF, PASSWORD)
    search(tab, SECRET_WORD)
    expect(tab.locator("#count")).to_have_text(f"No documents match “{SECRET_WORD}”.")
    for name in ("hidden", "vault"):
        goto(tab, site.url, f"#/documents/{site.ids[name]}?q={SECRET_WORD}")
        expect(tab.locator("#document-view")).to_have_attribute("data-state", "not-found")
        expect(tab.locator("#document-heading")).to_have_text("Document not found")
        assert site.refs[name] not in tab.locator("#main").inner_text()
        for route in ("thumbnail", "image"):
            assert fetch_status(tab, f"/api/v1/documents/{site.ids[name]}/pages/1/{route}") == 404
    goto(tab, site.url, "#/documents/999999")  # exactly like a record that does not exist
    expect(tab.locator("#document-view")).to_have_attribute("data-state", "not-found")
    assert serious_violations(tab) == []
    shots(tab, "reader-not-found-en")
    goto(tab, site.url, "#/browse/VAULT")
    expect(tab.locator("#browse-body [data-state=not-found]")).to_have_text("Nothing here, or nothing you may see.")
    goto(tab, site.url, "#/browse/HARB/S1/B1")
    expect(tab.locator("#browse-total")).to_have_text("2 items")
    assert site.refs["hidden"] not in tab.locator("#main").inner_text()


def test_an_archivist_edits_the_title_and_level_on_the_document_page(tab: Page, site: Site) -> None:
    sign_in(tab, EDITOR, PASSWORD)
    goto(tab, site.url, f"#/documents/{site.ids['tariff']}")
    expect(tab.locator("#document-heading .title")).to_have_text("Tea tariff")
    tab.locator("#edit-details summary").click()
    tab.get_by_label("Title", exact=True).fill("Tea and silk tariff")
    tab.get_by_label("Access level", exact=True).select_option("confidential")
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Save").click()
    expect(tab.locator("#document-error")).to_have_text("The changes are saved.")
    expect(tab.locator("#document-heading .title")).to_have_text("Tea and silk tariff")
    expect(tab.locator("#doc-facts .fact-level dd")).to_have_text("confidential")
    language(tab, "zh-CN")
    expect(tab.locator("#doc-facts .fact-level dd")).to_have_text("秘密")
    shots(tab, "reader-edit-zh-CN")
    tab.locator("#edit-details summary").click()
    tab.locator("#edit-level").select_option("internal")  # put it back for the other tests
    tab.locator("#edit-save").click()
    expect(tab.locator("#doc-facts .fact-level dd")).to_have_text("内部")
