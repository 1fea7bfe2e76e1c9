"""CLI conventions (issue 11 item 4): a usage error exits 2 with one line naming the problem, a bad setting exits 12
naming the variable, a busy port is refused before the server starts, and --version, --quiet and --verbose.

Exit codes and stderr are checked on a real `python -m api.cli` process (as the console script runs); the rest
in-process through the `Cli` fixture."""

from __future__ import annotations

import importlib.metadata
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api.wiring import load_settings
from archive.errors import ConfigurationError, ExitCode
from tests.conftest import Cli
from tests.pages import chinese_page, english_page

ROOT = Path(__file__).resolve().parent.parent


def dangan(*args: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line as a separate process; DANGAN_* only from `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    environment |= {"PYTHONPATH": str(ROOT), "DANGAN_HOME": str(cwd / "var"), **env}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


USAGE_ERRORS = [
    (("serach", "x"), "no such command 'serach'; did you mean 'search'?"),
    (("search", "x", "--jsno"), "no such option: --jsno"),
    (("search",), "missing argument 'query'"),
    (("search", "x", "--limit", "abc"), "invalid value for '--limit': must be a whole number"),
    (("search", "x", "--limit", "0"), "invalid value for '--limit': must be at least 1"),
    (("batch", "status", "one"), "invalid value for 'batch_id': must be a whole number"),
    (("--home",), "option '--home' requires an argument"),
    (("users", "create", "li.wei", "--password-file", "no-such-file.txt"), "'no-such-file.txt' does not exist"),
    (("batch", "create", "--fonds", "F001", "--manifest", "missing.csv"), "'missing.csv' does not exist"),
    (("--quiet", "--verbose", "search", "x"), "--quiet and --verbose contradict each other"),
    (("serve", "--port", "70000"), "invalid value for '--port': must be at most 65535"),
]


@pytest.mark.parametrize(("args", "says"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_a_usage_error_is_one_line_and_exit_2(cli: Cli, args: tuple[str, ...], says: str) -> None:
    result = cli(*args)
    assert result.exit_code == ExitCode.INVALID_INPUT, (result.stdout, result.stderr)
    line = one_line(result.stderr)
    assert line.startswith("error: ") and says in line.lower(), line
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "says"), USAGE_ERRORS[:4], ids=[" ".join(a) for a, _ in USAGE_ERRORS[:4]])
def test_a_usage_error_from_the_real_process(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    done = dangan(*args, cwd=tmp_path)
    assert done.returncode == ExitCode.INVALID_INPUT, done.stderr
    assert says in one_line(done.stderr).lower()
    assert done.stdout == ""


def test_a_usage_error_names_the_help_of_its_command(cli: Cli) -> None:
    line = one_line(cli("search", "x", "--jsno").stderr)
    assert "(possible options: --json" in line.lower() and line.endswith("see 'dangan search --help'")


def test_a_usage_error_with_json_answers_the_error_shape(cli: Cli) -> None:
    result = cli("search", "--json")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.json == {"error": "invalid_input", "message": "Missing argument 'query'; see 'dangan search --help'"}


def test_help_still_works(tmp_path: Path) -> None:
    for args in (("--help",), ("search", "--help"), ("users", "create", "--help")):
        done = dangan(*args, cwd=tmp_path)
        assert done.returncode == ExitCode.OK, done.stderr
        assert "Usage: dangan" in done.stdout and done.stderr == ""


def test_version(tmp_path: Path) -> None:
    done = dangan("--version", cwd=tmp_path)
    assert done.returncode == ExitCode.OK, done.stderr
    assert done.stdout == f"dangan {importlib.metadata.version('dangan')}\n"


def test_a_bad_setting_exits_12_naming_the_variable(tmp_path: Path) -> None:
    done = dangan("search", "x", cwd=tmp_path, DANGAN_SEARCH_ENGINE="elastic", DANGAN_WORKERS="0")
    assert done.returncode == ExitCode.CONFIGURATION
    line = one_line(done.stderr)
    assert "DANGAN_SEARCH_ENGINE=elastic: must be one of whoosh, tantivy" in line
    assert "DANGAN_WORKERS=0: must be at least 1" in line


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DANGAN_SERVER__PORT", "eighty", "DANGAN_SERVER__PORT=eighty: must be a whole number"),
        ("DANGAN_STORAGE__BACKEND", "ftp", "DANGAN_STORAGE__BACKEND=ftp: must be one of local, s3"),
        ("DANGAN_STORAGE__S3__SECURE", "maybe", "DANGAN_STORAGE__S3__SECURE=maybe: must be true or false"),
        ("DANGAN_AUDIT_RETENTION_DAYS", "30", "DANGAN_AUDIT_RETENTION_DAYS=30: must be at least 183"),
        ("DANGAN_SERVER", "not json", "DANGAN_SERVER: must be a JSON object"),
    ],
)
def test_settings_errors_are_configuration_errors_for_every_adapter(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    """load_settings is where the CLI and the HTTP server read settings: both get the same error."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert says in raised.value.message and "\n" not in raised.value.message


def test_a_home_that_is_a_file_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = cli("--home", str(tmp_path / "afile"), "init")
    assert result.exit_code == ExitCode.CONFIGURATION
    assert "not a directory" in one_line(result.stderr)


def test_serve_on_a_busy_port_says_so_before_starting(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = dangan("serve", "--port", str(port), cwd=tmp_path, timeout=120)
    assert done.returncode == ExitCode.CONFLICT, (done.stdout, done.stderr)
    line = one_line(done.stderr)
    assert f"port {port} on 127.0.0.1 is in use: stop the other server or pass --port" in line
    assert "serving" not in done.stdout  # refused before the start-up banner


def test_quiet_leaves_out_progress_but_not_the_result(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    talkative = cli("ingest", str(english_page(tmp_path / "one").path.parent))
    assert talkative.exit_code == 0, talkative.stderr
    assert "[1/1] ingesting schedule-en.jpg: done" in talkative.stderr
    quiet = cli("--quiet", "ingest", str(chinese_page(tmp_path / "two").path.parent))
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "notice-zh.png ->" in quiet.stdout and "1 done" in quiet.stdout


def test_verbose_shows_what_the_command_works_on(cli: Cli) -> None:
    plain = cli("search", "x")
    verbose = cli("--verbose", "search", "x")
    assert plain.exit_code == verbose.exit_code == 0
    assert "search engine whoosh" in verbose.stderr and "search engine" not in plain.stderr
    assert verbose.stdout == plain.stdout


def test_an_unexpected_error_is_one_line_and_its_traceback_comes_with_verbose(tmp_path: Path) -> None:
    """A catalogue file that is not a database is not an error the tree knows (today): exit 1, no traceback,
    and with --verbose the traceback."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "catalogue.sqlite3").write_text("not a database")
    done = dangan("init", cwd=tmp_path)
    assert done.returncode == ExitCode.FAILED
    assert "run again with --verbose for the traceback" in one_line(done.stderr)
    verbose = dangan("--verbose", "init", cwd=tmp_path)
    assert verbose.returncode == ExitCode.FAILED
    assert "Traceback (most recent call last)" in verbose.stderr
