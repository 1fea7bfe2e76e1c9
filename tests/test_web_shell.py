"""The web application's shell in a real browser (tests/browser.py): sign-in and search screens in zh-CN and en
with no serious or critical axe-core violations at 1280 and 375 px, the language switch (`<html lang>`, texts,
remembered across a reload), navigation by role from `may`, the date range, and changing one's own password."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from api.preservation.maintenance import MaintenanceService
from api.wiring import Context
from archive.values import Role
from tests import actors
from tests.actors import SYSADMIN, account
from tests.browser import (
    error_free_tab,
    filed_record,
    goto,
    language,
    officer_account,
    open_page,
    page_errors,
    search,
    serious_violations,
    served,
    shots,
    sign_in,
)
from tests.conftest import make_context
from tests.pages import render

PASSWORD = actors.PASSWORD
STAFF = "reader"
RECORDS = [  # (fonds, text, title, date)
    ("HARB", "Harbour ledger of ships entering the port in spring.", "Harbour ledger of arriving ships", "1931-05-04"),
    ("CUST", "Harbour customs tariff for imported tea and silk.", "Harbour customs tariff schedule", "1948-11-20"),
]


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    secadmin: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web-shell")
    context: Context = make_context(root / "var")
    for n, (fonds, text, title, date) in enumerate(RECORDS):
        page = render(root / "in" / str(n), f"record-{n}.png", text, "eng", seed=70 + n)
        filed_record(context, [page], fonds=fonds, level="public", title=title, date=date)
    MaintenanceService(context).reindex(SYSADMIN)
    account(context, STAFF, ["staff"], "internal")
    account(context, "changer", ["staff"], "internal")
    secadmin = officer_account(context, Role.SECADMIN)
    with served(context) as (url, browser):
        yield Site(url, browser, secadmin)


@pytest.fixture
def tab(site: Site) -> Iterator[Page]:
    with error_free_tab(site.browser, site.url, locale="en-GB") as page:
        yield page


@pytest.mark.parametrize(
    ("locale", "lang", "heading", "count"),
    [
        ("zh-CN", "zh-CN", "登录", "共 2 件档案与“harbour”匹配。"),
        ("en-GB", "en", "Sign in", "2 documents match “harbour”."),
    ],
)
def test_sign_in_and_search_screens_pass_axe_in_both_languages(
    site: Site, locale: str, lang: str, heading: str, count: str
) -> None:
    page = open_page(site.browser, site.url, locale=locale)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#signin-heading")).to_have_text(heading)
    assert serious_violations(page) == []
    shots(page, f"signin-{lang}")

    sign_in(page, STAFF, PASSWORD)
    search(page, "harbour")
    expect(page.locator("#count")).to_have_text(count)
    expect(page.locator("#results .hit")).to_have_count(2)
    assert serious_violations(page) == []
    shots(page, f"search-{lang}")
    page.locator("#who").click()  # the account screen, with the change-password form
    expect(page.locator("#password-form")).to_be_visible()
    assert serious_violations(page) == []
    shots(page, f"account-{lang}")
    assert page_errors(page) == []
    page.context.close()


def test_the_language_switch_sets_lang_and_texts_and_is_remembered(tab: Page, site: Site) -> None:
    expect(tab.locator("html")).to_have_attribute("lang", "en")
    expect(tab.get_by_label("Username")).to_be_visible()
    language(tab, "zh-CN")
    expect(tab.locator("#signin-heading")).to_have_text("登录")
    expect(tab.get_by_label("用户名")).to_be_visible()
    assert tab.evaluate("localStorage.getItem('dangan.lang')") == "zh-CN"
    tab.reload()
    expect(tab.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(tab.locator("#signin-heading")).to_have_text("登录")

    sign_in(tab, STAFF, PASSWORD)
    expect(tab.get_by_role("combobox", name="检索档案")).to_be_visible()
    expect(tab.get_by_role("button", name="退出登录")).to_be_visible()
    language(tab, "en")  # switching while signed in keeps the screen and its search
    search(tab, "ledger")
    expect(tab.locator("#count")).to_have_text("1 document match “ledger”.")
    language(tab, "zh-CN")
    expect(tab.locator("#count")).to_have_text("共 1 件档案与“ledger”匹配。")
    expect(tab.locator("#results .hit .access dd")).to_have_text("公开")
    expect(tab.locator("#results .hit .date dd")).to_have_text("1931年5月4日")


def nav_entries(page: Page) -> list[str]:
    return [str(s) for s in page.locator("#nav a").evaluate_all("(links) => links.map((a) => a.dataset.screen)")]


def expected_entries(page: Page) -> list[str]:
    """The registry's screens whose navigation action is in the caller's `may` (from /api/v1/auth/me)."""
    entries: list[str] = page.evaluate(
        """async () => {
            const { screens } = await import("/static/js/screens/index.js");
            const me = await (await fetch("/api/v1/auth/me", {
                headers: { Authorization: `Bearer ${sessionStorage.getItem("dangan.token")}` } })).json();
            return screens.filter((s) => s.nav && !s.public && (s.nav.action === null || me.may.includes(s.nav.action)))
                .map((s) => s.id);
        }"""
    )
    return entries


def test_navigation_shows_only_what_the_roles_may(tab: Page, site: Site) -> None:
    sign_in(tab, STAFF, PASSWORD)
    expect(tab.locator("#search-view")).to_be_visible()  # a reader's first screen is the search
    assert nav_entries(tab) == expected_entries(tab)
    assert "search" in nav_entries(tab)
    admin_only = tab.evaluate(
        """async () => (await import("/static/js/screens/index.js")).screens
            .filter((s) => s.nav && ["user.manage", "user.read", "backup.run", "backup.read", "audit.read",
                                     "ingest.submit", "work.read", "verify.run", "index.rebuild"]
                                    .includes(s.nav.action)).map((s) => s.id)"""
    )
    assert not set(admin_only) & set(nav_entries(tab))
    tab.locator("#signout").click()
    expect(tab.locator("#signin-view")).to_be_visible()
    expect(tab.locator("#signin-view .notice")).to_have_text("You have signed out.")

    sign_in(tab, site.secadmin, PASSWORD)  # the security administrator may not read records: no search
    assert "search" not in nav_entries(tab)
    assert nav_entries(tab) == expected_entries(tab)
    goto(tab, site.url, "#/search?q=harbour")
    expect(tab.locator("#search-view")).to_have_count(0)
    expect(tab.locator("#main [role=alert]")).to_have_text("Your roles do not allow this screen.")


def test_the_date_range_narrows_and_its_chip_removes_it(tab: Page, site: Site) -> None:
    sign_in(tab, STAFF, PASSWORD)
    search(tab, "harbour")
    expect(tab.locator("#count")).to_have_text("2 documents match “harbour”.")
    before = int(tab.locator("#results").get_attribute("data-answers") or 0)
    tab.get_by_label("From", exact=True).fill("1940-01-01")
    tab.wait_for_function("(n) => Number(document.getElementById('results').dataset.answers || 0) > n", arg=before)
    expect(tab.locator("#count")).to_have_text("1 document match “harbour”.")
    expect(tab.locator("#results .hit .title")).to_have_text("Harbour customs tariff schedule")
    assert "from=1940-01-01" in tab.url
    tab.reload()
    expect(tab.locator("#count")).to_have_text("1 document match “harbour”.")
    expect(tab.get_by_label("From", exact=True)).to_have_value("1940-01-01")
    chip = tab.get_by_role("button", name="Remove filter From: Jan 1, 1940")  # dates as Intl formats them
    expect(chip).to_have_text("From: Jan 1, 1940 ×")
    chip.click()
    expect(tab.locator("#count")).to_have_text("2 documents match “harbour”.")
    tab.get_by_label("To", exact=True).fill("1930-12-31")
    expect(tab.locator("#count")).to_have_text("No documents match “harbour”.")


def test_changing_my_password_signs_me_out_and_the_new_one_works(tab: Page, site: Site) -> None:
    sign_in(tab, "changer", PASSWORD)
    goto(tab, site.url, "#/account")
    expect(tab.locator("#account-heading")).to_have_text("My account")
    tab.get_by_label("New password", exact=True).fill("short")
    tab.get_by_label("New password again").fill("short")
    tab.get_by_role("button", name="Change password").click()
    expect(tab.locator("#password-message")).to_have_text("The password needs at least 12 characters.")
    tab.get_by_label("New password", exact=True).fill("a brand new passphrase")
    tab.get_by_label("New password again").fill("a brand new passphrase")
    tab.get_by_role("button", name="Change password").click()
    expect(tab.locator("#signin-view .notice")).to_have_text("Your password is changed; sign in with the new one.")
    tab.locator("#username").fill("changer")
    tab.locator("#password").fill(PASSWORD)
    tab.locator("#signin-button").click()
    expect(tab.locator("#signin-error")).to_contain_text("Sign-in failed")
    sign_in(tab, "changer", "a brand new passphrase")
