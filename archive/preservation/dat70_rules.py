"""The DA/T 70 rules about one document: its objects (authenticity, usability) and its pages and metadata
(integrity). Each rule adds what it looked at to its check's `checked` and a finding per problem."""

from __future__ import annotations

import difflib
import re
import string
from typing import TYPE_CHECKING

from archive.preservation.dat70 import Dat70Report, Identification
from archive.reports import Severity
from archive.values import AccessLevel, ObjectRole

if TYPE_CHECKING:
    from archive.preservation.dat70_run import DocumentFacts, ObjectFacts

# PRONOM formats accepted for masters and access copies (DA/T 31: TIFF, JPEG, JPEG 2000, PDF; plus PNG, which
# the scanners here deliver losslessly).
ACCEPTED_PUIDS = frozenset(
    {
        "fmt/353",
        "fmt/7",
        "fmt/8",
        "fmt/9",
        "fmt/10",  # TIFF
        "fmt/41",
        "fmt/42",
        "fmt/43",
        "fmt/44",
        "x-fmt/398",
        "x-fmt/390",
        "x-fmt/391",  # JPEG, JFIF, Exif
        "x-fmt/392",
        "fmt/151",  # JPEG 2000
        "fmt/11",
        "fmt/12",
        "fmt/13",  # PNG
        "fmt/14",
        "fmt/15",
        "fmt/16",
        "fmt/17",
        "fmt/18",
        "fmt/19",
        "fmt/20",
        "fmt/276",
        "fmt/1129",  # PDF
        "fmt/95",
        "fmt/354",
        "fmt/476",
        "fmt/477",
        "fmt/478",
        "fmt/479",
        "fmt/480",
        "fmt/481",  # PDF/A
    }
)
MEDIA_FAMILIES = {
    "image/tiff": "TIFF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/jp2": "JPEG 2000",
    "application/pdf": "PDF",
}
TEXT_SIMILARITY = 0.9  # a text layer and the stored text this alike (whitespace ignored) are the same text
SHAPE_TOLERANCE = 0.02  # aspect ratios this close are the same page shape
REQUIRED = ("title", "reference_code", "fonds", "year", "retention", "language")


def document_rules(report: Dat70Report, facts: DocumentFacts) -> None:
    _fixity(report, facts)
    _counts(report, facts)
    _texts(report, facts)
    _reference_code(report, facts)
    _formats(report, facts)
    _opens(report, facts)
    _pdfa(report, facts)
    _pages(report, facts)
    _required(report, facts)
    _level(report, facts)


def _object_params(obj: ObjectFacts) -> dict[str, str | int | None]:
    return {"role": obj.role, "reference_code": obj.row.document.reference_code}


def _fixity(report: Dat70Report, facts: DocumentFacts) -> None:
    for obj in facts.objects:
        report["auth.fixity"].checked += 1
        report["auth.size"].checked += 1
        if not obj.exists:
            report["auth.fixity"].add(Severity.ERROR, "missing", subject=obj.key, **_object_params(obj))
            continue
        if obj.sha256 != obj.row.content_sha256:  # the plaintext's, for an encrypted object (read decrypted)
            report["auth.fixity"].add(Severity.ERROR, subject=obj.key, **_object_params(obj))
        if obj.size != obj.row.content_size:
            expected = obj.row.content_size
            report["auth.size"].add(
                Severity.ERROR, subject=obj.key, actual_size=obj.size, expected_size=expected, **_object_params(obj)
            )


def _access_copy(facts: DocumentFacts) -> ObjectFacts | None:
    copies = [obj for obj in facts.of_role(ObjectRole.PDFA) if obj.pdf is not None and obj.pdf.error is None]
    return copies[0] if copies else None


def _counts(report: Dat70Report, facts: DocumentFacts) -> None:
    document, check = facts.document, report["auth.page_count"]
    check.checked += 1
    ref = {"document": document.id, "reference_code": document.reference_code, "recorded": document.page_count}
    if document.page_count != len(facts.pages):
        check.add(Severity.ERROR, "rows", pages=len(facts.pages), **ref)
    copy = _access_copy(facts)
    if copy is not None and copy.pdf is not None and copy.pdf.pages != document.page_count:
        check.add(Severity.ERROR, pdf_pages=copy.pdf.pages, **ref)


