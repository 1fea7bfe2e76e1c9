"""Crash points: arm one failpoint (`DANGAN_FAILPOINTS=<point>=crash`), run the user's step that reaches it in a
real `dangan` process, see that process die by SIGKILL, restart, re-run what the user would, and check the
invariants. The points are found by grepping the source for `failpoint("...")`; each maps to a scenario by the
prefix of its name (a point with no scenario is a defect of the test suite, and fails).

A scenario's set-up (three scans ingested, a backup target, a first backup) is built once per scenario and
copied for each point, at the same absolute path (the catalogue keeps absolute paths of spools and targets).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from api.access.auditing import AuditService
from api.preservation.verification import VerificationService
from api.search.service import SearchService
from api.wiring import Context
from archive.errors import ExitCode
from archive.events import AuditAction
from archive.keys import OBJECT_PREFIX
from archive.models import AuditEvent, Document, IngestJob, Page, StoredObject
from archive.preservation.fixity import verify_objects
from archive.reports import Grade
from tests.actors import ARCHIVIST, AUDITOR, SYSADMIN, account
from tests.conftest import ESCROW_PASSPHRASE, make_context
from tests.pages import ENGLISH_TEXT, render

ROOT = Path(__file__).resolve().parent.parent
_MIGRATING = threading.Lock()  # Alembic's `context` and `op` are process globals: one migration at a time
ITEMS = 3
STEP_TIMEOUT = 120
RESCAN_TEXT = "Rescanned replacement page of the crash box. Ledger folio corrected by the archivist."
SCRATCH_AREAS = ("incoming", "unpacked", "served")  # the spool's own folders, empty when nothing is received
POINT = re.compile(r"""failpoint\("([a-z_.]+)"\)""")


def failpoint_names(root: Path = ROOT) -> list[str]:
    """Every failpoint named in the source (outside tests/ and the virtualenv)."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in ("tests", ".venv", "build") or parts[0].startswith(".") or path.name == "failpoints.py":
            continue  # (failpoints.py defines the seam; its docstring's examples are not points)
        names.update(POINT.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def context_of(home: Path) -> Context:
    """The archive at `home`, opened (and migrated) in this test process; the crash tests run two at a time."""
    with _MIGRATING:
        return make_context(home)


def item_phrase(n: int) -> str:
    return f"item number {n} of the crash box"


def dangan(home: Path, user: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "--home", str(home), "--user", user, *args]


def run_step(
    argv: list[str], *, point: str | None = None, timeout: float = STEP_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run one `dangan` process in a session of its own; whatever it leaves (OCR workers lead process groups of
    their own, but stay in the session) is killed after it. Output goes to files: a crashed process's workers
    would hold a pipe open."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env.update(DANGAN_OCR_ENGINE="null", DANGAN_FAULTS__JOB_LEASE_SECONDS="1", PYTHONPATH=str(ROOT))
    env["DANGAN_BACKUP_ESCROW_PASSPHRASE"] = ESCROW_PASSPHRASE  # a real installation has one (tests/conftest.py)
    if point is not None:
        env["DANGAN_FAILPOINTS"] = f"{point}=crash"
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT, env=env
        )
        try:
            process.wait(timeout=timeout)
        finally:
            _end_session(process.pid)
            process.wait(timeout=30)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, process.returncode, out.read(), err.read())


def _end_session(session: int) -> None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == session:
                    os.kill(int(entry.name), signal.SIGKILL)


def must(result: subprocess.CompletedProcess[str], *ok: int) -> subprocess.CompletedProcess[str]:
    assert result.returncode in (ok or (0,)), (
        result.args[5:],
        result.returncode,
        result.stdout[-1500:],
        result.stderr[-1500:],
    )
    return result


def restart(home: Path) -> None:
    """What an operator does after a crash: start a runner. `dangan jobs run` recovers interrupted rescans, sweeps
    what killed processes left, indexes what was left unindexed and runs every runnable job to its end, the
    crashed process's included once its lease (1 s here) has run out."""
    time.sleep(1.5)
    must(run_step(dangan(home, "sysadmin", "jobs", "run", "--json")))


# -- scenarios ---------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One crash point's working copy: the data directory, the scans, the backup target."""

    root: Path
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "var"

    @property
    def box(self) -> Path:
        return self.root / "box"

    @property
    def target(self) -> Path:
        return self.root / "offsite"


@dataclass(frozen=True)
class Scenario:
    """`prepare` builds the state before the armed step; `step` is the user's command that reaches the point;
    `again` is what the user does after the restart (the step once more, when it did not finish)."""

    name: str
    prepare: Callable[[Case], None]
    step: Callable[[Case], list[str]]
    again: Callable[[Case], None]
    check: Callable[[Case], None] = lambda case: None
    # How the step ends when its point fires: killed (-9), or, for a point in an OCR worker process, the step
    # goes on without that worker and ends with the item's job failed (exit 7: "the OCR worker process died").
    crash_exit: int = -signal.SIGKILL


