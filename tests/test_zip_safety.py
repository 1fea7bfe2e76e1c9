"""ZIP uploads: real archives built on tmp_path; every refusal is clear and leaves dest as it was."""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from archive.errors import Conflict, TooLarge, UnsupportedFile
from ingest.archives import ArchiveLimits, ExtractedArchive, SkippedEntry, extract_zip, is_zip

Entry = tuple[str | zipfile.ZipInfo, bytes]


def png_bytes(shade: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (16, 16), shade).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (250, 240, 230)).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_zip(path: Path, entries: list[Entry], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def central_records(data: bytes) -> list[int]:
    """Offsets of the central directory records (the archives built here carry no comment)."""
    end = data.rindex(b"PK\x05\x06")
    size, offset = struct.unpack_from("<II", data, end + 12)
    records, position = [], offset
    while position < offset + size:
        assert data[position : position + 4] == b"PK\x01\x02"
        records.append(position)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_len + extra_len + comment_len
    return records


def patch_entry(
    path: Path, index: int, *, file_size: int | None = None, flags: int = 0, method: int | None = None
) -> None:
    """Rewrite fields of entry `index` in the central directory (and its local header) in place."""
    data = bytearray(path.read_bytes())
    record = central_records(bytes(data))[index]
    (local,) = struct.unpack_from("<I", data, record + 42)
    for header, flags_at in ((record, 8), (local, 6)):
        (old_flags,) = struct.unpack_from("<H", data, header + flags_at)
        struct.pack_into("<H", data, header + flags_at, old_flags | flags)
        if method is not None:
            struct.pack_into("<H", data, header + flags_at + 2, method)
    if file_size is not None:
        struct.pack_into("<I", data, record + 24, file_size)
    path.write_bytes(bytes(data))


def left_under(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) if dest.exists() else []


def refused(zip_path: Path, dest: Path, *, limits: ArchiveLimits | None = None) -> str:
    """Extract expecting a refusal; dest must hold exactly what it held before."""
    before = left_under(dest)
    with pytest.raises(UnsupportedFile) as caught:
        extract_zip(zip_path, dest, limits=limits or ArchiveLimits())
    assert left_under(dest) == before
    message = caught.value.message
    assert message.startswith(f"{zip_path.name}: ")
    return message


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An extraction folder that already holds something of someone else's."""
    folder = tmp_path / "dest"
    folder.mkdir()
    (folder / "keep.txt").write_text("not ours")
    return folder


def test_good_zip_extracts_scans_in_natural_order_and_lists_what_it_skipped(tmp_path: Path) -> None:
    png, jpeg = png_bytes(), jpeg_bytes()
    zip_path = make_zip(
        tmp_path / "box.zip",
        [
            ("box 1/", b""),
            ("box 1/page10.png", png),
            ("box 1/page2.png", png),
            ("box 1/Page1.jpg", jpeg),
            ("box 1/Thumbs.db", b"junk"),
            ("box 1/.DS_Store", b"junk"),
            ("__MACOSX/box 1/._page2.png", b"resource fork"),
            ("box 2/scan.png", png),
            ("notes.docx", b"PK\x03\x04 a word file"),
            ("inner.zip", b"PK\x05\x06" + bytes(18)),
            ("README", b"text"),
            ("empty folder/", b""),
        ],
    )
    dest = tmp_path / "new" / "dest"  # created when missing
    result = extract_zip(zip_path, dest)

    assert isinstance(result, ExtractedArchive)
    assert [p.relative_to(dest).as_posix() for p in result.files] == [
        "box 1/Page1.jpg",
        "box 1/page2.png",
        "box 1/page10.png",
        "box 2/scan.png",
    ]
    assert result.files[0].read_bytes() == jpeg and result.files[2].read_bytes() == png
    with Image.open(result.files[1]) as image:
        assert image.size == (16, 16)
    assert result.skipped == (
        SkippedEntry("box 1/Thumbs.db", "Windows thumbnail cache (Thumbs.db)"),
        SkippedEntry("box 1/.DS_Store", "hidden file"),
        SkippedEntry("__MACOSX/box 1/._page2.png", "macOS metadata (__MACOSX)"),
        SkippedEntry("notes.docx", "not a scan: .docx"),
        SkippedEntry("inner.zip", "nested archive: .zip; upload it on its own"),
        SkippedEntry("README", "not a scan: (no extension)"),
    )
    assert (dest / "empty folder").is_dir()
    assert left_under(dest) == sorted(
        ["box 1", "box 1/Page1.jpg", "box 1/page10.png", "box 1/page2.png", "box 2", "box 2/scan.png", "empty folder"]
    )  # no temp files, no junk


def test_backslash_separators_and_gbk_names_keep_their_folders(tmp_path: Path) -> None:
    gbk_name = "第1页.png".encode("gbk")  # Chinese Windows' zip: GBK bytes, no UTF-8 flag
    placeholder = b"X" * (len(gbk_name) - 4) + b".png"
    zip_path = make_zip(tmp_path / "box.zip", [("vol\\p2.png", png_bytes()), (placeholder.decode(), png_bytes())])
    zip_path.write_bytes(zip_path.read_bytes().replace(placeholder, gbk_name))

    result = extract_zip(zip_path, tmp_path / "dest")

    assert [p.relative_to(tmp_path / "dest").as_posix() for p in result.files] == ["vol/p2.png", "第1页.png"]


def test_existing_content_of_dest_is_kept_and_never_overwritten(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("a.png", png_bytes()), ("keep.txt", b"x"), ("b.png", png_bytes())])
    (dest / "b.png").write_bytes(b"already here")

    with pytest.raises(Conflict, match=r"b\.png already exists"):
        extract_zip(zip_path, dest)

    assert left_under(dest) == ["b.png", "keep.txt"]
    assert (dest / "b.png").read_bytes() == b"already here"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.png", "path traversal"),
        ("/abs.png", "absolute path"),
        ("a/../../b.png", "path traversal"),
        ("a/../b.png", "path traversal"),
        ("C:\\x.png", "drive letter"),
        ("..\\x.png", "path traversal"),
        ("scans\\..\\..\\x.png", "path traversal"),
        ("../notes.docx", "path traversal"),  # even entries that would be skipped
    ],
)
def test_entries_escaping_dest_refuse_the_whole_archive(tmp_path: Path, dest: Path, name: str, why: str) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("good/page1.png", png_bytes()), (name, png_bytes())])

    message = refused(zip_path, dest)

    assert repr(name) in message and why in message and "nothing was extracted" in message
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "b.png").exists()


