"""The web application's assets are addressed by a version that is a digest of their content (api/http/ui.py):
immutable under the current version, so a returning browser loads the shell from its cache without a request,
and never stale — a changed file changes the version, and the page names the new addresses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.ui import STATIC_DIR, AssetVersion
from tests.browser import chromium, open_page, page_errors, serve
from tests.conftest import make_context

MAIN = re.compile(r'<script type="module" src="/static/v/([0-9a-f]{16})/js/main\.js"></script>')


def test_the_page_names_versioned_assets_and_preloads_every_module(tmp_path: Path) -> None:
    context = make_context(tmp_path / "var")
    with TestClient(create_app(context)) as client:
        page = client.get("/")
        assert page.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        found = MAIN.search(page.text)
        assert found, page.text
        version = found.group(1)
        assert f'href="/static/v/{version}/app.css"' in page.text
        modules = sorted(p.relative_to(STATIC_DIR).as_posix() for p in (STATIC_DIR / "js").rglob("*.js"))
        preloaded = re.findall(rf'<link rel="modulepreload" href="/static/v/{version}/(js/[\w/]+\.js)">', page.text)
        assert preloaded == modules and "js/main.js" in modules
        again = client.get("/", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == f'"{version}"'

        current = client.get(f"/static/v/{version}/js/main.js")
        assert current.status_code == 200 and current.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert current.content == (STATIC_DIR / "js" / "main.js").read_bytes()
        catalogue = client.get(f"/static/v/{version}/i18n/zh-CN/common.json")
        assert catalogue.status_code == 200 and "immutable" in catalogue.headers["cache-control"]
        old = client.get("/static/v/0123456789abcdef/js/main.js")  # a page from before a change
        assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
        plain = client.get("/static/js/main.js")
        assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
        for path in (f"/static/v/{version}/index.html", f"/static/v/{version}/js/missing.js", f"/static/v/{version}"):
            assert client.get(path).status_code == 404, path
    context.close()


def test_a_changed_asset_changes_the_version(tmp_path: Path) -> None:
    root = tmp_path / "static"
    shutil.copytree(STATIC_DIR, root, ignore=shutil.ignore_patterns("swagger"))
    versions = AssetVersion(root)
    before, page = versions.current()
    assert versions.current() == (before, page)  # nothing changed: the same version
    catalogue = root / "i18n" / "en" / "common.json"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace("}", ', "x.y": "z"}', 1), encoding="utf-8")
    after, new_page = versions.current()
    assert after != before and f"/static/v/{after}/js/main.js" in new_page and before not in new_page


def test_a_returning_browser_loads_the_shell_from_its_cache(tmp_path: Path) -> None:
    context = make_context(tmp_path / "var")
    with serve(create_app(context)) as url, chromium() as browser:
        tab = open_page(browser, url, locale="zh-CN")
        tab.locator("#signin-form").wait_for()
        entries = (
            "() => performance.getEntriesByType('resource').map((e) => [new URL(e.name).pathname, e.transferSize])"
        )
        first = dict(tab.evaluate(entries))
        assert any(path.endswith("/js/main.js") for path in first) and all(size > 0 for size in first.values())
        tab.goto("about:blank")
        tab.goto(url + "/#/signin")
        tab.locator("#signin-form").wait_for()
        second = dict(tab.evaluate(entries))
        assets = {path: size for path, size in second.items() if path.startswith("/static/v/")}
        assert set(assets) == {path for path in first if path.startswith("/static/v/")}
        assert all(size == 0 for size in assets.values()), assets  # from the cache, not one request
        errors = page_errors(tab)
        tab.context.close()
    context.close()
    assert errors == []
