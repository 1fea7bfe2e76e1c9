"""The web application's message catalogues (api/http/static/i18n/<language>/<name>.json): both languages have
the same files and keys, every key is prefixed with its file's name (so parallel screens never share a file),
every catalogue key the JavaScript names exists, and every error code of archive/errors.py is translated."""

from __future__ import annotations

import json
import re
from pathlib import Path

from archive.errors import all_error_classes

STATIC = Path(__file__).resolve().parent.parent / "api" / "http" / "static"
I18N = STATIC / "i18n"
LANGUAGES = ("zh-CN", "en")
# Codes the HTTP layer answers outside the tree (api/http/errors.py) and the page's own "no answer".
EXTRA_CODES = {"internal_error", "method_not_allowed", "network"}
LITERAL = re.compile(r"""["'`]([a-z][a-z0-9_-]*(?:\.[A-Za-z0-9_]+)+)["'`]""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(lang: str, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((I18N / lang / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def names(lang: str) -> set[str]:
    return {path.stem for path in (I18N / lang).glob("*.json")}


def all_keys(lang: str) -> set[str]:
    return {key for name in names(lang) for key in catalogue(lang, name)}


def placeholders(value: object) -> set[str]:
    texts = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else []
    return {found for text in texts for found in PLACEHOLDER.findall(str(text))}


def test_both_languages_have_the_same_files_keys_and_placeholders() -> None:
    assert names("zh-CN") == names("en") and {"common", "errors"} <= names("en")
    for name in names("en"):
        zh, en = catalogue("zh-CN", name), catalogue("en", name)
        assert set(zh) == set(en), f"{name}.json: keys differ: {sorted(set(zh) ^ set(en))}"
        for key in en:
            assert key.startswith(f"{name}."), f"{name}.json: {key} does not start with {name}."
            value = en[key]
            assert isinstance(value, str) or (isinstance(value, dict) and "other" in value), f"{key}: bad value"
            assert placeholders(zh[key]) == placeholders(en[key]), f"{key}: placeholders differ"
            assert str(zh[key]).strip() and str(en[key]).strip(), f"{key}: empty"


def test_every_key_the_javascript_names_exists() -> None:
    stems = names("en")
    keys = all_keys("en")
    missing = []
    for script in sorted((STATIC / "js").rglob("*.js")):
        for key in LITERAL.findall(script.read_text(encoding="utf-8")):
            if key.split(".")[0] in stems and key not in keys:
                missing.append(f"{script.relative_to(STATIC)}: {key}")
    assert missing == []
    # and every screen's catalogue exists: a registered screen's texts are in i18n/<lang>/<id>.json
    registry = (STATIC / "js" / "screens" / "index.js").read_text(encoding="utf-8")
    for module in re.findall(r'from "\./([\w-]+)\.js"', registry):
        source = (STATIC / "js" / "screens" / f"{module}.js").read_text(encoding="utf-8")
        own = re.search(r'catalogue:\s*"([\w-]+)"', source) or re.search(r'id:\s*"([\w-]+)"', source)
        assert own is not None and own.group(1) in stems, f"screens/{module}.js has no catalogue"


def test_every_error_code_is_translated_in_both_languages() -> None:
    codes = {cls.code for cls in all_error_classes()} | EXTRA_CODES
    for lang in LANGUAGES:
        errors = catalogue(lang, "errors")
        assert {f"errors.{code}" for code in codes} <= set(errors), lang


def test_every_declared_error_reason_is_translated_with_exactly_its_params() -> None:
    """Each reason of archive/errors.py has `errors.<code>.<reason>` in both languages, naming as {placeholders}
    exactly the params the reason carries (so no text shows a raw `{name}` or drops a value), and reason names are
    snake_case and unique within their class."""
    from archive.errors import reasons_of  # here, not at the top: this test merges on its own

    declared = [(cls, reason) for cls in all_error_classes() for reason in reasons_of(cls)]
    assert len(declared) >= 30, "the refusals the screens show carry reasons"
    problems = []
    for cls, reason in declared:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", reason.name), f"{cls.__name__}: {reason.name} is not snake_case"
        names = [other.name for other in reasons_of(cls)]
        assert names.count(reason.name) == 1, f"{cls.__name__}: {reason.name} declared twice"
        key = f"errors.{cls.code}.{reason.name}"
        for lang in LANGUAGES:
            errors = catalogue(lang, "errors")
            if key not in errors:
                problems.append(f"{lang}: {key} missing")
            elif placeholders(errors[key]) != set(reason.params):
                problems.append(f"{lang}: {key} names {sorted(placeholders(errors[key]))}, not {sorted(reason.params)}")
    assert problems == []
