"""The null engine: no recognition; a page's text is read from a sidecar file beside its scan.

`scan.tif` → `scan.txt` (UTF-8, see `ingest.engines.sidecar`); for a multi-page source the sidecar holds one
text per page, separated by form feeds (`\\f`); surrounding whitespace of each page's text is dropped. A missing
sidecar, or a sidecar with fewer pages than the scan, gives empty text with `text_source="none"` (shown as such
in the page's metadata); found text has `text_source="sidecar"`. There is no confidence, so the quality gate's
OCR-confidence check is not judged; everything else about the page (measurements, deskew, findings) is as with a
real engine.

Each image page becomes a one-page PDF holding its image (no text layer: there are no word positions to place);
the pages are joined and validated as PDF/A-2b like any other. PDFs go through ocrmypdf with its own null OCR
engine: pages keep their existing text layers (reported as None, as with tesseract) and the others get the
sidecar's text. It exists for tests and for trying the system without OCR; it needs no tesseract.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ingest.engines.base import PageImage, PageOcr, PageText
from ingest.engines.sidecar import sidecar_text
from ingest.pdfa import to_pdfa

_SKIPPED_MARK = "[OCR skipped on page"


class NullEngine:
    name = "null"
    detects_orientation = False

    def check_languages(self, languages: str) -> None:
        """Nothing to check: no language is read."""

    def read_page(self, page: PageImage, *, languages: str, timeout_seconds: float) -> PageOcr:
        found = sidecar_text(page.source, page.frame)
        pdf_path = page.out_base.with_suffix(".pdf")
        with Image.open(page.image_path) as image:
            image.save(pdf_path, format="PDF", resolution=float(page.dpi))
        return PageOcr(found.text, text_source=found.text_source, pdf_path=pdf_path)

    def detect_rotation(self, image_path: Path, *, timeout_seconds: float) -> int:
        return 0

    def pdf_to_pdfa(
        self, source: Path, out: Path, *, languages: str, page_timeout_seconds: float, workdir: Path
    ) -> list[PageText | None]:
        marks = workdir / "sidecar.txt"
        to_pdfa(source, out, languages=languages, sidecar=marks, page_timeout=page_timeout_seconds, recognise=False)
        skipped = [text.strip().startswith(_SKIPPED_MARK) for text in marks.read_text(encoding="utf-8").split("\f")]
        return [None if kept else sidecar_text(source, index) for index, kept in enumerate(skipped)]
