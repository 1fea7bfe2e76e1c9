"""Acceptance sampling (DA/T 31 local rules): draw ≥ 5% of a batch's pages at random with a recorded seed;
accept at ≥ 95% passes and zero critical defects, otherwise return the batch to the archivist."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from archive.coded import ACCEPTANCE_REASONS, Coded
from archive.errors import InvalidInput

DEFECT_TYPES = {
    "missing_page": "a page of the original is not in the scan",
    "wrong_reference_code": "the item carries another item's reference code",
    "illegible": "text cannot be read at normal zoom",
    "skewed": "visibly skewed after processing",
    "cropped": "content cut off at an edge",
    "wrong_order": "pages out of order",
    "blank": "blank page where the original has content",
    "duplicate": "the same page twice",
    "metadata_error": "title, date or level wrong",
    "other": "anything else (say what in the note)",
}
CRITICAL_DEFECTS = frozenset({"missing_page", "wrong_reference_code"})
MIN_PERCENT = 5.0
PASS_RATE = 0.95


def sample_size(population: int, *, percent: float, minimum: int) -> int:
    if percent < MIN_PERCENT:
        raise InvalidInput(
            f"a sample must cover at least {MIN_PERCENT:g}% of the pages (asked {percent:g}%)",
            InvalidInput.SAMPLE_TOO_SMALL,
            {"minimum": MIN_PERCENT},
        )
    if minimum < 1:
        raise InvalidInput("the minimum sample size must be at least 1", InvalidInput.SAMPLE_MINIMUM)
    return min(population, max(minimum, math.ceil(population * percent / 100)))


def draw(page_ids: Sequence[int], *, percent: float, minimum: int, seed: int) -> list[int]:
    """The same ids, percent, minimum and seed always draw the same pages."""
    population = sorted(page_ids)
    if not population:
        raise InvalidInput(
            "the batch has no pages to sample yet; ingest and process its files first", InvalidInput.NOTHING_TO_SAMPLE
        )
    size = sample_size(len(population), percent=percent, minimum=minimum)
    return sorted(random.Random(seed).sample(population, size))


def check_defect(defect: str | None, *, passed: bool) -> str | None:
    if passed:
        return None
    if defect not in DEFECT_TYPES:
        allowed = ", ".join(sorted(DEFECT_TYPES))
        raise InvalidInput(f"a failed page needs a defect type; one of: {allowed}", InvalidInput.DEFECT_MISSING)
    return defect


@dataclass(frozen=True)
class Decision:
    accepted: bool
    sampled: int
    reviewed: int
    passed: int
    pass_rate: float
    critical: int
    reasons: tuple[Coded, ...]  # why it went back for rescan (archive.coded.ACCEPTANCE_REASONS)


def decide(*, sampled: int, verdicts: Sequence[tuple[bool, str | None]]) -> Decision:
    """Every sampled page must have a verdict before a decision is made."""
    if len(verdicts) < sampled:
        raise InvalidInput(
            f"{sampled - len(verdicts)} of {sampled} sampled pages have no verdict yet",
            InvalidInput.VERDICTS_MISSING,
            {"count": sampled - len(verdicts), "sampled": sampled},
        )
    passed = sum(1 for ok, _ in verdicts if ok)
    critical = sum(1 for ok, defect in verdicts if not ok and defect in CRITICAL_DEFECTS)
    rate = passed / len(verdicts) if verdicts else 0.0
    reasons: list[Coded] = []
    if rate < PASS_RATE:
        said = f"pass rate {rate:.1%} is below {PASS_RATE:.0%}"
        reasons.append(ACCEPTANCE_REASONS.line("pass_rate_low", said, pass_rate=round(rate, 4), required=PASS_RATE))
    if critical:
        said = f"{critical} critical defect(s) (missing page or wrong reference code)"
        reasons.append(ACCEPTANCE_REASONS.line("critical_defects", said, count=critical))
    return Decision(not reasons, sampled, len(verdicts), passed, round(rate, 4), critical, tuple(reasons))
