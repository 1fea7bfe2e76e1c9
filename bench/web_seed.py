"""The archive the web benchmark serves (bench/bench_web.py): N filed records, made through the project's own
services, fast enough for 10,000 of them in a few minutes.

- Accounts of every role: the three officers of `UserService.bootstrap` (their passwords set to ours), two
  archivists (one scans, the other reviews: separation of duties), staff with clearances and departments.
- Most records are *filed the way a job files them*, without running OCR (bench/web_bulk.py): done jobs,
  stored objects, documents and pages with generated text (40% Chinese, 1–3 pages), the ingest events.
- Batches spread over fonds, series and boxes; each one is sampled, judged by the second archivist and filed
  through `AcceptanceService` (which indexes its records in one go); the last two stay open and in sampling
  (the archivist's work in progress; `index_unindexed` makes them searchable).
- The newest filed batch is real: `REAL` rendered pages ingested through the intake and the local runner with
  the null OCR engine (text from sidecars), so its page images and thumbnails exist (the search screen's
  "recently filed" shows them).
- The access log: the events all of the above write, plus reads (document views, searches, browsing, logins,
  some denials) in the product's event shapes, chained as `audit.record` chains them, three per record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from api.access.accounts import AccountService
from api.access.users import UserService
from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.ingest.intake import IngestRequest, Intake
from api.ingest.service import IngestService
from api.preservation.maintenance import MaintenanceService
from api.runners.local import local_runner
from api.wiring import Context, build_context
from archive.access import Principal
from archive.events import AuditAction
from archive.models import AuditEvent, Document, Page
from archive.values import Role
from bench.search_corpus import DEPARTMENTS, Vocabulary
from bench.web_bulk import append_events, event, file_bulk, make_item
from ingest.engines.sidecar import sidecar_path
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page
from storage_config.settings import Settings

PASSWORD = "bench password of some length"
INITIAL_PASSWORD = "set by the security administrator"
REAL = 10  # records ingested for real (null OCR engine), filed last: the "recently filed" with thumbnails
PER_BATCH = 250
READS_PER_RECORD = 3
FONDS = ("F001", "F002", "J014", "Z100")
SERIES = ("WS", "KJ", "JJ")
STAFF: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("staff", "confidential", ("finance", "legal")),
    ("clerk", "internal", ()),
    ("analyst", "secret", ()),
)
EXTRA_STAFF = 8  # more accounts on the Users screen, as an office has


@dataclass(frozen=True)
class Seeded:
    records: int
    pages: int
    batches: int
    events: int
    accounts: dict[str, str]  # role → the username that signs in as it
    steps: dict[str, float]  # seconds each step of the seeding took

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())


def seed(home: Path, records: int, *, seed_value: int = 14) -> Seeded:
    """Build the archive in `home` (a fresh directory); returns what it holds and how long each step took."""
    steps: dict[str, float] = {}
    context = build_context(Settings(home=home, workers=2))
    try:
        with _timed(steps, "accounts"):
            MaintenanceService(context).initialise()
            accounts = _accounts(context)
            users = UserService(context)
            archivist, reviewer = users.principal("archivist"), users.principal("reviewer")
        rng = random.Random(seed_value)
        bulk = max(0, records - REAL)
        vocabulary = Vocabulary(seed_value) if bulk else None
        starts = range(0, bulk, PER_BATCH)
        for number, start in enumerate(starts):
            assert vocabulary is not None
            with _timed(steps, "catalogue rows and objects"):
                items = [make_item(vocabulary, rng, n) for n in range(start, min(start + PER_BATCH, bulk))]
                batch_id = _batch(context, archivist, number)
                file_bulk(context, batch_id, items, archivist, home.parent / "shared-pdf")
            left = len(starts) - number - 1
            with _timed(steps, "acceptance, filing and index"):
                if len(starts) < 3 or left > 1:
                    _accept_and_file(context, batch_id, reviewer, archivist)
                elif left == 1:  # the one before last is being sampled; the last one is still open
                    AcceptanceService(context).draw(batch_id, actor=reviewer, percent=5.0)
        with _timed(steps, "acceptance, filing and index"):
            IngestService(context).index_unindexed()  # the unfiled batches' records: searchable by archivists
        with _timed(steps, f"{min(REAL, records)} real ingests"):
            real = _real_batch(context, archivist, home.parent / "scans", min(REAL, records), len(starts))
            _accept_and_file(context, real, reviewer, archivist)
        with _timed(steps, "access-log events"):
            _reads(context, rng, records * READS_PER_RECORD)
        with context.db.read() as session:
            documents = int(session.scalar(select(func.count(Document.id))) or 0)
            pages = int(session.scalar(select(func.count(Page.id))) or 0)
            events = int(session.scalar(select(func.count(AuditEvent.id))) or 0)
        return Seeded(documents, pages, len(starts) + 1, events, accounts, steps)
    finally:
        context.close()


@contextmanager
def _timed(steps: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - started


def _accounts(context: Context) -> dict[str, str]:
    """Officers from the bootstrap (passwords set to ours, by each officer); everyone else by the secadmin,
    with an initial password its holder then changes to ours."""
    users = UserService(context)
    users.bootstrap()
    service = AccountService(context)
    accounts: dict[str, str] = {}
    for role in (Role.COMPLIANCE, Role.SYSADMIN, Role.SECADMIN):
        officer = users.officer(role)
        service.update(actor=officer, username=officer.username, password=PASSWORD)
        accounts[role.value] = officer.username
    secadmin = users.officer(Role.SECADMIN)
    people: list[tuple[str, list[str], str, tuple[str, ...]]] = [
        ("archivist", ["archivist"], "top_secret", DEPARTMENTS),  # they handle every department's records
        ("reviewer", ["archivist"], "top_secret", DEPARTMENTS),
    ]
    people += [(name, ["staff"], level, departments) for name, level, departments in STAFF]
    people += [(f"staff{n:02d}", ["staff"], "internal", (DEPARTMENTS[n % 5],)) for n in range(EXTRA_STAFF)]
    for username, roles, clearance, departments in people:
        service.create(
            actor=secadmin,
            username=username,
            password=INITIAL_PASSWORD,
            roles=roles,
            clearance=clearance,
            departments=list(departments),
        )
        holder = users.principal(username)  # a password someone else set is changed by its holder first
        service.update(actor=holder, username=username, password=PASSWORD)
    accounts["archivist"], accounts["staff"] = "archivist", "staff"
    return accounts


def _batch(context: Context, archivist: Principal, number: int) -> int:
    fonds, series = FONDS[number % len(FONDS)], SERIES[(number // len(FONDS)) % len(SERIES)]
    box = f"B{number // (len(FONDS) * len(SERIES)) + 1:02d}"
    return (
        BatchService(context)
        .create(actor=archivist, fonds=fonds, series=series, box=box, year=2010 + number % 15, languages="chi_sim+eng")
        .id
    )


def _accept_and_file(context: Context, batch_id: int, reviewer: Principal, filer: Principal) -> None:
    """The second archivist samples 5% (at least 10 pages), passes each, decides; the archivist files."""
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch_id, actor=reviewer, percent=5.0)
    for row in sample["pages"]:
        acceptance.record_verdict(batch_id, row["page_id"], actor=reviewer, passed=True)
    decision = acceptance.decide(batch_id, actor=reviewer)
    assert decision["decision"] == "accepted", decision
    acceptance.file(batch_id, actor=filer)


def _real_batch(context: Context, archivist: Principal, folder: Path, count: int, number: int) -> int:
    """`count` rendered pages (strips of A4 at 300 dpi) with sidecar texts, through the intake and the local
    runner with the null OCR engine: page images and thumbnails are made as for any filed item."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = [*ENGLISH_PAGES, *CHINESE_PAGES]
    for n in range(count):
        text = texts[n % len(texts)]
        page = SamplePage(f"{n + 1}. {text}", "eng" if n % len(texts) < len(ENGLISH_PAGES) else "chi_sim")
        image = render_page(page, height_mm=70, font_pt=14, skew_degrees=0.4, noise=0.0005, blur=0.3, seed=n)
        path = folder / f"scan-{n + 1:02d}.png"
        image.save(path, dpi=(300, 300))
        sidecar_path(path).write_text(page.text, encoding="utf-8")
    batch = (
        BatchService(context)
        .create(
            actor=archivist, fonds=FONDS[0], series="WS", box=f"R{number:02d}", languages="chi_sim+eng", engine="null"
        )
        .id
    )
    run = Intake(context).ingest_paths(
        IngestRequest(paths=[folder], batch_id=batch), actor=archivist, runner=local_runner
    )
    assert run.summary.done == count, run.summary
    return batch


