"""Kill -9 the ingesting process at arbitrary moments, restart, and every item is filed exactly once:
no duplicates, no object without a row, no row without an object, a clean verification and index."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from api.search.service import SearchService
from archive.keys import OBJECT_PREFIX
from archive.models import Document, IngestJob, StoredObject
from archive.preservation.fixity import verify_objects
from tests.actors import ARCHIVIST, account
from tests.conftest import make_context
from tests.pages import ENGLISH_TEXT, render

ITEMS = 6
KILLS = 4


def dangan(home: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from api.cli import main; sys.exit(main(sys.argv[1:]))",
        "--home",
        str(home),
        "--user",
        "archivist",  # the command line acts as a named account
        *args,
    ]


# A killed run's jobs are taken over 2 s after its death; the same job may be killed at every one of the KILLS
# (it is not a poison job that kills its worker: the test kills the runner).
LEASE = {"DANGAN_FAULTS__JOB_LEASE_SECONDS": "2", "DANGAN_FAULTS__POISON_DEATHS": str(KILLS + 1)}


def run_and_kill(command: list[str], after: float) -> None:
    """Start the whole process group (CLI, fork server, OCR workers) and SIGKILL it after `after` seconds."""
    process = subprocess.Popen(
        command,
        env=os.environ | LEASE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_kill_9_at_random_moments_then_resume_files_every_item_exactly_once(tmp_path: Path) -> None:
    home = tmp_path / "var"
    box = tmp_path / "box"
    for n in range(ITEMS):
        render(box, f"item-{n}.png", f"Item number {n} of the crash box. " + ENGLISH_TEXT, "eng", seed=40 + n)
    context = make_context(home)
    account(context, "archivist", ["archivist"])
    created = subprocess.run(
        dangan(home, "batch", "create", "--fonds", "C9", "--lang", "eng", "--json"),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    batch_id = created.stdout.split('"id": ')[1].split(",")[0]
    rng = random.Random(1234)
    for _ in range(KILLS):
        run_and_kill(dangan(home, "ingest", str(box), "--batch", batch_id, "--resume"), after=rng.uniform(1.0, 4.0))
    final = subprocess.run(  # no --resume needed: the killed runs' jobs are reclaimed once their leases expire
        dangan(home, "ingest", str(box), "--batch", batch_id, "--json"),
        env=os.environ | LEASE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]

    with context.db.session() as session:
        documents = list(session.scalars(select(Document)))
        assert sorted(d.original_filename for d in documents) == [f"item-{n}.png" for n in range(ITEMS)]
        states = list(session.scalars(select(IngestJob.state)))
        assert states.count("done") == ITEMS and set(states) <= {"done", "failed"}
        referenced = set(session.scalars(select(StoredObject.key)))
        assert session.scalar(select(func.count()).select_from(StoredObject)) == ITEMS * 3
        report = verify_objects(session, context.store)
    assert report.clean, report.as_dict()  # no row without an object
    assert set(context.store.iter_keys(OBJECT_PREFIX)) == referenced  # no object without a row
    assert all(d.indexed_at is not None for d in documents)
    for n in range(ITEMS):
        found = SearchService(context).search(ARCHIVIST, f'"item number {n} of"')
        assert found.total == 1, n
    context.close()
