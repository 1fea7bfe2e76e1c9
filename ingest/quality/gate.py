"""The per-page quality gate: judge a page's measurements against a named profile of thresholds.

    measurements = measure_page(image, dpi=dpi)          # Pillow + numpy, a few tens of ms, no OCR
    findings = evaluate(measurements, get_profile("dat31"), ocr_confidence=page.confidence, ocr_text=page.text)
    findings += [finding for _, finding in near_duplicate_findings(batch_pages, profile)]  # per batch

Only problems are returned; each finding names the check, its severity ("fail" or "warn"), the measured
value, the threshold it was judged against, and a sentence saying what the archivist should do. A blank page
is a "warn" finding: it is flagged for a person to confirm and never dropped. On a blank page the checks that
need text (skew, blur, faint ink, contrast, OCR confidence, no text, near-duplicate) are not judged.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, TypeVar

from ingest.quality.duplicates import hamming, near_duplicates, same_scans
from ingest.quality.measure import PageMeasurements
from ingest.quality.profiles import QualityProfile

K = TypeVar("K")
__all__ = ["CHECKS", "QualityFinding", "evaluate", "hamming", "near_duplicate_findings", "near_duplicates"]
Severity = Literal["fail", "warn"]
CHECKS = (
    "resolution",
    "blank",
    "skew",
    "blur",
    "too_dark",
    "too_light",
    "low_contrast",
    "clipped",
    "black_border",
    "ocr_confidence",
    "no_text",
    "near_duplicate",
)
DPI_TOLERANCE = 0.5  # PNG stores dots per metre: 300 dpi comes back as 299.9994


@dataclass(frozen=True)
class QualityFinding:
    check: str  # one of CHECKS
    severity: Severity
    measured: float  # in the unit of the threshold (see describe_profile)
    threshold: float
    message: str  # what is wrong and what to do, for the archivist


def evaluate(
    measurements: PageMeasurements,
    profile: QualityProfile,
    *,
    ocr_confidence: float | None,
    ocr_text: str | None = None,
) -> list[QualityFinding]:
    """The problems on one page (an empty list for a clean page). `ocr_confidence` is the mean word confidence
    (0-100) from the page's OCR pass, None when there was none; `ocr_text` what that pass read (None: no OCR
    pass, e.g. a sidecar text or a page that kept its own text layer)."""
    page, limits = measurements, profile
    findings = _resolution(page.dpi, page.estimated_dpi, limits)
    if page.ink_ratio < limits.blank_max_ink_ratio:
        findings.append(
            QualityFinding(
                "blank",
                "warn",
                page.ink_ratio,
                limits.blank_max_ink_ratio,
                f"page looks blank (ink on {page.ink_ratio:.3%} of it); confirm it is a true blank, such as the back"
                " of a sheet, and not a failed scan — it stays in the batch either way",
            )
        )
    else:
        blurred = _blur(page, limits)  # blur lightens thin strokes: faint ink on a blurred page is the blur
        findings += _skew(page, limits) + blurred + ([] if blurred else _ink(page, limits))
        findings += _ocr_confidence(ocr_confidence, limits) + _no_text(page, ocr_text, limits)
    return findings + _exposure(page, limits)


def _resolution(dpi: float | None, estimated: float | None, limits: QualityProfile) -> list[QualityFinding]:
    """Judge the recorded resolution; a file that records none is judged on the estimate from its text size
    (always at least a warning: the estimate assumes body text of about 12 pt)."""
    value = dpi if dpi is not None else estimated
    if value is None:
        message = (
            "the file does not record its resolution and the page has too little text to estimate it; check that"
            f" the scanner was set to {limits.resolution_warn_dpi:.0f} dpi or more and rescan if it was lower"
        )
        return [QualityFinding("resolution", "warn", 0.0, limits.resolution_warn_dpi, message)]
    recorded = dpi is not None
    page = f"page is {value:.0f} dpi" if recorded else f"the file records no resolution; estimated {value:.0f} dpi"
    guess = "" if dpi is not None else " (estimated from the text size)"
    if value + DPI_TOLERANCE < limits.resolution_fail_dpi:
        message = (
            f"{page}, below the {limits.resolution_fail_dpi:.0f} dpi minimum{guess};"
            f" rescan at {limits.resolution_warn_dpi:.0f} dpi or more"
        )
        return [QualityFinding("resolution", "fail", value, limits.resolution_fail_dpi, message)]
    if value + DPI_TOLERANCE < limits.resolution_warn_dpi or dpi is None:
        advice = "rescan at" if value + DPI_TOLERANCE < limits.resolution_warn_dpi else "check that it was scanned at"
        message = f"{page}; {advice} {limits.resolution_warn_dpi:.0f} dpi or more if the text is small or OCR is poor"
        return [QualityFinding("resolution", "warn", value, limits.resolution_warn_dpi, message)]
    return []


def _skew(page: PageMeasurements, limits: QualityProfile) -> list[QualityFinding]:
    residual = abs(page.skew_after_degrees)
    scanned = f"scanned at {page.skew_degrees:+.1f}°"
    if residual > limits.skew_fail_degrees:
        message = (
            f"page is still skewed {residual:.1f}° after deskew ({scanned}; limit {limits.skew_fail_degrees:g}°);"
            " straighten the sheet on the scanner and rescan"
        )
        return [QualityFinding("skew", "fail", residual, limits.skew_fail_degrees, message)]
    if residual > limits.skew_warn_degrees:
        message = (
            f"page is still skewed {residual:.1f}° after deskew ({scanned}; limit {limits.skew_warn_degrees:g}°);"
            " check that the page reads straight and rescan if not"
        )
        return [QualityFinding("skew", "warn", residual, limits.skew_warn_degrees, message)]
    return []


def _blur(page: PageMeasurements, limits: QualityProfile) -> list[QualityFinding]:
    if page.blur_px > limits.blur_fail_px:
        severity: Severity = "fail"
        threshold = limits.blur_fail_px
    elif page.blur_px > limits.blur_warn_px:
        severity, threshold = "warn", limits.blur_warn_px
    else:
        return []
    message = (
        f"page is blurred (text edges spread over σ {page.blur_px:.2f} px at 300 dpi, limit {threshold:g});"
        " check the scanner focus and that the sheet lay flat, then rescan"
    )
    return [QualityFinding("blur", severity, page.blur_px, threshold, message)]


def _ink(page: PageMeasurements, limits: QualityProfile) -> list[QualityFinding]:
    findings = []
    if page.ink_luma > limits.too_light_ink_luma:
        message = (
            f"text is faint (ink at luma {page.ink_luma:.0f} of 255, limit {limits.too_light_ink_luma:.0f});"
            " rescan darker, or check for blur if the original is crisp"
        )
        findings.append(QualityFinding("too_light", "warn", page.ink_luma, limits.too_light_ink_luma, message))
    if page.contrast < limits.low_contrast_min:
        message = (
            f"ink and paper differ by only {page.contrast:.0f} luma levels (minimum {limits.low_contrast_min:.0f});"
            " rescan with more contrast"
        )
        findings.append(QualityFinding("low_contrast", "warn", page.contrast, limits.low_contrast_min, message))
    return findings


def _exposure(page: PageMeasurements, limits: QualityProfile) -> list[QualityFinding]:
    findings = []
    if page.paper_luma < limits.too_dark_paper_luma:
        message = (
            f"page is too dark (paper at luma {page.paper_luma:.0f} of 255, minimum"
            f" {limits.too_dark_paper_luma:.0f}); rescan lighter or with more exposure"
        )
        findings.append(QualityFinding("too_dark", "warn", page.paper_luma, limits.too_dark_paper_luma, message))
    if not page.bilevel and page.clipped_dark_fraction > limits.clipped_dark_max_fraction:
        message = (
            f"{page.clipped_dark_fraction:.0%} of the page is pure black (limit"
            f" {limits.clipped_dark_max_fraction:.0%}), so detail in dark areas is lost; rescan lighter"
        )
        findings.append(
            QualityFinding("clipped", "warn", page.clipped_dark_fraction, limits.clipped_dark_max_fraction, message)
        )
    washed = page.ink_luma > limits.clipped_light_ink_luma
    if not page.bilevel and washed and page.clipped_light_fraction > limits.clipped_light_max_fraction:
        message = (
            f"{page.clipped_light_fraction:.0%} of the page is pure white (limit"
            f" {limits.clipped_light_max_fraction:.0%}) and the ink is light (luma {page.ink_luma:.0f}): the scan is"
            " over-exposed, so faint writing and stamps may be lost; rescan darker"
        )
        findings.append(
            QualityFinding("clipped", "warn", page.clipped_light_fraction, limits.clipped_light_max_fraction, message)
        )
    if page.border_fraction > limits.black_border_max_fraction:
        message = (
            f"dark scanner borders cover {page.border_fraction:.1%} of the page (limit"
            f" {limits.black_border_max_fraction:.1%}); crop them or rescan with the right page size"
        )
        findings.append(
            QualityFinding("black_border", "warn", page.border_fraction, limits.black_border_max_fraction, message)
        )
    return findings


def _ocr_confidence(confidence: float | None, limits: QualityProfile) -> list[QualityFinding]:
    if confidence is None or confidence >= limits.ocr_confidence_warn:
        return []
    message = (
        f"OCR is only {confidence:.0f}% confident on this page (minimum {limits.ocr_confidence_warn:.0f}%);"
        " proofread the text, and rescan if the image is poor"
    )
    return [QualityFinding("ocr_confidence", "warn", confidence, limits.ocr_confidence_warn, message)]


def _no_text(page: PageMeasurements, text: str | None, limits: QualityProfile) -> list[QualityFinding]:
    if text is None or page.ink_ratio < limits.no_text_min_ink_ratio:
        return []
    characters = text_characters(text)
    if len(characters) >= limits.no_text_max_chars:
        return []
    message = (
        f"OCR read only {len(characters)} characters although {page.ink_ratio:.1%} of the page is ink;"
        " check whether it is a picture, handwriting or a page in another script or orientation, and enter or"
        " correct its text"
    )
    return [QualityFinding("no_text", "warn", float(len(characters)), limits.no_text_max_chars, message)]


def text_characters(text: str) -> str:
    """The letters, digits and Han characters of a text (what counts as read)."""
    return "".join(char for char in text if unicodedata.category(char)[0] in "LN")


def near_duplicate_findings(
    pages: Sequence[tuple[K, PageMeasurements]], profile: QualityProfile, texts: Mapping[K, str] | None = None
) -> list[tuple[K, QualityFinding]]:
    """A "near_duplicate" finding for the later page of each pair in a batch that is the same scan (see
    `duplicates.same_scans`: hash, colour and, with `texts` (OCR text by key), text), keyed by that page.
    Blank pages are left out: blank sides look alike and are flagged as blank already."""
    limit = profile.near_duplicate_max_distance
    known = texts or {}
    described = [(key, asdict(page), known.get(key)) for key, page in pages]
    findings = []
    for earlier, later, distance in same_scans(described, profile):
        message = (
            f"page looks the same as page {earlier} (perceptual hashes {distance} of 64 bits apart, limit {limit:.0f},"
            " same colour and text); check whether the sheet was scanned twice and remove the extra copy"
        )
        findings.append((later, QualityFinding("near_duplicate", "warn", float(distance), limit, message)))
    return findings
