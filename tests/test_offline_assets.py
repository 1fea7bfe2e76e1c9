"""Every page the app serves works air-gapped: nothing it loads comes from another host.

The rule, checked on every HTML page (found from the route table and api/http/static/*.html, plus the HTML batch
report): what a page LOADS must be this server's — `<script src>`, `<link href>`, `<img src>`, `<iframe src>`,
`<source src>`, `<object data>`, `<embed src>`, `url(...)` and `@import` in its styles and in the stylesheets
it links, and any URL in its inline scripts (the docs page's spec URL is one). A URL is external when it is
absolute (`http://`, `https://`, ...) to a host other than the app's, or protocol-relative (`//host`); `data:`
and `blob:` are local. Our own scripts (api/http/static/*.js) may not even mention an external URL. A vendored
bundle (Swagger UI) holds URLs in strings it never loads by itself (licence links, the petstore example): it is
judged in a real browser instead, where every request that is not to 127.0.0.1 is blocked and recorded, and the
docs page must still render the API's operations with no CSP violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Request, Route, expect, sync_playwright

from api.http.app import create_app
from api.wiring import Context
from tests.actors import bearer
from tests.browser import serve

STATIC = Path(__file__).resolve().parent.parent / "api" / "http" / "static"
APP_HOST = "testserver"  # TestClient's host: the app itself
LOADING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src", "object": "data"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
ANY_URL = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s'"`<>)]+""", re.IGNORECASE)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WAIT_MS = 10_000


