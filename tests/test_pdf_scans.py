"""Scanned PDF pages are read like image pages (the request's engine, write_page_pdf's text layer, the quality
gate with the OCR confidence); pages with their own text layer are kept; the access copy is PDF/A-2b with every
page at its original size, displayed as before."""

from __future__ import annotations

from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pytest
from PIL import Image

from ingest.engines.base import TextBox
from ingest.geometry.pdfpage import displayed_scans
from ingest.ocr import process
from ingest.results import OcrRequest, OcrResult
from ingest.textlayer import write_page_pdf
from tests.geometry_pages import straight_page
from tests.pages import CHINESE_PHRASES, chinese_page, english_page
from tests.test_pdf_geometry import rendered, scan_pdf
from tests.test_text_layer import HAN_SPACE_HAN, assert_pdfa_2b, pdftotext

FULL_WIDTH = "，。"


def _process(source: Path, workdir: Path, *, engine: str = "null", languages: str = "chi_sim+eng") -> OcrResult:
    request = OcrRequest(
        sources=(source,), media_type="application/pdf", languages=languages, workdir=workdir, engine=engine
    )
    return process(request)


def _sizes(path: Path) -> list[float]:
    """Each page's displayed width and height in points (/Rotate and /UserUnit counted), one after another."""
    sizes: list[float] = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            box = [float(value) for value in page.cropbox]
            unit = float(page.obj.get("/UserUnit", 1.0))
            width, height = (box[2] - box[0]) * unit, (box[3] - box[1]) * unit
            turned = int(page.obj.get("/Rotate", 0)) % 180 == 90
            sizes += (height, width) if turned else (width, height)
    return sizes


@pytest.mark.ocr
@pytest.mark.parametrize("engine", ["ppocr", "tesseract"])
def test_a_scanned_chinese_pdf_is_read_by_the_requests_engine(tmp_path: Path, engine: str) -> None:
    page = chinese_page(tmp_path / "in")
    source = tmp_path / "in" / "scan.pdf"
    source.write_bytes(img2pdf.convert([str(page.path)]))
    result = _process(source, tmp_path / "work", engine=engine)
    [read] = result.pages
    assert read.engine == engine and read.text_source == "ocr"
    assert read.confidence is not None and read.confidence > 50
    assert read.measurements["dpi"] == pytest.approx(300, abs=1) and read.width_px == 2480
    assert any(phrase in read.text for phrase in CHINESE_PHRASES), read.text
    text = pdftotext(result.pdfa_path)
    assert not HAN_SPACE_HAN.search(text), HAN_SPACE_HAN.findall(text)
    assert all(mark in text for mark in FULL_WIDTH), text  # ocrmypdf had turned "，" into ","
    assert any(phrase in text for phrase in CHINESE_PHRASES), text
    assert _sizes(result.pdfa_path) == pytest.approx(_sizes(source), abs=0.01)
    assert_pdfa_2b(result.pdfa_path)


def _text_page(tmp_path: Path) -> Path:
    """A page with its own (invisible) text layer over an image, as a searchable PDF has."""
    image = english_page(tmp_path / "text").path
    out = tmp_path / "text" / "page.pdf"
    write_page_pdf(image, dpi=300, lines=[TextBox("Born digital minutes", (100, 100, 900, 160))], out=out)
    return out


def _joined(parts: list[Path], out: Path) -> Path:
    with pikepdf.Pdf.new() as pdf:
        opened = [pikepdf.open(part) for part in parts]
        for part in opened:
            pdf.pages.extend(part.pages)
        pdf.save(out)
        for part in opened:
            part.close()
    return out


@pytest.mark.ocr
def test_a_mixed_pdf_keeps_the_text_page_and_reads_the_scan(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert([str(chinese_page(tmp_path / "in").path)]))
    source = _joined([_text_page(tmp_path), scan], tmp_path / "mixed.pdf")
    result = _process(source, tmp_path / "work", engine="tesseract")
    first, second = result.pages
    assert first.text_source == "existing" and first.text == "Born digital minutes" and first.engine == ""
    assert first.confidence is None
    assert second.text_source == "ocr" and second.engine == "tesseract" and second.confidence is not None
    assert second.number == 2 and second.measurements
    assert pdftotext(result.pdfa_path, "-f", "1", "-l", "1").strip() == "Born digital minutes"
    scanned = pdftotext(result.pdfa_path, "-f", "2", "-l", "2")
    assert not HAN_SPACE_HAN.search(scanned) and any(phrase in scanned for phrase in CHINESE_PHRASES), scanned
    assert _sizes(result.pdfa_path) == pytest.approx(_sizes(source), abs=0.01)
    assert_pdfa_2b(result.pdfa_path)


def test_a_page_with_vector_content_stays_on_the_ocrmypdf_path(tmp_path: Path) -> None:
    """A scan with a drawn frame: replacing it by the image alone would lose the frame."""
    source = scan_pdf(tmp_path / "framed.pdf", straight_page("plain", seed=3).reduce(2), dpi=75.0)
    with pikepdf.open(source, allow_overwriting_input=True) as pdf:
        pdf.pages[0].contents_add(b"\n10 10 100 100 re S\n")
        pdf.save(source)
    result = _process(source, tmp_path / "work")
    assert not (tmp_path / "work" / "page-0001.pdf").exists()  # not read as an image page
    with pikepdf.open(result.pdfa_path) as pdf:
        operators = {str(instruction.operator) for instruction in pikepdf.parse_content_stream(pdf.pages[0])}
    assert "re" in operators


