"""The access copy's text layer as a reader's PDF viewer sees it (`pdftotext`, poppler): the characters the
OCR read, placed on the text, with no spaces between Han characters and Latin word spaces kept, in a file that
is still PDF/A-2b. Real tesseract and ocrmypdf where marked `ocr`; the text layer writer alone elsewhere."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pikepdf.pdfa
import pytest
from PIL import Image, ImageOps

from archive.text import HAN_RANGES
from ingest.engines.base import TextBox
from ingest.ocr import process
from ingest.pdfa import save_pdfa
from ingest.results import OcrRequest
from ingest.textlayer import line_text, write_page_pdf
from tests.pages import CHINESE_PHRASES, CHINESE_TEXT, ENGLISH_PHRASES, chinese_page, english_page

HAN_SPACE_HAN = re.compile(f"(?<=[{HAN_RANGES}])\\s+(?=[{HAN_RANGES}])")
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


def word_boxes(path: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """pdftotext -bbox: (word, (x0, y0, x1, y1)) in points from the page's top left."""
    found = WORD.findall(pdftotext(path, "-bbox"))
    return [(text, (float(x0), float(y0), float(x1), float(y1))) for x0, y0, x1, y1, text in found]


def bigram_f1(got: str, want: str) -> float:
    def bigrams(text: str) -> Counter[str]:
        runs = re.findall(f"[{HAN_RANGES}]+", text)
        return Counter(run[i : i + 2] for run in runs for i in range(len(run) - 1))

    a, b = bigrams(got), bigrams(want)
    overlap = sum((a & b).values())
    return 2 * overlap / (sum(a.values()) + sum(b.values())) if overlap else 0.0


def assert_pdfa_2b(path: Path) -> None:
    with pikepdf.open(path) as pdf:
        with pdf.open_metadata() as meta:
            assert str(meta.get("pdfaid:part")) == "2"
            assert str(meta.get("pdfaid:conformance")).upper() == "B"
        assert pikepdf.pdfa.check(pdf, "2b").verdict == "pass"


def ink_area_points(image_path: Path, dpi: float) -> tuple[float, float, float, float]:
    """The bounding box of the dark pixels (the printed text), in points from the page's top left."""
    with Image.open(image_path) as image:
        dark = ImageOps.invert(image.convert("L")).point(lambda value: 255 if value > 128 else 0)
        box = dark.getbbox()
    assert box is not None
    return (box[0] * 72 / dpi, box[1] * 72 / dpi, box[2] * 72 / dpi, box[3] * 72 / dpi)


def assert_inside(words: list[tuple[str, tuple[float, float, float, float]]], area: tuple[float, ...]) -> None:
    slack = 6.0  # points: OCR boxes and the glyph boxes of the text layer are not pixel-exact
    assert words
    for text, (x0, y0, x1, y1) in words:
        assert area[0] - slack <= x0 < x1 <= area[2] + slack, (text, (x0, x1), area)
        assert area[1] - slack <= y0 < y1 <= area[3] + slack, (text, (y0, y1), area)


def _run(tmp_path: Path, source: Path, media_type: str, languages: str) -> Path:
    request = OcrRequest(
        sources=(source,), media_type=media_type, languages=languages, workdir=tmp_path / "work", engine="tesseract"
    )
    return process(request).pdfa_path


# The writer alone (no OCR): exact text, placement, PDF/A.


def _blank_scan(path: Path, mode: str = "L", size: tuple[int, int] = (1200, 400)) -> Path:
    Image.new(mode, size, "white" if mode != "1" else 1).save(path)
    return path


def test_lines_come_back_exactly_with_no_space_between_han(tmp_path: Path) -> None:
    lines = [
        TextBox("关于 加 强 档 案 数字 化 工作 的 通知 。", (100, 50, 1100, 100)),
        TextBox("Payroll registers  are kept, 十 年 。", (100, 150, 900, 190)),
        TextBox("𠀀 字 and 丽", (100, 250, 400, 290)),  # a character beyond the BMP, a compatibility ideograph
    ]
    page = tmp_path / "page.pdf"
    write_page_pdf(_blank_scan(tmp_path / "scan.png"), dpi=200, lines=lines, out=page)
    save_pdfa([page], tmp_path / "access.pdf")
    text = pdftotext(tmp_path / "access.pdf")
    expected = ["关于加强档案数字化工作的通知。", "Payroll registers are kept, 十年。", "𠀀字 and 丽"]
    assert text.split("\n")[:3] == expected
    assert not HAN_SPACE_HAN.search(text)
    assert_pdfa_2b(tmp_path / "access.pdf")