def _new_archive(case: Case) -> None:
    context = context_of(case.home)
    try:
        account(context, "archivist", ["archivist"])
    finally:
        context.close()
    for n in range(ITEMS):
        render(case.box, f"item-{n}.png", f"Item number {n} of the crash box. {ENGLISH_TEXT}", "eng", seed=60 + n)
    created = must(
        run_step(dangan(case.home, "archivist", "batch", "create", "--fonds", "C9", "--lang", "eng", "--json"))
    )
    case.facts["batch"] = str(json.loads(created.stdout)["id"])


def _ingest_step(case: Case) -> list[str]:
    return dangan(case.home, "archivist", "ingest", str(case.box), "--batch", case.facts["batch"], "--json")


def _ingest_again(case: Case) -> None:
    """The user, seeing fewer items in the batch than scans in the folder, runs the ingest once more: what was
    acknowledged is refused as a duplicate, the rest is queued and run."""
    context = context_of(case.home)
    try:
        with context.db.read() as session:
            acknowledged = session.scalar(select(func.count()).select_from(IngestJob))
    finally:
        context.close()
    if acknowledged < ITEMS:
        run_step(_ingest_step(case))  # refusals of duplicates may exit non-zero; the invariants judge the outcome


def _filed_archive(case: Case) -> None:
    _new_archive(case)
    must(run_step(_ingest_step(case)))
    render(case.root, "rescan.png", RESCAN_TEXT, "eng", seed=90)
    context = context_of(case.home)
    try:
        with context.db.read() as session:
            first = session.scalars(select(Document).where(Document.original_filename == "item-0.png")).one()
            case.facts["page"] = str(first.pages[0].id)
    finally:
        context.close()
    must(run_step(dangan(case.home, "sysadmin", "backup", "target", "add", "offsite", "--path", str(case.target))))


def _backed_up_archive(case: Case) -> None:
    _filed_archive(case)
    must(run_step(_backup_step(case)))


def _rescanned_archive(case: Case) -> None:
    _filed_archive(case)
    case.facts["rescanned"] = "yes"


def _rescan_step(case: Case) -> list[str]:
    return dangan(
        case.home, "archivist", "page", "replace", case.facts["page"], str(case.root / "rescan.png"), "--json"
    )


def _rescan_again(case: Case) -> None:
    """The user replaces the page again unless they see it replaced (a crash after the commit)."""
    context = context_of(case.home)
    try:
        with context.db.read() as session:
            page = session.get(Page, int(case.facts["page"]))
            current = page is not None and page.current
    finally:
        context.close()
    if current:
        must(run_step(_rescan_step(case)))


def _rescan_check(case: Case) -> None:
    context = context_of(case.home)
    try:
        with context.db.read() as session:
            first = session.scalars(select(Document).where(Document.original_filename == "item-0.png")).one()
            assert [p.text for p in first.pages] == [RESCAN_TEXT], "the rescan is the page's one current version"
        found = SearchService(context).search(ARCHIVIST, '"ledger folio corrected"')
        assert found.total == 1, "the index has the rescan's text"
    finally:
        context.close()


def _backup_step(case: Case) -> list[str]:
    return dangan(case.home, "sysadmin", "backup", "run", "--target", "offsite", "--json")


def _backup_again(case: Case) -> None:
    """The run once more: it resumes the interrupted one, and says so (a warning: exit 10)."""
    again = json.loads(must(run_step(_backup_step(case)), 0, 10).stdout)
    assert again["status"] == "complete", again


def _backup_check(case: Case) -> None:
    context = context_of(case.home)
    try:
        report = VerificationService(context).verify(SYSADMIN, target="offsite", level="backup")
    finally:
        context.close()
    assert report.grade is not Grade.ERRORS, report.model_dump()  # clean, or warnings (an interrupted run)


def _drill_step(case: Case) -> list[str]:
    return dangan(case.home, "sysadmin", "backup", "drill", "--target", "offsite", "--seed", "1", "--json")


def _drill_check(case: Case) -> None:
    assert not list((case.home / "spool").glob("drill-*")), "the crashed drill's scratch folder is cleaned up"


def _reindex_step(case: Case) -> list[str]:
    return dangan(case.home, "sysadmin", "reindex", "--json")


SCENARIOS = {
    "ingest": Scenario("ingest", _new_archive, _ingest_step, _ingest_again),
    "rescan": Scenario("rescan", _rescanned_archive, _rescan_step, _rescan_again, _rescan_check),
    "backup": Scenario("backup", _filed_archive, _backup_step, _backup_again, _backup_check),
    "drill": Scenario("drill", _backed_up_archive, _drill_step, lambda c: must(run_step(_drill_step(c))), _drill_check),
    "reindex": Scenario("reindex", _filed_archive, _reindex_step, lambda c: must(run_step(_reindex_step(c)))),
}
PREFIXES = {  # the longest matching prefix names the scenario that reaches a point
    "ingest.": "ingest",
    "job.": "ingest",
    "filing.": "ingest",
    "index.": "ingest",
    "index.rebuild_": "reindex",
    "rescan.": "rescan",
    "backup.": "backup",
    "drill.": "drill",
    "catalogue.": "ingest",  # every commit: the first one the ingest makes
    "spool.": "ingest",
    "ocr.": "ocr-worker",
    "store.": "ingest",
    "unpack.": "zip",
    "upload.": "upload",
}


