"""The per-page quality gate: judge a page's measurements against a named profile of thresholds.

    measurements = measure_page(image, dpi=dpi)          # Pillow + numpy, a few tens of ms, no OCR
    findings = evaluate(measurements, get_profile("dat31"), ocr_confidence=page.confidence)
    findings += [finding for _, finding in near_duplicate_findings(batch_pages, profile)]  # per batch

Only problems are returned; each finding names the check, its severity ("fail" or "warn"), the measured
value, the threshold it was judged against, and a sentence saying what the archivist should do. A blank page
is a "warn" finding: it is flagged for a person to confirm and never dropped. On a blank page the checks that
need text (skew, blur, faint ink, contrast, OCR confidence, near-duplicate) are not judged.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from archive.errors import InvalidInput
from ingest.quality.measure import PageMeasurements
from ingest.quality.profiles import QualityProfile

K = TypeVar("K")
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
    measurements: PageMeasurements, profile: QualityProfile, *, ocr_confidence: float | None
) -> list[QualityFinding]:
    """The problems on one page (an empty list for a clean page). `ocr_confidence` is the mean word confidence
    (0-100) from the page's OCR pass, None when there was none."""
    page, limits = measurements, profile
    findings = _resolution(page.dpi, limits)
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
        findings += _skew(page, limits) + _blur(page, limits) + _ink(page, limits)
        findings += _ocr_confidence(ocr_confidence, limits)
    return findings + _exposure(page, limits)


def _resolution(dpi: float | None, limits: QualityProfile) -> list[QualityFinding]:
    if dpi is None:
        message = (
            "the file does not record its resolution; check that the scanner was set to"
            f" {limits.resolution_warn_dpi:.0f} dpi or more and rescan if it was lower"
        )
        return [QualityFinding("resolution", "warn", 0.0, limits.resolution_warn_dpi, message)]
    if dpi + DPI_TOLERANCE < limits.resolution_fail_dpi:
        message = (
            f"page is {dpi:.0f} dpi, below the {limits.resolution_fail_dpi:.0f} dpi minimum;"
            f" rescan at {limits.resolution_warn_dpi:.0f} dpi or more"
        )
        return [QualityFinding("resolution", "fail", dpi, limits.resolution_fail_dpi, message)]
    if dpi + DPI_TOLERANCE < limits.resolution_warn_dpi:
        message = (
            f"page is {dpi:.0f} dpi; rescan at {limits.resolution_warn_dpi:.0f} dpi or more if the text is small"
            " or OCR is poor"
        )
        return [QualityFinding("resolution", "warn", dpi, limits.resolution_warn_dpi, message)]
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
    if page.sharpness < limits.blur_fail_sharpness:
        severity: Severity = "fail"
        threshold = limits.blur_fail_sharpness
    elif page.sharpness < limits.blur_warn_sharpness:
        severity, threshold = "warn", limits.blur_warn_sharpness
    else:
        return []
    message = (
        f"page is blurred (sharpness {page.sharpness:.2f}, minimum {threshold:g}); check the scanner focus and"
        " that the sheet lay flat, then rescan"
    )
    return [QualityFinding("blur", severity, page.sharpness, threshold, message)]


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
    if not page.bilevel and page.clipped_light_fraction > limits.clipped_light_max_fraction:
        message = (
            f"{page.clipped_light_fraction:.0%} of the page is pure white (limit"
            f" {limits.clipped_light_max_fraction:.0%}), so faint writing and stamps may be lost; rescan darker"
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


def hamming(a: str, b: str) -> int:
    """How many of the 64 bits differ between two perceptual hashes (16 hex digits each)."""
    return (_hash_value(a) ^ _hash_value(b)).bit_count()


def _hash_value(text: str) -> int:
    if len(text) != 16 or not all(char in string.hexdigits for char in text):
        raise InvalidInput(f"perceptual hash must be 16 hex digits, not {text!r}")
    return int(text, 16)


def near_duplicates(hashes: Sequence[tuple[K, str]], *, max_distance: int) -> list[tuple[K, K, int]]:
    """Pairs (earlier key, later key, distance) whose hashes are within max_distance bits, in batch order."""
    values = np.array([_hash_value(text) for _, text in hashes], dtype=np.uint64)
    pairs: list[tuple[K, K, int]] = []
    for first in range(len(values) - 1):
        distances = np.bitwise_count(values[first + 1 :] ^ values[first])
        for offset in np.flatnonzero(distances <= max_distance):
            second = first + 1 + int(offset)
            pairs.append((hashes[first][0], hashes[second][0], int(distances[offset])))
    return pairs


def near_duplicate_findings(
    pages: Sequence[tuple[K, PageMeasurements]], profile: QualityProfile
) -> list[tuple[K, QualityFinding]]:
    """A "near_duplicate" finding for the later page of each close pair in a batch, keyed by that page.
    Blank pages are left out: blank sides look alike and are flagged as blank already."""
    limit = profile.near_duplicate_max_distance
    hashes = [(key, page.phash) for key, page in pages if page.ink_ratio >= profile.blank_max_ink_ratio]
    findings = []
    for earlier, later, distance in near_duplicates(hashes, max_distance=int(limit)):
        message = (
            f"page looks the same as page {earlier} (perceptual hashes {distance} of 64 bits apart, limit {limit:.0f});"
            " check whether the sheet was scanned twice and remove the extra copy"
        )
        findings.append((later, QualityFinding("near_duplicate", "warn", float(distance), limit, message)))
    return findings