def test_each_line_spans_its_box(tmp_path: Path) -> None:
    box = (240, 120, 1080, 180)  # pixels at 240 dpi: points = pixels * 0.3
    page = tmp_path / "page.pdf"
    write_page_pdf(_blank_scan(tmp_path / "scan.png"), dpi=240, lines=[TextBox("档案数字化 records", box)], out=page)
    with pikepdf.open(page) as pdf:
        assert [float(value) for value in pdf.pages[0].mediabox] == [0, 0, 360, 120]
    words = word_boxes(page)
    assert [text for text, _ in words] == ["档案数字化", "records"]
    assert words[0][1][0] == pytest.approx(72, abs=0.5)  # the line starts at its box's left
    assert words[-1][1][2] == pytest.approx(324, abs=0.5)  # and ends at its right
    for _, (_, y0, _, y1) in words:
        assert y0 == pytest.approx(36, abs=0.5) and y1 == pytest.approx(54, abs=0.5)


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "RGBA", "P", "I;16", "CMYK"])
def test_any_scan_mode_makes_a_valid_page(tmp_path: Path, mode: str) -> None:
    scan = tmp_path / ("scan.tif" if mode in ("CMYK", "I;16") else "scan.png")
    Image.new(mode, (300, 200)).save(scan)
    page = tmp_path / "page.pdf"
    write_page_pdf(scan, dpi=300, lines=[TextBox("Archive 档案", (10, 10, 200, 40))], out=page)
    save_pdfa([page], tmp_path / "access.pdf")
    assert_pdfa_2b(tmp_path / "access.pdf")
    assert pdftotext(tmp_path / "access.pdf").strip() == "Archive 档案"


def test_a_jpeg_is_embedded_as_it_is_and_a_page_without_text_has_no_font(tmp_path: Path) -> None:
    scan = tmp_path / "scan.jpg"
    Image.new("RGB", (300, 200), "white").save(scan, quality=80)
    page = tmp_path / "page.pdf"
    write_page_pdf(scan, dpi=300, lines=[TextBox("  ", (1, 1, 5, 5))], out=page)
    with pikepdf.open(page) as pdf:
        image = pdf.pages[0].Resources.XObject.Im1
        assert image.read_raw_bytes() == scan.read_bytes()
        assert "/Font" not in pdf.pages[0].Resources
    save_pdfa([page], tmp_path / "access.pdf")
    assert_pdfa_2b(tmp_path / "access.pdf")


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_png_scan_is_embedded_with_its_own_compressed_data(tmp_path: Path, mode: str) -> None:
    """An 8-bit grey or RGB PNG's data go into the page as they are (Flate with PNG predictors), pixel for pixel.
    (Interlaced PNGs, which PDF cannot read as they are, are decoded and deflated; Pillow cannot write one.)"""
    noise = np.random.default_rng(7).integers(0, 256, (120, 160, 3 if mode == "RGB" else 1), dtype=np.uint8)
    scan = tmp_path / "scan.png"
    Image.fromarray(noise.squeeze()).convert(mode).save(scan)
    page = tmp_path / "page.pdf"
    write_page_pdf(scan, dpi=300, lines=[TextBox("Archive", (10, 10, 100, 40))], out=page)
    with pikepdf.open(page) as pdf:
        image = pdf.pages[0].Resources.XObject.Im1
        assert image.DecodeParms.Predictor == 15
        assert image.read_raw_bytes() in scan.read_bytes()  # the PNG's one IDAT chunk, not deflated again
        drawn = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert(mode))
    with Image.open(scan) as original:
        assert np.array_equal(drawn, np.asarray(original.convert(mode)))
    save_pdfa([page], tmp_path / "access.pdf")
    assert_pdfa_2b(tmp_path / "access.pdf")


