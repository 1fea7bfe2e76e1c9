"""Readable text for lists and values in the CLI: plain aligned columns (no box characters, so the output
greps and pipes well), times in the local zone as ISO 8601, roles by their titles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.cells import cell_len

from api.cli.output import say
from archive.permissions import ROLE_TITLES
from archive.values import Role

ROLE_VALUES = {role.value for role in Role}


def local_time(iso: str | None) -> str:
    """An ISO 8601 time as the local time with its offset, to the second ("2026-12-01T08:30:00+08:00")."""
    if not iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # the catalogue stores UTC
    return moment.astimezone().isoformat(timespec="seconds")


def role_title(value: str) -> str:
    """A role's title ("security auditor"); a value that is no role (an old one) is shown as stored."""
    return ROLE_TITLES[Role(value)] if value in ROLE_VALUES else value


def role_titles(values: Sequence[str]) -> str:
    return ", ".join(role_title(value) for value in values) or "no roles"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A header line and one line per row, columns padded to their widest cell (Chinese characters count two
    columns, as a terminal draws them); the last column is not padded."""
    cells = [
        [str(header) for header in headers],
        *[["" if cell is None else str(cell) for cell in row] for row in rows],
    ]
    widths = [max(cell_len(line[column]) for line in cells) for column in range(len(headers))]
    for line in cells:
        padded = [cell + " " * (width - cell_len(cell)) for cell, width in zip(line[:-1], widths[:-1], strict=True)]
        say("  ".join([*padded, line[-1]]).rstrip())
