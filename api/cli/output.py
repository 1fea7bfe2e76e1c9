"""How the CLI reports: JSON on request, readable text otherwise; progress as a Rich bar on a terminal and
as plain lines (on stderr) when output is piped or logged.

The global options set `mode` once per invocation (api/cli/commands.py `global_options`):
- `say` prints a command's result: always, also with --quiet.
- `inform` prints an informational line (what is happening, hints): not with --quiet.
- `detail` prints a line only with --verbose (on stderr).
- `progress` draws nothing with --quiet.
- `nothing` prints the sentence an empty result or export gives ("nothing to export: no events match").
- `plain`, `key_values` and `table` render values, records and lists as text (never a Python repr).
A command that needs to know checks `mode.quiet` / `mode.verbose`."""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.views.base import as_json

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)
PLAIN_LINE_SECONDS = 2.0  # without a terminal, a progress line at most this often (and the last one)


@dataclass
class Mode:
    """How talkative this invocation is: --quiet (errors and the result only) or --verbose (count of -v)."""

    quiet: bool = False
    verbose: int = 0


mode = Mode()


def set_mode(*, quiet: bool = False, verbose: int = 0) -> None:
    mode.quiet, mode.verbose = quiet, verbose


OUR_LOGGERS = ("api", "archive", "ingest", "search", "storage_config")
_log_handler = logging.StreamHandler(sys.stderr)
_log_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def configure_logging() -> None:
    """Our loggers by the mode: errors only with --quiet; -v info, -vv debug (with a handler on stderr);
    otherwise Python's default (warnings and errors, as they come)."""
    level = logging.ERROR if mode.quiet else {0: logging.NOTSET, 1: logging.INFO}.get(mode.verbose, logging.DEBUG)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.removeHandler(_log_handler)
        if mode.verbose:
            logger.addHandler(_log_handler)


def say(text: str) -> None:
    """One line of a command's result, printed as is (no markup, no highlighting), also with --quiet."""
    stdout.print(text, highlight=False, markup=False)


def inform(text: str) -> None:
    """An informational line (progress of a step, a hint); --quiet leaves it out."""
    if not mode.quiet:
        stdout.print(text, highlight=False, markup=False)


def detail(text: str) -> None:
    """A line for --verbose only, on stderr (so that it never mixes with a result that is piped on)."""
    if mode.verbose:
        stderr.print(text, highlight=False, markup=False)


def nothing(sentence: str) -> None:
    """What an empty result or export says instead of printing nothing: `nothing("no documents match 'x'")`."""
    say(sentence)


def plain(value: Any) -> str:
    """A value as a person reads it: enums by their value, times to the second, lists comma-separated, None as
    '-', mappings as 'key value, ...'; never a Python repr."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | PurePath):
        return str(value)
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return ", ".join(f"{plain(key)} {plain(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(plain(item) for item in items) or "-"
    return str(value)


def key_values(record: Mapping[str, Any] | BaseModel, *, labels: Mapping[str, str] | None = None) -> None:
    """A record as aligned 'name  value' lines; `labels` renames keys (e.g. {'page_count': 'pages'})."""
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    names = {key: (labels or {}).get(key, key.replace("_", " ")) for key in data}
    width = max((len(name) for name in names.values()), default=0)
    for key, value in data.items():
        say(f"{names[key]:<{width}}  {plain(value)}")


def table(
    rows: Sequence[Mapping[str, Any] | BaseModel],
    columns: Sequence[str],
    *,
    empty: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Rows as aligned columns under a header line; `empty` is the sentence printed when there are no rows."""
    if not rows:
        nothing(empty)
        return
    data = [row.model_dump(mode="json") if isinstance(row, BaseModel) else row for row in rows]
    titles = [(headers or {}).get(column, column.replace("_", " ")) for column in columns]
    cells = [[plain(row.get(column)) for column in columns] for row in data]
    widths = [max(len(title), *(len(line[i]) for line in cells)) for i, title in enumerate(titles)]
    for line in [titles, *cells]:
        say("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def emit_json(data: Any) -> None:
    """Print data as JSON; a View (or a list of them) prints as the API would answer."""
    data = as_json(data)
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class Reporter:
    """Advance with a label; draws a bar on a terminal, prints one line per step otherwise."""

    def __init__(self, description: str, total: int, *, progress: Progress | None, silent: bool = False) -> None:
        self.description = description
        self.silent = silent
        self.total = total
        self.done = 0
        self._progress = progress
        self._task = progress.add_task(description, total=total) if progress is not None else None
        self._last_line = 0.0

    def advance(self, label: str = "") -> None:
        self.done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"{self.description} {label}".strip())
        elif self.silent:
            return
        elif self.done >= self.total or time.monotonic() - self._last_line >= PLAIN_LINE_SECONDS:
            self._last_line = time.monotonic()
            stderr.print(f"[{self.done}/{self.total}] {self.description} {label}".rstrip(), highlight=False)

    def set_total(self, total: int) -> None:
        if total != self.total:
            self.total = total
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, total=total)

    def set(self, done: int, label: str = "") -> None:
        while self.done < done:
            self.advance(label)


@contextmanager
def progress(description: str, total: int) -> Iterator[Reporter]:
    """A bar on a terminal, plain lines otherwise, nothing at all with --quiet."""
    if mode.quiet:
        yield Reporter(description, total, progress=None, silent=True)
    elif stderr.is_terminal:
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            transient=False,
        )
        with bar:
            yield Reporter(description, total, progress=bar)
    else:
        yield Reporter(description, total, progress=None)
