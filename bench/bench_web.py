"""How long each role's first screen takes to be usable in a real browser, on an archive of 10,000 records and,
as the reference measured in the same run, on one of 10 (issue 14: usable within 1 s on loopback).

Both archives are built by bench/web_seed.py (filed records with page texts over fonds, series and boxes, all
access levels, batches filed and in progress, an access log, accounts of every role), each is served by its own
`dangan serve` on 127.0.0.1, and Debian's chromium (Playwright, headless, the flags of tests/browser.py) signs
in as each role through the sign-in screen. It checks that the app opens the screen listed here after sign-in
(the first screen of the navigation the role may use, api/http/static/js/main.js `homeHash`); the other
screens measured are each role's own first screen in the navigation (the archivist's Batches, the auditor's
Access log, the system administrator's Status).

One measurement: from `page.goto` of the screen's address (after about:blank, so the page is loaded again and
/auth/me and the screen's data are fetched again) until an element that only the screen's API answer renders is
visible (a row, a list item, a card). Repeated, alternating the archives; twice per round: with the browser's
cache as a returning user has it (warm: the versioned assets come from the cache) and with the cache disabled
through the DevTools protocol (cold: a first visit fetches every module and catalogue). Prints the median and the
max, the ratio to the 10-record archive, the slowest API call of the screen (the browser's resource timing,
median), and PASS/FAIL of the goal on the median.

Usage: python -m bench.bench_web [RECORDS] [REPEATS]    (defaults: 10000 records, 7 repeats)
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from bench.web_seed import PASSWORD, Seeded, seed
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, sign_in

DANGAN = Path(sys.executable).parent / "dangan"
REFERENCE_RECORDS = 10
GOAL_SECONDS = 1.0
WAIT_MS = 30_000  # a bound on every wait in the browser (a failure, not a figure)
# In every page, before its scripts: the time (ms since the navigation began) each screen's ready element first
# appears in the DOM, and the time of the next frame after it (when the browser paints it).
WATCH = """((selectors) => {
  window.__ready = {};
  const check = () => {
    for (const sel of selectors) {
      if (!(sel in window.__ready) && document.querySelector(sel)) {
        const entry = window.__ready[sel] = { inserted: performance.now(), painted: null };
        requestAnimationFrame(() => { entry.painted = performance.now(); });
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
})(%s)"""
# What the page fetched before it was ready: [path, start, end] in ms since the navigation began.
FETCHED = """() => performance.getEntriesByType("resource")
    .map((e) => [new URL(e.name).pathname, e.startTime, e.responseEnd])"""


@dataclass(frozen=True)
class Screen:
    role: str
    name: str
    hash: str
    ready: str  # a CSS selector only the screen's API data renders
    home: bool  # the screen the app opens after this role signs in


SCREENS = (
    Screen("staff", "search home", "#/search", "#recent-list li", home=True),
    Screen("archivist", "search home", "#/search", "#recent-list li", home=True),
    Screen("archivist", "batches", "#/batches", "#batch-list tbody tr", home=False),
    Screen("compliance", "search home", "#/search", "#recent-list li", home=True),
    Screen("compliance", "access log", "#/audit", "#audit-results tbody tr", home=False),
    Screen("sysadmin", "search home", "#/search", "#recent-list li", home=True),
    Screen("sysadmin", "status", "#/status", "#status-index", home=False),
    Screen("secadmin", "users", "#/users", "#user-list tbody tr", home=True),
)
ROLES = tuple(dict.fromkeys(screen.role for screen in SCREENS))


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)  # until the ready element was painted
    shell: list[float] = field(default_factory=list)  # until /auth/me answered: page, modules, catalogues, who
    requests: list[int] = field(default_factory=list)  # fetched before the ready element appeared
    calls: dict[str, list[float]] = field(default_factory=dict)  # the screen's own API calls → their durations

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def slowest_call(self) -> str:
        if not self.calls:
            return "no API call"
        path, times = max(self.calls.items(), key=lambda item: statistics.median(item[1]))
        return f"{path} {statistics.median(times) * 1000:.0f} ms"

    def add(self, painted_ms: float, fetched: list[tuple[str, float, float]]) -> None:
        before = [(path, start, end) for path, start, end in fetched if start < painted_ms]
        self.seconds.append(painted_ms / 1000)
        self.requests.append(len(before))
        self.shell.append(max((end for path, _s, end in before if path == "/api/v1/auth/me"), default=0.0) / 1000)
        for path, start, end in before:
            if path.startswith("/api/v1/") and path != "/api/v1/auth/me" and "/thumbnail" not in path:
                self.calls.setdefault(_pattern(path), []).append((end - start) / 1000)


def _pattern(path: str) -> str:
    return "/".join(":id" if part.isdigit() else part for part in path.split("/"))


@dataclass(frozen=True)
class Site:
    label: str
    url: str
    seeded: Seeded


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(home: Path, label: str, seeded: Seeded) -> Iterator[Site]:
    """`dangan serve` (its defaults: one HTTP process) on a free loopback port, stopped at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")} | {"DANGAN_HOME": str(home)}
    log = home.parent / "serve.log"
    with log.open("wb") as errors:
        command = [str(DANGAN), "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server for {label} did not start; see {log}")
            time.sleep(0.2)
        yield Site(label, url, seeded)
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def signed_in(browser: Browser, site: Site, role: str) -> Page:
    """A fresh browser context signed in as the role through the sign-in screen; checks where it lands."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(WATCH % json.dumps(sorted({screen.ready for screen in SCREENS})))
    page = context.new_page()
    page.goto(site.url + "/")
    sign_in(page, site.seeded.accounts[role], PASSWORD)
    home = next(screen for screen in SCREENS if screen.role == role and screen.home)
    page.locator(home.ready).first.wait_for(state="visible")
    landed = page.evaluate("window.location.hash")
    if not landed.startswith(home.hash):
        raise SystemExit(f"{role} landed on {landed} after sign-in, not on {home.hash}: update SCREENS")
    return page


def measure(page: Page, site: Site, screen: Screen, into: Timings) -> None:
    """One load of the screen; the figure is the browser's own clock, not Playwright's (whose polling, on a
    loaded machine, notices an element a few hundred ms after it was painted)."""
    page.goto("about:blank")
    page.goto(f"{site.url}/{screen.hash}", wait_until="commit")
    page.locator(screen.ready).first.wait_for(state="visible")
    page.wait_for_function("(sel) => window.__ready[sel] && window.__ready[sel].painted !== null", arg=screen.ready)
    painted = float(page.evaluate("(sel) => window.__ready[sel].painted", screen.ready))
    into.add(painted, [(str(path), float(start), float(end)) for path, start, end in page.evaluate(FETCHED)])
    if page.locator("#who").inner_text() != site.seeded.accounts[screen.role]:
        raise SystemExit(f"{screen.role} was signed out while measuring {screen.name}")


MODES = ("warm", "cold")  # warm: the browser's cache as a returning user has it; cold: cache disabled (first visit)


def run(browser: Browser, sites: list[Site], repeats: int) -> dict[tuple[str, Screen, str], Timings]:
    """Every screen, `repeats` times on each archive and in each mode, alternating the archives (the machine
    may be shared)."""
    results: dict[tuple[str, Screen, str], Timings] = {}
    for role in ROLES:
        pages = {site.label: signed_in(browser, site, role) for site in sites}
        caches = {label: page.context.new_cdp_session(page) for label, page in pages.items()}
        for screen in (s for s in SCREENS if s.role == role):
            for site in sites:  # one unmeasured load each: the server's first request of this kind
                measure(pages[site.label], site, screen, Timings())
            for _ in range(repeats):
                for mode in MODES:
                    for site in sites:
                        caches[site.label].send("Network.setCacheDisabled", {"cacheDisabled": mode == "cold"})
                        into = results.setdefault((site.label, screen, mode), Timings())
                        measure(pages[site.label], site, screen, into)
        for page in pages.values():
            page.context.close()
        print(f"  {role}: done", flush=True)
    return results


def report(results: dict[tuple[str, Screen, str], Timings], big: Site, reference: Site, repeats: int) -> None:
    load = os.getloadavg()
    print(
        f"\n{big.seeded.records} records ({big.seeded.pages} pages, {big.seeded.batches} batches, "
        f"{big.seeded.events} access-log events) vs {reference.seeded.records} records "
        f"({reference.seeded.events} events); {repeats} loads per screen, mode and archive; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )
    for mode in MODES:
        print(
            f"\n{mode} ({'the cache a returning browser has' if mode == 'warm' else 'cache disabled: a first visit'})"
        )
        print(
            f"{'screen':36} {'median s':>8} {'max s':>6} {'ref median':>10} {'shell s':>7} {'ref shell':>9}"
            f" {'requests':>8}  the screen's slowest API call (median)"
        )
        for screen in SCREENS:
            mine, theirs = results[big.label, screen, mode], results[reference.label, screen, mode]
            label = f"{screen.role} ({screen.name}{'' if screen.home else ', own screen'})"
            print(
                f"{label:36} {mine.median:8.3f} {max(mine.seconds):6.3f} {theirs.median:10.3f}"
                f" {statistics.median(mine.shell):7.3f} {statistics.median(theirs.shell):9.3f}"
                f" {statistics.median(mine.requests):8.0f}  {mine.slowest_call()} (ref {theirs.slowest_call()})"
            )
    print("(shell: until /auth/me answered — the page, its modules and catalogues, who is signed in; requests:")
    print(" fetched before the screen was ready, from the network or the cache; times from the navigation's start")
    print(" to the frame that paints the screen's data)")
    print()
    for mode in MODES:
        for screen in SCREENS:
            mine, theirs = results[big.label, screen, mode], results[reference.label, screen, mode]
            verdict = "PASS" if mine.median <= GOAL_SECONDS else "FAIL"
            print(
                f"{mode} {'first screen' if screen.home else 'own screen'} {screen.role} ({screen.name}): "
                f"median {mine.median:.2f} s, max {max(mine.seconds):.2f} s, "
                f"{mine.median / theirs.median:.1f}× the {reference.seeded.records}-record archive — "
                f"{verdict} (goal ≤ {GOAL_SECONDS:.0f} s)"
            )


def build(root: Path, records: int) -> tuple[Path, Seeded]:
    home = root / f"archive-{records}" / "var"
    home.parent.mkdir(parents=True)
    print(f"seeding {records} records in {home} ...", flush=True)
    seeded = seed(home, records)
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in seeded.steps.items())
    print(f"  seeded in {seeded.seconds:.0f} s ({steps})", flush=True)
    return home, seeded


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        big_home, big = build(Path(tmp), records)
        reference_home, reference = build(Path(tmp), REFERENCE_RECORDS)
        with ExitStack() as stack:
            big_site = stack.enter_context(served(big_home, "big", big))
            reference_site = stack.enter_context(served(reference_home, "reference", reference))
            driver = stack.enter_context(sync_playwright())
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, timeout=WAIT_MS)
            stack.callback(browser.close)
            print(f"measuring {len(SCREENS)} screens × {repeats} loads × 2 archives in chromium ...", flush=True)
            results = run(browser, [big_site, reference_site], repeats)
        report(results, big_site, reference_site, repeats)


if __name__ == "__main__":
    main()