def test_line_text_keeps_latin_spaces_only() -> None:
    assert line_text("数 字 化 。 Records\tOffice") == "数字化。 Records Office"
    assert line_text("a\x00b\x07 c") == "ab c"


# Real OCR end to end: the image pipeline (tesseract + write_page_pdf) and the PDF path (ocrmypdf).


@pytest.mark.ocr
def test_a_chinese_scan_has_an_unspaced_text_layer_on_the_text(tmp_path: Path) -> None:
    rendered = chinese_page(tmp_path / "in")
    access = _run(tmp_path, rendered.path, "image/png", "chi_sim+eng")
    text = pdftotext(access)
    assert len(re.findall(f"[{HAN_RANGES}]", text)) > 60
    assert not HAN_SPACE_HAN.search(text), HAN_SPACE_HAN.findall(text)
    assert bigram_f1(text, CHINESE_TEXT) > 0.85
    flat = text.replace("\n", "")
    assert all(phrase in flat for phrase in CHINESE_PHRASES)
    assert_inside(word_boxes(access), ink_area_points(rendered.path, 300))
    assert_pdfa_2b(access)


@pytest.mark.ocr
def test_an_english_scan_keeps_its_word_spaces(tmp_path: Path) -> None:
    rendered = english_page(tmp_path / "in")
    access = _run(tmp_path, rendered.path, "image/jpeg", "eng")
    text = " ".join(pdftotext(access).split()).lower()
    assert all(phrase in text for phrase in ENGLISH_PHRASES)
    words = word_boxes(access)
    assert len(words) >= 12
    assert_inside(words, ink_area_points(rendered.path, 300))
    assert_pdfa_2b(access)


@pytest.mark.ocr
def test_a_scanned_chinese_pdf_has_an_unspaced_text_layer(tmp_path: Path) -> None:
    rendered = chinese_page(tmp_path / "in")
    source = tmp_path / "in" / "scan.pdf"
    source.write_bytes(img2pdf.convert([str(rendered.path)]))
    access = _run(tmp_path, source, "application/pdf", "chi_sim+eng")
    text = pdftotext(access)
    assert not HAN_SPACE_HAN.search(text), HAN_SPACE_HAN.findall(text)
    assert bigram_f1(text, CHINESE_TEXT) > 0.85
    assert_pdfa_2b(access)


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_a_bilevel_scan_shows_as_it_was_scanned(tmp_path: Path, suffix: str) -> None:
    scan = tmp_path / f"scan{suffix}"
    image = Image.new("1", (300, 200), 1)
    image.paste(0, (50, 50, 150, 100))  # a black bar on white paper
    image.save(scan, **({"compression": "group4"} if suffix == ".tif" else {}))
    page = tmp_path / "page.pdf"
    write_page_pdf(scan, dpi=150, lines=[], out=page)
    with pikepdf.open(page) as pdf:
        assert pdf.pages[0].Resources.XObject.Im1.Filter == "/CCITTFaxDecode"
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-singlefile", str(page), str(tmp_path / "shown")], check=True)
    with Image.open(tmp_path / "shown.pgm") as shown:
        assert shown.size == (300, 200)
        assert shown.getpixel((100, 75)) < 30 and shown.getpixel((10, 10)) > 225 and shown.getpixel((200, 150)) > 225


def test_a_vertical_column_runs_down_its_box(tmp_path: Path) -> None:
    column = (100, 100, 150, 400)  # 50 x 300 pixels at 72 dpi: six characters top to bottom
    page = tmp_path / "page.pdf"
    write_page_pdf(_blank_scan(tmp_path / "scan.png"), dpi=72, lines=[TextBox("档案数字化了", column)], out=page)
    assert pdftotext(page).strip() == "档案数字化了"
    [(_, (x0, y0, x1, y1))] = word_boxes(page)
    assert (x0, y0, x1, y1) == pytest.approx((100, 100, 150, 400), abs=1)
