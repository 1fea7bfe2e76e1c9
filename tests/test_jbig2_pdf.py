"""JBIG2 PDFs (scanners' and archives' usual bilevel compression) ingest: the image decodes through jbig2dec and
OCR finds its text.

No JBIG2 encoder is packaged for Debian 12 (`jbig2enc` is not in bookworm), so the test writes the stream itself:
a JBIG2 *generic region* may be coded with MMR, which is exactly CCITT Group 4 (T.88 §6.2.6), and Pillow's libtiff
writes Group 4. The embedded stream is a page-information segment and one immediate lossless generic region
segment (T.88 §7.2, §7.4.2, §7.4.6) holding the G4 bits of the rendered page; PDF's /JBIG2Decode takes the
segments without the file header (ISO 32000 §7.4.7).
"""

from __future__ import annotations

import io
import shutil
import struct
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageOps, TiffImagePlugin

from ingest.ocr import process
from ingest.pdfa import pdf_page_images
from ingest.results import OcrRequest
from ingest.samples import SamplePage, render_page_with_text
from tests.pages import ENGLISH_TEXT

pytestmark = pytest.mark.ocr


@pytest.fixture(autouse=True)
def _jbig2dec_installed() -> None:
    """The decoder is part of the installation (scripts/install-system.sh): missing, the setup is broken."""
    assert shutil.which("jbig2dec"), "jbig2dec is missing: run `make install` (scripts/install-system.sh)"


DPI = 300
PAGE_INFORMATION, IMMEDIATE_LOSSLESS_GENERIC_REGION = 48, 39


def _segment(number: int, kind: int, data: bytes) -> bytes:
    """Segment header: number, flags (type; 1-byte page association), no referred-to segments, page 1, length."""
    return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data


def _group4(page: Image.Image) -> bytes:
    """The CCITT G4 bits of a bilevel image, in one strip. JBIG2 codes black as 1 and G4 codes runs of 0 bits
    as white, so the page is inverted first (Pillow's "1" mode stores white as 1)."""
    inverted = ImageOps.invert(page.convert("L")).convert("1")
    buffer = io.BytesIO()
    strip_size = TiffImagePlugin.STRIP_SIZE
    TiffImagePlugin.STRIP_SIZE = 1 << 30  # one strip: several would each restart the G4 coding
    try:
        inverted.save(buffer, format="TIFF", compression="group4")
    finally:
        TiffImagePlugin.STRIP_SIZE = strip_size
    with Image.open(io.BytesIO(buffer.getvalue())) as tiff:
        [offset], [count] = tiff.tag_v2[273], tiff.tag_v2[279]  # StripOffsets, StripByteCounts
    return buffer.getvalue()[offset : offset + count]


def jbig2_stream(page: Image.Image) -> bytes:
    width, height = page.size
    resolution = round(DPI / 0.0254)  # pixels per metre
    info = struct.pack(">IIIIBH", width, height, resolution, resolution, 0x01, 0)  # eventually lossless, no stripes
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + bytes([0x01]) + _group4(page)  # MMR = 1
    return _segment(0, PAGE_INFORMATION, info) + _segment(1, IMMEDIATE_LOSSLESS_GENERIC_REGION, region)


def jbig2_pdf(page: Image.Image, target: Path) -> Path:
    """A one-page PDF whose only content is `page` as a /JBIG2Decode image at 300 dpi."""
    width, height = page.size
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, jbig2_stream(page))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, 1
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.JBIG2Decode
    points = (width * 72 / DPI, height * 72 / DPI)
    pdf.add_blank_page(page_size=points)
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages[0].Contents = pdf.make_stream(f"q {points[0]:.3f} 0 0 {points[1]:.3f} 0 0 cm /Im0 Do Q".encode())
    pdf.save(target)
    return target


@pytest.fixture
def scan(tmp_path: Path) -> tuple[Path, str]:
    grey, text = render_page_with_text(
        SamplePage(ENGLISH_TEXT, "eng"), height_mm=60, font_pt=14, skew_degrees=0.0, noise=0.0, blur=0.0
    )
    return jbig2_pdf(grey.point(lambda value: 255 if value > 128 else 0).convert("1"), tmp_path / "scan.pdf"), text


def test_the_pdf_holds_a_jbig2_image_that_jbig2dec_decodes(scan: tuple[Path, str]) -> None:
    pdf, _ = scan
    with pikepdf.open(pdf) as opened:
        [image] = opened.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.JBIG2Decode
    [(index, decoded)] = list(pdf_page_images(pdf))  # pikepdf hands /JBIG2Decode to jbig2dec
    assert index == 0 and decoded.size == (2480, round(60 / 25.4 * DPI))
    histogram = decoded.convert("L").histogram()
    ink = histogram[0] / sum(histogram)
    assert 0.005 < ink < 0.2  # text on white paper, not a blank page nor an inverted one


def test_a_jbig2_pdf_ingests_with_its_text_found(scan: tuple[Path, str], tmp_path: Path) -> None:
    pdf, text = scan
    request = OcrRequest(
        sources=(pdf,), media_type="application/pdf", languages="eng", workdir=tmp_path / "work", engine="tesseract"
    )
    result = process(request)
    [page] = result.pages
    assert page.text_source == "ocr"
    for phrase in ("Retention schedule", "personnel files", "Payroll registers are kept for ten years"):
        assert phrase in " ".join(page.text.split()), page.text
    assert page.measurements, "the JBIG2 image was measured by the quality gate"
    with pikepdf.open(result.pdfa_path) as access, access.open_metadata() as meta:
        assert str(meta.get("pdfaid:part")) == "2" and len(access.pages) == 1
    assert text.startswith("Municipal Records Office")
