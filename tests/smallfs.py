"""A real small filesystem for disk-full tests: a tmpfs of a few MB mounted on a folder (we run as root), filled
with a filler file to leave exactly as much room as a test wants, then freed (filler deleted) or grown
(`mount -o remount,size=...`). Every mount is undone at teardown, also when the test fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

MB = 1024 * 1024


class SmallFilesystem:
    """One tmpfs on `folder`."""

    def __init__(self, folder: Path, size_mb: int) -> None:
        self.folder = folder
        self.size_mb = size_mb
        self.filler = folder / ".filler"
        folder.mkdir(parents=True, exist_ok=True)
        _run("mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder))

    def free_bytes(self) -> int:
        stats = os.statvfs(self.folder)
        return stats.f_bavail * stats.f_frsize

    def fill(self, *, leave: int) -> None:
        """Write a filler file so that about `leave` bytes stay free (one page of slack either way)."""
        room = self.free_bytes() - leave
        if room <= 0:
            return
        with self.filler.open("ab") as out:
            block = b"\0" * MB
            while room > 0:
                written = out.write(block[: min(MB, room)])
                room -= written
            out.flush()
            os.fsync(out.fileno())

    def fill_up(self) -> None:
        """No room at all: the next write fails with ENOSPC."""
        try:
            self.fill(leave=0)
            with self.filler.open("ab") as out:  # tmpfs rounds to pages: top up byte-wise until it refuses
                while True:
                    out.write(b"\0" * 4096)
                    out.flush()
        except OSError:
            pass

    def release(self) -> None:
        """Space returns: the filler is deleted."""
        self.filler.unlink(missing_ok=True)

    def grow(self, size_mb: int) -> None:
        _run("mount", "-o", f"remount,size={size_mb}m", str(self.folder))
        self.size_mb = size_mb

    def unmount(self) -> None:
        _run("umount", "-l", str(self.folder), check=False)


def _run(*command: str, check: bool = True) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if check and done.returncode != 0:
        raise OSError(f"{' '.join(command)}: {done.stderr.strip()}")


class SmallFilesystems:
    """The fixture's factory: `small_fs.mount(folder, size_mb)`; all unmounted at teardown."""

    def __init__(self) -> None:
        self.mounted: list[SmallFilesystem] = []

    def mount(self, folder: Path, size_mb: int) -> SmallFilesystem:
        if folder.exists() and any(folder.iterdir()):  # keep what the folder held: it is copied onto the tmpfs
            keep = folder.with_name(folder.name + ".before")
            folder.rename(keep)
            mounted = SmallFilesystem(folder, size_mb)
            shutil.copytree(keep, folder, dirs_exist_ok=True)
            shutil.rmtree(keep)
        else:
            mounted = SmallFilesystem(folder, size_mb)
        self.mounted.append(mounted)
        return mounted

    def unmount_all(self) -> None:
        for mounted in reversed(self.mounted):
            mounted.unmount()
        self.mounted.clear()


@pytest.fixture
def small_fs() -> Iterator[SmallFilesystems]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.fail("the disk-full tests mount tmpfs filesystems: they run as root, with mount(8)")
    mounts = SmallFilesystems()
    try:
        yield mounts
    finally:
        mounts.unmount_all()
