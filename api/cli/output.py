"""How the CLI reports: JSON on request, readable text otherwise; progress as a Rich bar on a terminal and
as plain lines (on stderr) when output is piped or logged."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.views.base import as_json

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)
PLAIN_LINE_SECONDS = 2.0  # without a terminal, a progress line at most this often (and the last one)


def say(text: str) -> None:
    """One line for the person at the terminal, printed as is (no markup, no highlighting)."""
    stdout.print(text, highlight=False, markup=False)


def emit_json(data: Any) -> None:
    """Print data as JSON; a View (or a list of them) prints as the API would answer."""
    data = as_json(data)
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class Reporter:
    """Advance with a label; draws a bar on a terminal, prints one line per step otherwise."""

    def __init__(self, description: str, total: int, *, progress: Progress | None) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self._progress = progress
        self._task = progress.add_task(description, total=total) if progress is not None else None
        self._last_line = 0.0

    def advance(self, label: str = "") -> None:
        self.done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"{self.description} {label}".strip())
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
    if stderr.is_terminal:
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