def test_a_link_inside_dest_cannot_carry_files_out(tmp_path: Path, dest: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "linked").symlink_to(outside)
    zip_path = make_zip(tmp_path / "box.zip", [("linked/page1.png", png_bytes())])

    assert "outside the extraction folder" in refused(zip_path, dest)
    assert list(outside.iterdir()) == []


def test_symlink_entries_are_refused(tmp_path: Path, dest: Path) -> None:
    link = zipfile.ZipInfo("scans/page1.png")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    zip_path = make_zip(tmp_path / "box.zip", [("scans/page0.png", png_bytes()), (link, b"/etc/passwd")])

    message = refused(zip_path, dest)

    assert "'scans/page1.png' is a symbolic link" in message and "without links" in message


def test_encrypted_entries_are_refused(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("page1.png", png_bytes()), ("page2.png", png_bytes())])
    patch_entry(zip_path, 1, flags=0x1)
    assert zipfile.ZipFile(zip_path).infolist()[1].flag_bits & 0x1

    message = refused(zip_path, dest)

    assert "'page2.png' is encrypted" in message and "without a password" in message


def test_unreadable_compression_methods_are_refused(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("page1.png", png_bytes())])
    patch_entry(zip_path, 0, method=9)  # Deflate64, which zipfile cannot read

    assert "compression method 9" in refused(zip_path, dest)


def test_too_many_entries(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [(f"page{n}.png", png_bytes()) for n in range(6)])

    message = refused(zip_path, dest, limits=ArchiveLimits(max_entries=5))

    assert "6 entries exceed the limit of 5" in message and "split" in message
    assert len(extract_zip(zip_path, dest, limits=ArchiveLimits(max_entries=6)).files) == 6


def test_zip_bomb_is_refused_from_its_headers_fast_and_without_writing(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "bomb.zip", [("page1.png", bytes(50 * 1024 * 1024))])
    assert zip_path.stat().st_size < 200_000
    dest = tmp_path / "dest"

    started = time.perf_counter()
    message = refused(zip_path, dest, limits=ArchiveLimits(max_ratio=100))
    elapsed = time.perf_counter() - started

    assert "'page1.png' expands" in message and "zip bomb" in message and "50.0 MiB" in message
    assert elapsed < 1.0
    assert not dest.exists()


