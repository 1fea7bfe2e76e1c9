"""Durable renames: after `os.replace` puts a finished file in place, the directory entry itself must reach the
disk too, or a power cut can bring back the old name. Pure standard library, for every package."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush `directory`'s entries (a rename or a new file in it) to the disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