def _same_text(one: str, other: str) -> float:
    a, b = re.sub(r"\s+", "", one), re.sub(r"\s+", "", other)
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _texts(report: Dat70Report, facts: DocumentFacts) -> None:
    document = facts.document
    ref = {"document": document.id, "reference_code": document.reference_code}
    for obj in facts.of_role(ObjectRole.TEXT):
        report["use.text_extracts"].checked += 1
        report["auth.stored_text"].checked += 1
        if obj.text_error is not None:
            report["use.text_extracts"].add(
                Severity.ERROR, "encoding", subject=obj.key, error=obj.text_error, **_object_params(obj)
            )
        elif obj.text is not None and obj.text.split("\f") != [page.text for page in facts.pages]:
            report["auth.stored_text"].add(Severity.ERROR, **ref)
    copy = _access_copy(facts)
    if copy is None or copy.pdf is None:
        return
    pdf = copy.pdf
    report["use.text_extracts"].checked += 1
    if pdf.text_error is not None:
        report["use.text_extracts"].add(Severity.ERROR, error=pdf.text_error, **ref)
        return
    for page, layer in zip(facts.pages, pdf.texts, strict=False):
        report["auth.text_layer"].checked += 1
        if not layer.strip():
            if page.text.strip() and page.text_source == "ocr":  # recognised with positions, so it was placed
                report["auth.text_layer"].add(Severity.ERROR, "missing", page=page.number, **ref)
            continue
        alike = _same_text(layer, page.text)
        if alike < TEXT_SIMILARITY:
            report["auth.text_layer"].add(Severity.ERROR, page=page.number, similarity=round(alike * 100), **ref)


def template_form(template: str, values: dict[str, str]) -> re.Pattern[str]:
    """A reference template as a pattern: known parts literally, the item number as digits, others as text."""
    parts = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name == "item":
            width = re.match(r"0?(\d+)d$", spec or "")
            parts.append(rf"(?P<item>\d{{{int(width.group(1))},}})" if width else r"(?P<item>\d+)")
        elif name in values:
            parts.append(re.escape(format(values[name], spec or "")) if not spec else r".+?")
        else:
            parts.append(r".+?")
    return re.compile("".join(parts))


def _reference_code(report: Dat70Report, facts: DocumentFacts) -> None:
    document, check = facts.document, report["auth.reference_code"]
    batch = document.batch
    check.checked += 1
    values = {"fonds": document.fonds.code}
    if batch is not None:
        values |= {"series": batch.series or "", "box": batch.box or "", "retention": batch.retention}
        if batch.year:
            values["year"] = str(batch.year)
    template = document.fonds.ref_template
    found = template_form(template, values).fullmatch(document.reference_code)
    ref = {"document": document.id, "reference_code": document.reference_code}
    if found is None:
        check.add(Severity.ERROR, template=template, **ref)
    elif document.item_number is not None and int(found["item"]) != document.item_number:
        check.add(Severity.ERROR, "item", item=document.item_number, **ref)


def _formats(report: Dat70Report, facts: DocumentFacts) -> None:
    for obj in facts.objects:
        if obj.role not in (ObjectRole.ORIGINAL, ObjectRole.PDFA) or not obj.exists:
            continue
        report["use.format_identified"].checked += 1
        report.identifications.append(Identification(obj.row.document_id, obj.key, obj.role, obj.identified))
        if obj.identified is None:
            report["use.format_identified"].add(Severity.ERROR, subject=obj.key, **_object_params(obj))
            continue
        found = {"puid": obj.identified.puid, "format_name": obj.identified.name, **_object_params(obj)}
        report["use.format_accepted"].checked += 1
        if obj.identified.puid not in ACCEPTED_PUIDS:
            report["use.format_accepted"].add(Severity.ERROR, subject=obj.key, **found)
        family = MEDIA_FAMILIES.get(obj.row.media_type.split(";")[0].strip())
        report["auth.media_type"].checked += 1
        if family is None or family not in _family_of(obj.identified.name):
            report["auth.media_type"].add(Severity.ERROR, subject=obj.key, media_type=obj.row.media_type, **found)


def _family_of(name: str) -> str:
    if "JPEG 2000" in name or "JP2" in name:
        return "JPEG 2000"
    if "JPEG" in name or "JFIF" in name or "Exif" in name:
        return "JPEG"
    if "Tagged Image" in name or "TIFF" in name:
        return "TIFF"
    if "Portable Network Graphics" in name:
        return "PNG"
    return "PDF" if "PDF" in name or "Portable Document" in name else name


