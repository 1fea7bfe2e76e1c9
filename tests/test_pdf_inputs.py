"""PDF inputs: a scanned (image-only) PDF is OCRed through ocrmypdf; an existing text layer is reused."""

from __future__ import annotations

from pathlib import Path

import img2pdf
import pikepdf
import pytest

from api.wiring import Context
from archive.models import Document
from tests.actors import ARCHIVIST
from tests.intake import ingest_paths
from tests.pages import chinese_page, english_page

pytestmark = pytest.mark.ocr  # ocrmypdf + tesseract on scanned pages; a text layer made by tesseract


def image_pdf(images: list[Path], target: Path) -> Path:
    target.write_bytes(img2pdf.convert([str(image) for image in images]))
    return target


def test_scanned_pdf_is_ocred_page_by_page(context: Context, tmp_path: Path) -> None:
    zh, en = chinese_page(tmp_path / "img"), english_page(tmp_path / "img")
    pdf = image_pdf([zh.path, en.path], tmp_path / "scan.pdf")
    outcome = ingest_paths(context, [pdf], actor=ARCHIVIST)
    assert outcome.exit_code() == 0, outcome.as_json()
    with context.db.session() as session:
        document = session.query(Document).one()
        assert document.page_count == 2
        first, second = document.pages
        assert "档案数字化" in first.text and first.text_source == "ocr"
        assert "Payroll registers" in second.text
        assert first.dpi is not None and abs(first.dpi - 300) < 1 and first.width_px == 2480
        pdfa = next(o for o in document.objects if o.role == "pdfa")
    copy = tmp_path / "copy.pdf"
    with context.store.open_read(pdfa.key) as stream:
        copy.write_bytes(stream.read())
    with pikepdf.open(copy) as result, result.open_metadata() as meta:
        assert str(meta.get("pdfaid:part")) == "2" and len(result.pages) == 2


def test_existing_text_layer_is_reused_not_ocred_again(context: Context, tmp_path: Path) -> None:
    """A born-digital PDF: its text comes from the text layer (no OCR confidence), exactly as written."""
    import subprocess

    page = english_page(tmp_path / "img")
    base = tmp_path / "searchable"
    subprocess.run(
        ["tesseract", str(page.path), str(base), "-l", "eng", "pdf"],
        check=True,
        capture_output=True,
        env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
    )
    outcome = ingest_paths(context, [base.with_suffix(".pdf")], actor=ARCHIVIST)
    assert outcome.exit_code() == 0, outcome.as_json()
    with context.db.session() as session:
        [page_row] = session.query(Document).one().pages
        assert page_row.text_source == "existing"
        assert page_row.ocr_confidence is None
        assert "Payroll registers are kept for ten years." in page_row.text
