"""PDF assembly and PDF/A-2b conversion (ocrmypdf, with its speculative conversion: no Ghostscript pass)."""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pikepdf.pdfa
from pdfminer.high_level import extract_text
from PIL import Image

from archive.errors import ProcessingFailed
from archive.text import join_han

log = logging.getLogger(__name__)


# The document information a scanned PDF's access copy keeps from the PDF it was made from.
KEPT_INFO = ("/Title", "/Author", "/Subject", "/Keywords", "/CreationDate")


def save_pdfa(page_pdfs: list[Path], out: Path, *, info_from: Path | None = None) -> None:
    """Join per-page PDFs (tesseract output) in order and save them as PDF/A-2b; `info_from` is the PDF whose
    title, author, subject, keywords and creation date the copy keeps (in its document info and XMP alike).

    pikepdf adds the sRGB output intent and the XMP declaration, then validates the bytes it wrote; tesseract's
    pages already embed their (glyphless) font, so no Ghostscript pass is needed.
    """
    parts: list[pikepdf.Pdf] = []
    try:
        with pikepdf.Pdf.new() as merged:
            for page_pdf in page_pdfs:
                part = pikepdf.open(page_pdf)
                parts.append(part)
                merged.pages.extend(part.pages)
            if info_from is not None:
                _keep_info(info_from, merged)
            pikepdf.pdfa.save(merged, out, "2b", output_intent="sRGB")
    except pikepdf.pdfa.PdfaError as exc:
        raise ProcessingFailed(f"the access copy did not validate as PDF/A-2b: {exc}") from exc
    finally:
        for part in parts:
            part.close()


def _keep_info(source: Path, merged: pikepdf.Pdf) -> None:
    with pikepdf.open(source) as original:
        kept = {key: str(original.docinfo[key]) for key in KEPT_INFO if key in original.docinfo}
    for key, value in kept.items():
        merged.docinfo[key] = value
    if kept:
        with merged.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(merged.docinfo, raise_failure=False)


def pdf_page_images(path: Path) -> Iterator[tuple[int, Image.Image]]:
    """(page index, image) for pages that are one scanned image, so they can be judged like image scans."""
    with pikepdf.open(path) as pdf:
        for index, page in enumerate(pdf.pages):
            images = list(page.get_images().values())
            if len(images) != 1:
                continue
            try:
                yield index, pikepdf.PdfImage(images[0]).as_pil_image()  # type: ignore[arg-type]
            except (pikepdf.PdfError, NotImplementedError, ValueError, OSError):
                continue  # an encoding Pillow cannot read: the page is simply not measured


def to_pdfa(
    source: Path, out: Path, *, languages: str, sidecar: Path | None, page_timeout: float, recognise: bool = True
) -> None:
    """OCR pages that lack text (keeping existing text layers), turn pages upright, and write PDF/A-2b.

    ocrmypdf allows one run per process, so each run is its own `python -m ocrmypdf` child. Ghostscript 10.0.0
    (Debian 12) corrupts PDFs with existing text, so `--output-type auto` is used: ocrmypdf then converts
    speculatively without Ghostscript. The result is checked; anything but PDF/A-2 fails. `recognise=False`
    runs ocrmypdf's own null OCR engine (`--ocr-engine none`): the same conversion, no tesseract.
    """
    command = [sys.executable, "-m", "ocrmypdf", "--skip-text", "--rotate-pages", "--output-type", "auto"]
    command += ["--jobs", "1", "--optimize", "0", "--quiet"]
    if recognise:
        command += ["--language", languages, "--tesseract-timeout", str(page_timeout)]
    else:
        command += ["--ocr-engine", "none"]
    if sidecar is not None:
        command += ["--sidecar", str(sidecar)]
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}
    run = subprocess.run([*command, str(source), str(out)], capture_output=True, text=True, env=env, check=False)
    if run.returncode != 0:
        reason = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
        raise ProcessingFailed(f"making the PDF/A access copy failed (ocrmypdf exit {run.returncode}): {reason}")
    part = pdfa_part(out)
    if part != "2":
        raise ProcessingFailed(f"the access copy came out as PDF/A part {part!r}, not PDF/A-2b")


def pdfa_part(path: Path) -> str | None:
    """The PDF/A part declared in the file's XMP metadata (e.g. "2"), or None."""
    with pikepdf.open(path) as pdf, pdf.open_metadata() as meta:
        value = meta.get("pdfaid:part")
        return str(value) if value is not None else None


def page_text(path: Path, page_index: int) -> str:
    """Text of one page's existing text layer."""
    text = extract_text(path, page_numbers=[page_index])
    return join_han(re.sub(r"[ \t]+", " ", text)).strip()


def page_geometry(path: Path) -> list[tuple[int, int, float | None]]:
    """(width px, height px, dpi) per page, from the largest image on each page against the page's displayed
    area (/UserUnit counted; by area, so /Rotate does not matter); points at 72 dpi otherwise."""
    result: list[tuple[int, int, float | None]] = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            box = page.mediabox
            width_pt = float(box[2]) - float(box[0])
            height_pt = float(box[3]) - float(box[1])
            biggest = (0, 0)
            for image in page.get_images().values():
                size = (int(image.get("/Width", 0)), int(image.get("/Height", 0)))
                if size[0] * size[1] > biggest[0] * biggest[1]:
                    biggest = size
            unit = float(page.obj.get("/UserUnit", 1.0))  # points of 1/72 in times UserUnit
            dpi = _image_dpi(biggest, (width_pt * unit, height_pt * unit)) if biggest[0] else None
            if dpi is not None:
                result.append((biggest[0], biggest[1], dpi))
            else:
                result.append((round(width_pt), round(height_pt), None))
    return result


def _image_dpi(pixels: tuple[int, int], displayed_points: tuple[float, float]) -> float | None:
    """Resolution of a page image drawn over a page of `displayed_points` (1/72 in, after /UserUnit): pixels
    per inch over the area, so a page turned by /Rotate or by its matrix gives the same figure."""
    area = displayed_points[0] * displayed_points[1] / 72.0**2
    if pixels[0] <= 0 or pixels[1] <= 0 or area <= 0:
        return None
    return round(math.sqrt(pixels[0] * pixels[1] / area), 1)


def replace_page(document_pdf: Path, page_pdf: Path, number: int, out: Path) -> None:
    """A copy of the access PDF with page `number` (1-based) swapped for the one page of `page_pdf`, as PDF/A-2b."""
    with pikepdf.open(document_pdf) as pdf, pikepdf.open(page_pdf) as replacement:
        if not 1 <= number <= len(pdf.pages):
            raise ProcessingFailed(f"the access copy has {len(pdf.pages)} pages; there is no page {number}")
        pdf.pages.insert(number - 1, replacement.pages[0])
        del pdf.pages[number]
        try:
            pikepdf.pdfa.save(pdf, out, "2b", output_intent="sRGB")
        except pikepdf.pdfa.PdfaError as exc:
            raise ProcessingFailed(f"the access copy did not validate as PDF/A-2b after the rescan: {exc}") from exc
