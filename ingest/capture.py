"""What a scanned image says of its own capture (EXIF / TIFF tags), and how it compares with what the batch
declares of its scan (device, resolution, colour mode): digitisation process metadata per page (DA/T 31).

    capture = read_capture(path)            # None for a PDF or a file Pillow cannot open
    findings = capture_findings(capture, DeclaredScan(dpi=300, make="Fujitsu", model="fi-7160", colour_mode="grey"))

Reading the tags opens the file lazily (no pixels decoded); the result is a plain, picklable dataclass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ingest.quality.gate import QualityFinding

CAPTURE_CHECKS = ("capture_dpi", "capture_device", "capture_mode")
COLOUR_MODES = ("bitonal", "grey", "colour")
DPI_TOLERANCE = 1.0  # PNG stores dots per metre (300 dpi reads back as 299.9994); a declared dpi is whole

TAG_MAKE, TAG_MODEL, TAG_SOFTWARE, TAG_DATETIME = 271, 272, 305, 306
TAG_XRES, TAG_YRES, TAG_BITS, TAG_PHOTOMETRIC = 282, 283, 258, 262
_MODES = {"1": "bitonal", "L": "grey", "LA": "grey", "I": "grey", "I;16": "grey", "I;16B": "grey", "F": "grey"}
_PHOTOMETRIC = {0: "bitonal", 1: "grey", 2: "colour", 3: "colour", 5: "colour", 6: "colour", 8: "colour"}


@dataclass(frozen=True)
class ImageCapture:
    """The capture tags of one image (None where the file does not say)."""

    format: str | None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    taken_at: str | None = None  # EXIF DateTime as written, "YYYY:MM:DD HH:MM:SS"
    x_dpi: float | None = None
    y_dpi: float | None = None
    bits_per_sample: int | None = None
    colour_mode: str | None = None  # bitonal | grey | colour
    photometric: int | None = None  # TIFF PhotometricInterpretation

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class DeclaredScan:
    """What a batch declares of its scan: the device's make and model and the settings."""

    dpi: float | None = None
    colour_mode: str | None = None
    make: str | None = None
    model: str | None = None


def read_capture(path: Path, frame: int = 0) -> ImageCapture | None:
    """The capture tags of frame `frame` of an image file; None for a PDF or what Pillow cannot open."""
    if path.suffix.lower() == ".pdf":
        return None
    try:
        with Image.open(path) as image:
            if frame:
                image.seek(min(frame, getattr(image, "n_frames", 1) - 1))
            tags = _tags(image)
            dpi = image.info.get("dpi")
            x_dpi = _number(tags.get(TAG_XRES)) or (_number(dpi[0]) if isinstance(dpi, tuple) else None)
            y_dpi = _number(tags.get(TAG_YRES)) or (_number(dpi[1]) if isinstance(dpi, tuple) else None)
            photometric = _integer(tags.get(TAG_PHOTOMETRIC))
            bits = _integer(tags.get(TAG_BITS)) or (1 if image.mode == "1" else 8)
            said = _PHOTOMETRIC.get(photometric) if photometric is not None else None
            return ImageCapture(
                format=image.format,
                make=_text(tags.get(TAG_MAKE)),
                model=_text(tags.get(TAG_MODEL)),
                software=_text(tags.get(TAG_SOFTWARE)),
                taken_at=_text(tags.get(TAG_DATETIME)),
                x_dpi=x_dpi,
                y_dpi=y_dpi,
                bits_per_sample=bits,
                colour_mode="bitonal" if bits == 1 else said or _MODES.get(image.mode, "colour"),
                photometric=photometric,
            )
    except (OSError, UnidentifiedImageError, ValueError, EOFError):
        return None


def capture_findings(capture: ImageCapture | None, declared: DeclaredScan) -> list[QualityFinding]:
    """Warnings where the image says otherwise than the batch declares (only what both sides say is compared)."""
    if capture is None:
        return []
    found: list[QualityFinding] = []
    image_dpi = capture.x_dpi
    if declared.dpi and image_dpi and abs(image_dpi - declared.dpi) > DPI_TOLERANCE:
        found.append(
            QualityFinding(
                "capture_dpi",
                "warn",
                round(image_dpi, 2),
                float(declared.dpi),
                f"the image says {image_dpi:g} dpi but the batch declares {declared.dpi:g} dpi; check the scanner's "
                "setting and rescan the page, or correct the batch's declared resolution",
            )
        )
    if _differs(declared.make, capture.make) or _differs(declared.model, capture.model):
        said = " ".join(part for part in (capture.make, capture.model) if part)
        meant = " ".join(part for part in (declared.make, declared.model) if part)
        found.append(
            QualityFinding(
                "capture_device",
                "warn",
                0.0,
                0.0,
                f"the image was made by {said!r}, not the batch's device {meant!r}; name the device really used",
            )
        )
    if declared.colour_mode and capture.colour_mode and capture.colour_mode != declared.colour_mode:
        found.append(
            QualityFinding(
                "capture_mode",
                "warn",
                float(COLOUR_MODES.index(capture.colour_mode)),
                float(COLOUR_MODES.index(declared.colour_mode)) if declared.colour_mode in COLOUR_MODES else -1.0,
                f"the image is {capture.colour_mode} but the batch declares {declared.colour_mode} scans",
            )
        )
    return found


def _differs(declared: str | None, said: str | None) -> bool:
    """A declared make or model the image's tag neither contains nor is contained in (case and spaces aside)."""
    if not declared or not said:
        return False
    a, b = "".join(declared.lower().split()), "".join(said.lower().split())
    return a not in b and b not in a


def _tags(image: Image.Image) -> dict[int, Any]:
    tag_v2 = getattr(image, "tag_v2", None)
    if tag_v2 is not None:  # a TIFF: the tags of the current frame
        return dict(tag_v2)
    return dict(image.getexif())


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        cleaned = value.replace("\x00", "").strip()
        return cleaned[:255] or None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 4) if number > 0 else None


def _integer(value: Any) -> int | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None
