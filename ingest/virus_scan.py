"""The virus scan of the DA/T 70 security checks (archive.preservation.dat70's VirusScanner): ClamAV's
`clamdscan` (the daemon's client, fast) or `clamscan`, whichever is on PATH. Without either the scan is not
run, and says so: it never passes in their absence."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from archive.preservation.dat70 import ScanOutcome

SCANNERS = ("clamdscan", "clamscan")
CLEAN, INFECTED = 0, 1  # ClamAV's exit statuses; anything else is an error
TIMEOUT_SECONDS = 600


class ClamScanner:
    def __init__(self, *, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds

    def scan(self, paths: Sequence[Path]) -> ScanOutcome:
        found = next(((name, shutil.which(name)) for name in SCANNERS if shutil.which(name)), None)
        if found is None:
            return ScanOutcome(
                available=False, reason="ClamAV is not installed (neither clamdscan nor clamscan is on PATH)"
            )
        name, program = found
        command = [str(program), "--no-summary", "--infected"]
        if name == "clamdscan":
            command.append("--fdpass")  # the daemon reads files it may not open itself through our descriptor
        try:
            ran = subprocess.run(
                [*command, *map(str, paths)],
                capture_output=True,
                text=True,
                timeout=self.timeout_seconds,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ScanOutcome(available=True, engine=name, error=f"{type(exc).__name__}: {exc}")
        infected = _infected(ran.stdout)
        if ran.returncode not in (CLEAN, INFECTED) or (ran.returncode == INFECTED and not infected):
            message = (ran.stderr or ran.stdout).strip().splitlines()
            return ScanOutcome(available=True, engine=name, error=message[-1] if message else f"exit {ran.returncode}")
        return ScanOutcome(available=True, engine=name, infected=infected)


def _infected(output: str) -> dict[str, str]:
    """`/path: Signature FOUND` lines → path → signature."""
    infected: dict[str, str] = {}
    for line in output.splitlines():
        if line.endswith(" FOUND") and ": " in line:
            path, _, rest = line.rpartition(": ")
            infected[path] = rest.removesuffix(" FOUND")
    return infected
