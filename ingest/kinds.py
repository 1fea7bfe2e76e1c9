"""Input validation: what a file really is, decided from its bytes, checked before anything is stored."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image

from archive.errors import TooLarge, UnsupportedFile

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
        raise UnsupportedFile(f"{name}: files ending {suffix or '(none)'} are not accepted; use {allowed}")
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(1024)
    except OSError as exc:
        raise UnsupportedFile(f"{name}: cannot be read: {exc.strerror}") from exc
    if size == 0:
        raise UnsupportedFile(f"{name}: the file is empty (0 bytes); rescan or re-export it")
    if size > MAX_FILE_BYTES:
        raise TooLarge(
            f"{name}: {size / 1024**3:.1f} GiB is over the {MAX_FILE_BYTES // 1024**3} GiB limit per file; "
            "split it into several files"
        )
    declared = PDF_SUFFIXES.get(suffix) or IMAGE_SUFFIXES[suffix]
    actual = sniff(head)
    if actual != declared:
        what = actual or "not a recognised PDF or image"
        raise UnsupportedFile(f"{name}: named as {declared} but its content is {what}; check the file")
    if actual == "application/pdf":
        return InputFile(path, actual, _pdf_pages(path, name))
    return InputFile(path, actual, _image_frames(path, name))


def _pdf_pages(path: Path, name: str) -> int:
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                raise UnsupportedFile(f"{name}: the PDF is encrypted; remove the protection and resubmit")
            count = len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise UnsupportedFile(f"{name}: the PDF is password-protected; resubmit it without a password") from exc
    except pikepdf.PdfError as exc:
        raise UnsupportedFile(f"{name}: the PDF is damaged and cannot be read ({exc})") from exc
    if count == 0:
        raise UnsupportedFile(f"{name}: the PDF has no pages")
    if count > MAX_PAGES:
        raise UnsupportedFile(f"{name}: {count} pages exceed the limit of {MAX_PAGES}; split the file")
    return count


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
            raise UnsupportedFile(f"{name}: the image is too large to decode safely ({exc})") from exc
        except UnsupportedFile:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise UnsupportedFile(f"{name}: the image is damaged and cannot be decoded ({exc})") from exc
    if frames > MAX_PAGES:
        raise UnsupportedFile(f"{name}: {frames} pages exceed the limit of {MAX_PAGES}; split the file")
    return frames
