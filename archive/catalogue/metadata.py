"""Descriptive metadata of a record: Dublin Core plus the Chinese archival fields, and custom fields per series.

Dublin Core element → where a record keeps it (README "Metadata"):

  title → title (题名)            creator → creator (责任者)        subject → subject, keywords (关键词)
  description → description       publisher → publisher            contributor → contributor
  date → date (日期, partial)     type → dc_type (default "Text")  format → media type of the original (derived)
  identifier → reference_code (档号)                                 source → dc_source
  language → language             relation → relation              coverage → coverage
  rights → rights; the access level (密级) and retention (保管期限) are kept in their own columns

Chinese archival fields beside them: 文号 document_number, 机构 organisation (the responsible body; `departments`
stays the access scope), 归档年度 archival_year (default: the batch's year), 关键词 keywords (a list).
Custom fields are defined per fonds and series by the archivist (`SeriesField`) and checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from archive.dates import PartialDate
from archive.errors import InvalidInput
from archive.values import AccessLevel

# Text fields of a record that an edit or a manifest may set, with their longest value.
TEXT_FIELDS: dict[str, int] = {
    "creator": 255,
    "document_number": 128,
    "organisation": 255,
    "description": 4000,
    "subject": 512,
    "publisher": 255,
    "contributor": 255,
    "dc_type": 64,
    "coverage": 255,
    "rights": 512,
    "relation": 512,
    "dc_source": 512,
}
DESCRIPTIVE_FIELDS = (*TEXT_FIELDS, "archival_year", "keywords")
FIELD_KINDS = ("text", "integer", "date", "choice")
MAX_KEYWORDS = 50
MAX_KEYWORD = 64
MAX_CUSTOM_TEXT = 1000
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KEYWORD_SEPARATORS = re.compile(r"[；;,，、\n]")

# Manifest / catalogue column names: Chinese headers and English synonyms → the manifest's own names.
HEADER_ALIASES: dict[str, str] = {
    "件号": "item",
    "档号": "reference_code",
    "ref": "reference_code",
    "题名": "title",
    "标题": "title",
    "日期": "date",
    "成文日期": "date",
    "页数": "pages",
    "文件": "file",
    "责任者": "creator",
    "文号": "document_number",
    "number": "document_number",
    "机构": "organisation",
    "机构/部门": "organisation",
    "organization": "organisation",
    "保管期限": "retention",
    "归档年度": "archival_year",
    "年度": "archival_year",
    "year": "archival_year",
    "密级": "level",
    "关键词": "keywords",
    "主题词": "keywords",
    "keyword": "keywords",
    "描述": "description",
    "摘要": "description",
    "主题": "subject",
    "出版者": "publisher",
    "其他责任者": "contributor",
    "类型": "dc_type",
    "type": "dc_type",
    "覆盖范围": "coverage",
    "权限": "rights",
    "关联": "relation",
    "来源": "dc_source",
    "source": "dc_source",
    "备注": "remarks",
}


LEVEL_NAMES_ZH = {"公开": 0, "内部": 1, "秘密": 2, "机密": 3, "绝密": 4}  # 密级 as catalogues write it


def parse_level(text: str) -> AccessLevel:
    """密级 in Chinese (公开 内部 秘密 机密 绝密) or as AccessLevel.parse reads it."""
    found = LEVEL_NAMES_ZH.get(text.strip())
    return AccessLevel(found) if found is not None else AccessLevel.parse(text)


def level_name_zh(level: int | None) -> str:
    return next((name for name, value in LEVEL_NAMES_ZH.items() if value == level), "")


def canonical_column(header: str) -> str:
    """A header cell as the manifest's column name: Chinese or English synonyms folded, case and spaces too."""
    name = header.strip().lower().replace(" ", "_")
    return HEADER_ALIASES.get(name, HEADER_ALIASES.get(header.strip(), name))


def parse_keywords(text: str | Sequence[str]) -> list[str]:
    """关键词 separated by ；/;/,/、 (or given as a list): trimmed, distinct, in order."""
    parts = KEYWORD_SEPARATORS.split(text) if isinstance(text, str) else [str(p) for p in text]
    words = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if len(words) > MAX_KEYWORDS or any(len(word) > MAX_KEYWORD for word in words):
        raise InvalidInput(
            f"keywords: at most {MAX_KEYWORDS} keywords of at most {MAX_KEYWORD} characters each",
            InvalidInput.METADATA_VALUE,
            {"field": "keywords", "value": str(text)[:100]},
        )
    return words


def check_text(field: str, value: str) -> str | None:
    """A text field's value trimmed; "" clears it (None)."""
    value = value.strip()
    limit = TEXT_FIELDS[field]
    if len(value) > limit:
        raise InvalidInput(
            f"{field}: at most {limit} characters (got {len(value)})",
            InvalidInput.METADATA_VALUE,
            {"field": field, "value": value[:100]},
        )
    return value or None


