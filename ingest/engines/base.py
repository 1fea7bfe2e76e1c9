"""What an OCR engine is: the Protocol every engine in `ingest.engines.ENGINES` meets, and the types it returns.

An engine reads one page image at a time (the image pipeline in `ingest.ocr` measures, deskews and writes the
page as a file first) and turns a PDF into a PDF/A-2b access copy with text (the PDF path). Engines are chosen
by name in `OcrRequest.engine` and built inside the worker process, so nothing unpicklable crosses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class TextBox:
    """One recognised word or line: its text, its box in page pixels (left, top, right, bottom), 0-100."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float | None = None


@dataclass(frozen=True)
class PageText:
    """What an engine read on one page.

    `text_source` says where the text came from: "ocr" (recognised), "sidecar" (the null engine's text file),
    "none" (the null engine found no text file: empty text). Boxes and confidence are optional."""

    text: str
    confidence: float | None = None  # mean word confidence, 0-100; None when the engine gives none
    text_source: str = "ocr"
    boxes: tuple[TextBox, ...] = ()
    engine: str = ""  # the engine that read it ("tesseract", "ppocr", ...), when the engine says


@dataclass(frozen=True)
class PageOcr(PageText):
    """A page read from an image, with the one-page PDF (image + text layer, if any) the access copy is joined from."""

    pdf_path: Path = field(kw_only=True)
    # The engine saw most lines upside down (PP-OCR's line classifier): the page is read again turned by 180°.
    upside_down: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class EngineOptions:
    """How an engine runs in its worker process (from Settings; picklable, hashable: models are cached by it).

    `threads`: ONNX Runtime intra-op threads per process (1 when two processes share two cores).
    `provider`: the ONNX Runtime execution provider, "cpu" or "cuda" (a GPU worker)."""

    threads: int = 1
    provider: str = "cpu"


@dataclass(frozen=True)
class PageImage:
    """One page to read: the image file the engine reads, and where the page came from.

    `source` and `frame` name the scan the page was taken from (frame: index in a multi-page TIFF), which is not
    `image_path` when the page was deskewed, rotated or split out of a multi-page file."""

    image_path: Path
    source: Path
    frame: int
    number: int  # 1-based, within the item
    dpi: int
    out_base: Path  # the engine writes its files as out_base + suffix


class OcrEngine(Protocol):
    """Per-page text recognition, and the PDF path's OCR + PDF/A conversion."""

    name: str
    detects_orientation: bool  # False: the pipeline does not ask `detect_rotation` (nor write a probe image)

    def check_languages(self, languages: str) -> None:
        """Raise InvalidInput before any file is queued when `languages` ("chi_sim+eng") cannot be read."""
        ...

    def read_page(self, page: PageImage, *, languages: str, timeout_seconds: float) -> PageOcr:
        """Read one page; raise ProcessingFailed naming the page on error or timeout."""
        ...

    def detect_rotation(self, image_path: Path, *, timeout_seconds: float) -> int:
        """Clockwise degrees (0, 90, 180, 270) that would make the page upright; 0 when it cannot tell."""
        ...

    def pdf_to_pdfa(
        self, source: Path, out: Path, *, languages: str, page_timeout_seconds: float, workdir: Path
    ) -> list[PageText | None]:
        """Write `out` as PDF/A-2b with a page for each page of `source`; per page what was read, or None for a
        page that kept its existing text layer (the caller extracts that text from `out`)."""
        ...