def _reads(context: Context, rng: random.Random, count: int) -> None:
    """What people did since: document views, searches, browsing, logins and a few denials, as events."""
    users = UserService(context)
    readers = [users.principal(name) for name, _level, _departments in STAFF]
    readers += [users.principal("archivist"), users.principal(users.officer(Role.COMPLIANCE).username)]
    with context.db.read() as session:
        documents = list(session.scalars(select(Document.id)))
    for start in range(0, count, 2000):
        events = []
        for _ in range(min(2000, count - start)):
            who = rng.choice(readers)
            action, outcome, target, details = _read_event(rng, rng.random(), who, documents)
            client = f"10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)}"
            events.append(event(who, action, target=target, outcome=outcome, client=client, details=details))
        with context.db.write() as session:
            append_events(session, events)


def _read_event(
    rng: random.Random, kind: float, who: Principal, documents: list[int]
) -> tuple[AuditAction, str, str | None, dict[str, object] | None]:
    """(action, outcome, target, details) as the product records them for a read of this kind."""
    if kind < 0.55:
        return AuditAction.DOCUMENT_VIEW, "success", f"document:{rng.choice(documents)}", None
    if kind < 0.85:
        query = rng.choice(("budget", "personnel", "档案", "minutes", "retention", "数字化"))
        return AuditAction.SEARCH, "success", None, {"query": query, "hits": rng.randint(0, 400)}
    if kind < 0.95:
        return AuditAction.BROWSE, "success", "browse:", {"recent": 8}
    if kind < 0.99:
        return AuditAction.LOGIN, "success", f"user:{who.username}", None
    return AuditAction.DOCUMENT_VIEW, "denied_or_missing", f"document:{rng.randint(1, 10**6)}", None
