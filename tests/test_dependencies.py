"""Every third-party import is declared, every declaration is bounded, and the locks pin it all with hashes.

The packages (archive, storage_config, ingest, search, api) may import only what pyproject.toml's runtime
`dependencies` declare; tests/ and bench/ may also use the `dev` extra. An import name is mapped to its
distribution with importlib.metadata.packages_distributions() (PIL -> pillow, opencc -> OpenCC, ...).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("archive", "storage_config", "ingest", "search", "api")
DEV_TREES = ("tests", "bench")
OURS = {*PACKAGES, *DEV_TREES}
TYPING_ONLY = {"_typeshed"}  # typeshed's stub-only module, imported under `if TYPE_CHECKING` (never at run time)
DATE_VERSIONED = {"certifi", "pdfminer-six"}  # versions are dates: an upper bound would mean nothing
LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"


def project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def requirements(*extras: str) -> list[Requirement]:
    meta = project()
    declared = [Requirement(line) for line in meta["dependencies"]]  # type: ignore[attr-defined]
    optional: dict[str, list[str]] = meta["optional-dependencies"]  # type: ignore[assignment]
    return declared + [Requirement(line) for extra in extras for line in optional[extra]]


def names(reqs: list[Requirement]) -> set[str]:
    return {canonicalize_name(req.name) for req in reqs}


def imported_modules(trees: tuple[str, ...], root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level third-party modules imported anywhere under `trees` (lazy imports included) -> files."""
    found: dict[str, set[str]] = {}
    for tree in trees:
        for path in sorted((root / tree).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in OURS or top in TYPING_ONLY or top == "__future__":
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(root)))
    return found


def undeclared(imports: dict[str, set[str]], declared: set[str]) -> dict[str, str]:
    """Each import whose distribution is not among `declared`, with the reason and where it is imported."""
    distributions = packages_distributions()
    problems: dict[str, str] = {}
    for module, files in sorted(imports.items()):
        owners = {canonicalize_name(name) for name in distributions.get(module, [])}
        if not owners:
            problems[module] = f"no installed distribution provides it (imported in {sorted(files)})"
        elif not owners & declared:
            problems[module] = f"from {sorted(owners)}, not declared (imported in {sorted(files)})"
    return problems


def lock_entries(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (pinned version, number of hashes) for each entry of a requirements lock."""
    text = lock.read_text(encoding="utf-8")
    matches = list(LOCK_ENTRY.finditer(text))
    entries: dict[str, tuple[str, int]] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        entries[canonicalize_name(match.group(1))] = (match.group(2), body.count("--hash=sha256:"))
    return entries


def test_the_packages_import_only_declared_runtime_dependencies() -> None:
    imports = imported_modules(PACKAGES)
    assert {"numpy", "fastapi", "sqlalchemy"} <= set(imports)  # the scan sees the packages' real imports
    assert undeclared(imports, names(requirements())) == {}


def test_tests_and_benchmarks_import_only_runtime_dev_or_postgres_dependencies() -> None:
    imports = imported_modules(DEV_TREES)
    assert {"pytest", "playwright"} <= set(imports)
    # `make test` installs the dev lock, which holds the postgres extra too (the PostgreSQL tests use psycopg)
    assert undeclared(imports, names(requirements("dev", "postgres"))) == {}


def test_the_check_catches_an_undeclared_import(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    source = "import os\nimport numpy as np\n\ndef f():\n    from pytest import fixture\n"
    (tmp_path / "pkg" / "m.py").write_text(source)
    imports = imported_modules(("pkg",), root=tmp_path)
    assert set(imports) == {"numpy", "pytest"}
    assert set(undeclared(imports, {"numpy"})) == {"pytest"}
    assert set(undeclared({"no_such_module_anywhere": {"x.py"}}, {"numpy"})) == {"no_such_module_anywhere"}


def test_every_dependency_has_an_upper_bound() -> None:
    unbounded = [
        str(req)
        for req in requirements("dev", "postgres")
        if canonicalize_name(req.name) not in DATE_VERSIONED
        and not any(spec.operator in {"<", "<=", "==", "~="} for spec in req.specifier)
    ]
    assert unbounded == []


def test_the_runtime_lock_pins_every_declared_dependency_with_hashes() -> None:
    check_lock(RUNTIME_LOCK, requirements())


def test_the_development_lock_pins_runtime_dev_and_postgres_with_hashes() -> None:
    check_lock(DEV_LOCK, requirements("dev", "postgres"))
    assert {"psycopg", "psycopg-binary", "moto", "flask"} <= set(lock_entries(DEV_LOCK))  # the extras' extras too


def test_the_locks_agree_on_every_shared_version() -> None:
    runtime, dev = lock_entries(RUNTIME_LOCK), lock_entries(DEV_LOCK)
    assert {name: version for name, (version, _) in runtime.items() if dev.get(name, ("absent", 0))[0] != version} == {}


def check_lock(lock: Path, declared: list[Requirement]) -> None:
    entries = lock_entries(lock)
    assert len(entries) > len(declared)  # transitive dependencies are pinned too
    assert [name for name, (_, hashes) in entries.items() if hashes == 0] == []
    missing = sorted(names(declared) - set(entries))
    assert missing == [], f"{lock.name} lacks {missing}: run `make lock`"
    outside = [str(req) for req in declared if entries[canonicalize_name(req.name)][0] not in req.specifier]
    assert outside == [], f"{lock.name} pins versions outside pyproject's ranges: run `make lock`"
    text = lock.read_text(encoding="utf-8")
    pinned_lines = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(pinned_lines) == len(LOCK_ENTRY.findall(text)), "every requirement in a lock is pinned with =="
