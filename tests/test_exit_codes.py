"""Exit codes come from one table, `archive.errors.ExitCode`: the README lists exactly its members, every error
of the one tree names one of them, and no adapter passes an integer literal as an exit status. A refusal's finer
reason is one its own class declares, raised with exactly the params that reason names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from archive.errors import Conflict, DanganError, ExitCode, InvalidInput, all_error_classes, reasons_of
from archive.reports import Grade

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| (\d+) \| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$")


def readme_table() -> dict[int, str]:
    rows = [ROW.match(line.strip()) for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()]
    found = [(int(m.group(1)), m.group(2)) for m in rows if m is not None]
    assert len(found) == len(dict(found)), "a code is listed twice in the README"
    return dict(found)


def test_the_readme_table_lists_every_exit_code_and_nothing_else() -> None:
    assert readme_table() == {member.value: member.name for member in ExitCode}


def test_every_error_names_an_exit_code_of_the_table() -> None:
    for cls in all_error_classes():
        assert isinstance(cls.exit_code, ExitCode), f"{cls.__name__}.exit_code is not an ExitCode member"
    assert DanganError.exit_code is ExitCode.FAILED


def test_each_grade_has_its_exit_code() -> None:
    assert [grade.exit_code for grade in Grade] == [ExitCode.OK, ExitCode.WARNINGS, ExitCode.INTEGRITY_FAILURE]


def _exit_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls of typer.Exit / click's Exit / sys.exit (by their last name: Exit, exit)."""
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("Exit", "exit", "_exit"):
                calls.append(node)
    return calls


def _int_literals(node: ast.AST) -> list[int]:
    """Integer literals that would be the exit status: the expression itself, or a branch of it (`0 if x else 9`)."""
    if isinstance(node, ast.Constant):
        return [node.value] if type(node.value) is int else []
    if isinstance(node, ast.IfExp):
        return _int_literals(node.body) + _int_literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [value for operand in node.values for value in _int_literals(operand)]
    return []


def test_no_exit_status_is_an_integer_literal_in_api() -> None:
    offenders = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _exit_calls(tree):
            for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
                if _int_literals(argument):
                    offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            if function.name in ("main", "exit_code"):
                returns = [n for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None]
                offenders += [f"{path.relative_to(ROOT)}:{r.lineno}" for r in returns if _int_literals(r.value)]
    assert offenders == [], "exit statuses must come from archive.errors.ExitCode"


def test_a_reason_belongs_to_its_class_and_comes_with_exactly_its_params() -> None:
    taken = Conflict("backup target 'x' exists", Conflict.BACKUP_TARGET_EXISTS, {"name": "x"})
    assert (taken.reason, taken.params, taken.message) == (Conflict.BACKUP_TARGET_EXISTS, {"name": "x"}, taken.message)
    assert InvalidInput("plain").reason is None and InvalidInput("plain").params == {}
    with pytest.raises(ValueError, match="params differ"):
        Conflict("x", Conflict.BACKUP_TARGET_EXISTS, {})
    with pytest.raises(ValueError, match="not one of its reasons"):
        InvalidInput("x", Conflict.BACKUP_TARGET_EXISTS, {"name": "x"})  # another class's reason
    with pytest.raises(ValueError, match="params without a reason"):
        Conflict("x", None, {"name": "x"})


def test_every_raise_site_gives_a_reason_the_params_it_names() -> None:
    """Read statically, so that refusals no test provokes are checked too: `Error(message, Error.REASON, {...})`
    with literal keys names exactly the reason's params, and a reason named with no params needs none."""
    classes = {cls.__name__: cls for cls in all_error_classes()}
    problems, seen = [], 0
    for package in ("api", "archive", "ingest", "search", "storage_config"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[1], ast.Attribute)):
                    continue
                owner = node.args[1].value
                cls = classes.get(owner.id) if isinstance(owner, ast.Name) else None
                reason = getattr(cls, node.args[1].attr, None) if cls else None
                if reason is None or reason not in reasons_of(cls):  # type: ignore[arg-type]
                    continue
                seen += 1
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                given = node.args[2] if len(node.args) > 2 else None
                if given is None:
                    if reason.params:
                        problems.append(f"{where}: {reason.name} needs {reason.params}")
                elif isinstance(given, ast.Dict) and all(isinstance(k, ast.Constant) for k in given.keys):
                    keys = {k.value for k in given.keys if isinstance(k, ast.Constant)}
                    if keys != set(reason.params):
                        problems.append(f"{where}: {reason.name} given {sorted(keys)}, names {list(reason.params)}")
    assert seen >= 40 and problems == []
