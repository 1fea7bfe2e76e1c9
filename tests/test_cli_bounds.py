"""The command line bounds every id and seed like the API does: a clear usage error (exit 2), never a traceback."""

from __future__ import annotations

import pytest

from tests.conftest import Cli

TOO_BIG = str(2**64)


@pytest.mark.parametrize(
    "args",
    [
        ("batch", "status", TOO_BIG),
        ("batch", "report", TOO_BIG),
        ("page", "accept", TOO_BIG),
        ("batch", "sample", "1", "--seed", TOO_BIG),
        ("document", "withdraw", TOO_BIG, "--reason", "x"),
        ("ingest", ".", "--batch", TOO_BIG),
        ("search", "x", "--page", "0"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Invalid value" in result.stderr
