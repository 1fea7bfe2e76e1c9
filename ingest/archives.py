"""Safe extraction of ZIP uploads: a box of scans unpacked without zip bombs, path traversal or links.

Every header is checked before the first byte is written, the bytes actually inflated are counted while
streaming (headers can lie), and any refusal takes back everything the call wrote (house rule 12).
"""

from __future__ import annotations

import lzma
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from archive.errors import Conflict, TooLarge, UnsupportedFile
from archive.failpoints import failpoint
from ingest.kinds import SUPPORTED_SUFFIXES

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty ZIP
_CHUNK_BYTES = 1024 * 1024
# Whatever expands to less than this cannot fill a disk, so the ratio test leaves it alone: a small blank
# page may deflate 500:1 and is still harmless (the size is enforced while streaming, not trusted).
_RATIO_FLOOR_BYTES = 1024 * 1024
_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_NESTED_ARCHIVE_SUFFIXES = frozenset({".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz"})
_SYSTEM_FILES = {"thumbs.db": "Windows thumbnail cache (Thumbs.db)", "desktop.ini": "Windows folder settings"}
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
# What zipfile and its decompressors raise for damaged or forged data (bz2 reports bad data as OSError).
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError, NotImplementedError)
_REDO = "nothing was extracted; re-create the ZIP from the folder of scans with a standard zip tool"

_Token = tuple[int, str]
_SortKey = tuple[tuple[tuple[_Token, ...], str], ...]


@dataclass(frozen=True)
class ArchiveLimits:
    """Ceilings that keep one upload from filling the disk; generous for a real box of scans.

    max_entries: entries of every kind (files, folders, skipped junk); a box holds hundreds of pages.
    max_total_bytes: uncompressed bytes of all extracted files together, as declared and as inflated.
    max_entry_bytes: uncompressed bytes of one file; a 600 dpi A3 colour TIFF, uncompressed, is ~250 MB.
    max_ratio: uncompressed/compressed, per entry and for the whole archive; scans barely compress, bombs
    do (entries and archives expanding to at most 1 MiB are exempt: they cannot fill a disk).
    """

    max_entries: int = 10_000
    max_total_bytes: int = 20 * 1024**3
    max_entry_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0


@dataclass(frozen=True)
class SkippedEntry:
    """An entry left out on purpose, and why, so the archivist can see nothing was lost silently."""

    name: str
    reason: str


@dataclass(frozen=True)
class ExtractedArchive:
    """What was written under dest, and what was left out."""

    files: tuple[Path, ...]  # in natural sort order of their names (page2 before page10)
    skipped: tuple[SkippedEntry, ...]


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    name: str  # as the archivist named it (decoded), for messages
    rel: PurePosixPath  # where it goes under dest


@dataclass(frozen=True)
class _Plan:
    members: tuple[_Member, ...]
    dirs: tuple[PurePosixPath, ...]
    skipped: tuple[SkippedEntry, ...]


