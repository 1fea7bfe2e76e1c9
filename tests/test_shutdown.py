"""A stopped `dangan serve` or `dangan ingest --watch` leaves no OCR worker behind, and its job is either
finished within the grace or handed back (queued, no lease), never left `processing`. The real console script
runs as a subprocess; its process tree is read from /proc (workers are forked by the forkserver, so they are
grandchildren, and orphans are re-parented away: every pid seen is remembered with its start time and checked
again after the parent has gone)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.wiring import Context
from archive.models import IngestJob
from ingest.engines.sidecar import is_sidecar
from ingest.grouping import PlannedItem
from tests.actors import ARCHIVIST, account
from tests.conftest import make_context
from tests.pages import ENGLISH_TEXT, render

ROOT = Path(__file__).resolve().parent.parent
DANGAN = Path(sys.executable).parent / "dangan"
PAGES = 4  # one item of a few pages: its OCR is still running when the signal comes
EXIT_BOUND_SECONDS = 60


def proc_stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a live process, from /proc/PID/stat; None once it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every process below `root`, as pid → start time."""
    children: dict[int, list[int]] = {}
    started: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := proc_stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
            started[int(entry.name)] = stat[2]
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = started[child]
            todo.append(child)
    return found


def still_running(seen: dict[int, int]) -> list[int]:
    """Those of `seen` that are the same process as before and not a zombie (PID 1 may never reap them)."""
    alive = []
    for pid, start in seen.items():
        stat = proc_stat(pid)
        if stat is not None and stat[2] == start and stat[1] not in "ZX":
            alive.append(pid)
    return alive


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def job_states(context: Context) -> list[str]:
    with context.db.session() as session:
        return [str(state) for state in session.scalars(select(IngestJob.state).order_by(IngestJob.id))]


def page_folder(folder: Path) -> Path:
    for n in range(1, PAGES + 1):
        render(folder, f"p{n}.png", f"{ENGLISH_TEXT} Page {n}.", "eng", seed=40 + n)
    return folder


def start(args: list[str], home: Path, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env |= {"DANGAN_WORKERS": "2", "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])}
    env |= extra or {}
    return subprocess.Popen(
        [str(DANGAN), "--home", str(home), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a signal to the test's process group never reaches it by accident
    )


def stop_and_check(process: subprocess.Popen[bytes], context: Context, signum: signal.Signals) -> list[str]:
    """Once OCR workers run the job: signal the parent; it exits 130, no process of its tree remains, and the
    job is done (finished within the grace) or handed back for the next start (queued), never `processing`."""
    seen: dict[int, int] = {}

    def workers_running() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        seen.update(tree := descendants(process.pid))
        grandchildren = [pid for pid in tree if (stat := proc_stat(pid)) is not None and stat[0] != process.pid]
        return "processing" in job_states(context) and bool(grandchildren)

    wait_for(workers_running, "an OCR worker process running the job")
    process.send_signal(signum)
    deadline = time.monotonic() + EXIT_BOUND_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        seen.update(descendants(process.pid))  # anything started while it stops is remembered too
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        pytest.fail(f"the parent did not exit within {EXIT_BOUND_SECONDS} s of {signum.name}")
    gone = time.monotonic() + 10  # SIGKILL is delivered, not awaited
    while still_running(seen) and time.monotonic() < gone:
        time.sleep(0.1)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in still_running(seen)}
    assert not left, f"still running after the parent exited: {left}"
    if signum == signal.SIGTERM:  # Ctrl-C is how a watch normally ends (0); SIGTERM is a stop (130)
        assert process.returncode == 130, process.returncode
    states = job_states(context)
    assert states in (["queued"], ["done"]), states
    assert len(IngestService(context).pending_job_ids()) == states.count("queued")  # what the next start runs
    return states


@pytest.mark.parametrize("http_workers", ["1", "2"])
def test_stopping_serve_ends_its_workers(tmp_path: Path, http_workers: str) -> None:  # uvicorn: SIGINT alike
    context = make_context(tmp_path / "var")
    try:
        batch = BatchService(context).create(actor=ARCHIVIST, fonds="F001", languages="eng").id
        folder = page_folder(tmp_path / "in" / "item")
        IngestService(context).submit_item(
            batch, PlannedItem("item", tuple(sorted(f for f in folder.iterdir() if not is_sidecar(f)))), actor=ARCHIVIST
        )
        no_grace = {"DANGAN_FAULTS__SHUTDOWN_GRACE_SECONDS": "0", "DANGAN_SERVER__WORKERS": http_workers}
        process = start(["serve", "--port", str(free_port())], tmp_path / "var", no_grace)  # resumes the queued job
        assert stop_and_check(process, context, signal.SIGTERM) == ["queued"]
    finally:
        context.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_a_watched_folder_ends_its_workers(tmp_path: Path, signum: signal.Signals) -> None:
    context = make_context(tmp_path / "var")
    try:
        archivist = account(context, "archivist", ["archivist"])  # the command line acts as a named account
        batch = BatchService(context).create(actor=archivist, fonds="F001", languages="eng").id
        hot = tmp_path / "hot"
        page_folder(hot / "item")
        process = start(
            ["--user", "archivist", "ingest", str(hot), "--batch", str(batch), "--watch", "--interval", "0.2"],
            tmp_path / "var",
        )
        stop_and_check(process, context, signum)
    finally:
        context.close()
