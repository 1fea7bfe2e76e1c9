"""Fuzz every documented API operation with schemathesis against the real app, served by uvicorn on a loopback
port in its own process (tests/fuzz_server.py: real HTTP, real lifespan and OCR worker pool), over a real
archive holding one OCRed document, as each kind of user.

Fails on any 5xx (`not_a_server_error`) and on a response that breaks its documented schema
(`response_schema_conformance`), listing every distinct finding with the exact request (curl) and the server's
exception. Bounded: MAX_EXAMPLES cases per operation, identity and mode (positive: valid inputs, as everyone;
negative: invalid inputs, as the identities in NEGATIVE_AS), no shrinking, a timeout on every request. An
operation for which no valid case can be generated is a finding, not a silent skip. Excluded, because they
would destroy the fixture rather than test it: EXCLUDED. The number of cases run is printed at the end.

schemathesis's own pytest plugin (`from_fixture(...).parametrize()`) does not run under pytest 9.2 (it sets
`Node._nodeid`), so the operations are driven here with `APIOperation.as_strategy` and Hypothesis."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.ingest.batches import BatchService
from api.wiring import Context
from tests.actors import account, token
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, render
from tests.workflow_helpers import file_batch

# Who fuzzes, by the roles they hold: the one place to change when roles are renamed. The officer accounts
# (sysadmin, secadmin, auditor) are the bootstrap's; the others are made by the security administrator.
# The security administrator goes last: the users routes it fuzzes may change accounts.
IDENTITIES: dict[str, list[str]] = {
    "sysadmin": ["sysadmin"],
    "archivist": ["archivist"],
    "staff": ["staff"],
    "auditor": ["compliance"],  # the audit routes
    "secadmin": ["secadmin"],  # the users routes
}
NEGATIVE_AS = ("sysadmin", "archivist")  # invalid input mostly stops at validation, whoever sends it
EXCLUDED = [("POST", "/api/v1/auth/logout")]  # revokes the very token the fuzzer is using
pytestmark = pytest.mark.slow  # minutes: every operation, identity and mode; `make test` runs it, `make test-fast` not

MAX_EXAMPLES = 15
REQUEST_TIMEOUT_SECONDS = 30
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Finding:
    operation: str
    mode: str
    status: int
    problem: str
    cause: str
    request: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.mode}] -> {self.status} {self.problem}: {self.cause}\n    {self.request}"


class ServerErrors:
    """Reads the exception the server recorded for each 500 (tests/fuzz_server.py writes it before answering)."""

    def __init__(self, log: Path) -> None:
        self.log, self.offset = log, 0

    def mark(self) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0

    def since_mark(self) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(self.offset)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return lines[-1] if lines else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """Two documents (real OCRed pages) so ids exist: the first in a filed batch (staff see filed records
    only), the second in an open one (the archivist's work in progress); and one account per identity."""
    root = tmp_path_factory.mktemp("fuzz")
    context = make_context(root / "var")
    archivist = account(context, "archivist", ["archivist"], "secret")
    for seed in (1, 2):
        batch = BatchService(context).create(actor=archivist, fonds="F001", languages="eng", level="internal").id
        page = render(root / "in", f"page{seed}.png", ENGLISH_TEXT, "eng", seed=seed)
        outcome = ingest_paths(context, [page], actor=archivist, batch_id=batch)
        assert outcome.jobs[0].state in ("done", "needs_review"), outcome.jobs
        if seed == 1:
            file_batch(context, batch)
    for name, roles in IDENTITIES.items():
        if name != "archivist":
            account(context, name, roles, "secret")  # the officers: the bootstrap's accounts
    yield context
    context.close()


@pytest.fixture(scope="module")
def server(archive: Context) -> Iterator[tuple[str, ServerErrors]]:
    home, port = archive.settings.home_dir, free_port()
    errors = ServerErrors(home.parent / "server-errors.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz_server", str(home), str(port), str(errors.log)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
        | {"PYTHONPATH": str(ROOT), "DANGAN_OCR_ENGINE": archive.settings.ocr_engine},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the fuzz server exited"
            assert time.monotonic() < deadline, "the fuzz server did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.2)
        yield base_url, errors
    finally:
        process.terminate()  # uvicorn stops the app, and the app its OCR workers
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


@pytest.fixture(scope="module")
def tokens(archive: Context) -> dict[str, str]:
    return {name: token(archive, name) for name in IDENTITIES}


@pytest.fixture(scope="module")
def fuzz_schema(server: tuple[str, ServerErrors]) -> Any:
    loaded = schemathesis.openapi.from_url(f"{server[0]}/openapi.json")
    for method, path in EXCLUDED:
        loaded = loaded.exclude(method=method, path=path)
    return loaded


@pytest.fixture(scope="module")
def cases_run(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Cases run per identity; the total is printed at the end of the module."""
    runs: Counter[str] = Counter()
    yield runs
    line = f"API fuzz: {sum(runs.values())} cases run ({', '.join(f'{who} {n}' for who, n in runs.items())})"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    print(line)


def fuzz_operation(
    operation: Any, mode: GenerationMode, *, base_url: str, token: str, errors: ServerErrors
) -> tuple[int, list[Finding]]:
    """Up to MAX_EXAMPLES cases of one operation; every distinct failure is kept (no shrinking: bounded time)."""
    ran = 0
    found: dict[tuple[int, str, str], Finding] = {}
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,  # bounded by max_examples and the request timeout; timing on a shared CI box varies
        database=None,
        derandomize=True,  # the same cases every run, so a finding reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal ran
        ran += 1
        errors.mark()
        response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except (AssertionError, BaseExceptionGroup) as failure:
            first = failure.exceptions[0] if isinstance(failure, BaseExceptionGroup) else failure
            problem = getattr(first, "title", type(first).__name__)
            cause = errors.since_mark() if response.status_code >= 500 else ""
            cause = cause or str(first).strip().splitlines()[0][:200]
            key = (response.status_code, problem, cause)
            if key not in found:
                command = case.as_curl_command(base_url=base_url)
                found[key] = Finding(operation.label, mode.value, response.status_code, problem, cause, command)

    with contextlib.suppress(Unsatisfiable):  # no valid (or no invalid) input exists: 0 cases
        run()
    return ran, list(found.values())


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_api_fuzz(
    who: str,
    fuzz_schema: Any,
    server: tuple[str, ServerErrors],
    tokens: dict[str, str],
    cases_run: Counter[str],
) -> None:
    base_url, errors = server
    modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if who in NEGATIVE_AS else [])]
    findings: list[Finding] = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            ran, found = fuzz_operation(operation, mode, base_url=base_url, token=tokens[who], errors=errors)
            cases_run[who] += ran
            findings.extend(found)
            if not ran and mode is GenerationMode.POSITIVE:
                findings.append(Finding(operation.label, mode.value, 0, "no case", "none could be generated", ""))
    assert not findings, f"{len(findings)} finding(s) as {who}:\n" + "\n".join(map(str, findings))