def is_zip(path: Path) -> bool:
    """True when the content starts like a ZIP, whatever the file is called (uploads get renamed)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError:
        return False
    return head in _ZIP_SIGNATURES


def extract_zip(
    zip_path: Path, dest: Path, *, limits: ArchiveLimits = ArchiveLimits(), display_name: str | None = None
) -> ExtractedArchive:
    """Unpack the scans of a ZIP under dest, keeping sub-folders; all or nothing.

    Raises UnsupportedFile (TooLarge for size limits, Conflict for files already in dest) and leaves dest
    as it was; display_name names the upload in messages when zip_path is a spooled temp file.
    """
    archive = display_name or zip_path.name
    zf, archive_bytes = _open_archive(zip_path, archive)
    with zf:
        plan = _plan(zf, archive, limits)
        _check_sizes(plan.members, archive, archive_bytes, limits)
        _check_targets(dest, plan, archive)
        extraction = _Extraction(dest, archive, limits)
        try:
            for rel in plan.dirs:
                extraction.make_dirs(dest / rel)
            files = [extraction.write(zf, member) for member in plan.members]
        except BaseException:
            extraction.rollback()
            raise
    ordered = sorted(zip(files, plan.members, strict=True), key=lambda pair: _natural_key(pair[1].rel))
    return ExtractedArchive(files=tuple(path for path, _ in ordered), skipped=plan.skipped)


def _open_archive(zip_path: Path, archive: str) -> tuple[zipfile.ZipFile, int]:
    """Refuse unreadable, empty, non-ZIP and damaged uploads with one clear message each; size for the ratio."""
    try:
        size = zip_path.stat().st_size
    except OSError as exc:
        raise UnsupportedFile(f"{archive}: cannot be read: {exc.strerror}") from exc
    if size == 0:
        raise UnsupportedFile(f"{archive}: the file is empty (0 bytes); upload the ZIP again")
    if not is_zip(zip_path):
        raise UnsupportedFile(
            f"{archive}: not a ZIP archive (its content does not start with a ZIP signature); "
            "upload the scans themselves or a ZIP made with a standard zip tool"
        )
    try:
        return zipfile.ZipFile(zip_path), size
    except (*_READ_ERRORS, ValueError) as exc:
        raise UnsupportedFile(f"{archive}: the ZIP archive is damaged and cannot be read ({exc}); {_REDO}") from exc


def _plan(zf: zipfile.ZipFile, archive: str, limits: ArchiveLimits) -> _Plan:
    """Decide every entry from the central directory alone, so a refusal has written nothing."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UnsupportedFile(
            f"{archive}: {len(infos):,} entries exceed the limit of {limits.max_entries:,}; "
            "split the upload into several ZIPs"
        )
    members: list[_Member] = []
    dirs: list[PurePosixPath] = []
    skipped: list[SkippedEntry] = []
    for info in infos:
        name = _entry_name(info)
        rel = _relative_path(name, archive)
        _check_entry_kind(info, name, archive)
        if name.replace("\\", "/").endswith("/"):
            if rel.parts and _skip_reason(rel, folder=True) is None:
                dirs.append(rel)
            continue
        if not rel.parts:
            raise UnsupportedFile(f"{archive}: an entry has no file name; {_REDO}")
        reason = _skip_reason(rel, folder=False)
        if reason is None:
            members.append(_Member(info, name, rel))
        else:
            skipped.append(SkippedEntry(name, reason))
    _check_collisions(members, dirs, archive)
    return _Plan(tuple(members), tuple(dirs), tuple(skipped))


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The name as typed: Chinese Windows stores GBK names without the UTF-8 flag, read by zipfile as cp437."""
    name = info.orig_filename
    if info.flag_bits & _UTF8_NAME_FLAG or name.isascii():
        return name
    raw = name.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        with suppress(UnicodeDecodeError):
            return raw.decode(encoding)
    return name


def _relative_path(name: str, archive: str) -> PurePosixPath:
    """Map an entry name to a path under dest, refusing every way out of it."""

    def refused(why: str) -> UnsupportedFile:
        return UnsupportedFile(f"{archive}: entry {name!r} {why}; {_REDO}, using relative paths")

    if "\x00" in name:
        raise refused("contains a NUL character")
    unified = name.replace("\\", "/")  # old Windows zippers write backslashes; treat them as separators
    if _DRIVE_LETTER.match(unified):
        raise refused("names a drive letter (an absolute Windows path)")
    if unified.startswith("/"):
        raise refused("has an absolute path")
    parts = [part for part in unified.split("/") if part not in {"", "."}]
    if ".." in parts:
        raise refused("contains '..' (path traversal outside the extraction folder)")
    if any(len(part.encode()) > 255 for part in parts):
        raise refused("has a file or folder name longer than 255 bytes")
    return PurePosixPath(*parts)


def _check_entry_kind(info: zipfile.ZipInfo, name: str, archive: str) -> None:
    """Links could point anywhere and encrypted or exotic entries cannot be checked: refuse them."""
    why = None
    if stat.S_ISLNK(info.external_attr >> 16):
        why = "is a symbolic link, which is not accepted; nothing was extracted; re-create the ZIP without links"
    elif info.flag_bits & _ENCRYPTED_FLAG:
        why = "is encrypted (password-protected); nothing was extracted; re-create the ZIP without a password"
    elif info.compress_type not in _READABLE_METHODS:
        why = f"uses compression method {info.compress_type}, which cannot be read; {_REDO}, with plain Deflate"
    if why:
        raise UnsupportedFile(f"{archive}: entry {name!r} {why}")


def _skip_reason(rel: PurePosixPath, *, folder: bool) -> str | None:
    """Zip-tool clutter and non-scans are left out, but listed so the archivist sees nothing vanished."""
    if "__MACOSX" in rel.parts:
        return "macOS metadata (__MACOSX)"
    if any(part.startswith(".") for part in rel.parts):
        return "hidden file"
    if folder:
        return None
    if rel.name.lower() in _SYSTEM_FILES:
        return _SYSTEM_FILES[rel.name.lower()]
    suffix = rel.suffix.lower()
    if suffix in _NESTED_ARCHIVE_SUFFIXES:
        return f"nested archive: {suffix}; upload it on its own"
    return None if suffix in SUPPORTED_SUFFIXES else f"not a scan: {suffix or '(no extension)'}"


def _check_collisions(members: list[_Member], dirs: list[PurePosixPath], archive: str) -> None:
    """Two entries for one path would silently overwrite each other (also on case-insensitive disks)."""
    seen: dict[str, str] = {}
    for member in members:
        key = str(member.rel).casefold()
        if key in seen:
            raise UnsupportedFile(
                f"{archive}: entries {seen[key]!r} and {member.name!r} would both be written to {member.rel}; "
                "rename one of them and re-create the ZIP"
            )
        seen[key] = member.name
    folders = {str(folder).casefold() for member in members for folder in member.rel.parents}
    folders.update(str(folder).casefold() for folder in dirs)
    for member in members:
        if str(member.rel).casefold() in folders:
            raise UnsupportedFile(f"{archive}: entry {member.name!r} is both a file and a folder; rename one")


def _check_sizes(members: tuple[_Member, ...], archive: str, archive_bytes: int, limits: ArchiveLimits) -> None:
    """Refuse by the declared sizes first; the streaming count catches headers that lie."""
    total = 0
    for member in members:
        size = member.info.file_size
        if size > limits.max_entry_bytes:
            raise TooLarge(
                f"{archive}: entry {member.name!r} declares {_human(size)}, over the per-file limit of "
                f"{_human(limits.max_entry_bytes)}; nothing was extracted; split or rescan the file"
            )
        _check_ratio(size, member.info.compress_size, f"entry {member.name!r}", archive, limits)
        total += size
    if total > limits.max_total_bytes:
        raise TooLarge(
            f"{archive}: declares {_human(total)} of files, over the limit of {_human(limits.max_total_bytes)}; "
            "nothing was extracted; split the upload into several ZIPs"
        )
    _check_ratio(total, archive_bytes, "the archive as a whole", archive, limits)


def _check_ratio(expanded: int, packed: int, what: str, archive: str, limits: ArchiveLimits) -> None:
    """A compression ratio far beyond what scans reach is the signature of a zip bomb."""
    if expanded <= _RATIO_FLOOR_BYTES:
        return
    ratio = expanded / max(packed, 1)
    if ratio > limits.max_ratio:
        raise UnsupportedFile(
            f"{archive}: {what} expands {ratio:,.0f}:1 to {_human(expanded)}, over the limit of "
            f"{limits.max_ratio:,.0f}:1 (a zip bomb); nothing was extracted; upload the scans themselves"
        )


def _check_targets(dest: Path, plan: _Plan, archive: str) -> None:
    """Nothing may land outside dest (through a link already in it) or replace a file already there."""
    root = dest.resolve()
    folders = set(plan.dirs) | {folder for member in plan.members for folder in member.rel.parents}
    for rel in sorted(folders | {member.rel for member in plan.members}):
        if not (root / rel).resolve().is_relative_to(root):
            raise UnsupportedFile(
                f"{archive}: {rel} would be written outside the extraction folder through a link there; "
                "nothing was extracted; extract into a folder without links"
            )
    taken = [rel for rel in folders if (root / rel).exists() and not (root / rel).is_dir()]
    taken += [member.rel for member in plan.members if os.path.lexists(root / member.rel)]
    if taken:
        raise Conflict(f"{archive}: {taken[0]} already exists in the extraction folder; extract into an empty one")


class _Extraction:
    """Everything one call writes, so a refusal can take it all back."""

    def __init__(self, dest: Path, archive: str, limits: ArchiveLimits) -> None:
        self.dest = dest
        self.archive = archive
        self.limits = limits
        self.total_written = 0
        self.created_dirs: list[Path] = []
        self.created_files: list[Path] = []

    def make_dirs(self, folder: Path) -> None:
        """Create folder and its missing parents, remembering which ones were ours."""
        missing: list[Path] = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            with suppress(FileExistsError):
                path.mkdir()
                self.created_dirs.append(path)

    def write(self, zf: zipfile.ZipFile, member: _Member) -> Path:
        """Stream one entry to a hidden temp name, then rename: no reader ever sees half a scan."""
        target = self.dest / member.rel
        self.make_dirs(target.parent)
        failpoint("unpack.write")
        handle, temp_name = tempfile.mkstemp(prefix=".dangan-", suffix=".part", dir=target.parent)
        temp = Path(temp_name)
        self.created_files.append(temp)
        with os.fdopen(handle, "wb") as out:
            self._copy(zf, member, out)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(target)
        self.created_files.append(target)
        return target

    def _copy(self, zf: zipfile.ZipFile, member: _Member, out: IO[bytes]) -> None:
        """Count the bytes really inflated: a forged header must not get past the limits."""
        declared = member.info.file_size
        written = 0
        for chunk in self._chunks(zf, member):
            written += len(chunk)
            self.total_written += len(chunk)
            if written > declared:
                raise UnsupportedFile(
                    f"{self.archive}: entry {member.name!r} holds more data than the {_human(declared)} its "
                    f"header declares (a forged header or zip bomb); {_REDO}"
                )
            if self.total_written > self.limits.max_total_bytes:
                raise TooLarge(
                    f"{self.archive}: expands past the limit of {_human(self.limits.max_total_bytes)}; "
                    "nothing was extracted; split the upload into several ZIPs"
                )
            out.write(chunk)

    def _chunks(self, zf: zipfile.ZipFile, member: _Member) -> Iterator[bytes]:
        """The entry's bytes; read errors (not write errors: those happen outside) mean a damaged entry."""
        try:
            with zf.open(member.info) as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    yield chunk
        except _READ_ERRORS as exc:
            raise UnsupportedFile(
                f"{self.archive}: entry {member.name!r} is damaged: its data does not match its header ({exc}); {_REDO}"
            ) from exc

    def rollback(self) -> None:
        """Remove what this call wrote, newest first; what was in dest before stays."""
        for path in reversed(self.created_files):
            with suppress(FileNotFoundError):
                path.unlink()
        for folder in reversed(self.created_dirs):
            with suppress(OSError):
                folder.rmdir()


def _natural_key(rel: PurePosixPath) -> _SortKey:
    """page2 before page10, folder by folder, ignoring case; the raw name breaks ties (page01 vs page1)."""
    return tuple((_tokens(part), part) for part in rel.parts)


def _tokens(part: str) -> tuple[_Token, ...]:
    # re.split with a group alternates text, digits, text...: text compares with text, numbers with numbers.
    pieces = re.split(r"(\d+)", part)
    return tuple((int(piece), "") if index % 2 else (0, piece.casefold()) for index, piece in enumerate(pieces))


def _human(size: int) -> str:
    """Sizes as people read them in a message."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"