@pytest.mark.parametrize(("rotate", "quarter"), [(90, False), (270, True), (0, False)])
def test_a_read_scan_displays_as_the_original_did(tmp_path: Path, rotate: int, quarter: bool) -> None:
    """Stored sideways, displayed upright by /Rotate (and the image matrix): the same page after reading."""
    page = straight_page("banner", seed=3).reduce(2).rotate(rotate, expand=True)  # /Rotate turns it back
    source = scan_pdf(tmp_path / "page.pdf", page, rotate=rotate, quarter=quarter, dpi=75.0)
    result = _process(source, tmp_path / "work")
    [read] = result.pages
    assert read.rotated_degrees == 0 and read.measurements["skew_after_degrees"] == read.measurements["skew_degrees"]
    assert (tmp_path / "work" / "page-0001.pdf").exists()  # read as an image page
    assert _sizes(result.pdfa_path) == pytest.approx(_sizes(source), abs=0.01)
    before, after = rendered(source, 75), rendered(result.pdfa_path, 75)  # as poppler shows them
    assert before.size == after.size
    coarse = [np.asarray(image.reduce(8)) for image in (after, before)]  # poppler resamples turned pages
    assert _unlike_mirrored(coarse[0], coarse[1], 0.5)
    [was], [now] = list(displayed_scans(source)), list(displayed_scans(result.pdfa_path))
    assert now.image.size == was.image.size and now.dpi == pytest.approx(was.dpi, abs=0.1)
    assert _unlike_mirrored(np.asarray(now.image.convert("L")), np.asarray(was.image.convert("L")), 0.2)


def _unlike_mirrored(ours: np.ndarray, theirs: np.ndarray, share: float) -> bool:  # type: ignore[type-arg]
    """`ours` is nearer `theirs` than either mirror image of `ours` is, by the factor `share`."""
    a, b = ours.astype(np.int16), theirs.astype(np.int16)
    difference = float(np.abs(a - b).mean())
    return difference < share * min(float(np.abs(a[::-1] - b).mean()), float(np.abs(a[:, ::-1] - b).mean()))


def test_a_plain_scan_beside_a_page_for_ocrmypdf_is_still_read_as_an_image_page(tmp_path: Path) -> None:
    page = straight_page("plain", seed=3).reduce(2)
    framed = scan_pdf(tmp_path / "framed.pdf", page, dpi=75.0)
    with pikepdf.open(framed, allow_overwriting_input=True) as pdf:
        pdf.pages[0].contents_add(b"\n10 10 100 100 re S\n")
        pdf.save(framed)
    source = _joined([framed, scan_pdf(tmp_path / "plain.pdf", page, dpi=75.0)], tmp_path / "both.pdf")
    result = _process(source, tmp_path / "work")
    assert [page.number for page in result.pages] == [1, 2]
    assert not (tmp_path / "work" / "page-0001.pdf").exists() and (tmp_path / "work" / "page-0002.pdf").exists()
    assert all(page.engine == "null" and page.measurements for page in result.pages)
    assert _sizes(result.pdfa_path) == pytest.approx(_sizes(source), abs=0.01)
    assert_pdfa_2b(result.pdfa_path)


@pytest.mark.ocr
def test_a_sideways_scan_is_turned_upright_with_its_page(tmp_path: Path) -> None:
    page = english_page(tmp_path / "in")
    sideways = tmp_path / "in" / "sideways.png"
    with Image.open(page.path) as image:
        upright_size = image.size
        image.rotate(90, expand=True).save(sideways, dpi=(300, 300))  # turned counter-clockwise
    source = tmp_path / "sideways.pdf"
    source.write_bytes(img2pdf.convert([str(sideways)]))
    result = _process(source, tmp_path / "work", engine="tesseract", languages="eng")
    [read] = result.pages
    assert read.rotated_degrees == 90 and "Payroll registers" in read.text
    width, height = _sizes(source)
    assert _sizes(result.pdfa_path) == pytest.approx([height, width], abs=0.01)  # the page turned with its scan
    [shown] = list(displayed_scans(result.pdfa_path))
    assert shown.image.size == upright_size


def test_a_pdf_of_plain_scans_keeps_its_title_and_author(tmp_path: Path) -> None:
    """The access copy of a PDF whose pages are all plain scans is built anew: it keeps the document information
    a reader sees (title, author, subject, keywords), in the info dictionary and the XMP alike."""
    page = english_page(tmp_path / "in")
    source = tmp_path / "in" / "scan.pdf"
    source.write_bytes(img2pdf.convert([str(page.path)], title="Harbour minutes 1931", author="Port office"))
    result = _process(source, tmp_path / "work", languages="eng")
    with pikepdf.open(result.pdfa_path) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Harbour minutes 1931"
        assert str(pdf.docinfo["/Author"]) == "Port office"
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Harbour minutes 1931"
        assert "Port office" in str(meta["dc:creator"])
    assert_pdfa_2b(result.pdfa_path)
