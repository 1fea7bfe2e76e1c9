"""The officers' screens in a real browser (tests/browser.py), one journey per role: the security auditor filters
the access log, exports it (the downloaded CSV and JSON read back) and verifies it, and opens an alert's events;
the security administrator adds a user who then signs in (made to choose their own password first, then at
the screen asked for), changes them and revokes their session, and resets another's password, who signs in
with it, is made to change it (in zh-CN) and then reaches their home; the system administrator reads the
status page, rebuilds the index, runs a backup and reads its run result and its verification report, and is
refused a taken backup-target name in the page's words (English, then Chinese with no English left). Every
screen: no serious or critical axe-core violations in en and zh-CN, screenshots at 1280 and 375 px
(/tmp/dangan-shots/officer-*); in zh-CN the audit log's verification shows its findings' sentences in Chinese."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.maintenance import MaintenanceService
from api.wiring import Context
from archive.values import Role
from ingest.ocr import process
from tests.actors import ARCHIVIST, PASSWORD, SYSADMIN, account
from tests.browser import (
    WIDTHS,
    error_free_tab,
    filed_record,
    goto,
    language,
    officer_account,
    open_page,
    page_errors,
    serious_violations,
    served,
    shots,
    sign_in,
)
from tests.conftest import make_context
from tests.job_faults import lose_spooled_copy, submit
from tests.pages import render

READER = "reader"
SEARCHES = ("harbour", "ledger", "tariff")
DENIED = 5  # document views of a record that is not there: a denied-access burst
NEW_USER, NEW_PASSWORD = "clerk2", "a long enough password 42"
OWN_PASSWORD = "clerk2 chose this one herself"
RESET_USER = "clerk3"  # an archivist whose password the security administrator resets


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    officers: dict[str, str]  # role → username
    offsite: Path  # where the system administrator adds a backup target in the browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web-officers")
    context: Context = make_context(root / "var")
    page = render(root / "in", "record.png", "Harbour ledger of ships entering the port.", "eng", seed=91)
    filed_record(context, [page], fonds="HARB", level="public")
    MaintenanceService(context).reindex(SYSADMIN)
    BackupTargets(context).add(SYSADMIN, TargetSpec(name="vault", kind="local", path=str(root / "vault")))
    account(context, READER, ["staff"], "internal")
    account(context, RESET_USER, ["archivist"], "internal")
    failed_job(context, render(root / "lost", "lost.png", "A page whose spooled copy is lost.", "eng", seed=92))
    officers = {role.value: officer_account(context, role) for role in (Role.COMPLIANCE, Role.SYSADMIN, Role.SECADMIN)}
    with served(context) as (url, browser):
        with httpx.Client(base_url=url) as http:  # the reader's own requests: what the auditor will look at
            token = http.post("/api/v1/auth/login", json={"username": READER, "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            for query in SEARCHES:
                assert http.get("/api/v1/search", params={"q": query}, headers=headers).status_code == 200
            for _ in range(DENIED):
                assert http.get("/api/v1/documents/999999", headers=headers).status_code == 404
        yield Site(url, browser, officers, root / "offsite")


def failed_job(context: Context, page: Path) -> None:
    """One job that failed (its spooled copy lost): the status page warns of it."""
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="LOST", languages="eng", level="public").id
    [job_id] = submit(context, ARCHIVIST, batch, [page])
    lose_spooled_copy(context, job_id)
    IngestService(context).process_job(job_id, process)


@pytest.fixture
def tab(site: Site) -> Iterator[Page]:
    with error_free_tab(site.browser, site.url, locale="en-GB") as page:
        yield page


def check(page: Page, name: str) -> None:
    """axe-core finds nothing serious or critical; screenshots at both widths."""
    assert serious_violations(page) == [], name
    shots(page, f"officer-{name}")


def download(page: Page, button: str) -> str:
    with page.expect_download() as info:
        page.locator(button).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_the_auditor_filters_exports_and_verifies_the_log(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["compliance"], PASSWORD)
    goto(tab, site.url, "#/audit")
    expect(tab.locator("#audit-count")).to_contain_text("events match")
    tab.get_by_label("User", exact=True).fill(READER)
    tab.get_by_label("Action", exact=True).fill("search")
    tab.locator("#apply-filters").click()
    expect(tab.locator("#audit-count")).to_have_text(f"{len(SEARCHES)} events match.")
    assert f"user={READER}" in tab.url and "action=search" in tab.url
    rows = tab.locator("#audit-results tbody tr")
    expect(rows).to_have_count(len(SEARCHES))
    assert set(tab.locator("#audit-results td[data-column=actor]").all_inner_texts()) == {READER}
    assert set(tab.locator("#audit-results td[data-column=outcome]").all_inner_texts()) == {"success"}
    check(tab, "auditlog-en")

    exported = list(csv.DictReader(io.StringIO(download(tab, "#export-csv"))))
    assert len(exported) == len(SEARCHES)
    assert {row["actor"] for row in exported} == {READER} and {row["action"] for row in exported} == {"search"}
    expect(tab.locator("#export-message")).to_have_text("The export is saved (and is itself in the log).")
    as_json = json.loads(download(tab, "#export-json"))
    assert [event["actor"] for event in as_json] == [READER] * len(SEARCHES)

    tab.get_by_label("Outcome", exact=True).select_option("denied_or_missing")  # no search of the reader's failed
    tab.locator("#apply-filters").click()
    expect(tab.locator("#audit-results .empty")).to_have_text("No events match these filters.")
    tab.locator("#clear-filters").click()
    expect(tab.get_by_label("User", exact=True)).to_have_value("")

    goto(tab, site.url, "#/audit/verify")
    tab.locator("#verify-log").click()
    result = tab.locator("#verification-result")
    expect(result).to_be_visible()
    assert result.get_attribute("data-grade") in ("clean", "warnings")  # intact; unsealed events are a warning
    expect(result).to_contain_text("The log is intact")
    check(tab, "logcheck-en")
    tab.locator("#seal-log").click()
    expect(tab.locator("#logcheck-message")).to_contain_text("sealed through event")

    goto(tab, site.url, "#/audit/alerts")
    burst = tab.locator("#alerts .alert-item[data-kind=denied_burst]")
    expect(burst).to_have_count(1)
    expect(burst.locator("h2")).to_have_text("Repeated denied access")
    burst.get_by_role("button", name=f"Show its {DENIED} events").click()
    expect(burst.locator("tbody tr")).to_have_count(DENIED)
    check(tab, "alerts-en")


def test_the_auditor_makes_a_compliance_report_and_opens_the_kept_one(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["compliance"], PASSWORD)
    goto(tab, site.url, "#/audit/compliance")
    expect(tab.locator("#compliance-kept")).to_contain_text("No report has been kept yet.")
    tab.get_by_label("Period (days, ending now)").fill("30")
    tab.locator("#compliance-make").click()
    report = tab.locator("#compliance-report")
    expect(report).to_be_visible()
    assert report.get_attribute("data-grade") in ("warnings", "errors")  # no restore drill yet in this archive
    expect(report.locator("#compliance-items li[data-code=no_drill]")).to_have_text(
        "warning No restore drill in the period."
    )
    expect(report.locator("#compliance-figures")).to_contain_text("Records past their retention period")
    stamp = report.get_attribute("data-stamp") or ""
    kept = tab.locator(f"#compliance-kept button[data-stamp='{stamp}']")
    expect(kept).to_have_count(1)
    check(tab, "compliance-en")
    goto(tab, site.url, "#/audit/compliance")  # the kept one, opened again
    tab.locator(f"#compliance-kept button[data-stamp='{stamp}']").click()
    expect(tab.locator("#compliance-report")).to_have_attribute("data-stamp", stamp)
    page = download(tab, "#compliance-html-en")
    assert "<h1>Compliance report</h1>" in page and "No restore drill in the period." in page
    assert "合规检查报告" in download(tab, "#compliance-html-zh")


def test_the_security_administrator_adds_a_user_who_then_signs_in(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["secadmin"], PASSWORD)
    goto(tab, site.url, "#/users")
    expect(tab.locator("#user-list tbody tr").first).to_be_visible()
    check(tab, "users-en")
    tab.get_by_label("Username").fill("twohats")
    tab.get_by_label("Initial password").fill(NEW_PASSWORD)
    tab.get_by_label("system administrator").check()
    tab.get_by_label("security administrator").check()
    tab.locator("#create-user").click()  # 三员分立, in the page's language
    expect(tab.locator("#create-message")).to_contain_text("one account cannot hold two of these duties")

    tab.get_by_label("system administrator").uncheck()
    tab.get_by_label("security administrator").uncheck()
    tab.get_by_label("staff").uncheck()
    tab.get_by_label("archivist").check()
    tab.get_by_label("Username").fill(NEW_USER)
    tab.get_by_label("Display name").fill("Second clerk")
    tab.get_by_label("Clearance", exact=True).select_option("confidential")
    tab.get_by_label("Departments").fill("Registry")
    tab.locator("#create-user").click()
    expect(tab.locator("#create-message")).to_have_text(f"{NEW_USER} is added as archivist.")
    link = tab.locator("#user-list a.user-link", has_text=NEW_USER)
    expect(link).to_be_visible()

    other = open_page(site.browser, site.url, locale="en-GB")  # the new user signs in ...
    goto(other, site.url, "#/batches")  # (asking for a screen first: it waits until the password is theirs)
    sign_in(other, NEW_USER, NEW_PASSWORD)
    made_to_choose(other, NEW_PASSWORD, OWN_PASSWORD, "Choose a new password of your own, not the one you were given.")
    expect(other.locator("#batches-heading")).to_be_visible()  # ... then the screen first asked for
    assert other.url.endswith("#/batches")

    link.click()
    expect(tab.locator("#user-heading")).to_have_text(f"User {NEW_USER}")
    expect(tab.locator("#user-clearance")).to_have_text("confidential")
    session = tab.locator("#tokens-card tbody tr").filter(has_text="active")
    expect(session).to_have_count(1)
    check(tab, "userdetail-en")
    tab.get_by_label("Clearance", exact=True).select_option("internal")
    tab.locator("#save-user").click()
    expect(tab.locator("#user-message")).to_have_text("The changes are saved.")
    expect(tab.locator("#user-clearance")).to_have_text("internal")

    session.get_by_role("button", name="Revoke").click()
    expect(tab.locator("#user-message")).to_contain_text("Revoked:")
    expect(tab.locator("#tokens-card tbody tr").filter(has_text="active")).to_have_count(0)
    other.reload()  # the revoked session answers 401: back to signing in
    expect(other.locator("#signin-view")).to_be_visible()

    expect(tab.locator("#user-password")).to_have_text("chosen by its holder")  # since they chose it
    tab.locator("#toggle-disabled").click()
    expect(tab.locator("#user-state")).to_have_text("disabled")
    tab.locator("#toggle-disabled").click()
    expect(tab.locator("#user-state")).to_have_text("active")


def test_after_a_reset_the_user_is_made_to_choose_a_password_then_reaches_home(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["secadmin"], PASSWORD)
    goto(tab, site.url, f"#/users/{RESET_USER}")
    expect(tab.locator("#user-password")).to_have_text("chosen by its holder")
    tab.locator("#reset-button").click()  # a generated password, shown once
    generated = tab.locator("#new-password-value")
    expect(generated).to_be_visible()
    expect(tab.locator("#generated-password")).to_contain_text("They must choose a new one when they next sign in.")
    expect(tab.locator("#user-password")).to_have_text("set by an administrator: to be changed at the next sign-in")
    given = generated.inner_text()

    other = open_page(site.browser, site.url, locale="zh-CN")  # the user signs in with it, in Chinese
    sign_in(other, RESET_USER, given)
    expect(other.locator("#password-required h2")).to_have_text("请设置您自己的密码")
    expect(other.locator("#password-required")).to_contain_text("您的密码由安全保密管理员设置")
    assert serious_violations(other) == []
    shots(other, "officer-password-required-zh-CN")
    goto(other, site.url, "#/search")  # every other screen leads back to choosing the password
    expect(other.locator("#password-required")).to_be_visible()
    assert other.url.endswith("#/account")
    made_to_choose(other, given, "我自己选的新密码 2024", "请设置您自己的新密码，不能沿用管理员给您的密码。")
    expect(other.locator("#search-view, #q").first).to_be_visible()  # the archivist's home: search
    assert other.url.endswith("#/search")
    assert page_errors(other) == []
    other.context.close()
    tab.reload()
    expect(tab.locator("#user-password")).to_have_text("chosen by its holder")


def made_to_choose(page: Page, given: str, chosen: str, reused: str) -> None:
    """Signed in with a password someone else set: only My account opens, with the explanation and no
    navigation. The same password again is refused; a new one signs in with it and goes on."""
    expect(page.locator("#password-required")).to_be_visible()
    expect(page.locator("#nav")).to_be_hidden()
    assert page.url.endswith("#/account")
    for password in (given, chosen):
        page.locator("#new-password").fill(password)
        page.locator("#repeat-password").fill(password)
        page.locator("#password-form button[type=submit]").click()
        if password == given:
            expect(page.locator("#password-message")).to_have_text(reused)
    expect(page.locator("#account-heading")).to_have_count(0)  # gone on to the screen asked for, or home
    expect(page.locator("#nav")).to_be_visible()


def test_the_system_administrator_runs_a_backup_and_reads_its_reports(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["sysadmin"], PASSWORD)
    goto(tab, site.url, "#/status")
    expect(tab.locator("#index-state")).to_have_text("ok")
    expect(tab.locator("#status-index")).to_contain_text("1 of 1")
    tab.locator("#start-rebuild").click()
    expect(tab.locator("#rebuild-state")).to_have_attribute("data-state", "finished")
    check(tab, "status-en")

    goto(tab, site.url, "#/backups")
    tab.get_by_role("button", name="Back up to vault now").click()
    run = tab.locator("#run-detail")
    expect(run).to_have_attribute("data-status", "complete")
    expect(run).to_have_attribute("data-grade", "clean")
    expect(run.locator("#run-facts")).to_contain_text("0 error(s), 0 warning(s)")
    expect(tab.locator("#runs tbody tr")).to_have_count(1)
    check(tab, "backups-en")
    tab.get_by_role("button", name="Restore drill from vault").click()
    expect(tab.locator("#drill-detail")).to_have_attribute("data-grade", "clean")
    tab.get_by_role("button", name="Verify the backup on vault").click()
    expect(tab.locator("#backup-verification")).to_have_attribute("data-grade", "clean")

    tab.locator("#verification-link").click()
    report = tab.locator("#verification-report")
    expect(report).to_have_attribute("data-grade", "clean")
    expect(report).to_contain_text("backup target vault")
    expect(tab.locator("#report-box .empty")).to_have_text("No findings.")
    check(tab, "verification-en")
    tab.get_by_label("Depth").select_option("structure")
    tab.locator("#start-verification").click()
    expect(tab.locator("#verification-runs tbody tr")).to_have_count(2)
    expect(report).to_contain_text("structure")

    goto(tab, site.url, "#/status")  # the status page shows the last backup and verification
    expect(tab.locator("#status-backups tbody")).to_contain_text("complete")
    expect(tab.locator("#status-verification")).to_contain_text("structure")


def test_the_system_administrator_adds_and_removes_a_backup_target(tab: Page, site: Site) -> None:
    sign_in(tab, site.officers["sysadmin"], PASSWORD)
    goto(tab, site.url, "#/backups")
    expect(tab.locator("#targets tbody tr")).to_have_count(1)  # vault, registered from the command line
    tab.get_by_label("Target", exact=True).fill("offsite")
    tab.get_by_label("Directory on the server").fill("offsite")  # not a full path: said in the page's language
    tab.locator("#add-target").click()
    expect(tab.locator("#target-message")).to_have_text(
        "Give the full path of a directory on the server, starting with /."
    )
    tab.get_by_label("Directory on the server").fill(str(site.offsite))
    tab.locator("#add-target").click()
    expect(tab.locator("#target-message")).to_contain_text("Backup target offsite added")
    expect(tab.locator("#targets tbody tr")).to_have_count(2)
    tab.get_by_label("Target", exact=True).fill("offsite")  # a name taken: the server's reason, said by the page
    tab.get_by_label("Directory on the server").fill(str(site.offsite))
    tab.locator("#add-target").click()
    expect(tab.locator("#target-message")).to_have_text(
        "A backup target named offsite exists already; remove it first to change it."
    )
    language(tab, "zh-CN")  # the same refusal on a Chinese page: all of it in Chinese, none of the server's English
    tab.locator("#target-name").fill("offsite")
    tab.locator("#target-path").fill(str(site.offsite))
    tab.locator("#add-target").click()
    expect(tab.locator("#target-message")).to_have_text("名为 offsite 的备份目标已存在；如需修改，请先将其删除。")
    language(tab, "en")  # the switch draws the form anew, empty
    tab.get_by_label("Target", exact=True).fill("offsite")
    tab.get_by_label("Kind").select_option("s3")  # the S3 fields, and where its keys come from
    expect(tab.locator("#target-path")).to_be_hidden()
    expect(tab.locator("#target-keys-help")).to_contain_text("DANGAN_BACKUP_OFFSITE_ACCESS_KEY")
    tab.get_by_label("Kind").select_option("local")
    tab.get_by_role("button", name="Remove the backup target offsite").click()  # asks once more
    tab.get_by_role("button", name="Click again to remove the backup target offsite").click()
    expect(tab.locator("#backups-message")).to_contain_text("Backup target offsite removed")
    expect(tab.locator("#targets tbody tr")).to_have_count(1)
    check(tab, "backup-targets-en")


SCREENS = {  # role → (hash, what shows once the screen has its data)
    "compliance": [
        ("#/audit", "#audit-results table"),
        ("#/audit/verify", "#verify-log"),
        ("#/audit/alerts", "#alerts[data-count]"),
        ("#/audit/compliance", "#compliance-kept ul, #compliance-kept .empty"),
        ("#/verification", "#verification-runs table"),
    ],
    "sysadmin": [
        ("#/status", "#status-index"),
        ("#/backups", "#runs table"),
        ("#/verification", "#verification-runs table"),
        ("#/audit/verify", "#verify-log"),
    ],
    "secadmin": [("#/users", "#user-list table"), (f"#/users/{READER}", "#tokens-card table")],
}


@pytest.mark.parametrize("role", sorted(SCREENS))
def test_every_officer_screen_in_chinese_passes_axe(site: Site, role: str) -> None:
    page = open_page(site.browser, site.url, locale="zh-CN")
    sign_in(page, site.officers[role], PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    for hash_, ready in SCREENS[role]:
        goto(page, site.url, hash_)
        expect(page.locator(ready).first).to_be_visible()
        name = hash_.strip("#/").replace("/", "-").replace(READER, "user")
        for width in WIDTHS:  # the desk and the phone: the phone's layout collapses the menu and the tables
            page.set_viewport_size({"width": width, "height": 900})
            assert serious_violations(page) == [], f"{role} {hash_} at {width} px"
        shots(page, f"officer-{name}-zh-CN")
    if role == "compliance":  # a finding's sentence in the page's language (i18n/zh-CN/findings.json)
        goto(page, site.url, "#/audit/verify")
        page.locator("#verify-log").click()
        rows = page.locator("#verification-findings tbody tr")
        sealing = rows.filter(has=page.locator("td[data-column=code]", has_text="unsealed")).or_(
            rows.filter(has=page.locator("td[data-column=code]", has_text="no_checkpoint"))
        )  # events written after the newest checkpoint (or before any): a warning
        expect(sealing.locator("td[data-column=message]")).to_contain_text("未封存")
        expect(sealing.locator("td[data-column=message]")).not_to_contain_text("not sealed")
    if role == "sysadmin":  # a status warning in the page's language (i18n/zh-CN/status.json)
        goto(page, site.url, "#/status")
        warning = page.locator("#status-warnings li[data-code=jobs_need_attention]")
        expect(warning).to_contain_text("1 个失败")
        expect(warning).not_to_contain_text("ingest job")
    language(page, "en")  # and the switch back re-renders the screen in English
    expect(page.locator("#main h1").first).not_to_have_text("")
    assert page_errors(page) == []
    page.context.close()
