"""Free space on the data disks, and the reserve that makes ingest refuse new work before a disk is full.

The places the archive writes to on local disks: the spool (uploads and queued items), the object store (when it
is local), the catalogue file (SQLite), the search index and the OCR work area. Places on one filesystem are
measured once (one `os.statvfs` per distinct filesystem, so the check is cheap enough for every item).

A place is `refusing` below the reserve (`DANGAN_FAULTS__FREE_SPACE_RESERVE_MB`), `low` below twice the reserve
(ingest warns), `ok` above. An item is refused, before it is spooled, when it would take a filesystem below the
reserve: it needs its size there once for each copy the archive keeps on that filesystem (the spooled copy and
the stored original; an upload's body is on the spool already).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archive.coded import STATUS_WARNINGS, Coded
from archive.diskfull import MB, free_bytes, full_message, size_text
from archive.errors import InsufficientStorage
from storage_config.settings import Settings

OK, LOW, REFUSING = "ok", "low", "refusing"
SPOOL, OBJECTS, CATALOGUE, INDEX, WORK = "spool", "object store", "catalogue", "search index", "OCR work area"
RESERVE_SETTING = "DANGAN_FAULTS__FREE_SPACE_RESERVE_MB"
_ADVICE = "free space there or move DANGAN_HOME"


@dataclass(frozen=True)
class PlaceSpace:
    """One place on a data disk: where it is, the free space of its filesystem, and what that means."""

    place: str
    path: Path
    free_bytes: int | None
    reserve_bytes: int
    state: str  # ok, low or refusing


@dataclass(frozen=True)
class _Disk:
    """The places that share one filesystem."""

    places: tuple[tuple[str, Path], ...]
    free: int | None

    def needed(self, spool_bytes: int, store_bytes: int) -> int:
        """New bytes on this filesystem: the spooled copy and the stored original, where they are here."""
        names = {place for place, _ in self.places}
        return (spool_bytes if SPOOL in names else 0) + (store_bytes if OBJECTS in names else 0)

    def names(self) -> str:
        return " and ".join(place for place, _ in self.places)


def data_places(settings: Settings) -> list[tuple[str, Path]]:
    """(place, folder or file) for every local place the archive writes to."""
    places = [(SPOOL, settings.spool_dir)]
    if settings.storage.backend == "local":
        places.append((OBJECTS, settings.resolved_storage_path))
    catalogue = sqlite_file(settings.resolved_database_url)
    if catalogue is not None:
        places.append((CATALOGUE, catalogue))
    places += [(INDEX, settings.resolved_index_dir), (WORK, settings.home_dir / "work")]
    return places


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (sqlite:///path); None for a server database or an in-memory one."""
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            name = url[len(prefix) :].split("?", 1)[0]
            return Path(name).expanduser().resolve() if name and name != ":memory:" else None
    return None


def reserve_bytes(settings: Settings) -> int:
    return settings.faults.free_space_reserve_mb * MB


def _disks(settings: Settings) -> list[_Disk]:
    grouped: dict[object, list[tuple[str, Path]]] = {}
    for place, path in data_places(settings):
        grouped.setdefault(_device(path), []).append((place, path))
    return [_Disk(tuple(places), free_bytes(places[0][1])) for places in grouped.values()]


def _device(path: Path) -> object:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return os.stat(probe).st_dev
    except OSError:
        return str(path)


def _state(free: int | None, reserve: int) -> str:
    if free is None:
        return OK  # not measurable here (e.g. a path on a disk that is not mounted): writes will tell
    if free < reserve or free == 0:
        return REFUSING
    return LOW if free < 2 * reserve else OK


def space_report(settings: Settings) -> list[PlaceSpace]:
    """Every data place with its filesystem's free space and state, in the order of `data_places`."""
    reserve = reserve_bytes(settings)
    found: dict[str, PlaceSpace] = {}
    for disk in _disks(settings):
        for place, path in disk.places:
            found[place] = PlaceSpace(place, path, disk.free, reserve, _state(disk.free, reserve))
    return [found[place] for place, _ in data_places(settings)]


def check_room(
    settings: Settings, spool_bytes: int, store_bytes: int | None = None, *, what: str = "this item"
) -> None:
    """Refuse (InsufficientStorage) when an item would take a data disk below the reserve: `spool_bytes` new
    on the spool's filesystem, `store_bytes` (default: the same) on the local object store's."""
    reserve = reserve_bytes(settings)
    for disk in _disks(settings):
        if disk.free is None:
            continue
        needed = disk.needed(spool_bytes, spool_bytes if store_bytes is None else store_bytes)
        if disk.free - needed >= reserve and (needed == 0 or disk.free > needed):
            continue
        place, path = disk.places[0]
        short = reserve + needed - disk.free
        if not reserve:  # no reserve set: the item simply does not fit
            message = full_message(disk.names(), path, free=disk.free, needed=needed, what=what, advice=_ADVICE)
            raise InsufficientStorage(message, place=place, needed_bytes=short)
        raise InsufficientStorage(
            f"the {disk.names()} at {path} would fall below the free-space reserve: {size_text(disk.free)} free, "
            f"{what} needs {size_text(needed)} and the reserve is {size_text(reserve)} ({size_text(short)} short); "
            f"free space there, move DANGAN_HOME, or lower {RESERVE_SETTING}",
            place=place,
            needed_bytes=short,
        )


def low_space_warnings(settings: Settings, *, show_paths: bool = True) -> list[Coded]:
    """One warning per filesystem that is low or refusing (for `dangan ingest` and `dangan status`): coded
    `disk_low` or `disk_refusing` with its places and sizes, the English naming its path when `show_paths`."""
    warnings = []
    reserve = reserve_bytes(settings)
    for disk in _disks(settings):
        state = _state(disk.free, reserve)
        if state == OK:
            continue
        _, path = disk.places[0]
        where = f" at {path}" if show_paths else ""
        verdict = "new items are refused" if state == REFUSING else "ingest refuses new items below the reserve"
        message = (
            f"warning: the {disk.names()}{where}: {size_text(disk.free)} free, reserve {size_text(reserve)}; "
            f"{verdict}; free space there or move DANGAN_HOME"
        )
        code = "disk_refusing" if state == REFUSING else "disk_low"
        places = ", ".join(place for place, _ in disk.places)
        warnings.append(STATUS_WARNINGS.line(code, message, places=places, free_bytes=disk.free, reserve_bytes=reserve))
    return warnings
