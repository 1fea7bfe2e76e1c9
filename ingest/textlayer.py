"""One-page PDFs of a page image with an invisible text layer: what find-in-PDF, selection and copy-paste use.

Each line (a tesseract line or word, a PP-OCR line) is written as one string in render mode 3 (invisible) with
a glyphless font, on its box and horizontally scaled to the box's width, as tesseract's and ocrmypdf's renderers
do; but spaces between Han characters are left out (Chinese has no word spaces) while Latin word spaces stay.
The font is tesseract's GlyphLessFont (Apache-2.0): one empty glyph, 500/1000 wide, that every CID maps to, so
a string's width is 0.5 x font size per character. The CIDs are the characters' code points (characters beyond
the BMP get private-use CIDs), and the ToUnicode map lists each character used, so extraction gives the text.
The result passes `pikepdf.pdfa` (PDF/A-2b) once joined by `ingest.pdfa.save_pdfa`.
"""

from __future__ import annotations

import base64
import functools
import io
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image, TiffImagePlugin

from archive.text import join_han
from ingest.engines.base import TextBox

FONT_NAME = "/f-0-0"
_CHAR_WIDTH = 0.5  # the glyph's advance, per unit of font size
_FIRST_PRIVATE_CID = 0xE000  # CIDs for characters beyond the BMP (two-byte codes cannot hold them)

# tesseract's pdf.ttf (tessdata; Apache-2.0): glyph 0 .notdef, glyph 1 empty with advance 1024/2048 em.
_GLYPHLESS_TTF = base64.b64decode(
    "AAEAAAAKAIAAAwAgT1MvMlbeyJQAAAEoAAAAYGNtYXAACgA0AAABkAAAAB5nbHlmFSJBJAAAAbgAAAAYaGVhZAt48WUAAACsAAAA"
    "NmhoZWEMAgQCAAAA5AAAACRobXR4BAAAAAAAAYgAAAAIbG9jYQAMAAAAAAGwAAAABm1heHAABAAFAAABCAAAACBuYW1l8usW2gAA"
    "AdAAAABLcG9zdAABAAEAAAIcAAAAIAABAAAAAQAAsJRxEF8PPPUEBwgAAAAAAM+a/G4AAAAA1MOn8gAAAAAEAAgAAAAAEAACAAAA"
    "AAAAAAEAAAgA//8AAAQAAAAAAAQAAAEAAAAAAAAAAAAAAAAAAAACAAEAAAACAAQAAQAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAwAA"
    "AZAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUAAQABAAAAAAAAAAAAAAAAAAAAAAAAAAAAR09PRwBAAAAAAAAB//8AAAABAAGA"
    "AAAAAAAAAAAAAAAAAAABAAAAAAAABAAAAAAAAAIAAQAAAAAAFAADAAAAAAAUAAYACgAAAAAAAAAAAAAAAAAMAAAAAQAAAAAEAAgA"
    "AAMAADEhESEEAPwACAAAAAADACoAAAADAAAABQAWAAAAAQAAAAAABQALABYAAwABBAkABQAWAAAAVgBlAHIAcwBpAG8AbgAgADEA"
    "LgAwVmVyc2lvbiAxLjAAAAEAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAA="
)


@dataclass(frozen=True)
class _PageImage:
    """An image ready to embed: its stream bytes and dictionary entries."""

    data: bytes
    width: int
    height: int
    colour_space: str
    bits: int
    filter: str
    parameters: dict[str, int | bool] | None = None


