"""How fast a refused upload is refused, and how many bytes the server writes for it.

A real uvicorn server on 127.0.0.1 (a child process, the default settings: max_upload_mb = 2048) and a
streaming httpx client whose body is a generator, so the client never holds the body in memory. For each
case: seconds from the first byte sent to the answer, the status, and the bytes the server process wrote
(`wchar` in /proc/<pid>/io: temp files, spool files and the database; the tiny responses too).
Cases: an anonymous and a staff 1 GiB POST /api/v1/documents (staff may not upload), an archivist's
2 GiB + 2 MiB POST (over the limit with its
multipart framing), each once with Content-Length declared and once chunked (no length: the server can only
count, so it reads up to the cap before it can refuse); and an archivist's 256 MiB body within the limit, received
in full and then refused by validation (zeros are not a TIFF): its written MiB is how many copies of a
received body the server makes (1.0 x the body is one copy).
Usage: python -m bench.bench_upload_limits [GiB_ANONYMOUS] [GiB_ADMIN]   (defaults: 1 and 2)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

MiB = 1024 * 1024
BOUNDARY = "benchboundary"


def serve(home: Path, port: int) -> None:
    """The child: the app over an archive in `home`, under uvicorn."""
    import uvicorn

    from api.http.app import create_app
    from api.wiring import build_context
    from storage_config.settings import Settings

    context = build_context(Settings(home=home, workers=1))
    uvicorn.run(create_app(context), host="127.0.0.1", port=port, log_level="warning")


def prepare(home: Path) -> tuple[str, str]:
    from api.access.accounts import AccountService
    from api.access.users import UserService
    from api.preservation.maintenance import MaintenanceService
    from api.wiring import build_context
    from archive.values import Role
    from storage_config.settings import Settings

    context = build_context(Settings(home=home, workers=1))
    MaintenanceService(context).initialise()
    users = UserService(context)
    users.bootstrap()
    for name, role in (("bench-archivist", Role.ARCHIVIST), ("bench-staff", Role.STAFF)):
        AccountService(context).create(
            actor=users.officer(Role.SECADMIN),
            username=name,
            password=f"{name} passphrase",
            roles=[role.value],
            clearance="top_secret",
        )
    tokens = [
        str(users.issue_token(users.principal(name), name, label="bench").token)
        for name in ("bench-archivist", "bench-staff")
    ]
    context.close()
    return tokens[0], tokens[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/<pid>/io")


def multipart(file_bytes: int) -> tuple[int, Iterator[bytes]]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.tif"\r\n'
        "Content-Type: image/tiff\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        block = b"\0" * MiB
        for _ in range(file_bytes // MiB):
            yield block
        yield b"\0" * (file_bytes % MiB)
        yield tail

    return len(head) + file_bytes + len(tail), chunks()


def measure(url: str, pid: int, *, token: str | None, file_bytes: int, declare_length: bool) -> dict[str, object]:
    length, body = multipart(file_bytes)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if declare_length:
        headers["Content-Length"] = str(length)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    before = written(pid)
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=600) as client:
            response = client.post(f"{url}/api/v1/documents", content=body, headers=headers)
        status: object = response.status_code
        error: object = response.json().get("error")
    except httpx.HTTPError as exc:  # the server closed the connection without an answer the client could read
        status, error = "no answer", exc.__class__.__name__
    seconds = time.perf_counter() - started
    time.sleep(0.5)  # let the server finish removing what it wrote
    return {"status": status, "error": error, "seconds": seconds, "written_mib": (written(pid) - before) / MiB}


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        serve(Path(argv[1]), int(argv[2]))
        return 0
    anonymous_gib = float(argv[0]) if argv else 1.0
    admin_gib = float(argv[1]) if len(argv) > 1 else 2.0  # the archivist's body
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as scratch:
        home = Path(scratch) / "var"
        token, staff = prepare(home)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_upload_limits", "--serve", str(home), str(port)], env=env
        )
        try:
            wait_until_up(url, server)
            cases = [
                ("anonymous", None, int(anonymous_gib * 1024) * MiB),
                ("staff (may not upload)", staff, int(anonymous_gib * 1024) * MiB),
                ("archivist, over limit", token, int(admin_gib * 1024) * MiB + 2 * MiB),
                ("archivist, received", token, 256 * MiB),  # within the limit: received in full, then 415
            ]
            columns = ("case", "body", "length", "status", "error", "seconds", "written MiB")
            print("{:<22} {:>10} {:>9} {:>8} {:>16} {:>8} {:>12}".format(*columns))
            for label, who, size in cases:
                for declared in (True, False):
                    result = measure(url, server.pid, token=who, file_bytes=size, declare_length=declared)
                    print(
                        f"{label:<22} {size / MiB:>6.0f} MiB {'declared' if declared else 'chunked':>9} "
                        f"{result['status']!s:>8} {result['error']!s:>16} {result['seconds']:>8.2f} "
                        f"{result['written_mib']:>12.1f}"
                    )
            leftovers = sum(p.stat().st_size for p in (home / "spool").rglob("*") if p.is_file())
            print(f"left in the spool afterwards: {leftovers / MiB:.1f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
