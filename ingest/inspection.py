"""Looking into stored files for the DA/T 70 checks (archive.preservation.dat70's ContentProbe): the PRONOM
format by signature (fido, the Open Preservation Foundation's identifier, with the signature file it ships),
whether an image decodes (Pillow) and what an access copy holds (pikepdf: pages, PDF/A declaration and
structure; pdfminer: the text layer of each page).

fido's own stream reader never stops on a short stream (it compares bytes with ''), so the beginning and end
buffers it matches are read here and handed to its matcher.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTTextContainer
from PIL import Image

from archive.preservation.dat70 import Identified, ImageFacts, PdfFacts
from archive.text import join_han

BUFFER = 128 * 1024  # fido's default: signatures are matched against the first and last 128 KiB
_LOCK = threading.Lock()  # a fido matcher keeps per-file state


@cache
def _fido() -> Any:
    from fido import CONFIG_DIR
    from fido.fido import Fido
    from fido.versions import get_local_versions

    versions = get_local_versions(CONFIG_DIR)
    return Fido(quiet=True, nocontainer=True, format_files=[versions.pronom_signature])


def signature_version() -> str:
    """Which PRONOM signature file identifies (e.g. formats-v109.xml)."""
    from fido import CONFIG_DIR
    from fido.versions import get_local_versions

    return str(get_local_versions(CONFIG_DIR).pronom_signature)


class FileInspector:
    """The content probe the checks use (no state but fido's loaded signatures)."""

    def identify(self, path: Path) -> Identified | None:
        size = path.stat().st_size
        if size == 0:
            return None
        with path.open("rb") as stream:
            head = stream.read(BUFFER)
            stream.seek(max(0, size - BUFFER))
            tail = stream.read(BUFFER)
        fido = _fido()
        with _LOCK:
            fido.current_file, fido.current_filesize = str(path), size
            matches = fido.match_formats(head, tail)
        if not matches:
            return None
        found, _signature = matches[0]
        mime = found.find("mime")
        return Identified(
            puid=str(fido.get_puid(found)),
            name=str(found.find("name").text),
            mime=mime.text if mime is not None else None,
        )

    def image(self, path: Path) -> ImageFacts:
        try:
            with Image.open(path) as image:
                image.load()
                frames = getattr(image, "n_frames", 1)
                for frame in range(1, frames):
                    image.seek(frame)
                    image.load()
                return ImageFacts(width=image.width, height=image.height)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            return ImageFacts(error=f"{type(exc).__name__}: {exc}")

    def pdf(self, path: Path) -> PdfFacts:
        try:
            with pikepdf.open(path) as pdf:
                shapes = tuple(_shape(page) for page in pdf.pages)
                part, conformance = _pdfa_id(pdf)
                problems = _structure(pdf)
        except (pikepdf.PdfError, OSError, ValueError) as exc:
            return PdfFacts(error=f"{type(exc).__name__}: {exc}")
        texts, text_error = _texts(path, len(shapes))
        return PdfFacts(
            pages=len(shapes),
            shapes=shapes,
            texts=texts,
            text_error=text_error,
            pdfa_part=part,
            pdfa_conformance=conformance,
            problems=problems,
        )


def _shape(page: pikepdf.Page) -> tuple[float, float]:
    box = [float(v) for v in page.mediabox]
    width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
    rotate = int(page.obj.get("/Rotate", 0)) % 180
    return (height, width) if rotate else (width, height)


def _pdfa_id(pdf: pikepdf.Pdf) -> tuple[str | None, str | None]:
    if "/Metadata" not in pdf.Root:
        return None, None
    meta = pdf.open_metadata()
    part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
    return (str(part) if part is not None else None), (str(conformance) if conformance is not None else None)


def _structure(pdf: pikepdf.Pdf) -> tuple[str, ...]:
    """The structural PDF/A rules that can be checked without a validator."""
    problems: list[str] = []
    if pdf.is_encrypted:
        problems.append("encrypted")
    intents = pdf.Root.get("/OutputIntents")
    if not intents or not any(intent.get("/S") == "/GTS_PDFA1" for intent in intents):
        problems.append("no_output_intent")
    if not _fonts_embedded(pdf):
        problems.append("fonts_not_embedded")
    names = pdf.Root.get("/Names")
    if (names is not None and "/JavaScript" in names) or _has_javascript(pdf):
        problems.append("javascript")
    if "/Metadata" not in pdf.Root:
        problems.append("no_xmp")
    if "/ID" not in pdf.trailer:
        problems.append("no_id")
    return tuple(problems)


def _fonts_embedded(pdf: pikepdf.Pdf) -> bool:
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/FontDescriptor":
            continue
        if not any(key in obj for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            return False
    return True


def _has_javascript(pdf: pikepdf.Pdf) -> bool:
    return any(isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/JavaScript" for obj in pdf.objects)


def _texts(path: Path, pages: int) -> tuple[tuple[str, ...], str | None]:
    """Each page's text layer, the file parsed once (whitespace runs folded, Han characters joined as the
    ingest stores them)."""
    texts: list[str] = []
    try:
        for layout in extract_pages(path, maxpages=pages):
            text = "".join(part.get_text() for part in layout if isinstance(part, LTTextContainer))
            texts.append(join_han(re.sub(r"[ \t]+", " ", text)).strip())
    except Exception as exc:  # pdfminer raises many kinds on a damaged layer: each is this check's finding
        return tuple(texts), f"{type(exc).__name__}: {exc}"
    return tuple(texts), None
