"""Browser tests of the web application, shared by every screen's tests: the real app under uvicorn on
127.0.0.1, Debian's chromium driven by Playwright, signing in as a role, axe-core and screenshots.

    with serve(create_app(context)) as url, chromium() as browser:
        page = open_page(browser, url, locale="zh-CN")       # a fresh context: empty storage; JS errors recorded
        sign_in(page, "clerk", PASSWORD)                    # through the sign-in screen; waits for the header
        goto(page, url, "#/search?q=ledger")                 # a screen by its hash
        assert serious_violations(page) == []               # axe-core, serious and critical only
        shots(page, "search")                               # /tmp/dangan-shots/search-1280.png and -375.png
        assert page_errors(page) == []

A screen's tests serve an archive of their own, made through the services:

    context = make_context(root / "var")
    filed_record(context, [scan], fonds="HARB", level="public", title="Harbour ledger")   # a filed item's id
    officer = officer_account(context, Role.SECADMIN)        # a bootstrap officer who signs in with PASSWORD
    with served(context) as (url, browser):                  # serve + chromium; the context closed after both
        yield Site(url, browser, ...)

    with error_free_tab(browser, url) as page:               # open_page, then no JavaScript errors on closing
        search(page, "ledger")                               # typed into #q, Enter, waits for the answer

axe-core comes from node_modules (`make install` runs `npm ci`) and is injected by the test only; the served
page never references it. The Content-Security-Policy allows scripts from this server only, so the page's
context is asked to bypass CSP for the injected script (Playwright's `bypass_csp`), which changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import update

from api.access.accounts import AccountService
from api.access.users import UserService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.wiring import Context
from archive.models import Document
from archive.values import Role
from tests.actors import ARCHIVIST, PASSWORD
from tests.intake import ingest_paths
from tests.workflow_helpers import file_batch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000  # every wait in the browser is bounded
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/dangan-shots")
WIDTHS = (1280, 375)
_ERRORS = "_dangan_errors"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a socket bound here first (no race for the port); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium (the system package), headless, with the flags every web test uses."""
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, timeout=WAIT_MS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served(context: Context) -> Iterator[tuple[str, Browser]]:
    """The archive's app served (`serve`) and chromium launched (`chromium`) for a module's tests: (base URL,
    browser). The context is closed after both."""
    try:
        with serve(create_app(context)) as url, chromium() as browser:
            yield url, browser
    finally:
        context.close()


def filed_record(
    context: Context,
    files: list[Path],
    *,
    fonds: str,
    level: str,
    title: str | None = None,
    date: str | None = None,
    series: str | None = None,
    box: str | None = None,
    engine: str | None = None,
) -> int:
    """`files` ingested as one item into a batch of its own (English; `engine`, or the context's when None), the
    batch filed (staff see filed records only), the item given `title` and `date` (ISO) when given: its id."""
    batch = BatchService(context).create(
        actor=ARCHIVIST, fonds=fonds, series=series, box=box, languages="eng", engine=engine, level=level
    )
    outcome = ingest_paths(context, files, actor=ARCHIVIST, batch_id=batch.id)
    document_id = outcome.jobs[0].document_id
    assert document_id is not None, outcome
    file_batch(context, batch.id)
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if date is not None:
        changes["date"] = dt.date.fromisoformat(date)
    if changes:
        with context.db.write() as session:
            session.execute(update(Document).where(Document.id == document_id).values(**changes))
    return document_id


def officer_account(context: Context, role: Role) -> str:
    """The bootstrap officer of `role`, with PASSWORD chosen as their own (so they sign in with it): username."""
    officer = UserService(context).officer(role)
    AccountService(context).update(actor=officer, username=officer.username, password=PASSWORD)
    return officer.username


def open_page(
    browser: Browser,
    url: str,
    *,
    locale: str = "en-GB",
    width: int = WIDTHS[0],
    height: int = 900,
    bypass_csp: bool = True,
) -> Page:
    """A tab in a fresh browser context (its own storage) at the app's `/`, with the browser's language
    `locale`; JavaScript errors on the page are collected for `page_errors`. Close it with `page.context.close()`.
    `bypass_csp=False` keeps the served Content-Security-Policy in force (no axe-core on such a page)."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, bypass_csp=bypass_csp)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    setattr(page, _ERRORS, errors)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/")
    page.locator("html[lang]").wait_for(state="attached")
    return page


def page_errors(page: Page) -> list[str]:
    errors: list[str] = getattr(page, _ERRORS)
    return errors


@contextmanager
def error_free_tab(browser: Browser, url: str, **options: Any) -> Iterator[Page]:
    """`open_page(browser, url, **options)` for one test; on closing it, the page had no JavaScript errors."""
    page = open_page(browser, url, **options)
    try:
        yield page
    finally:
        errors = page_errors(page)
        page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def answered(page: Page) -> int:
    """How many searches the page has answered (results or an error): the page counts them on #results."""
    return int(page.locator("#results").get_attribute("data-answers") or 0)


def wait_for_answer(page: Page, before: int) -> None:
    """Wait until the page has answered more searches than `before`."""
    page.wait_for_function(
        "(n) => Number(document.getElementById('results').dataset.answers || 0) > n", arg=before, timeout=WAIT_MS
    )


def search(page: Page, query: str) -> None:
    """Type `query` into the search box and press Enter (with no suggestion chosen, Enter searches for what was
    typed); wait for the answer."""
    before = answered(page)
    box = page.locator("#q")
    box.fill(query)
    box.press("Enter")
    wait_for_answer(page, before)


def goto(page: Page, url: str, hash_: str) -> None:
    """Open a screen by its hash, e.g. "#/search?q=ledger", and wait for the main region to hold it."""
    page.goto(f"{url}/{hash_}")
    page.locator("#main .screen").first.wait_for(state="attached")


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the sign-in screen (in whatever language it shows) and wait for the signed-in header."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#signin-button").click()
    expect(page.locator("#who")).to_have_text(username)


def language(page: Page, lang: str) -> None:
    """Choose a language with the header's switch ("zh-CN" or "en") and wait until the page is in it."""
    page.locator("#language").select_option(lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)


def serious_violations(page: Page, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (rule id, impact, help, targets)."""
    assert AXE.is_file(), f"{AXE} is missing: run `make install` (npm ci)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
            return await window.axe.run(context, { resultTypes: ["violations"] });
        }""",
        exclude or [],
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def shots(page: Page, name: str, widths: tuple[int, ...] = WIDTHS) -> list[Path]:
    """Full-page screenshots at each width: /tmp/dangan-shots/<name>-<width>.png (the viewport is restored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size or {"width": WIDTHS[0], "height": 900}
    taken = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": before["height"]})
        path = SHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    page.set_viewport_size(before)
    return taken
