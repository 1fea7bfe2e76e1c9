"""Input validation: what a file really is, decided from its bytes, checked before anything is stored."""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image

from archive.errors import TooLarge, UnsupportedFile
from archive.redact import hide_paths

IMAGE_SUFFIXES = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
PDF_SUFFIXES = {".pdf": "application/pdf"}
SUPPORTED_SUFFIXES = frozenset(IMAGE_SUFFIXES) | frozenset(PDF_SUFFIXES)
# A4 at 600 dpi is ~35 Mpx; anything past 200 Mpx is treated as a decompression bomb.
MAX_PIXELS = 200_000_000
MAX_PAGES = 2000
MAX_FILE_BYTES = 2 * 1024**3  # a 600 dpi colour A3 TIFF is ~200 MB; 2 GiB leaves room for long multi-page files

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class InputFile:
    """A validated input: its media type and page count."""

    path: Path
    media_type: str
    page_count: int

    @property
    def is_pdf(self) -> bool:
        return self.media_type == "application/pdf"


def sniff(head: bytes) -> str | None:
    """The media type the first bytes announce, or None."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    # PDFs may have junk before the header (the spec allows up to 1024 bytes).
    return "application/pdf" if b"%PDF-" in head[:1024] else None


def validate(path: Path, *, display_name: str | None = None) -> InputFile:
    """Refuse empty, mislabelled, encrypted, broken and oversized files with a reason a person can act on."""
    name = display_name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedFile(
            f"{name}: files ending {suffix or '(none)'} are not accepted; use {allowed}",
            UnsupportedFile.WRONG_SUFFIX,
            {"suffix": suffix, "allowed": allowed},
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(1024)
    except OSError as exc:
        raise UnsupportedFile(f"{name}: cannot be read: {exc.strerror}") from exc
    if size == 0:
        raise UnsupportedFile(
            f"{name}: the file is empty (0 bytes); rescan or re-export it", UnsupportedFile.EMPTY_FILE
        )
    if size > MAX_FILE_BYTES:
        raise TooLarge(
            f"{name}: {size / 1024**3:.1f} GiB is over the {MAX_FILE_BYTES // 1024**3} GiB limit per file; "
            "split it into several files"
        )
    declared = PDF_SUFFIXES.get(suffix) or IMAGE_SUFFIXES[suffix]
    actual = sniff(head)
    if actual != declared:
        what = actual or "not a recognised PDF or image"
        raise UnsupportedFile(
            f"{name}: named as {declared} but its content is {what}; check the file", UnsupportedFile.CONTENT_MISMATCH
        )
    if actual == "application/pdf":
        return InputFile(path, actual, _pdf_pages(path, name))
    if actual == "image/tiff" and tiff_page_count(path) > MAX_PAGES:  # before Pillow parses or decodes a page
        raise UnsupportedFile(
            f"{name}: more than {MAX_PAGES} pages, over the limit per file; split the file",
            UnsupportedFile.TOO_MANY_PAGES,
            {"limit": MAX_PAGES},
        )
    return InputFile(path, actual, _image_frames(path, name))


def _pdf_pages(path: Path, name: str) -> int:
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                raise UnsupportedFile(
                    f"{name}: the PDF is encrypted; remove the protection and resubmit", UnsupportedFile.PDF_ENCRYPTED
                )
            count = len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise UnsupportedFile(
            f"{name}: the PDF is password-protected; resubmit it without a password", UnsupportedFile.PDF_ENCRYPTED
        ) from exc
    except pikepdf.PdfError as exc:
        raise UnsupportedFile(
            f"{name}: the PDF is damaged and cannot be read ({_said(exc, path, name)})", UnsupportedFile.PDF_DAMAGED
        ) from exc
    if count == 0:
        raise UnsupportedFile(f"{name}: the PDF has no pages", UnsupportedFile.PDF_NO_PAGES)
    if count > MAX_PAGES:
        raise UnsupportedFile(
            f"{name}: {count} pages exceed the limit of {MAX_PAGES}; split the file",
            UnsupportedFile.TOO_MANY_PAGES,
            {"limit": MAX_PAGES},
        )
    return count


def tiff_page_count(path: Path, *, limit: int = MAX_PAGES) -> int:
    """Pages of a TIFF from its IFD chain alone (no pixel is decoded), counting at most limit + 1.

    Pillow's n_frames parses every page's tags, seconds for a file of 10,000 tiny pages; this reads
    two small records per page and stops past the limit. A chain that loops or leaves the file ends the count.
    """
    seen: set[int] = set()
    with path.open("rb") as stream:
        size = path.stat().st_size
        head = stream.read(16)
        order = "<" if head[:2] == b"II" else ">"
        big = head[2:4] in (b"+\x00", b"\x00+")  # BigTIFF (version 43): 8-byte counts and offsets
        count_form, entry_bytes, offset_form = (order + "Q", 20, order + "Q") if big else (order + "H", 12, order + "I")
        first = head[8:16] if big else head[4:8]
        offset = struct.unpack(offset_form, first)[0] if len(first) == struct.calcsize(offset_form) else 0
        while offset and offset not in seen and offset < size and len(seen) <= limit:
            seen.add(offset)
            stream.seek(offset)
            raw = stream.read(struct.calcsize(count_form))
            if len(raw) < struct.calcsize(count_form):
                break
            stream.seek(offset + len(raw) + struct.unpack(count_form, raw)[0] * entry_bytes)
            raw = stream.read(struct.calcsize(offset_form))
            offset = struct.unpack(offset_form, raw)[0] if len(raw) == struct.calcsize(offset_form) else 0
    return len(seen)


def _image_frames(path: Path, name: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                frames = getattr(image, "n_frames", 1)
                for index in range(frames):
                    image.seek(index)
                    if image.width * image.height > MAX_PIXELS:
                        raise UnsupportedFile(
                            f"{name}: page {index + 1} is {image.width}x{image.height} pixels, over the "
                            f"{MAX_PIXELS:,}-pixel limit (a decompression bomb or a wrong scan setting)"
                        )
                    if image.format == "JPEG":  # DCT scaling reads every byte at 1/8 of the decoding cost
                        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()  # truncated or corrupt data fails here, not in OCR
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            said = _said(exc, path, name)
            raise UnsupportedFile(f"{name}: the image is too large to decode safely ({said})") from exc
        except UnsupportedFile:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            said = _said(exc, path, name)
            raise UnsupportedFile(f"{name}: the image is damaged and cannot be decoded ({said})") from exc
    if frames > MAX_PAGES:
        raise UnsupportedFile(f"{name}: {frames} pages exceed the limit of {MAX_PAGES}; split the file")
    return frames


def _said(exc: BaseException, path: Path, name: str) -> str:
    """What a library said about the file, naming it as the user did, not by where it is spooled."""
    return hide_paths(str(exc), [path.parent], names={str(path): name, str(path.resolve()): name})