def write_page_pdf(image_path: Path, *, dpi: float, lines: Sequence[TextBox], out: Path) -> None:
    """Write `out`: one page holding the image at its size (points = pixels x 72 / dpi) and, for each line,
    its text invisibly on its box (boxes in page pixels: left, top, right, bottom)."""
    embedded = _embeddable(image_path)
    scale = 72.0 / dpi
    width_pt, height_pt = embedded.width * scale, embedded.height * scale
    with pikepdf.new() as pdf:
        image = pikepdf.Stream(pdf, embedded.data)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height = embedded.width, embedded.height
        image.ColorSpace = pikepdf.Name(embedded.colour_space)
        image.BitsPerComponent = embedded.bits
        image.Filter = pikepdf.Name(embedded.filter)
        if embedded.parameters:
            image.DecodeParms = pikepdf.Dictionary({f"/{key}": value for key, value in embedded.parameters.items()})
        codes = _Codes()
        text = _text_operators(lines, codes, scale=scale, page_height=height_pt)
        content = f"q {_num(width_pt)} 0 0 {_num(height_pt)} 0 0 cm /Im1 Do Q\n".encode() + text
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im1=image))
        if text:
            resources.Font = pikepdf.Dictionary({FONT_NAME: _glyphless_font(pdf, codes)})
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, round(width_pt, 3), round(height_pt, 3)],
            Resources=resources,
            Contents=pikepdf.Stream(pdf, content),
        )
        pdf.pages.append(pikepdf.Page(page))
        pdf.save(out)


def line_text(text: str) -> str:
    """The text written for one line: control characters dropped, runs of spaces made one, none between Han."""
    kept = "".join(
        " " if char.isspace() else char for char in text if unicodedata.category(char) != "Cc" or char.isspace()
    )
    return join_han(" ".join(kept.split()))


class _Codes:
    """Two-byte codes (CIDs) for the characters of one page, and the ToUnicode map they need."""

    def __init__(self) -> None:
        self.used: dict[int, str] = {}
        self._astral: dict[str, int] = {}

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for char in text:
            point = ord(char)
            if point > 0xFFFF:
                point = self._astral.setdefault(char, _FIRST_PRIVATE_CID + len(self._astral))
            self.used[point] = char
            out += point.to_bytes(2, "big")
        return bytes(out)

    def private(self, char: str) -> bool:
        """A BMP private-use character would share a code with an astral one: such characters are dropped."""
        return _FIRST_PRIVATE_CID <= ord(char) < _FIRST_PRIVATE_CID + 0x1900

    def to_unicode(self) -> bytes:
        entries = [
            f"<{code:04X}> <{char.encode('utf-16-be').hex().upper()}>" for code, char in sorted(self.used.items())
        ]
        blocks = []
        for start in range(0, len(entries), 100):  # a bfchar block holds at most 100 entries
            chunk = entries[start : start + 100]
            blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")


def _text_operators(lines: Sequence[TextBox], codes: _Codes, *, scale: float, page_height: float) -> bytes:
    """BT ... ET with one string per line: font size = box height, baseline on the box's bottom (the font's
    ascent is 1000, descent about 0), horizontal scaling so the string spans the box's width. A line of three or
    more characters in a box at least twice as tall as wide is a vertical column: it runs top to bottom, its
    size the box's width, its baseline the box's left edge."""
    parts: list[str] = []
    for line in lines:
        left, top, right, bottom = line.box
        text = "".join(char for char in line_text(line.text) if not codes.private(char))
        if not text or right <= left or bottom <= top:
            continue
        width, height = (right - left) * scale, (bottom - top) * scale
        if len(text) >= 3 and height >= 2 * width:
            size, length, matrix = width, height, f"0 -1 1 0 {_num(left * scale)} {_num(page_height - top * scale)}"
        else:
            size, length, matrix = height, width, f"1 0 0 1 {_num(left * scale)} {_num(page_height - bottom * scale)}"
        stretch = 100.0 * length / (len(text) * _CHAR_WIDTH * size)
        parts.append(
            f"{FONT_NAME} {_num(size)} Tf {_num(stretch)} Tz {matrix} Tm <{codes.encode(text).hex().upper()}> Tj"
        )
    if not parts:
        return b""
    return ("BT\n3 Tr\n" + "\n".join(parts) + "\nET\n").encode("ascii")