def _opens(report: Dat70Report, facts: DocumentFacts) -> None:
    for obj in facts.objects:
        if not obj.exists or obj.role not in (ObjectRole.ORIGINAL, ObjectRole.PDFA):
            continue
        report["use.file_opens"].checked += 1
        error = (obj.image.error if obj.image else None) or (obj.pdf.error if obj.pdf else None)
        if error is not None:
            report["use.file_opens"].add(Severity.ERROR, subject=obj.key, error=error[:200], **_object_params(obj))


def _pdfa(report: Dat70Report, facts: DocumentFacts) -> None:
    copy = _access_copy(facts)
    if copy is None or copy.pdf is None:
        return
    pdf, params = copy.pdf, _object_params(copy)
    report["use.pdfa_declared"].checked += 1
    if pdf.pdfa_part is None:
        report["use.pdfa_declared"].add(Severity.ERROR, "none", subject=copy.key, **params)
    elif (pdf.pdfa_part, (pdf.pdfa_conformance or "").upper()) != ("2", "B"):
        report["use.pdfa_declared"].add(
            Severity.ERROR, subject=copy.key, part=pdf.pdfa_part, conformance=pdf.pdfa_conformance or "", **params
        )
    report["use.pdfa_structure"].checked += 1
    for problem in pdf.problems:
        report["use.pdfa_structure"].add(Severity.ERROR, problem, subject=copy.key, **params)


def _pages(report: Dat70Report, facts: DocumentFacts) -> None:
    document = facts.document
    ref = {"document": document.id, "reference_code": document.reference_code}
    numbers = [page.number for page in facts.pages]
    report["integ.page_sequence"].checked += 1
    missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
    if missing:
        report["integ.page_sequence"].add(Severity.ERROR, missing=", ".join(map(str, missing)), **ref)
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        report["integ.page_sequence"].add(Severity.ERROR, "repeated", page=number, count=numbers.count(number), **ref)
    copy = _access_copy(facts)
    if copy is None or copy.pdf is None:
        return
    pdf = copy.pdf
    for index, page in enumerate(facts.pages):
        if index >= len(pdf.shapes):
            break
        report["integ.page_order"].checked += 1
        width, height = pdf.shapes[index]
        known = bool(page.width_px and page.height_px and width and height)
        if known and abs(width / height - page.width_px / page.height_px) > SHAPE_TOLERANCE * (width / height):
            report["integ.page_order"].add(Severity.ERROR, "shape", page=page.number, position=index + 1, **ref)
            continue
        layer = pdf.texts[index] if index < len(pdf.texts) else ""
        if layer.strip() and page.text.strip() and _same_text(layer, page.text) < TEXT_SIMILARITY:
            others = [p.number for p in facts.pages if p is not page and _same_text(layer, p.text) >= TEXT_SIMILARITY]
            if others:
                report["integ.page_order"].add(
                    Severity.ERROR, "text", page=page.number, position=index + 1, other=others[0], **ref
                )


def _required(report: Dat70Report, facts: DocumentFacts) -> None:
    document, check = facts.document, report["integ.required_fields"]
    batch = document.batch
    values = {
        "title": document.title,
        "reference_code": document.reference_code,
        "fonds": document.fonds.code if document.fonds else "",
        "year": str(document.date.year if document.date else (batch.year if batch and batch.year else "")),
        "retention": batch.retention if batch is not None else "",
        "language": document.language,
    }
    ref = {"document": document.id, "reference_code": document.reference_code}
    check.checked += 1
    for name in REQUIRED:
        if not str(values[name] or "").strip():
            check.add(Severity.ERROR, field=name, **ref)
    if document.date is None:
        check.add(Severity.WARNING, "date", **ref)
    for role in (ObjectRole.ORIGINAL, ObjectRole.PDFA, ObjectRole.TEXT):
        report["integ.objects_present"].checked += 1
        if not facts.of_role(role):
            report["integ.objects_present"].add(Severity.ERROR, role=role.value, **ref)


def _level(report: Dat70Report, facts: DocumentFacts) -> None:
    document, check = facts.document, report["sec.level_set"]
    check.checked += 1
    ref = {"document": document.id, "reference_code": document.reference_code}
    if document.access_level is None:
        check.add(Severity.ERROR, **ref)
    elif document.access_level not in {int(level) for level in AccessLevel}:
        check.add(Severity.ERROR, "invalid", level=document.access_level, **ref)
