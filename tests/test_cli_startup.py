"""`dangan --help` and `dangan search` start without the OCR, PDF, imaging and S3 libraries (nor tantivy when the
engine is whoosh): measured with `python -X importtime` in a real subprocess, as a person would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.pages import english_page

ROOT = Path(__file__).resolve().parent.parent
HEAVY = frozenset({"ocrmypdf", "pytesseract", "PIL", "pikepdf", "pdfminer", "minio", "numpy", "tantivy"})
NOT_FOR_HELP = HEAVY | {"fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "whoosh"}  # help needs none


def imported(args: list[str], cwd: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run `python -X importtime -m api.cli ARGS`; every top-level package imported, with the chain that did."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    environment |= {"PYTHONPATH": str(ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "api.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done, chains(done.stderr)


def chains(importtime: str) -> dict[str, str]:
    """First import of each top-level package -> 'pkg.mod <- importer <- ... <- api.cli' (importtime prints a
    module after the modules it imported, indented by two spaces per level)."""
    rows = []
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            name = line.rsplit("|", 1)[1]
            rows.append(((len(name) - len(name.lstrip(" "))) // 2, name.strip()))
    found: dict[str, str] = {}
    for index, (depth, name) in enumerate(rows):
        top = name.split(".")[0]
        if top in found:
            continue
        chain, level = [name], depth
        for later_depth, later in rows[index + 1 :]:
            if later_depth < level:
                chain.append(later)
                level = later_depth
        found[top] = " <- ".join(chain)
    return found


def test_help_imports_only_the_command_line(tmp_path: Path) -> None:
    done, packages = imported(["--help"], tmp_path, DANGAN_HOME=str(tmp_path / "var"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "search" in done.stdout and "ingest" in done.stdout
    assert "api" in packages and "typer" in packages  # the measurement sees our imports at all
    loaded = {name: chain for name, chain in packages.items() if name in NOT_FOR_HELP}
    assert not loaded, "\n".join(loaded.values())


def test_search_in_an_archive_imports_no_ocr_pdf_imaging_or_s3(cli: Cli, tmp_path: Path) -> None:
    page = english_page(tmp_path / "scans")
    assert cli("init").exit_code == 0
    assert cli("ingest", str(page.path.parent)).exit_code == 0
    args = ["--home", str(cli.home), "--user", cli.user, "search", "payroll"]
    done, packages = imported(args, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 document(s) match" in done.stdout  # a real search that found the page
    assert "whoosh" in packages and "sqlalchemy" in packages
    loaded = {name: chain for name, chain in packages.items() if name in HEAVY}
    assert not loaded, "\n".join(loaded.values())


def test_tantivy_is_imported_when_it_is_the_engine_configured(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGAN_SEARCH_ENGINE", "tantivy")
    assert cli("init").exit_code == 0
    args = ["--home", str(cli.home), "--user", cli.user, "search", "payroll"]
    done, packages = imported(args, tmp_path, DANGAN_SEARCH_ENGINE="tantivy")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no documents match 'payroll'" in done.stdout  # the search ran (and found nothing)
    assert "tantivy" in packages
    loaded = {name: chain for name, chain in packages.items() if name in HEAVY - {"tantivy"}}
    assert not loaded, "\n".join(loaded.values())
