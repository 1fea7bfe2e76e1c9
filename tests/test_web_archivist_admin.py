"""The archivist's two administrative jobs in a real browser (tests/browser.py): reopening a filed batch (a reason,
a confirmation, the batch open again) and a fonds' reference-code template (its placeholders explained, a live
preview, a bad template refused with a translated message, the change applied to the items numbered after it).

Batches are prepared through the services (null OCR, sidecars) and filed the way people file them. In en and
zh-CN; axe-core: no serious or critical violations; screenshots at 1280 and 375 px (and nothing wider)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.records.retention import RetentionService
from api.wiring import Context
from archive.models import AuditEvent
from archive.values import Role
from tests.actors import ARCHIVIST, PASSWORD, account
from tests.browser import goto, officer_account, open_page, page_errors, served, sign_in
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, render
from tests.test_web_archivist import checked
from tests.workflow_helpers import file_batch

SEEDS = itertools.count(101)  # every scan its own: the same bytes twice would be one item


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    context: Context
    root: Path
    sysadmin: str
    filed: dict[str, int]  # name → a filed batch


def filed_batch(context: Context, root: Path, fonds: str, series: str, pages: int) -> int:
    """A batch of `pages` one-page items, ingested (null OCR) and filed."""
    batch = (
        BatchService(context)
        .create(actor=ARCHIVIST, fonds=fonds, series=series, box="1", year=2024, languages="eng", level="internal")
        .id
    )
    scans = [
        render(
            root / f"{fonds}-{series}",
            f"sheet-{n}.png",
            f"Sheet {n} of {fonds} {series}. " + ENGLISH_TEXT,
            "eng",
            seed=next(SEEDS),
        )
        for n in range(pages)
    ]
    ingest_paths(context, scans, actor=ARCHIVIST, batch_id=batch)
    file_batch(context, batch)
    return batch


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web-archivist-admin")
    context = make_context(root / "var")
    account(context, "clerk", ["archivist"])
    sysadmin = officer_account(context, Role.SYSADMIN)
    filed = {
        "en": filed_batch(context, root, "HARB", "EN", 2),
        "zh": filed_batch(context, root, "HARB", "ZH", 1),
        "raced": filed_batch(context, root, "HARB", "RACE", 1),
        "tpl": filed_batch(context, root, "TPL", "OLD", 1),
        "tplzh": filed_batch(context, root, "TPLZ", "OLD", 1),
    }
    with served(context) as (url, browser):
        yield Site(url, browser, context, root, sysadmin, filed)


def reopen_reasons(context: Context, batch: int) -> list[str]:
    with context.db.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "batch.reopen", AuditEvent.target == f"batch:{batch}")
        )
        return [str(event.details["reason"]) for event in events]


def test_an_archivist_reopens_a_filed_batch_with_a_reason(site: Site) -> None:
    batch = site.filed["en"]
    page = open_page(site.browser, site.url, locale="en-GB")
    sign_in(page, "clerk", PASSWORD)
    goto(page, site.url, f"#/batches/{batch}")
    expect(page.locator("#filed-line")).to_be_visible()
    expect(page.locator("#reopen-confirmation")).to_be_hidden()
    page.locator("#reopen-batch").click()  # no reason: refused in the page, nothing sent
    expect(page.locator("#filing-message")).to_have_text("Please say why the batch is reopened.")
    expect(page.locator("#reopen-reason")).to_be_focused()
    page.locator("#reopen-reason").fill("Item 2 was scanned upside down")
    page.locator("#reopen-batch").click()
    expect(page.locator("#reopen-question")).to_have_text(
        f"Reopen batch {batch}? Its 2 items leave staff's view until the batch is sampled and filed again."
    )
    expect(page.locator("#reopen-confirm")).to_be_focused()
    checked(page, "archivist-reopen-confirm-en")
    page.locator("#reopen-cancel").click()  # a second thought: nothing happens
    expect(page.locator("#reopen-confirmation")).to_be_hidden()
    expect(page.locator("#reopen-batch")).to_be_focused()
    assert reopen_reasons(site.context, batch) == []
    page.locator("#reopen-batch").click()
    page.locator("#reopen-confirm").click()
    expect(page.locator("#filing-message")).to_have_text(
        "Reopened: 2 items are back in work; sample and file the batch again."
    )
    expect(page.locator("#batch-facts")).to_contain_text("open")
    expect(page.locator("#reopen-form")).to_have_count(0)
    expect(page.locator("#filed-line")).to_have_count(0)
    expect(page.locator("#upload")).to_be_visible()  # open again: files may be added
    expect(page.locator("#to-sample")).to_have_text("Acceptance sampling…")
    checked(page, "archivist-reopened-en")
    assert reopen_reasons(site.context, batch) == ["Item 2 was scanned upside down"]
    assert BatchService(site.context).get(ARCHIVIST, batch).status == "open"
    assert page_errors(page) == []
    page.context.close()


def test_reopening_in_chinese_and_a_refusal_translated(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="zh-CN")
    sign_in(page, "clerk", PASSWORD)
    goto(page, site.url, f"#/batches/{site.filed['zh']}")
    expect(page.locator("#reopen-heading")).to_have_text("重新打开批次")
    page.locator("#reopen-reason").fill("档号录入有误")
    page.locator("#reopen-batch").click()
    expect(page.locator("#reopen-question")).to_contain_text("其中 1 件将对利用者不可见")
    checked(page, "archivist-reopen-confirm-zh-CN")
    page.locator("#reopen-confirm").click()
    expect(page.locator("#filing-message")).to_have_text("已重新打开：1 件回到处理中，请重新抽检并归档。")
    expect(page.locator("#batch-facts")).to_contain_text("接收中")
    raced = site.filed["raced"]  # reopened by someone else while the page is open: a conflict, translated
    goto(page, site.url, f"#/batches/{raced}")
    page.locator("#reopen-reason").fill("重复扫描")
    page.locator("#reopen-batch").click()
    AcceptanceService(site.context).reopen(raced, actor=ARCHIVIST, reason="already reopened elsewhere")
    page.locator("#reopen-confirm").click()
    expect(page.locator("#filing-message")).to_have_text(f"批次 {raced} 当前为“接收中”，不能转为“接收中”。")
    expect(page.locator("#filing-message")).to_have_attribute("role", "alert")
    assert reopen_reasons(site.context, raced) == ["already reopened elsewhere"]
    assert page_errors(page) == []
    page.context.close()


def test_a_system_administrator_sees_the_batch_but_no_reopening_or_templates(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="en-GB")
    sign_in(page, site.sysadmin, PASSWORD)
    goto(page, site.url, f"#/batches/{site.filed['tpl']}")
    expect(page.locator("#filed-line")).to_be_visible()
    expect(page.locator("#reopen-form")).to_have_count(0)
    expect(page.locator("#to-template")).to_have_count(0)
    expect(page.locator("#nav a[data-screen=fonds]")).to_have_count(0)
    page.context.close()


def codes_in_box(page: Page, site: Site, fonds: str, series: str) -> list[str]:
    goto(page, site.url, f"#/browse/{fonds}/{series}/1")
    links = page.locator("#browse-view td[data-column=reference_code] a")
    expect(links.first).to_be_visible()
    return [str(text) for text in links.all_inner_texts()]


def test_an_archivist_changes_a_fonds_template_and_new_items_follow_it(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="en-GB")
    sign_in(page, "clerk", PASSWORD)
    goto(page, site.url, f"#/batches/{site.filed['tpl']}")
    page.locator("#to-template").click()  # from the batch to its fonds' template
    expect(page.locator("#fonds-heading")).to_have_text("Reference codes of fonds TPL")
    expect(page.locator("#nav a[data-screen=fonds]")).to_have_attribute("aria-current", "page")
    expect(page.locator("#current-template")).to_have_text("{fonds}-{year}-{retention}-{item:04d}")
    expect(page.locator("#current-example")).to_have_text("TPL-2024-Y30-0012")
    expect(page.locator("#placeholder-list dt")).to_have_count(6)
    expect(page.locator("#placeholder-list dd").last).to_contain_text("in the example: 12")
    expect(page.locator("#template-preview")).to_have_text("It makes: TPL-2024-Y30-0012")
    template = page.locator("#template-input")
    template.fill("{fonds}/{year}/{box}-{item}")  # no padding: still fine
    expect(page.locator("#template-preview")).to_have_text("It makes: TPL/2024/3-12")
    template.fill("{fonds}-{year}")
    expect(page.locator("#template-preview")).to_have_text(
        "The template must contain {item}, so that every item gets a code of its own."
    )
    template.fill("{fonds}-{volume}-{item}")
    expect(page.locator("#template-preview")).to_have_text(
        "Unknown placeholder {volume}: use only {fonds}, {series}, {box}, {year}, {retention}, {item}."
    )
    checked(page, "archivist-template-en")
    page.locator("#template-reason").fill("Provincial numbering rules of 2026")
    page.locator("#save-template").click()  # sent anyway: the server refuses it, translated
    expect(page.locator("#template-message")).to_have_text(
        "The reference-code template cannot be used: it names volume; "
        "use only box, fonds, item, retention, series, year."
    )
    expect(page.locator("#current-template")).to_have_text("{fonds}-{year}-{retention}-{item:04d}")
    template.fill("{fonds}/{year}/{item:05d}")
    expect(page.locator("#template-preview")).to_have_text("It makes: TPL/2024/00012")
    page.locator("#save-template").click()
    expect(page.locator("#template-message")).to_have_text(
        "Template changed from {fonds}-{year}-{retention}-{item:04d} to {fonds}/{year}/{item:05d}. "
        "Items numbered from now on get codes like the example."
    )
    expect(page.locator("#current-template")).to_have_text("{fonds}/{year}/{item:05d}")
    expect(page.locator("#current-example")).to_have_text("TPL/2024/00012")
    checked(page, "archivist-template-changed-en")
    filed_batch(site.context, site.root, "TPL", "NEW", 1)  # numbered after the change: the new scheme
    assert codes_in_box(page, site, "TPL", "NEW") == ["TPL/2024/00002"]
    assert codes_in_box(page, site, "TPL", "OLD") == ["TPL-2024-Y30-0001"]  # numbered before: kept
    changed = select(AuditEvent).where(AuditEvent.action == "fonds.template", AuditEvent.target == "fonds:TPL")
    with site.context.db.session() as session:
        event = session.scalars(changed).one()
        assert event.details["reason"] == "Provincial numbering rules of 2026"
    assert page_errors(page) == []
    page.context.close()


def test_the_template_screen_in_chinese(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="zh-CN")
    sign_in(page, "clerk", PASSWORD)
    page.locator("#nav a[data-screen=fonds]").click()
    expect(page.locator("#fonds-heading")).to_have_text("全宗档号规则")
    page.locator("#open-fonds").click()  # no code: refused in the page
    expect(page.locator("#fonds-choose-message")).to_have_text("请填写全宗号。")
    expect(page.get_by_role("link", name="TPLZ", exact=True)).to_be_visible()  # the fonds of the clerk's batches
    checked(page, "archivist-fonds-zh-CN")
    page.locator("#fonds-code").fill("TPLZ")
    page.locator("#open-fonds").click()
    expect(page.locator("#fonds-heading")).to_have_text("全宗 TPLZ 的档号规则")
    expect(page.locator("#placeholders")).to_contain_text("件号：在同一全宗")
    template = page.locator("#template-input")
    template.fill("{fonds}-{year")
    expect(page.locator("#template-preview")).to_have_text("花括号不配对（要写花括号本身，请写 {{ 或 }}）。")
    template.fill("{fonds}·{year}·{item:03d}")
    expect(page.locator("#template-preview")).to_have_text("生成的档号：TPLZ·2024·012")
    page.locator("#save-template").click()  # no reason: refused in the page
    expect(page.locator("#template-message")).to_have_text("请说明修改规则的原因。")
    checked(page, "archivist-template-zh-CN")
    page.locator("#template-reason").fill("按新的分类方案编号")
    page.locator("#save-template").click()
    expect(page.locator("#template-message")).to_contain_text("规则已由 {fonds}-{year}-{retention}-{item:04d} 改为")
    expect(page.locator("#current-example")).to_have_text("TPLZ·2024·012")
    template.fill("{fonds}-{year}")
    expect(page.locator("#template-preview")).to_have_text("规则必须包含 {item}，以保证每件的档号唯一。")
    page.locator("#template-reason").fill("再改一次")
    page.locator("#save-template").click()
    expect(page.locator("#template-message")).to_have_text(  # the server's refusal, its reason translated
        "档号规则不可用：规则必须包含件号（item）字段，以保证每件的档号唯一。"
    )
    expect(page.locator("#current-example")).to_have_text("TPLZ·2024·012")
    goto(page, site.url, "#/fonds/NOPE")  # a fonds that does not exist
    expect(page.locator("#main .error")).to_contain_text("未找到：")
    assert page_errors(page) == []
    page.context.close()


def test_the_archivist_reads_the_retention_due_list(site: Site) -> None:
    """Nothing is due today (the filed records are of 2024, kept 30 years); within 36,500 days every filed record
    the archivist may see is listed, in the order and with the due days the service gives, in en and zh-CN."""
    expected = RetentionService(site.context).due(ARCHIVIST, within_days=36_500).records
    assert expected  # the site's filed batches
    page = open_page(site.browser, site.url, locale="en-GB")
    sign_in(page, "clerk", PASSWORD)
    goto(page, site.url, "#/retention")
    expect(page.locator("#retention-result")).to_have_attribute("data-count", "0")
    expect(page.locator("#retention-list .empty")).to_have_text("No record is due.")
    page.get_by_label("Also those due within (days)").fill("36500")
    page.locator("#retention-show").click()
    expect(page.locator("#retention-result")).to_have_attribute("data-count", str(len(expected)))
    cells = page.locator("#retention-list td[data-column=reference]")
    assert cells.all_inner_texts() == [record.reference_code for record in expected]
    first = page.locator("#retention-list tbody tr").first
    expect(first.locator("td[data-column=retention]")).to_have_text(f"{expected[0].retention} (its series')")
    expect(first.locator("td[data-column=due]")).to_contain_text("Jan 1, 2055, in ")
    expect(first.locator("td[data-column=appraisal]")).to_have_text("not appraised")
    checked(page, "archivist-retention-en")
    page.context.close()
    zh = open_page(site.browser, site.url, locale="zh-CN")
    sign_in(zh, "clerk", PASSWORD)
    goto(zh, site.url, "#/retention")
    zh.get_by_label("同时列出若干天内到期的（天）").fill("36500")
    zh.locator("#retention-show").click()
    expect(zh.locator("#retention-list tbody tr").first.locator("td[data-column=due]")).to_contain_text("还有")
    checked(zh, "archivist-retention-zh-CN")
    assert page_errors(zh) == []
    zh.context.close()
