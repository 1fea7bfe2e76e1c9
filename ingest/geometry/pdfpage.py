"""Scanned PDF pages as they are displayed, and a straightened copy for OCR.

A page that is one scanned image is measured as a reader shows it: the image is placed by the matrix in force
where it is drawn (its `cm` operators; quarter turns and mirrorings are applied, other shears are ignored),
then the page's /Rotate turns it clockwise. Its resolution comes from the size it is drawn at, in /UserUnit
units (1/72 inch × UserUnit). `prepare_for_ocr` writes a copy where skewed scans are straightened (in the
image's own space, so the page still displays as before) and pages with a /UserUnit are rescaled to 1
(the size and look stay; OCR tools that ignore /UserUnit then see the true resolution).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from ingest.geometry.page import measure_geometry, straighten

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
BOXES = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")


@dataclass(frozen=True)
class DisplayedScan:
    index: int  # 0-based page index
    image: Image.Image  # as displayed (matrix quarter turns and flips, then /Rotate)
    dpi: float | None  # pixels per inch of the displayed page (/UserUnit counted)
    steps: tuple[Image.Transpose, ...]  # image space -> displayed; applied in reverse they undo it
    name: str  # the image's resource name on the page


def _concat(first: Matrix, then: Matrix) -> Matrix:
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def image_matrix(page: pikepdf.Page, name: str) -> Matrix | None:
    """The current transformation matrix where the page draws image `name` (the first time), or None."""
    stack: list[Matrix] = []
    ctm = IDENTITY
    for instruction in pikepdf.parse_content_stream(page, "q Q cm Do"):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else IDENTITY
        elif op == "cm" and len(operands) == 6:
            ctm = _concat(tuple(float(value) for value in operands), ctm)  # type: ignore[arg-type]
        elif op == "Do" and operands and str(operands[0]) == name:
            return ctm
    return None


def display_steps(matrix: Matrix, rotate: int) -> tuple[Image.Transpose, ...]:
    """Transpose steps taking the stored image to its displayed orientation (nearest quarter turn/mirror)."""
    a, b, c, d, _, _ = matrix
    columns = np.array([a, -b])  # where increasing column runs on the display (y down)
    rows = np.array([-c, d])  # and increasing row (an image's first row is drawn at the top of its square)
    for _ in range((rotate // 90) % 4):  # /Rotate turns the page clockwise on the display
        columns, rows = np.array([-columns[1], columns[0]]), np.array([-rows[1], rows[0]])
    steps: list[Image.Transpose] = []
    if abs(columns[1]) > abs(columns[0]):  # columns run up or down: swap the axes first
        steps.append(Image.Transpose.TRANSPOSE)
        columns, rows = rows, columns
    if columns[0] < 0:
        steps.append(Image.Transpose.FLIP_LEFT_RIGHT)
    if rows[1] < 0:
        steps.append(Image.Transpose.FLIP_TOP_BOTTOM)
    return tuple(steps)


def _apply(image: Image.Image, steps: tuple[Image.Transpose, ...]) -> Image.Image:
    for step in steps:
        image = image.transpose(step)
    return image


def displayed_scans(path: Path) -> Iterator[DisplayedScan]:
    """Each page that shows exactly one image, as displayed (pages Pillow cannot decode are left out)."""
    with pikepdf.open(path) as pdf:
        for index, page in enumerate(pdf.pages):
            scan = _displayed(index, page)
            if scan is not None:
                yield scan


def _displayed(index: int, page: pikepdf.Page) -> DisplayedScan | None:
    images = page.get_images()
    if len(images) != 1:
        return None
    [(name, stream)] = images.items()
    matrix = image_matrix(page, str(name))
    if matrix is None:
        return None
    try:
        stored = pikepdf.PdfImage(stream).as_pil_image()
    except (pikepdf.PdfError, NotImplementedError, ValueError, OSError):
        return None
    steps = display_steps(matrix, int(page.obj.get("/Rotate", 0)))
    unit = float(page.obj.get("/UserUnit", 1.0))
    inches = float(np.hypot(matrix[0], matrix[1])) * unit / 72.0
    dpi = round(stored.width / inches, 1) if inches > 0 else None
    return DisplayedScan(index, _apply(stored, steps), dpi, steps, str(name))


def prepare_for_ocr(source: Path, out: Path, *, min_degrees: float) -> Path:
    """`out` when some page was straightened or rescaled, else `source` (nothing written). Pages that draw
    text keep their image as it is (a text layer placed on it would no longer match)."""
    changed = False
    scans = {scan.index: scan for scan in displayed_scans(source)}
    with pikepdf.open(source) as pdf:
        for index, page in enumerate(pdf.pages):
            scan = scans.get(index)
            if scan is not None and not has_text(page):
                changed |= _straighten_scan(page, scan, min_degrees)
            changed |= _unit_to_one(page)
        if changed:
            pdf.save(out)
    return out if changed else source


def has_text(page: pikepdf.Page) -> bool:
    return any(True for _ in pikepdf.parse_content_stream(page, "BT"))


def _straighten_scan(page: pikepdf.Page, scan: DisplayedScan, min_degrees: float) -> bool:
    geometry = measure_geometry(scan.image)
    if not geometry.needs_turn(min_degrees):
        return False
    straight = _apply(straighten(scan.image, geometry, min_degrees), tuple(reversed(scan.steps)))
    mode = straight.mode if straight.mode in ("1", "L", "RGB") else "RGB"
    pixels = straight.convert(mode)
    stream = page.obj.Resources.XObject[scan.name]
    stream.write(zlib.compress(pixels.tobytes()), filter=pikepdf.Name.FlateDecode)
    stream.ColorSpace = pikepdf.Name.DeviceRGB if mode == "RGB" else pikepdf.Name.DeviceGray
    stream.BitsPerComponent = 1 if mode == "1" else 8
    for key in ("/DecodeParms", "/Decode", "/SMask", "/Mask", "/ImageMask"):
        if key in stream:
            del stream[key]
    return True


def _unit_to_one(page: pikepdf.Page) -> bool:
    unit = float(page.obj.get("/UserUnit", 1.0))
    if unit == 1.0:
        return False
    for key in BOXES:
        if key in page.obj:
            page.obj[key] = pikepdf.Array([float(value) * unit for value in page.obj[key]])
    page.contents_add(f"q {unit:g} 0 0 {unit:g} 0 0 cm\n".encode(), prepend=True)
    page.contents_add(b"\nQ", prepend=False)
    del page.obj["/UserUnit"]
    return True
