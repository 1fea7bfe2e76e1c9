"""Named sets of quality-gate thresholds. `dat31` (the default) follows DA/T 31-2017 where the standard gives a
number (resolution, skew) and uses documented house defaults for the rest; a batch may pick another profile
and override single thresholds (`get_profile("dat31", {"blur_warn_sharpness": 1.2})`).

Each threshold is a float field; its metadata (check, severity, unit, meaning) is the documentation that
`describe_profile` prints. Luma is 0 (black) to 255 (white); shares are 0 to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from archive.errors import InvalidInput
from ingest.quality.measure import DEFAULT_BLANK_INK_RATIO

DEFAULT_PROFILE = "dat31"


def _threshold(default: float, check: str, severity: str, unit: str, meaning: str) -> float:
    return field(default=default, metadata={"check": check, "severity": severity, "unit": unit, "meaning": meaning})


@dataclass(frozen=True)
class QualityProfile:
    """Thresholds for `evaluate`. The defaults are the dat31 profile."""

    name: str = DEFAULT_PROFILE
    # dpi: fail when the recorded scan resolution is below this (DA/T 31-2017 minimum 200 dpi)
    resolution_fail_dpi: float = _threshold(
        200.0, "resolution", "fail", "dpi", "fail when the scan resolution is below this"
    )
    # dpi: warn when below this (DA/T 31-2017: 300 dpi where OCR is wanted or the text is small)
    resolution_warn_dpi: float = _threshold(
        300.0, "resolution", "warn", "dpi", "warn when the scan resolution is below this"
    )
    # degrees: fail when the skew left after deskew is above this (local acceptance rule: at most 3°)
    skew_fail_degrees: float = _threshold(
        3.0, "skew", "fail", "degrees", "fail when the skew left after deskew is above this"
    )
    # degrees: warn when the skew left after deskew is above this (deskew did not fully work on the page)
    skew_warn_degrees: float = _threshold(
        1.0, "skew", "warn", "degrees", "warn when the skew left after deskew is above this"
    )
    # share of the page area: a page with less ink than this is flagged blank (never dropped)
    blank_max_ink_ratio: float = _threshold(
        DEFAULT_BLANK_INK_RATIO,
        "blank",
        "warn",
        "share of page area",
        "flag the page as blank when its ink covers less than this",
    )
    # σ of text edges in px at 300 dpi: crisp ~0.75; a further Gaussian blur of 1.0 px ~1.05, 1.5 px ~1.3 (0.1 mm)
    blur_warn_px: float = _threshold(
        1.18, "blur", "warn", "edge σ, px at 300 dpi", "warn when text edges are more spread than this"
    )
    # same measure: fail above; a Gaussian blur of 5 px (0.4 mm) at 300 dpi measures ~3.5 and OCR degrades
    blur_fail_px: float = _threshold(
        3.5, "blur", "fail", "edge σ, px at 300 dpi", "fail when text edges are more spread than this"
    )
    # luma 0-255: warn when the paper is darker than this (under-exposed, or very dark paper)
    too_dark_paper_luma: float = _threshold(
        140.0, "too_dark", "warn", "luma 0-255", "warn when the paper is darker than this"
    )
    # luma 0-255: warn when the ink is lighter than this (over-exposed or faded; blur also lightens ink)
    too_light_ink_luma: float = _threshold(
        140.0, "too_light", "warn", "luma 0-255", "warn when the ink is lighter than this"
    )
    # luma levels: warn when paper and ink differ by less than this
    low_contrast_min: float = _threshold(
        80.0, "low_contrast", "warn", "luma levels", "warn when paper and ink differ by less than this"
    )
    # share of pixels: warn when more of the page than this is pure black (shadows crushed)
    clipped_dark_max_fraction: float = _threshold(
        0.10, "clipped", "warn", "share of pixels", "warn when more of the page than this is pure black"
    )
    # share of pixels: warn when more than this is pure white and the ink is washed out too (over-exposed; white
    # paper alone is not a fault: office scanners clip the paper to white by design; 1-bit scans are exempt)
    clipped_light_max_fraction: float = _threshold(
        0.60, "clipped", "warn", "share of pixels", "warn when more of the page than this is pure white (and see next)"
    )
    # luma 0-255: ... and the ink is lighter than this (clean office scans: ink ~20-60)
    clipped_light_ink_luma: float = _threshold(
        100.0, "clipped", "warn", "luma 0-255", "the pure-white warning needs ink lighter than this too"
    )
    # share of the page area: warn when dark scanner borders along the edges cover more than this
    black_border_max_fraction: float = _threshold(
        0.01,
        "black_border",
        "warn",
        "share of page area",
        "warn when dark borders along the edges cover more than this",
    )
    # 0-100: warn when the mean OCR word confidence (from the same OCR pass) is below this
    ocr_confidence_warn: float = _threshold(
        70.0, "ocr_confidence", "warn", "percent", "warn when the mean OCR word confidence is below this"
    )
    # share of the page area: with at least this much ink, OCR that reads almost nothing is flagged
    no_text_min_ink_ratio: float = _threshold(
        0.004, "no_text", "warn", "share of page area", "flag a page this inky whose OCR reads almost nothing"
    )
    # characters: "almost nothing" is fewer letters, digits or Han characters than this
    no_text_max_chars: float = _threshold(
        12.0, "no_text", "warn", "characters", "OCR that reads fewer characters than this reads almost nothing"
    )
    # bits of 64: warn when a page's perceptual hash is this close to an earlier page's in the batch
    near_duplicate_max_distance: float = _threshold(
        6.0,
        "near_duplicate",
        "warn",
        "bits of 64",
        "warn when a page's hash is within this many bits of an earlier page's",
    )
    # luma levels: ... and whose mean colour differs by at most this in every channel (a rescan on the same
    # scanner differs by a few levels; another sheet of another paper, or a colour vs a grey scan, by more)
    near_duplicate_max_colour: float = _threshold(
        12.0, "near_duplicate", "warn", "luma levels", "and whose mean colour is within this in each channel"
    )
    # share 0-1: ... and, where OCR read both pages, whose texts share at least this share of character bigrams
    near_duplicate_min_text_similarity: float = _threshold(
        0.7, "near_duplicate", "warn", "share 0-1", "and, with text on both, whose character bigrams overlap this much"
    )


PROFILES: dict[str, QualityProfile] = {
    "dat31": QualityProfile(),
    "lenient": QualityProfile(
        name="lenient",
        resolution_fail_dpi=150.0,
        resolution_warn_dpi=200.0,
        skew_fail_degrees=5.0,
        skew_warn_degrees=2.0,
        blank_max_ink_ratio=0.0001,
        blur_warn_px=1.6,
        blur_fail_px=4.5,
        too_dark_paper_luma=100.0,
        too_light_ink_luma=170.0,
        low_contrast_min=50.0,
        clipped_dark_max_fraction=0.25,
        clipped_light_max_fraction=0.95,
        black_border_max_fraction=0.05,
        ocr_confidence_warn=50.0,
        near_duplicate_max_distance=3.0,
    ),
}


def threshold_names() -> tuple[str, ...]:
    return tuple(item.name for item in fields(QualityProfile) if item.name != "name")


def get_profile(name: str, overrides: Mapping[str, float] | None = None) -> QualityProfile:
    """A named profile, optionally with some thresholds replaced (the name then ends in "+custom")."""
    profile = PROFILES.get(name)
    if profile is None:
        allowed = ", ".join(sorted(PROFILES))
        raise InvalidInput(f"unknown quality profile {name!r}; choose one of: {allowed}")
    if not overrides:
        return profile
    keys = threshold_names()
    unknown = sorted(set(overrides) - set(keys))
    if unknown:
        raise InvalidInput(f"unknown quality threshold(s) {', '.join(unknown)}; allowed: {', '.join(keys)}")
    values: dict[str, float] = {}
    for key, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise InvalidInput(f"quality threshold {key} must be a number of 0 or more, not {value!r}")
        values[key] = float(value)
    return replace(profile, name=f"{profile.name}+custom", **values)


def describe_profile(profile: QualityProfile) -> list[dict[str, str | float]]:
    """One row per threshold: check, key (for overrides), severity, threshold, unit, meaning."""
    return [
        {
            "check": item.metadata["check"],
            "key": item.name,
            "severity": item.metadata["severity"],
            "threshold": getattr(profile, item.name),
            "unit": item.metadata["unit"],
            "meaning": item.metadata["meaning"],
        }
        for item in fields(profile)
        if item.name != "name"
    ]
