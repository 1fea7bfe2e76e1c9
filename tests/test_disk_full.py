"""A full disk at every write point, on a real small filesystem (a tmpfs of a few MB as the spool, the object
store, the index, the OCR work area or a backup target): a one-line error naming the place and the space, exit
14 or HTTP 507, no traceback, no temp or `.part` files, a clean catalogue and fixity check, jobs `retrying` (never
stuck `processing`); and once space returns, every acknowledged item filed exactly once, with no flag.

Each test prints its counts: faults injected, items acknowledged, filed, duplicates, stuck jobs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from api.ingest.service import IngestService
from api.runners.local import LocalJobRunner
from api.search.service import SearchService
from api.wiring import Context, build_context
from archive.models import Document, IngestJob
from archive.preservation.fixity import verify_objects
from storage_config.settings import FaultOptions, Settings
from tests.actors import ARCHIVIST, account
from tests.conftest import ESCROW_PASSPHRASE
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, render
from tests.smallfs import MB, SmallFilesystems, small_fs

__all__ = ["small_fs"]  # the fixture, used by name
ROOT = Path(__file__).resolve().parent.parent
STUCK_STATES = ("queued", "processing", "retrying")


def scans(folder: Path, count: int, *, first: int = 0) -> list[Path]:
    """Rendered pages (about 75 KB each) with their sidecar text, each one distinct."""
    return [
        render(
            folder, f"item-{n:02d}.png", f"Item number {n} of the full disk box. {ENGLISH_TEXT}", "eng", seed=300 + n
        )
        for n in range(first, first + count)
    ]


def archive(home: Path, **faults: float) -> Context:
    from api.preservation.maintenance import MaintenanceService

    options = FaultOptions(free_space_reserve_mb=0, retry_first_seconds=0.2, retry_max_seconds=1, **faults)
    context = build_context(Settings(home=home, workers=1, ocr_engine="null", faults=options))
    MaintenanceService(context).initialise()
    return context


@pytest.fixture
def home(tmp_path: Path, small_fs: SmallFilesystems) -> Iterator[Path]:
    """The data directory; the test mounts a small filesystem on the part of it that it fills."""
    yield tmp_path / "var"


def run_due_jobs(context: Context, *, within: float = 60.0) -> int:
    """What a runner does once space is back: every runnable job (queued, or retrying once its short wait is
    over), until none is waiting (bounded by `within` seconds)."""
    service = IngestService(context)
    ran, deadline = 0, time.monotonic() + within
    while time.monotonic() < deadline:
        ids = service.queued_job_ids()
        if not ids:
            with context.db.session() as session:
                waiting = session.scalars(select(IngestJob.id).where(IngestJob.state.in_(("queued", "retrying"))))
                if waiting.first() is None:
                    break
            time.sleep(0.3)
            continue
        runner = LocalJobRunner(service, workers=1)
        try:
            for future in [runner.submit(job_id) for job_id in ids]:
                future.result(timeout=120)
        finally:
            runner.shutdown(wait=True)
        ran += len(ids)
    return ran


def tally(context: Context, acknowledged: list[str], *, faults: int, label: str) -> dict[str, int]:
    """filed = acknowledged, duplicates = 0, stuck = 0 (asserted by the callers); printed for the report."""
    with context.db.session() as session:
        names = list(session.scalars(select(Document.original_filename)))
        states = list(session.scalars(select(IngestJob.state)))
    counts = {
        "faults": faults,
        "acknowledged": len(acknowledged),
        "filed": len(set(names) & set(acknowledged)),
        "duplicates": len(names) - len(set(names)),
        "stuck": sum(1 for state in states if state in STUCK_STATES),
    }
    print(f"disk full [{label}]: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


def assert_clean(context: Context, home: Path) -> None:
    """No half-visible state: catalogue integrity ok, fixity clean, no temp files, no `.part` spool folders."""
    database = sqlite3.connect(home / "catalogue.sqlite3")
    try:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        database.close()
    with context.db.session() as session:
        report = verify_objects(session, context.store)
    assert report.clean, report.as_dict()
    leftovers = [p for p in home.rglob("*") if p.name.endswith(".part") or p.name.startswith("put-")]
    assert leftovers == []
    assert list((home / "objects" / ".tmp").iterdir()) == []


def dangan(
    home: Path, *args: str, env: dict[str, str] | None = None, user: str = "archivist", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`dangan ARGS` in its own process, as a person runs it (bounded: 300 s)."""
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    environment |= {"PYTHONPATH": str(ROOT), "DANGAN_OCR_ENGINE": "null", "DANGAN_WORKERS": "1"}
    environment |= {"DANGAN_FAULTS__FREE_SPACE_RESERVE_MB": "0", "DANGAN_FAULTS__RETRY_FIRST_SECONDS": "0.2"}
    environment |= {"DANGAN_FAULTS__RETRY_MAX_SECONDS": "1"}  # short waits (a runner gives up after one)
    environment |= {"DANGAN_FAULTS__JOB_LEASE_SECONDS": "2"}
    environment |= {"DANGAN_BACKUP_ESCROW_PASSPHRASE": ESCROW_PASSPHRASE}  # as a real installation has one
    environment |= env or {}
    command = [sys.executable, "-m", "api.cli", "--home", str(home), "--user", user, *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT, env=environment
    )


