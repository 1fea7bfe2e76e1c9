"""Exit codes come from one table, `archive.errors.ExitCode`: the README lists exactly its members, every error
of the one tree names one of them, and no adapter passes an integer literal as an exit status."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from archive.errors import DanganError, ExitCode, all_error_classes
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