def _glyphless_font(pdf: pikepdf.Pdf, codes: _Codes) -> pikepdf.Dictionary:
    font_file = pikepdf.Stream(pdf, _GLYPHLESS_TTF)
    font_file.Length1 = len(_GLYPHLESS_TTF)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=pikepdf.Name.GlyphLessFont,
        Flags=5,
        FontBBox=[0, 0, 500, 1000],
        ItalicAngle=0,
        Ascent=1000,
        Descent=-1,
        CapHeight=1000,
        StemV=80,
        FontFile2=font_file,
    )
    cid_to_gid = pikepdf.Stream(pdf, _cid_to_gid_map())
    cid_to_gid.Filter = pikepdf.Name.FlateDecode
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name.GlyphLessFont,
        CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
        FontDescriptor=descriptor,
        DW=500,
        CIDToGIDMap=cid_to_gid,
    )
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name.GlyphLessFont,
        Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=[cid_font],
        ToUnicode=pikepdf.Stream(pdf, codes.to_unicode()),
    )


@functools.cache
def _cid_to_gid_map() -> bytes:
    """Every CID to glyph 1 (the empty glyph), deflated."""
    return zlib.compress(b"\x00\x01" * 65536, 9)


def _embeddable(path: Path) -> _PageImage:
    """JPEG (grey or RGB) as it is; bilevel images as CCITT G4 (as tesseract embeds them); anything else decoded
    and deflated as grey or RGB."""
    with Image.open(path) as image:
        if image.format == "JPEG" and image.mode in ("L", "RGB"):
            space = "/DeviceGray" if image.mode == "L" else "/DeviceRGB"
            return _PageImage(path.read_bytes(), image.width, image.height, space, 8, "/DCTDecode")
        if image.format == "PNG" and image.mode in ("L", "RGB") and not image.info.get("interlace"):
            return _png_as_is(path, image)
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        plain = _plain(image)
        if plain.mode == "1":
            return _group4(plain)
        space = "/DeviceRGB" if plain.mode == "RGB" else "/DeviceGray"
        return _PageImage(zlib.compress(plain.tobytes(), 6), plain.width, plain.height, space, 8, "/FlateDecode")


def _png_as_is(path: Path, image: Image.Image) -> _PageImage:
    """An 8-bit grey or RGB PNG's compressed data as it is: PDF's Flate filter with PNG predictors reads it, so
    the page is not deflated again (0.07-0.25 s an A4 page at level 6, the most on noisy scans)."""
    data = path.read_bytes()
    chunks, position = [], 8  # after the PNG signature: length, type, data, CRC
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    colours = 1 if image.mode == "L" else 3
    space = "/DeviceGray" if colours == 1 else "/DeviceRGB"
    parameters: dict[str, int | bool] = {
        "Predictor": 15,
        "Colors": colours,
        "BitsPerComponent": 8,
        "Columns": image.width,
    }
    return _PageImage(b"".join(chunks), image.width, image.height, space, 8, "/FlateDecode", parameters)


def _group4(image: Image.Image) -> _PageImage:
    """A bilevel image as one CCITT G4 strip (Pillow's libtiff encoder; re-encoding takes ~40 ms an A4 page, a
    third of deflating the bits, and the result is about half the size)."""
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", compression="group4", strip_size=1 << 30)
    buffer.seek(0)
    with TiffImagePlugin.TiffImageFile(buffer) as tiff:
        [offset], [length] = tiff.tag_v2[273], tiff.tag_v2[279]  # StripOffsets, StripByteCounts: one strip
        black_is_zero = tiff.tag_v2.get(262, 0) == 1  # PhotometricInterpretation MinIsBlack
    data = buffer.getvalue()[offset : offset + length]
    parameters: dict[str, int | bool] = {"K": -1, "Columns": image.width, "Rows": image.height}
    parameters["BlackIs1"] = black_is_zero
    return _PageImage(data, image.width, image.height, "/DeviceGray", 1, "/CCITTFaxDecode", parameters)


def _plain(image: Image.Image) -> Image.Image:
    """The image as mode 1, L or RGB (PDF/A with an sRGB output intent takes grey and RGB, not CMYK)."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda value: value / 256).convert("L")
    if image.mode in ("LA", "La"):
        return image.convert("L")
    return image.convert("RGB")


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