def admin(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return dangan(home, *args, env=env, user="sysadmin")


# --- the spool, through the command line ------------------------------------------------------------------------


def test_a_full_spool_stops_the_cli_ingest_with_one_line_and_exit_14_then_a_rerun_files_the_rest(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    context = archive(home)
    account(context, "archivist", ["archivist"])
    spool = small_fs.mount(home / "spool", 2)
    box = tmp_path / "box"
    names = [path.name for path in scans(box, 16)]
    spool.fill(leave=300 * 1024)  # room for about four spooled scans

    first = dangan(home, "ingest", str(box), "--json")
    assert first.returncode == 14, first.stdout[-1500:] + first.stderr[-1500:]
    run = json.loads(first.stdout)  # --json still prints its JSON
    assert "Traceback" not in first.stderr
    errors = [line for line in first.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the spool at" in errors[0] and "is full" in errors[0], first.stderr
    assert "free" in errors[0] and "more" in errors[0] and "DANGAN_HOME" in errors[0]
    refused = [row["item"] for row in run["rejected"]]
    assert refused and all(row["exit_code"] == 14 for row in run["rejected"])
    acknowledged = [job["source_name"] for job in run["jobs"]]
    assert set(acknowledged) | set(refused) == set(names)
    assert_clean(context, home)

    spool.release()  # space returns: the same command again takes what was refused
    second = dangan(home, "ingest", str(box), "--batch", str(run["batch_id"]), "--json")
    assert second.returncode == 0, second.stdout[-1500:] + second.stderr[-1500:]
    counts = tally(context, names, faults=len(refused), label="spool, CLI")
    assert counts == {"faults": len(refused), "acknowledged": 16, "filed": 16, "duplicates": 0, "stuck": 0}
    assert_clean(context, home)
    context.close()


# --- the object store: jobs wait, and finish once space returns ----------------------------------------------------


def test_a_full_object_store_leaves_jobs_retrying_and_they_finish_once_space_returns(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    context = archive(home)
    objects = small_fs.mount(home / "objects", 2)  # about a dozen items fit (original + PDF/A + text each)
    names = [path.name for path in scans(tmp_path / "box", 20)]
    run = ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)

    waiting = [job for job in run.jobs if job.state == "retrying"]
    assert waiting, [job.state for job in run.jobs]
    assert all("the object store at" in str(job.error) and "is full" in str(job.error) for job in waiting)
    assert all(str(home) not in str(job.error) for job in waiting)  # job errors are shown to users
    assert run.exit_code() == 14
    assert {job.state for job in run.jobs} <= {"done", "retrying"}  # none failed, none left processing
    assert_clean(context, home)

    objects.grow(16)
    ran = run_due_jobs(context)
    assert ran >= len(waiting)
    counts = tally(context, names, faults=len(waiting), label="object store")
    assert counts == {"faults": len(waiting), "acknowledged": 20, "filed": 20, "duplicates": 0, "stuck": 0}
    assert_clean(context, home)
    context.close()


# --- the search index: filed anyway, indexed once space returns -------------------------------------------------


def test_a_full_index_files_the_items_and_indexes_them_once_space_returns(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    context = archive(home)
    index = small_fs.mount(home / "index", 1)
    scans(tmp_path / "box", 3)
    ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    index.fill_up()
    names = [path.name for path in scans(tmp_path / "more", 4, first=3)]
    run = ingest_paths(context, [tmp_path / "more"], actor=ARCHIVIST)
    assert {job.state for job in run.jobs} == {"done"}  # the index is derived data: filing goes on
    with context.db.session() as session:
        unindexed = list(session.scalars(select(Document.id).where(Document.indexed_at.is_(None))))
    assert len(unindexed) == 4
    assert SearchService(context).search(ARCHIVIST, '"item number 1 of"').total == 1  # the last good commit

    index.release()
    assert IngestService(context).index_unindexed() == 4
    for n in range(7):
        assert SearchService(context).search(ARCHIVIST, f'"item number {n} of"').total == 1, n
    tally(context, names, faults=4, label="search index")
    context.close()


# --- the OCR work area: a full disk is not an "internal error" ---------------------------------------------------


def test_a_full_ocr_work_area_makes_jobs_wait_not_fail(home: Path, small_fs: SmallFilesystems, tmp_path: Path) -> None:
    context = archive(home)
    work = small_fs.mount(home / "work", 1)
    work.fill_up()
    names = [path.name for path in scans(tmp_path / "box", 3)]
    run = ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    assert [job.state for job in run.jobs] == ["retrying"] * 3, [(job.state, job.error) for job in run.jobs]
    assert all(str(job.error).startswith("the OCR work area at") for job in run.jobs)
    assert not any("internal error" in str(job.error) for job in run.jobs)

    work.release()
    run_due_jobs(context)
    counts = tally(context, names, faults=3, label="OCR work area")
    assert counts == {"faults": 3, "acknowledged": 3, "filed": 3, "duplicates": 0, "stuck": 0}
    assert_clean(context, home)
    context.close()


# --- a backup target --------------------------------------------------------------------------------------------


def test_a_full_backup_target_exits_14_leaves_no_partial_copy_and_the_next_run_completes(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    context = archive(home)
    account(context, "sysadmin", ["sysadmin"])
    scans(tmp_path / "box", 8)
    ingest_paths(context, [tmp_path / "box"], actor=ARCHIVIST)
    target = small_fs.mount(tmp_path / "target", 1)  # eight items need about 1.3 MB
    context.close()

    assert admin(home, "backup", "target", "add", "small", "--path", str(target.folder)).returncode == 0
    full = admin(home, "backup", "run", "--target", "small")
    assert full.returncode == 14, full.stdout[-1500:] + full.stderr[-1500:]
    assert "Traceback" not in full.stderr
    assert "the backup target at" in full.stderr and "is full" in full.stderr, full.stderr
    assert list((target.folder / ".tmp").iterdir()) == []  # no half-written copy
    assert not list((home / "spool").glob("backup-*"))  # nor its scratch folder

    target.grow(8)
    done = admin(home, "backup", "run", "--target", "small", "--json")
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    checked = admin(home, "verify", "--level", "backup", "--target", "small")
    assert checked.returncode == 0, checked.stdout[-1500:] + checked.stderr[-1500:]


# --- the reserve, and `dangan status` ----------------------------------------------------------------------------


def test_the_reserve_refuses_new_items_before_the_disk_is_full_and_status_warns_early(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    context = archive(home)
    account(context, "archivist", ["archivist"])
    account(context, "sysadmin", ["sysadmin"])
    context.close()
    spool = small_fs.mount(home / "spool", 8)
    box = tmp_path / "box"
    names = [path.name for path in scans(box, 6)]
    reserve = {"DANGAN_FAULTS__FREE_SPACE_RESERVE_MB": "3"}

    spool.fill(leave=int(5.5 * MB))  # above the reserve, below twice it: low
    low = admin(home, "status", env=reserve)
    assert low.returncode == 0, low.stderr
    assert any(line.startswith("spool") and " low " in line for line in low.stdout.splitlines()), low.stdout
    assert "warning: the spool at" in low.stderr
    report = json.loads(admin(home, "status", "--json", env=reserve).stdout)
    assert report["state"] == "low" and report["places"][0]["place"] == "spool"

    spool.release()
    spool.fill(leave=int(3.2 * MB))  # two or three scans from the reserve
    run = dangan(home, "ingest", str(box), "--json", env=reserve)
    assert run.returncode == 14, run.stdout[-1500:] + run.stderr[-1500:]
    assert "warning: the spool at" in run.stderr  # the early warning, before any item
    assert "would fall below the free-space reserve" in run.stderr and "Traceback" not in run.stderr
    taken = json.loads(run.stdout)
    assert taken["rejected"] and spool.free_bytes() > 3 * MB  # refused before the disk was full

    refusing = admin(home, "status", env={"DANGAN_FAULTS__FREE_SPACE_RESERVE_MB": "6"})
    assert refusing.returncode == 14 and " refusing " in refusing.stdout
    spool.release()
    rerun = dangan(home, "ingest", str(box), "--batch", str(taken["batch_id"]), env=reserve)
    assert rerun.returncode == 0, rerun.stdout[-1500:] + rerun.stderr[-1500:]
    context = build_context(Settings(home=home))
    counts = tally(context, names, faults=len(taken["rejected"]), label="reserve")
    assert counts["filed"] == 6 and counts["duplicates"] == 0 and counts["stuck"] == 0
    context.close()


# --- the whole data directory on a small disk: whichever write point fills first ------------------------------


# A full catalogue can keep a job from recording anything: its lease, no longer renewed, runs out and the job is
# taken up again once there is room.
def test_a_small_data_directory_fills_up_then_every_acknowledged_item_is_filed_once(
    home: Path, small_fs: SmallFilesystems, tmp_path: Path
) -> None:
    disk = small_fs.mount(home, 6)
    context = archive(home)
    account(context, "archivist", ["archivist"])
    box = tmp_path / "box"
    names = [path.name for path in scans(box, 30)]

    # (26 s alone; it took over 150 s on a CI machine loaded by other work)
    first = dangan(home, "ingest", str(box), "--json", timeout=600)  # a hang bound: a full disk must end the run
    assert first.returncode == 14, first.stdout[-1500:] + first.stderr[-1500:]
    run = json.loads(first.stdout)
    assert "Traceback" not in first.stderr and "unexpected" not in first.stderr, first.stderr[-2000:]
    assert len([line for line in first.stderr.splitlines() if line.startswith("error:")]) == 1
    assert {job["state"] for job in run["jobs"]} <= {"done", "retrying", "queued", "processing"}
    acknowledged = [job["source_name"] for job in run["jobs"]]
    waiting = sum(1 for job in run["jobs"] if job["state"] != "done")
    assert_clean(context, home)

    disk.grow(64)
    deadline = time.monotonic() + 60  # leases of 2 s (see `dangan`): a job the full catalogue held is taken over
    while tally(context, names, faults=0, label="waiting")["stuck"] and time.monotonic() < deadline:
        run_due_jobs(context, within=5)
        time.sleep(1)
    again = dangan(home, "ingest", str(box), "--batch", str(run["batch_id"]), "--json")
    assert again.returncode == 0, again.stdout[-1500:] + again.stderr[-1500:]
    counts = tally(context, names, faults=waiting + len(run["rejected"]), label="whole data directory")
    assert counts["filed"] == 30 and counts["duplicates"] == 0 and counts["stuck"] == 0
    assert set(acknowledged) <= set(names)
    assert_clean(context, home)
    context.close()
