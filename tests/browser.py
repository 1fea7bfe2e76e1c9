"""Browser tests of the web application, shared by every screen's tests: the real app under uvicorn on
127.0.0.1, Debian's chromium driven by Playwright, signing in as a role, axe-core and screenshots.

    with serve(create_app(context)) as url, chromium() as browser:
        page = open_page(browser, url, locale="zh-CN")       # a fresh context: empty storage; JS errors recorded
        sign_in(page, "clerk", PASSWORD)                    # through the sign-in screen; waits for the header
        goto(page, url, "#/search?q=ledger")                 # a screen by its hash
        assert serious_violations(page) == []               # axe-core, serious and critical only
        shots(page, "search")                               # /tmp/dangan-shots/search-1280.png and -375.png
        assert page_errors(page) == []

axe-core comes from node_modules (`make install` runs `npm ci`) and is injected by the test only; the served
page never references it. The Content-Security-Policy allows scripts from this server only, so the page's
context is asked to bypass CSP for the injected script (Playwright's `bypass_csp`), which changes nothing else.
"""

from __future__ import annotations

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


def open_page(browser: Browser, url: str, *, locale: str = "en-GB", width: int = WIDTHS[0], height: int = 900) -> Page:
    """A tab in a fresh browser context (its own storage) at the app's `/`, with the browser's language
    `locale`; JavaScript errors on the page are collected for `page_errors`. Close it with `page.context.close()`."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, bypass_csp=True)
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
