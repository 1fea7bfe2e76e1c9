"""DA/T 70-2018 four-property checks (真实性 authenticity, 完整性 integrity, 可用性 usability, 安全性 security):
the catalogue of checks, what a check needs from outside the core (ports), and the report they make.

Each check has a stable code (`auth.fixity`, `integ.page_sequence`, …), the property it belongs to and a result:
passed, failed (an error found), warning (only warnings found) or not_run (it could not be run here, with the
reason: e.g. no ClamAV installed; a check that was not run never counts as passed). Its problems are findings of
the one graded-report contract (archive.reports), coded by the check's code, so the report grades clean /
warnings / errors and exits 0 / 10 / 9 like every verification; a not-run check is a warning finding.

The rules are in archive.preservation.dat70_rules (one document's objects and pages) and dat70_batch (the batch
and the access log); the facts they judge are gathered by archive.preservation.dat70_run through the two ports
below, whose implementations (PRONOM identification with fido, Pillow, pikepdf, pdfminer; ClamAV) live in
`ingest`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from archive.reports import Finding, Report, Severity


class Property(StrEnum):
    AUTHENTICITY = "authenticity"  # 真实性
    INTEGRITY = "integrity"  # 完整性
    USABILITY = "usability"  # 可用性
    SECURITY = "security"  # 安全性


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class Check:
    code: str
    prop: Property
    checks: str  # what it checks, in English (the web catalogue dat70.json says it in both languages)


AU, IN, US, SE = Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY

CHECKS: tuple[Check, ...] = (
    Check("auth.fixity", AU, "every stored object exists and its bytes hash to the recorded SHA-256"),
    Check("auth.size", AU, "every stored object's size is the recorded size"),
    Check("auth.page_count", AU, "the catalogue's page count equals its current page rows and the access copy's pages"),
    Check("auth.text_layer", AU, "the access copy's text layer on each page matches the page's stored text"),
    Check("auth.stored_text", AU, "the stored text object equals the pages' text in the catalogue, page by page"),
    Check(
        "auth.reference_code", AU, "the reference code (档号) has the form of its fonds' template and its item number"
    ),
    Check("auth.media_type", AU, "the recorded media type agrees with the format identified from the bytes"),
    Check("integ.manifest_items", IN, "every item named on the batch's manifest is in the batch"),
    Check("integ.unlisted_items", IN, "every item of the batch is named on its manifest (when it has one)"),
    Check("integ.manifest_pages", IN, "each item has the number of pages its manifest row expects"),
    Check("integ.item_sequence", IN, "the item numbers of the batch (volume) run without gaps or repeats"),
    Check("integ.page_sequence", IN, "each item's page numbers run 1..n without gaps or repeats"),
    Check("integ.page_order", IN, "the access copy's pages are in the catalogue's order (page shape and text)"),
    Check("integ.objects_present", IN, "each item has its current original(s), PDF/A access copy and text object"),
    Check("integ.required_fields", IN, "the metadata the catalogue requires is filled in (title, fonds, year, ...)"),
    Check("use.format_identified", US, "every original and access copy has a PRONOM format identified (fido)"),
    Check("use.format_accepted", US, "every identified format is one accepted for preservation (TIFF, JPEG, PDF …)"),
    Check("use.file_opens", US, "every image decodes (Pillow) and every PDF opens with all its pages (pikepdf)"),
    Check("use.text_extracts", US, "the text object is UTF-8 and the access copy's text layer can be extracted"),
    Check(
        "use.pdfa_declared", US, "the access copy declares PDF/A-2b in its XMP metadata (pdfaid part and conformance)"
    ),
    Check(
        "use.pdfa_structure",
        US,
        "structural PDF/A rules: no encryption, a PDF/A output intent, embedded fonts, no "
        "JavaScript, XMP metadata, a file identifier (not a full veraPDF validation)",
    ),
    Check("sec.level_set", SE, "every item has a valid classification level (default deny hides one without)"),
    Check("sec.audit_ingest", SE, "the access log holds the ingest event of every item"),
    Check("sec.audit_filing", SE, "the access log holds the filing event of every filed item's batch"),
    Check("sec.virus_scan", SE, "every stored object is scanned with ClamAV (clamdscan or clamscan) and is clean"),
)
CODES: tuple[str, ...] = tuple(check.code for check in CHECKS)
BY_CODE = {check.code: check for check in CHECKS}

PDFA_LIMITS = (
    "PDF/A validity is checked structurally only (pikepdf): the XMP pdfaid declaration, encryption, the output "
    "intent, font embedding, JavaScript, XMP presence and the file identifier. Not checked (veraPDF is not "
    "available): the full ISO 19005-2 rule set, colour spaces of every object, font glyph widths and "
    "encodings, transparency, annotation appearance streams and XMP schema validity."
)


# --- ports: what the checks need from outside the core ---------------------------------------------------------


@dataclass(frozen=True)
class Identified:
    puid: str
    name: str
    mime: str | None = None


@dataclass(frozen=True)
class ImageFacts:
    width: int = 0
    height: int = 0
    error: str | None = None


@dataclass(frozen=True)
class PdfFacts:
    """What an access copy holds: its pages (shape as width/height in points, text layer per page) and the
    facts of its PDF/A declaration and structure; `error` when it does not open."""

    pages: int = 0
    shapes: tuple[tuple[float, float], ...] = ()
    texts: tuple[str, ...] = ()
    text_error: str | None = None
    pdfa_part: str | None = None
    pdfa_conformance: str | None = None
    problems: tuple[str, ...] = ()  # structural: encrypted, no_output_intent, fonts_not_embedded, javascript, ...
    error: str | None = None


class ContentProbe(Protocol):
    """Looks into a file: its PRONOM format, and whether it opens as an image or as a PDF."""

    def identify(self, path: Path) -> Identified | None: ...

    def image(self, path: Path) -> ImageFacts: ...

    def pdf(self, path: Path) -> PdfFacts: ...


@dataclass(frozen=True)
class ScanOutcome:
    """A virus scan of some files: `available` False when no scanner is installed (`reason` says why);
    `infected` path → signature; `error` when the scanner ran and failed."""

    available: bool
    engine: str = ""
    reason: str | None = None
    infected: dict[str, str] = field(default_factory=dict)
    error: str | None = None


class VirusScanner(Protocol):
    def scan(self, paths: Sequence[Path]) -> ScanOutcome: ...


# --- results and the report -------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    code: str
    checked: int = 0  # how many things (objects, pages, items) it looked at
    findings: list[Finding] = field(default_factory=list)
    not_run: str | None = None  # why it could not run here

    @property
    def outcome(self) -> Outcome:
        if self.not_run is not None:
            return Outcome.NOT_RUN
        severities = {finding.severity for finding in self.findings}
        if Severity.ERROR in severities:
            return Outcome.FAILED
        return Outcome.WARNING if severities else Outcome.PASSED

    def add(self, severity: Severity, variant: str | None = None, /, **params: Any) -> None:
        """One problem found by this check: `subject` (an object key) or `document` (its id) says what it is
        about; the other `params` are the values its sentence names."""
        subject = params.pop("subject", None)
        document = params.pop("document", None)
        kind, ident = ("document", int(document)) if document is not None else (None, None)
        self.findings.append(
            Finding(
                severity,
                self.code,
                subject=subject,
                params=params,
                variant=variant,
                subject_kind=kind,
                subject_id=ident,
            )
        )


@dataclass(frozen=True)
class Identification:
    """What the format identifier said of one stored object (None: no format matched): a record's history
    keeps it as a PREMIS format identification event."""

    document_id: int
    key: str
    role: str
    found: Identified | None


@dataclass
class Dat70Report:
    scope: str  # batch | document
    subject_id: int
    documents: int = 0
    objects: int = 0
    results: dict[str, CheckResult] = field(default_factory=lambda: {code: CheckResult(code) for code in CODES})
    identifications: list[Identification] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0

    def __getitem__(self, code: str) -> CheckResult:
        return self.results[code]

    def skip(self, code: str, reason: str) -> None:
        """Mark a check not run (its reason is also a warning finding: it does not pass silently)."""
        result = self.results[code]
        result.not_run = reason
        result.add(Severity.WARNING, "not_run", reason=reason)

    def finish(self) -> Dat70Report:
        self.seconds = time.perf_counter() - self.started
        return self

    def graded(self) -> Report:
        findings = tuple(finding for code in CODES for finding in self.results[code].findings)
        return Report(findings, codes=CODES)

    def as_dict(self) -> dict[str, Any]:
        graded = self.graded()
        checks = [
            {
                "code": check.code,
                "property": check.prop.value,
                "result": self.results[check.code].outcome.value,
                "checked": self.results[check.code].checked,
                "problems": len(self.results[check.code].findings),
                "checks": check.checks,
                "detail": _detail(self.results[check.code]),
                "not_run_reason": self.results[check.code].not_run,
            }
            for check in CHECKS
        ]
        outcomes = {
            prop.value: _worst([self.results[c.code].outcome.value for c in CHECKS if c.prop is prop])
            for prop in Property
        }
        return {
            "scope": self.scope,
            "subject_id": self.subject_id,
            "documents": self.documents,
            "objects": self.objects,
            "seconds": round(self.seconds, 3),
            "properties": outcomes,
            "checks": checks,
            "counts": graded.counts(),
            "notes": [PDFA_LIMITS],
            **graded.as_dict(),
        }


def _detail(result: CheckResult) -> str:
    """One line for a person (English): what was looked at, and the first problem found."""
    if result.not_run is not None:
        return f"not run: {result.not_run}"
    if not result.findings:
        return f"{result.checked} checked, no problem found"
    more = f" (and {len(result.findings) - 1} more)" if len(result.findings) > 1 else ""
    return f"{result.checked} checked: {result.findings[0].message}{more}"


def _worst(results: list[str]) -> str:
    for outcome in (Outcome.FAILED, Outcome.WARNING, Outcome.NOT_RUN):
        if outcome.value in results:
            return outcome.value
    return Outcome.PASSED.value
