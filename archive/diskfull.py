"""A full disk, said the same way at every write point: "the spool at /srv/dangan/spool is full: 3.1 MB free,
this upload needs 18 MB more; free space there or move DANGAN_HOME".

`disk_full(exc, ...)` turns an OSError that means "no space" (ENOSPC, or EDQUOT: a quota) into
InsufficientStorage naming the place, the free space there now and what the write needed; any other OSError is
returned as None so the caller re-raises it unchanged. Free space is read with one `os.statvfs` call.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from archive.errors import InsufficientStorage

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
MB = 1024 * 1024


def is_no_space(exc: BaseException) -> bool:
    """An OSError for a full disk or an exhausted quota."""
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


def free_bytes(path: Path | str) -> int | None:
    """Free space for an unprivileged writer on the filesystem holding `path` (its nearest existing folder)."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        stats = os.statvfs(probe)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def size_text(count: int | None) -> str:
    """1.5 KB, 3.1 MB, 2.0 GB: one decimal, binary units."""
    if count is None:
        return "an unknown amount"
    value = float(max(count, 0))
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def full_message(
    place: str, path: Path | str, *, free: int | None, needed: int | None, what: str = "this write", advice: str = ""
) -> str:
    """The one line: where, how much is free, how much more the write needs, and what to do."""
    more = max((needed or 0) - (free or 0), 0)
    if needed is None:
        need = f"; {what} could not be written"
    elif more:
        need = f"; {what} needs {size_text(more)} more"
    else:
        need = f"; {what} needs {size_text(needed)}"
    tail = f"; {advice}" if advice else "; free space there"
    return f"the {place} at {path} is full: {size_text(free)} free{need}{tail}"


def disk_full(
    exc: BaseException,
    *,
    place: str,
    path: Path | str,
    needed: int | None = None,
    what: str = "this write",
    advice: str = "",
) -> InsufficientStorage | None:
    """InsufficientStorage for a no-space OSError (raise it `from exc`); None for any other error."""
    if not is_no_space(exc):
        return None
    free = free_bytes(path)
    message = full_message(place, path, free=free, needed=needed, what=what, advice=advice)
    return InsufficientStorage(message, place=place, needed_bytes=needed)
