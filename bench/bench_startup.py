"""Start-up time of the command line: `dangan --help` beside `python -c pass` and `python -c "import fastapi"`.

Each command runs N times in a fresh interpreter (the project root on PYTHONPATH, as the console script sees
it); the median wall time is printed with its ratio to `python -c pass`, and the packages that the slowest
imports of `dangan --help` come from (`python -X importtime`).
Usage: python -m bench.bench_startup [RUNS]   (default: 9)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    'python -c "import fastapi"': ["-c", "import fastapi"],
    "dangan --help": ["-m", "api.cli", "--help"],
    "dangan --version": ["-m", "api.cli", "--version"],
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def heaviest(cwd: Path, env: dict[str, str], count: int = 6) -> list[tuple[str, float]]:
    """Top-level packages of `dangan --help` by their own import time (self, summed), in seconds."""
    command = [sys.executable, "-X", "importtime", "-m", "api.cli", "--help"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            top = name.strip().split(".")[0]
            totals[top] = totals.get(top, 0.0) + int(own) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")} | {"PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="dangan-bench-startup-") as scratch:
        cwd = Path(scratch)
        env["DANGAN_HOME"] = str(cwd / "var")
        for args in COMMANDS.values():
            run(args, cwd, env)  # warm the page cache and the bytecode caches once
        medians = {
            label: statistics.median(run(args, cwd, env) for _ in range(runs)) for label, args in COMMANDS.items()
        }
        top = heaviest(cwd, env)
    base = medians["python -c pass"]
    print(f"median wall time of {runs} runs each (fresh interpreter; {os.cpu_count()} cores)")
    for label, seconds in medians.items():
        print(f"  {label:28} {seconds * 1000:7.0f} ms  {seconds / base:5.1f}x python -c pass")
    fastapi = medians['python -c "import fastapi"']
    print(f"  dangan --help / python -c 'import fastapi': {medians['dangan --help'] / fastapi:.2f}x")
    print("  own import time of `dangan --help` by package: " + ", ".join(f"{n} {s * 1000:.0f} ms" for n, s in top))


if __name__ == "__main__":
    main()