def test_many_small_entries_that_together_are_a_bomb(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "bomb.zip", [(f"p{n}.png", bytes(1024 * 1024)) for n in range(30)])

    message = refused(zip_path, dest, limits=ArchiveLimits(max_ratio=100))

    assert "the archive as a whole expands" in message and "zip bomb" in message


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (ArchiveLimits(max_entry_bytes=3000), "'big.png' declares 4.9 KiB, over the per-file limit of 2.9 KiB"),
        (ArchiveLimits(max_total_bytes=6000), "declares 6.8 KiB of files, over the limit of 5.9 KiB"),
    ],
)
def test_size_limits_raise_too_large(tmp_path: Path, dest: Path, limits: ArchiveLimits, expected: str) -> None:
    small, big = os.urandom(1000), os.urandom(5000)
    zip_path = make_zip(tmp_path / "box.zip", [("a.png", small), ("big.png", big), ("c.png", small)])

    with pytest.raises(TooLarge) as caught:
        extract_zip(zip_path, dest, limits=limits)

    assert expected in caught.value.message
    assert left_under(dest) == ["keep.txt"]


def test_header_declaring_less_than_the_data_is_caught_while_streaming(tmp_path: Path, dest: Path) -> None:
    noise = os.urandom(300_000)
    zip_path = make_zip(tmp_path / "box.zip", [("vol1/page1.png", png_bytes()), ("vol2/page2.png", noise)])
    patch_entry(zip_path, 1, file_size=1000)  # the central directory lies: 1000 bytes, not 300,000
    assert zipfile.ZipFile(zip_path).infolist()[1].file_size == 1000

    message = refused(zip_path, dest)  # page1 was written, then taken back with its folder

    assert "'vol2/page2.png' is damaged: its data does not match its header" in message


def test_corrupt_data_is_refused_and_rolled_back(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("vol1/page1.png", png_bytes()), ("vol1/page2.png", bytes(100_000))])
    data = bytearray(zip_path.read_bytes())
    record = central_records(bytes(data))[1]
    (local,) = struct.unpack_from("<I", data, record + 42)
    start = local + 30 + len("vol1/page2.png")
    data[start + 10 : start + 40] = os.urandom(30)
    zip_path.write_bytes(bytes(data))

    assert "'vol1/page2.png' is damaged" in refused(zip_path, dest)


def test_truncated_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    whole = make_zip(tmp_path / "whole.zip", [("page1.png", png_bytes()), ("page2.png", png_bytes())])
    zip_path = tmp_path / "cut.zip"
    zip_path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    message = refused(zip_path, dest)

    assert "the ZIP archive is damaged and cannot be read" in message and "re-create the ZIP" in message


def test_zero_byte_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    zip_path = tmp_path / "empty.zip"
    zip_path.write_bytes(b"")

    assert "the file is empty (0 bytes)" in refused(zip_path, dest)


def test_a_png_named_zip_is_refused_as_not_a_zip(tmp_path: Path, dest: Path) -> None:
    zip_path = tmp_path / "scans.zip"
    zip_path.write_bytes(png_bytes())

    assert "not a ZIP archive" in refused(zip_path, dest)


def test_missing_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    assert "cannot be read" in refused(tmp_path / "gone.zip", dest)


def test_duplicate_entries_are_refused(tmp_path: Path, dest: Path) -> None:
    zip_path = make_zip(tmp_path / "box.zip", [("vol/page1.png", png_bytes()), ("vol\\Page1.PNG", png_bytes())])

    message = refused(zip_path, dest)

    assert "would both be written to vol/Page1.PNG" in message


def test_an_empty_archive_extracts_nothing(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "empty.zip", [])

    assert is_zip(zip_path)
    assert extract_zip(zip_path, tmp_path / "dest") == ExtractedArchive(files=(), skipped=())


def test_is_zip_looks_at_content_not_the_name(tmp_path: Path) -> None:
    zip_as_png = make_zip(tmp_path / "scan.png", [("page1.png", png_bytes())])
    png_as_zip = tmp_path / "box.zip"
    png_as_zip.write_bytes(png_bytes())
    empty = tmp_path / "nothing.zip"
    empty.write_bytes(b"")

    assert is_zip(zip_as_png)
    assert not is_zip(png_as_zip)
    assert not is_zip(empty)
    assert not is_zip(tmp_path / "missing.zip")