def check_year(value: str | int | None) -> int | None:
    """归档年度: a year 1000-9999 ("2021", 2021, or "2021.0" from a spreadsheet); "" or None clears it."""
    text = _whole_text(value)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and 1000 <= int(text) <= 9999):
        raise InvalidInput(
            f"archival_year: {value!r} is not a year (write four digits, e.g. 2021)",
            InvalidInput.METADATA_VALUE,
            {"field": "archival_year", "value": str(value)},
        )
    return int(text)


def _whole_text(value: str | int | float | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number a spreadsheet kept as a float
        text = text[:-2]
    return text or None


@dataclass(frozen=True)
class FieldDefinition:
    """A custom field of a series (SeriesField): its name in manifests and the API, labels, type, choices."""

    name: str
    label_zh: str
    label_en: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    required: bool = False

    def headers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h for h in (self.name, self.label_zh, self.label_en) if h))


def check_definition(definition: FieldDefinition) -> FieldDefinition:
    """A definition the archivist gives: a snake_case name that is not a built-in column, a known type."""
    if not FIELD_NAME.match(definition.name) or definition.name in (*DESCRIPTIVE_FIELDS, *_BUILT_IN_COLUMNS):
        raise InvalidInput(
            f"custom field name {definition.name!r}: use lower-case letters, digits and _ (at most 64), "
            "and not the name of a built-in field",
            InvalidInput.CUSTOM_FIELD_NAME,
            {"field": definition.name},
        )
    if definition.kind not in FIELD_KINDS:
        raise InvalidInput(
            f"custom field type {definition.kind!r}: use one of {', '.join(FIELD_KINDS)}",
            InvalidInput.CUSTOM_FIELD_KIND,
            {"kind": definition.kind, "kinds": ", ".join(FIELD_KINDS)},
        )
    if definition.kind == "choice" and not definition.choices:
        raise InvalidInput(
            f"custom field {definition.name}: a choice field needs its choices",
            InvalidInput.CUSTOM_FIELD_VALUE,
            {"field": definition.name, "value": "", "expected": "choices"},
        )
    return definition


_BUILT_IN_COLUMNS = ("item", "reference_code", "title", "date", "pages", "file", "retention", "level", "remarks")


def check_custom(
    values: Mapping[str, object], definitions: Sequence[FieldDefinition], *, where: str = "the series"
) -> dict[str, str | int]:
    """Custom field values checked against the series' definitions: unknown names and wrong types are refused;
    an empty value clears the field. Integers come back as int, dates as YYYY[-MM[-DD]]."""
    known = {definition.name: definition for definition in definitions}
    checked: dict[str, str | int] = {}
    for name, raw in values.items():
        definition = known.get(name)
        if definition is None:
            defined = ", ".join(known) or "none"
            raise InvalidInput(
                f"custom field {name!r} is not defined for {where} (defined: {defined}); "
                "an archivist defines it with `dangan series field add`",
                InvalidInput.CUSTOM_FIELD_UNKNOWN,
                {"field": name, "defined": defined},
            )
        value = _custom_value(definition, raw)
        if value is not None:
            checked[name] = value
    return checked


def missing_required(values: Mapping[str, object], definitions: Sequence[FieldDefinition]) -> list[str]:
    return [d.name for d in definitions if d.required and values.get(d.name) in (None, "")]


def _custom_value(definition: FieldDefinition, raw: object) -> str | int | None:
    if definition.kind == "integer":
        text = _whole_text(raw) if isinstance(raw, str | int | float) else None
    else:
        text = None if raw is None else str(raw).strip()
    if not text:
        return None
    if definition.kind == "integer":
        if text.lstrip("-").isascii() and text.lstrip("-").isdigit() and abs(int(text)) < 2**53:
            return int(text)
        raise _wrong(definition, text, "a whole number")
    if definition.kind == "date":
        try:
            return PartialDate.parse(text).isoformat()
        except InvalidInput:
            raise _wrong(definition, text, "a date YYYY, YYYY-MM or YYYY-MM-DD") from None
    if definition.kind == "choice" and text not in definition.choices:
        raise _wrong(definition, text, "one of " + ", ".join(definition.choices))
    if len(text) > MAX_CUSTOM_TEXT:
        raise _wrong(definition, text[:100], f"at most {MAX_CUSTOM_TEXT} characters")
    return text


def _wrong(definition: FieldDefinition, value: str, expected: str) -> InvalidInput:
    return InvalidInput(
        f"custom field {definition.name}: {value!r} is not {expected}",
        InvalidInput.CUSTOM_FIELD_VALUE,
        {"field": definition.name, "value": value, "expected": expected},
    )


@dataclass(frozen=True)
class MetadataEdit:
    """The descriptive fields an edit sets; None leaves a field as it is, "" clears a text field."""

    creator: str | None = None
    document_number: str | None = None
    organisation: str | None = None
    archival_year: str | int | None = None
    keywords: str | list[str] | None = None
    description: str | None = None
    subject: str | None = None
    publisher: str | None = None
    contributor: str | None = None
    dc_type: str | None = None
    coverage: str | None = None
    rights: str | None = None
    relation: str | None = None
    dc_source: str | None = None
    custom_fields: dict[str, str | int | None] | None = None

    def changes(self) -> dict[str, object]:
        return {name: value for name, value in vars(self).items() if value is not None}