def scenario_for(point: str) -> Scenario | None:
    if "zip" not in SCENARIOS:  # (the scenarios of files from outside a folder live beside, and import, this module)
        from tests import crash_upload as more

        SCENARIOS["zip"] = Scenario("zip", more._zip_archive, more._zip_step, more._zip_again)
        SCENARIOS["upload"] = Scenario("upload", more._upload_archive, more._upload_step, more._upload_again)
        SCENARIOS["ocr-worker"] = Scenario(
            "ocr-worker", _new_archive, _ingest_step, more._retry_failed, crash_exit=int(ExitCode.PROCESSING_FAILED)
        )
    matches = [prefix for prefix in PREFIXES if point.startswith(prefix)]
    return SCENARIOS[PREFIXES[max(matches, key=len)]] if matches else None


# -- invariants --------------------------------------------------------------------------------------------
@dataclass
class Tally:
    acknowledged: int
    filed: int
    duplicates: int
    stuck: int
    orphan_objects: int
    missing_objects: int


def check_invariants(case: Case) -> Tally:
    """Every acknowledged item filed exactly once, objects and rows one-to-one, the index complete, the log
    verifying, no job in hand, no half-written file left."""
    context = context_of(case.home)
    try:
        with context.db.read() as session:
            submits = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AuditAction.INGEST_SUBMIT)
            )
            jobs = list(session.scalars(select(IngestJob)))
            documents = list(session.scalars(select(Document)))
            keys = set(session.scalars(select(StoredObject.key)))
            fixity = verify_objects(session, context.store)
        stored = {key for key in context.store.iter_keys(OBJECT_PREFIX)}
        names = [d.original_filename for d in documents]
        codes = [d.reference_code for d in documents]
        tally = Tally(
            acknowledged=len(jobs),
            filed=len(documents),
            duplicates=(len(names) - len(set(names))) + (len(codes) - len(set(codes))),
            stuck=sum(1 for job in jobs if job.state not in ("done", "needs_review", "failed")),
            orphan_objects=len(stored - keys),
            missing_objects=len(keys - stored),
        )
        assert submits == len(jobs), f"{submits} INGEST_SUBMIT events for {len(jobs)} jobs"
        assert [job.state for job in jobs if job.state == "failed"] == [], [(j.id, j.error) for j in jobs]
        assert tally.filed == tally.acknowledged == ITEMS, tally
        assert tally.duplicates == 0 and tally.stuck == 0, tally
        assert tally.orphan_objects == 0, f"objects without a row: {sorted(stored - keys)}"
        assert tally.missing_objects == 0 and fixity.clean, f"rows without an object: {sorted(keys - stored)}"
        assert all(d.indexed_at is not None for d in documents), "documents filed but not indexed"
        for n in range(1 if case.facts.get("rescanned") else 0, ITEMS):  # a rescan replaced item 0's only page
            # (scans that came in a ZIP or an upload have no text: the null engine reads a sidecar beside the file)
            phrase = f"item {n}" if case.facts.get("textless") else item_phrase(n)
            assert SearchService(context).search(ARCHIVIST, f'"{phrase}"').total == 1, phrase
        verified = AuditService(context).verify(AUDITOR)
        assert verified.ok, verified.model_dump()
    finally:
        context.close()
    partial = [str(p.relative_to(case.root)) for p in case.root.rglob("*.part")]
    assert not partial, f"half-written files left: {partial}"
    spool = [p.name for p in (case.home / "spool").iterdir() if p.name not in SCRATCH_AREAS or any(p.iterdir())]
    assert not spool, f"left in the spool with no job in hand: {spool}"
    work = [
        str(p.relative_to(case.home)) for p in (case.home / "work").rglob("*") if p.is_file() or p.name != "intents"
    ]
    assert not work, f"left in the work area: {work}"
    return tally


def crash_at(point: str, case: Case, scenario: Scenario) -> Tally:
    """The whole story of one point: crash there, restart, go on as the user would, check."""
    crashed = run_step(scenario.step(case), point=point)
    assert crashed.returncode == scenario.crash_exit, (
        f"{point}: the {scenario.name} step never reached it (exit {crashed.returncode}); {crashed.stderr[-1500:]}"
    )
    restart(case.home)
    scenario.again(case)
    tally = check_invariants(case)
    scenario.check(case)
    return tally
