"""More crash scenarios for tests/crashpoints.py's table: a ZIP being unpacked (`unpack.*`), scans uploaded to
`dangan serve` over HTTP (`upload.*`), and an OCR worker process killed mid-item (`ocr.*`)."""

from __future__ import annotations

import json
import socket
import sys
import zipfile

from tests.crashpoints import Case, _ingest_again, _new_archive, dangan, must, restart, run_step

# One `dangan serve` on a free loopback port, an upload of each scan of the case's box; then, with no failpoint
# armed, wait for their jobs to end. A server killed at a crash point kills this step too (the harness expects -9).
UPLOAD = r"""
import os, signal, subprocess, sys, time
import httpx

home, box, token, port = sys.argv[1:5]
server = subprocess.Popen(
    [sys.executable, "-m", "api.cli", "--home", home, "serve", "--port", port], stdin=subprocess.DEVNULL
)
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + 60
while time.monotonic() < deadline and server.poll() is None:
    try:
        if httpx.get(base + "/healthz", timeout=1).status_code == 200:
            break
    except httpx.HTTPError:
        time.sleep(0.2)
headers = {"Authorization": f"Bearer {token}"}
jobs = []
for scan in sorted(os.listdir(box)):
    try:
        with open(os.path.join(box, scan), "rb") as handle:
            files = {"file": (scan, handle, "image/png")}
            answer = httpx.post(base + "/api/v1/documents", headers=headers, files=files, timeout=60)
        print(answer.status_code, answer.text)
        if answer.status_code in (200, 202):
            jobs.append(answer.json()["id"])
    except httpx.HTTPError as exc:
        print("upload interrupted:", exc)
        break
if os.environ.get("DANGAN_FAILPOINTS"):
    server.wait(timeout=60)
    if server.returncode == -signal.SIGKILL:
        os.kill(os.getpid(), signal.SIGKILL)  # this step died where the server did
    sys.exit(1)
while jobs and time.monotonic() < deadline + 60:
    states = [httpx.get(f"{base}/api/v1/jobs/{job}", headers=headers, timeout=10).json()["state"] for job in jobs]
    if all(state in ("done", "needs_review", "failed") for state in states):
        break
    time.sleep(0.3)
server.terminate()
server.wait(timeout=60)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _zip_archive(case: Case) -> None:
    _new_archive(case)
    case.facts["textless"] = "yes"
    with zipfile.ZipFile(case.root / "box.zip", "w") as packed:
        for scan in sorted(case.box.glob("*.png")):
            packed.write(scan, scan.name)


def _zip_step(case: Case) -> list[str]:
    return dangan(case.home, "archivist", "ingest", str(case.root / "box.zip"), "--batch", case.facts["batch"])


def _zip_again(case: Case) -> None:
    _ingest_again(case)  # the same folder's scans: what the ZIP held


def _upload_archive(case: Case) -> None:
    _new_archive(case)
    case.facts["textless"] = "yes"
    issued = must(run_step(dangan(case.home, "archivist", "users", "token", "archivist", "--json")))
    case.facts["token"] = json.loads(issued.stdout)["token"]


def _upload_step(case: Case) -> list[str]:
    return [sys.executable, "-c", UPLOAD, str(case.home), str(case.box), case.facts["token"], str(_free_port())]


def _upload_again(case: Case) -> None:
    """The uploader got no answer (or an error) for the first scan, so they upload the box again (the scans
    already acknowledged are refused as duplicates)."""
    must(run_step(_upload_step(case)))


def _retry_failed(case: Case) -> None:
    """An OCR worker killed on every try fails its item's job ("the OCR worker process died twice"); once the
    cause is gone, the archivist retries the failed jobs and runs them."""
    must(run_step(dangan(case.home, "archivist", "jobs", "retry", "--failed")))
    restart(case.home)
