"""Scratch folders that name their owner: `<kind>-<pid>-<random>`. A process killed mid-task leaves its folder;
whoever sweeps later removes the folders whose owner is gone (a live owner's are left alone, so a sweep is safe
while other processes of the installation work)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

OWNED = re.compile(r"^(?P<kind>[a-z]+)-(?P<pid>\d+)-[0-9a-z_]+(?:\.part)?$")


def owned_name(kind: str) -> str:
    """A fresh scratch name owned by this process, e.g. `drill-4711-3f2a…`."""
    return f"{kind}-{os.getpid()}-{uuid.uuid4().hex}"


def owned_prefix(kind: str) -> str:
    """For tempfile's `prefix=`: the folder it makes is owned by this process."""
    return f"{kind}-{os.getpid()}-"


def owner_alive(name: str) -> bool:
    """Whether the process named in an owned scratch name still runs (names of another form: assumed alive)."""
    found = OWNED.match(name)
    if found is None:
        return True
    try:
        os.kill(int(found["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(folder: Path, kinds: tuple[str, ...]) -> list[str]:
    """Remove the owned scratch entries of these kinds in `folder` whose owner is gone; returns their names."""
    removed: list[str] = []
    if not folder.is_dir():
        return removed
    for entry in sorted(folder.iterdir()):
        found = OWNED.match(entry.name)
        if found is None or found["kind"] not in kinds or owner_alive(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed
