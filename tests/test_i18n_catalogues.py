"""The web application's message catalogues (api/http/static/i18n/<language>/<name>.json): both languages have
the same files and keys, every key is prefixed with its file's name (so parallel screens never share a file),
every catalogue key the JavaScript names exists, every error code of archive/errors.py is translated, and every
finding sentence of archive/finding_codes.py is translated with only the values its findings carry — checked
statically against the registry and against the findings of real verifications of a damaged archive."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from sqlalchemy import text

from api.preservation.backup_drill import graded_drill
from api.preservation.backups import graded_run
from api.wiring import Context
from archive.audit import log as audit
from archive.audit.checkpoints import write_checkpoint
from archive.audit.keys import load_or_create_signing_key, public_key_raw
from archive.audit.verify import verify_audit_log
from archive.coded import VOCABULARIES
from archive.errors import all_error_classes, reasons_of
from archive.events import AuditAction
from archive.finding_codes import IN_DOCUMENT, NOTES, SENTENCES, SUBJECTS, FindingCode, sentence_key
from archive.finding_codes import placeholders as sentence_placeholders
from archive.models import Batch, Document, Fonds, StoredObject, utcnow
from archive.ports import content_key
from archive.preservation.fixity import verify_objects
from archive.reports import Finding
from archive.values import ObjectRole

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


def test_every_finding_sentence_is_translated_with_the_values_the_server_fills_it_from() -> None:
    """Each code has a sentence; each sentence (and the document frame) is `findings.<key>` in both languages,
    naming only placeholders of the registered English sentence: the server fills that sentence from the
    finding's values (a KeyError otherwise), so every finding of the code carries them. The same for the notes
    of a verification (`findings.note.<code>`). Nothing else is there but the object roles the frame names."""
    for code in FindingCode:
        assert any(key == code or key.startswith(f"{code}.") for key in SENTENCES), f"{code} has no sentence"
    roles = {f"findings.role.{role}" for role in ObjectRole}
    sentences = {
        **SENTENCES,
        **{f"note.{code}": english for code, english in NOTES.items()},
        **{f"subject.{kind}": english for kind, english in SUBJECTS.items()},
    }
    for lang in LANGUAGES:
        findings = catalogue(lang, "findings")
        assert set(findings) == {f"findings.{key}" for key in sentences} | roles, lang
        for key, english in sentences.items():
            named = placeholders(findings[f"findings.{key}"])
            assert named <= sentence_placeholders(english), f"{lang} findings.{key}: {named}"
        assert {"sentence", "document_id"} <= placeholders(findings[f"findings.{IN_DOCUMENT}"])
        assert all(placeholders(findings[f"findings.subject.{kind}"]) == {"id"} for kind in SUBJECTS)
        assert all(not placeholders(findings[role]) for role in roles)


def page_values(finding: Finding) -> set[str]:
    """The values the page fills a sentence from (report.js findingValues): text and number fields, params."""
    shown = {**finding.as_dict(), **finding.params}
    return {name for name, value in shown.items() if isinstance(value, str | int) and not isinstance(value, bool)}


def assert_translatable(findings: list[Finding]) -> set[str]:
    """Every finding's sentence is in both catalogues and names only values the finding carries; the keys seen."""
    seen = set()
    for finding in findings:
        key = sentence_key(finding.code, finding.variant)
        values = page_values(finding)
        for lang in LANGUAGES:
            entries = catalogue(lang, "findings")
            lacking = placeholders(entries[f"findings.{key}"]) - values
            assert not lacking, f"{lang} findings.{key} names {lacking}, which {finding.as_dict()} lacks"
            if "document_id" in values:
                assert placeholders(entries[f"findings.{IN_DOCUMENT}"]) <= values | {"sentence"}
        if finding.subject_kind is not None:  # the page says what it is about from its kind and id
            assert finding.as_dict()["subject_id"] == finding.subject_id is not None
            assert all(f"findings.subject.{finding.subject_kind}" in catalogue(lang, "findings") for lang in LANGUAGES)
            seen.add(f"subject.{finding.subject_kind}")
        seen.add(key)
    return seen


def damaged_archive(context: Context) -> None:
    """Six documents' originals on the real local store, then one flipped, one deleted, one truncated, two
    swapped and a stray object added."""
    root = context.settings.resolved_storage_path
    keys = []
    with context.db.write() as session:
        fonds = Fonds(code="TR", name="translated")
        batch = Batch(fonds=fonds, label="findings", created_by="t", year=2026)
        for n in range(6):
            data = f"original {n} ".encode() * (50 + n)
            sha = hashlib.sha256(data).hexdigest()
            info = context.store.put_bytes(content_key(sha), data)
            keys.append(info.key)
            document = Document(
                fonds=fonds, batch=batch, reference_code=f"TR-{n}", title=f"item {n}", access_level=0,
                language="eng", status="ready", original_filename=f"{n}.tif", original_sha256=sha,
                created_at=utcnow(), indexed_at=utcnow(),
            )  # fmt: skip
            document.objects.append(
                StoredObject(key=info.key, sha256=sha, size=info.size, role="original", media_type="image/tiff")
            )
            session.add(document)
    flipped = bytearray((root / keys[0]).read_bytes())
    flipped[3] ^= 0x10
    (root / keys[0]).write_bytes(bytes(flipped))
    (root / keys[1]).unlink()
    (root / keys[2]).write_bytes((root / keys[2]).read_bytes()[:-5])
    third, fourth = (root / keys[3]).read_bytes(), (root / keys[4]).read_bytes()
    (root / keys[3]).write_bytes(fourth)
    (root / keys[4]).write_bytes(third)
    context.store.put_bytes(content_key(hashlib.sha256(b"stray").hexdigest()), b"stray")


def tampered_log(context: Context, tmp_path: Path) -> list[Finding]:
    """A checkpointed log with one event edited, one deleted and events written after the checkpoint, verified
    with and without the trusted key."""
    key = load_or_create_signing_key(tmp_path / "keys" / "audit-signing.pem")
    for n in range(8):
        with context.db.write() as session:
            audit.record(session, actor="tester", action=AuditAction.LOGIN, target=f"user:{n}", details={"n": n})
    with context.db.write() as session:
        write_checkpoint(session, context.store, key)
    with context.db.write() as session:
        audit.record(session, actor="tester", action=AuditAction.LOGIN, target="user:late", details={})
    with context.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET details = '{\"n\": 99}' WHERE id = 3"))
        connection.execute(text("DELETE FROM audit_event WHERE id = 6"))
    findings = []
    for trusted in (public_key_raw(key), None):
        with context.db.session() as session:
            report = verify_audit_log(session, context.store, trusted_public_key_raw=trusted)
        findings.extend(report.graded().findings)
    return findings


def test_real_findings_are_translated_from_values_they_carry(context: Context, tmp_path: Path) -> None:
    damaged_archive(context)
    with context.db.session() as session:
        fixity = verify_objects(session, context.store, level="full").graded().findings
    seen = assert_translatable(list(fixity))
    assert {"missing", "size_changed", "content_changed", "swapped", "untracked"} <= seen
    for level in ("sample", "structure"):  # and the notes that say how it checked
        with context.db.session() as session:
            (note,) = verify_objects(session, context.store, level=level, percent=50).noted
        given = {name for name, value in note.params.items() if value is not None}
        for lang in LANGUAGES:
            assert placeholders(catalogue(lang, "findings")[f"findings.note.{note.code}"]) <= given
    assert all(f.details["document_id"] is not None for f in fixity if f.code != "untracked")
    seen = assert_translatable(tampered_log(context, tmp_path))
    assert {"edited", "deleted", "unsealed", "key_untrusted", "subject.event"} <= seen
    failures = [{"key": "sha256/dd", "error": "no trailer"}]
    drill = {
        "objects": {"missing": ["sha256/aa"], "hash_mismatch": ["sha256/bb"], "pdf_failures": failures},
        "catalogue": {"key": "snapshots/1", "sha256_ok": False, "integrity": "row 3 is damaged"},
        "search": {"canaries": [{"query": "档案", "document_id": 4, "found": False}]},
        "not_backed_up": 2,
        "backup_run_id": 7,
    }  # fmt: skip
    run = {"failed": [{"key": "sha256/cc", "error": "disk full"}], "interrupted_runs": [3]}
    seen = assert_translatable([*graded_drill(drill).findings, *graded_run(run).findings])
    assert {"missing.restore", "catalogue_damaged", "canary_not_found", "not_backed_up.run", "interrupted"} <= seen
    assert {"subject.document", "subject.backup_run"} <= seen


def test_every_declared_error_reason_is_translated_with_exactly_its_params() -> None:
    """Each reason of archive/errors.py has `errors.<code>.<reason>` in both languages, naming as {placeholders}
    exactly the params the reason carries (so no text shows a raw `{name}` or drops a value), and reason names are
    snake_case and unique within their class."""
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


def test_every_coded_line_is_translated_with_exactly_its_params() -> None:
    """Each code of each vocabulary of archive/coded.py (status warnings, acceptance reasons, ...) has
    `<prefix>.<code>` in both languages, in the prefix's catalogue file, naming exactly the params it carries."""
    problems = []
    for vocabulary in VOCABULARIES:
        for code, params in vocabulary.codes.items():
            key = f"{vocabulary.prefix}.{code}"
            for lang in LANGUAGES:
                entries = catalogue(lang, vocabulary.prefix.split(".")[0])
                if key not in entries:
                    problems.append(f"{lang}: {key} missing")
                elif placeholders(entries[key]) != set(params):
                    problems.append(f"{lang}: {key} names {sorted(placeholders(entries[key]))}, not {sorted(params)}")
    assert problems == []