class PageLoads(HTMLParser):
    """The URLs an HTML page makes the browser load, its inline scripts and inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in LOADING and attributes.get(LOADING[tag]):
            self.loads.append(attributes[LOADING[tag]])
        if tag == "link" and attributes.get("href"):
            self.loads.append(attributes["href"])
        if attributes.get("style"):
            self.styles.append(attributes["style"])
        self._in = tag if tag in {"script", "style"} and not attributes.get("src") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.inline_scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def external(url: str) -> bool:
    if url.startswith(("data:", "blob:")):
        return False
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.hostname != APP_HOST


def css_urls(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def html_pages(client: TestClient, context: Context) -> dict[str, dict[str, str]]:
    """Path -> request headers, for every HTML page: parameterless GET routes that answer HTML, the static
    HTML files (api/http/static/index.html is also the page at `/`, where its relative links resolve), and the HTML
    batch report (which needs a batch and an account)."""
    app = client.app
    assert hasattr(app, "routes")
    pages: dict[str, dict[str, str]] = {}
    for route in app.routes:
        methods, path = getattr(route, "methods", None) or set(), str(getattr(route, "path", "{"))
        if "GET" not in methods or "{" in path:
            continue
        if client.get(path).headers.get("content-type", "").startswith("text/html"):
            pages[path] = {}
    for file in STATIC.glob("*.html"):
        pages[f"/static/{file.name}"] = {}
    archivist = bearer(context, "clerk", ["archivist"])
    batch = client.post("/api/v1/batches", headers=archivist, json={"fonds": "OFF"}).json()["id"]
    pages[f"/api/v1/batches/{batch}/report?format=html"] = archivist
    return pages


def test_no_page_loads_anything_from_another_host(client: TestClient, context: Context) -> None:
    pages = html_pages(client, context)
    assert {"/", "/docs", "/static/index.html"} <= set(pages)  # the discovery really finds the pages
    problems: list[str] = []
    fetched_assets: set[str] = set()
    for path, headers in pages.items():
        response = client.get(path, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
        page_url = f"http://{APP_HOST}{path}"
        parsed = PageLoads()
        parsed.feed(response.text)
        inline = [url for script in parsed.inline_scripts for url in ANY_URL.findall(script)]
        inline_css = [url for style in parsed.styles for url in css_urls(style)]
        problems += [f"{path} loads {url}" for url in parsed.loads + inline + inline_css if external(url)]
        for url in parsed.loads:
            target = urljoin(page_url if not path.startswith("/static/") else f"http://{APP_HOST}/", url)
            if external(url) or target in fetched_assets:
                continue
            fetched_assets.add(target)
            problems += asset_problems(client, target)
    assert problems == []
    assert any(url.endswith("/static/swagger/swagger-ui-bundle.js") for url in fetched_assets)
    assert any(url.endswith("/static/swagger/swagger-ui.css") for url in fetched_assets)


def asset_problems(client: TestClient, url: str) -> list[str]:
    """A linked asset is served, and its own loads (a stylesheet's url()/@import) stay on this server."""
    path = urlsplit(url).path
    response = client.get(path)
    if response.status_code != 200:
        return [f"{path} answers {response.status_code}"]
    kind = response.headers.get("content-type", "")
    if kind.startswith("text/css"):
        return [f"{path} loads {ref}" for ref in css_urls(response.text) if external(urljoin(url, ref))]
    if "javascript" in kind and not path.startswith("/static/swagger/"):  # our own scripts: no external URL at all
        return [f"{path} mentions {ref}" for ref in ANY_URL.findall(response.text) if external(ref)]
    return []


def test_the_rule_catches_external_loads() -> None:
    parsed = PageLoads()
    parsed.feed(
        '<link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/x.js"></script>'
        '<img src="data:image/png;base64,AA"><div style="background:url(http://img.example/a.png)"></div>'
        "<script>load({url: 'https://spec.example/openapi.json'})</script><script src='/static/app.js'></script>"
    )
    inline = [url for script in parsed.inline_scripts for url in ANY_URL.findall(script)]
    styles = [url for style in parsed.styles for url in css_urls(style)]
    flagged = [url for url in parsed.loads + inline + styles if external(url)]
    assert flagged == [
        "https://cdn.example/x.css",
        "//cdn.example/x.js",
        "https://spec.example/openapi.json",
        "http://img.example/a.png",
    ]
    assert css_urls("a{b:url('//fonts.example/f.woff')} @import 'https://x.example/y.css';") == [
        "//fonts.example/f.woff",
        "https://x.example/y.css",
    ]
    assert not external(f"http://{APP_HOST}/static/app.css") and not external("/openapi.json")


def test_the_docs_page_allows_only_its_own_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy and "http" not in policy
    assert policy.count("'sha256-") == 1
    assert "'sha256-" not in client.get("/").headers["content-security-policy"]  # other pages keep theirs
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN pages are gone


@pytest.fixture
def server(context: Context) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1 (tests/browser.py's `serve`)."""
    with serve(create_app(context)) as url:
        yield url


def test_the_docs_render_in_a_browser_with_every_other_host_blocked(server: str) -> None:
    blocked: list[str] = []
    loaded: list[str] = []
    violations: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1" or request.url.startswith("data:"):
            loaded.append(request.url)
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, timeout=WAIT_MS)
        try:
            tab = browser.new_context().new_page()
            tab.set_default_timeout(WAIT_MS)
            tab.route("**/*", only_loopback)
            tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(f"{server}/docs")
            expect(tab).to_have_title("Dang'an archive API — interactive docs", timeout=WAIT_MS)
            expect(tab.locator(".opblock").first).to_be_visible(timeout=WAIT_MS)
            paths = tab.locator(".opblock-summary-path").all_inner_texts()
            expect(tab.locator(".info .title")).to_contain_text("Dang'an archive API", timeout=WAIT_MS)
            tab.goto(f"{server}/")
            expect(tab.locator("#signin-form")).to_be_visible(timeout=WAIT_MS)
        finally:
            browser.close()
    assert blocked == []
    assert violations == [] and errors == []
    assert any(p.replace("\u200b", "") == "/api/v1/documents/{document_id}" for p in paths), paths[:10]
    assert f"{server}/openapi.json" in loaded and f"{server}/static/swagger/swagger-ui-bundle.js" in loaded


def test_our_modules_mention_no_external_url() -> None:
    """Every module of the web application (js/, loaded by import, not linked from a page) and every message
    catalogue stays on this server too."""
    own = [*STATIC.glob("js/**/*.js"), *STATIC.glob("i18n/**/*.json")]
    assert any(path.name == "main.js" for path in own)
    mentioned = [f"{path.relative_to(STATIC)}: {ref}" for path in own for ref in ANY_URL.findall(path.read_text())]
    assert [entry for entry in mentioned if external(entry.split(": ", 1)[1])] == []
