"""Every code a graded report's finding can carry, and the English sentence of each (archive.reports).

One place for the whole vocabulary: fixity (of the primary store and of backup targets), the audit log, backup
runs and restore drills. A finding's sentence is chosen by its code, or by `<code>.<variant>` when one code is
found in more than one way (an event re-hashed, or linking to its own hash, are both `chain_broken`); its
`{placeholders}` are filled from the finding's subject, details and params, so a finding always carries the
values its sentence needs. The web application's catalogues (i18n/<language>/findings.json) hold the same keys
as `findings.<key>` and fill them from the same values; a finding about a document is framed by `in_document`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FindingCode(StrEnum):
    # fixity: an object of the primary store or of a backup target
    MISSING = "missing"
    SIZE_CHANGED = "size_changed"
    CONTENT_CHANGED = "content_changed"
    SWAPPED = "swapped"
    UNTRACKED = "untracked"
    NOT_BACKED_UP = "not_backed_up"
    PLAINTEXT_UNCHECKED = "plaintext_unchecked"
    # the audit log: its chain and its signed checkpoints
    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    CHAIN_BROKEN = "chain_broken"
    TRUNCATED = "truncated"
    REWRITTEN = "rewritten"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    CHECKPOINT_INVALID = "checkpoint_invalid"
    CHECKPOINT_MISSING = "checkpoint_missing"
    KEY_UNTRUSTED = "key_untrusted"
    PRUNE_UNVERIFIED = "prune_unverified"
    NO_CHECKPOINT = "no_checkpoint"
    UNSEALED = "unsealed"
    # backup runs and restore drills
    COPY_FAILED = "copy_failed"
    INTERRUPTED = "interrupted"
    HASH_MISMATCH = "hash_mismatch"
    PDF_UNREADABLE = "pdf_unreadable"
    SNAPSHOT_CHANGED = "snapshot_changed"
    CATALOGUE_NOT_CHECKED = "catalogue_not_checked"
    CATALOGUE_DAMAGED = "catalogue_damaged"
    CANARY_NOT_FOUND = "canary_not_found"
    # DA/T 70 four-property checks (archive.preservation.dat70): the code of each check
    AUTH_FIXITY = "auth.fixity"
    AUTH_SIZE = "auth.size"
    AUTH_PAGE_COUNT = "auth.page_count"
    AUTH_TEXT_LAYER = "auth.text_layer"
    AUTH_STORED_TEXT = "auth.stored_text"
    AUTH_REFERENCE_CODE = "auth.reference_code"
    AUTH_MEDIA_TYPE = "auth.media_type"
    INTEG_MANIFEST_ITEMS = "integ.manifest_items"
    INTEG_UNLISTED_ITEMS = "integ.unlisted_items"
    INTEG_MANIFEST_PAGES = "integ.manifest_pages"
    INTEG_ITEM_SEQUENCE = "integ.item_sequence"
    INTEG_PAGE_SEQUENCE = "integ.page_sequence"
    INTEG_PAGE_ORDER = "integ.page_order"
    INTEG_OBJECTS_PRESENT = "integ.objects_present"
    INTEG_REQUIRED_FIELDS = "integ.required_fields"
    USE_FORMAT_IDENTIFIED = "use.format_identified"
    USE_FORMAT_ACCEPTED = "use.format_accepted"
    USE_FILE_OPENS = "use.file_opens"
    USE_TEXT_EXTRACTS = "use.text_extracts"
    USE_PDFA_DECLARED = "use.pdfa_declared"
    USE_PDFA_STRUCTURE = "use.pdfa_structure"
    SEC_LEVEL_SET = "sec.level_set"
    SEC_AUDIT_INGEST = "sec.audit_ingest"
    SEC_AUDIT_FILING = "sec.audit_filing"
    SEC_VIRUS_SCAN = "sec.virus_scan"
    COPY_REPLACED = "copy_replaced"
    KEY_NOT_ESCROWED = "key_not_escrowed"
    KEYRING_NOT_ESCROWED = "keyring_not_escrowed"  # encrypted objects, but no master keyring here to escrow
    # repair of the primary store from a backup, and a restore
    REPAIRED = "repaired"
    NOT_REPAIRED = "not_repaired"
    SETTING_DIFFERS = "setting_differs"


_CODES = frozenset(code.value for code in FindingCode)
IN_DOCUMENT = "in_document"  # the frame of a finding about a catalogued document (its details name one)
_SEALING = "a cut at the end of the log would not show; write a checkpoint with `dangan audit checkpoint`"

SENTENCES: Mapping[str, str] = {
    IN_DOCUMENT: "document {document_id} ({reference_code}) {role}: {sentence}",
    "missing": "the object is missing",
    "missing.restore": "the backup does not hold this object",
    "size_changed": "the object is {actual_size} bytes; {expected_size} were recorded",
    "content_changed": "the object's bytes no longer hash to the recorded SHA-256",
    "swapped": "the object holds the bytes of {partner_key}, and that object holds its bytes",
    "untracked": "no catalogue row names this object: check it, then keep or delete it",
    "plaintext_unchecked": "its stored bytes are intact, but it could not be decrypted to check its plaintext: its "
    "master key is not in the keyring (`dangan keys recover --target NAME` puts it back)",
    "not_backed_up": "the catalogue names this object but the backup does not hold it yet: run a backup",
    "not_backed_up.run": "{count} catalogue object(s) are not in backup run {backup_run_id} (archived since it ran, "
    "or not copyable then): run a backup",
    "edited": "event {event_id}'s stored fields no longer hash to its stored hash",
    "edited.unreadable": "event {event_id}'s stored fields cannot be read",
    "edited.unlisted": "{count} more edited findings were not listed",
    "deleted": "events {event_id}..{last_id} are missing: event {next_id} links to a hash no stored event has",
    "deleted.renumbered": "an event before event {event_id} was deleted and the later ids renumbered to hide the gap",
    "inserted": "event {event_id} is not on the chain: event {next_id} links past it to event {linked_id}",
    "inserted.several": "events {event_id}..{last_id} are not on the chain: event {next_id} links past them to "
    "{linked_id}",
    "inserted.forked": "the newest event {event_id} links back to event {linked_id}, forking the chain: it was forged",
    "reordered": "event {event_id} links to event {linked_id}, which comes after it: events were reordered",
    "chain_broken": "event {event_id} hashes consistently but is not the event {next_id} links to: event "
    "{event_id} was altered and re-hashed (or an event after it deleted and the ids renumbered)",
    "chain_broken.self_link": "event {event_id} links to its own hash",
    "chain_broken.forged": "event {event_id} links to a hash no stored event has and was re-hashed to match (forged)",
    "chain_broken.unlisted": "{count} more chain_broken findings were not listed",
    "truncated": "checkpoint {sequence} signed event {signed_id} as head of {event_count} events; the log now "
    "ends at event {last_id} with {total}: its tail was cut off",
    "rewritten": "checkpoint {sequence} signed event {event_id}, which now hashes to {stored_hash}…, not "
    "{signed_hash}…: the chain was rewritten within events {first_id}..{event_id}",
    "rewritten.gone": "checkpoint {sequence} signed event {event_id}, which is gone: the chain was rewritten within "
    "events {first_id}..{event_id}",
    "rewritten.renumbered": "checkpoint {sequence} signed event {event_id}, which is stored as event {moved_id} (ids "
    "were renumbered): the chain was rewritten within events {first_id}..{event_id}",
    "rewritten.anchor": "checkpoint {sequence} signed event {event_id}; the prune anchor disagrees",
    "checkpoint_signature": "checkpoint {sequence}: its signature does not match its contents",
    "checkpoint_signature.other_key": "checkpoint {sequence}: it is signed by a different key",
    "checkpoint_invalid": "{key}: {reason}",
    "checkpoint_missing": "checkpoint(s) {first}..{last} are missing from the store",
    "checkpoint_missing.on_target": "checkpoint {sequence} is missing from the store but backup target {target} "
    "holds it, validly signed: checkpoints were deleted (the log is checked against the copy)",
    "checkpoint_missing.unchecked": "backup target {target}'s checkpoint copies could not be read ({reason}): "
    "checkpoints deleted from the store were not looked for there",
    "key_untrusted": "no trusted public key given: checkpoints were checked against the key in checkpoint "
    "{sequence} (fingerprint {fingerprint}), which a forger could have replaced",
    "prune_unverified.bad_signature": "prune event {event_id} cannot be trusted: its anchor signature does not "
    "verify; the chain is checked from genesis",
    "prune_unverified.malformed": "prune event {event_id} cannot be trusted: its details do not hold a well-formed "
    "anchor; the chain is checked from genesis",
    "prune_unverified.no_key": "prune event {event_id} cannot be trusted: there is no key to check its anchor "
    "signature with; the chain is checked from genesis",
    "no_checkpoint": "no signed checkpoint yet: events up to {last_id} are not sealed; " + _SEALING,
    "unsealed": "events {event_id}..{last_id} came after the newest checkpoint (event {sealed_through}) and are "
    "not sealed yet; " + _SEALING,
    "copy_failed": "not backed up: {error}",
    "interrupted": "backup run {run_id} stopped before it finished (was the process killed?); this run resumed it",
    "hash_mismatch": "the restored bytes do not hash to the manifest's SHA-256",
    "pdf_unreadable": "the restored PDF cannot be read: {error}",
    "snapshot_changed": "the restored catalogue snapshot does not hash to the manifest's SHA-256",
    "catalogue_not_checked": "not checked: restore PostgreSQL dumps with pg_restore",
    "catalogue_damaged": "the restored catalogue fails its integrity check: {integrity}",
    "canary_not_found": "searching the rebuilt index for '{query}' did not find the document",
    # DA/T 70 four-property checks
    "auth.fixity": "{reference_code} {role}: the object's bytes no longer hash to the recorded SHA-256",
    "auth.fixity.missing": "{reference_code} {role}: the object is missing from the store",
    "auth.size": "{reference_code} {role}: the object is {actual_size} bytes; {expected_size} were recorded",
    "auth.page_count": "{reference_code}: the catalogue records {recorded} page(s); the access copy has {pdf_pages}",
    "auth.page_count.rows": "{reference_code}: the catalogue records {recorded} page(s); {pages} current page row(s) "
    "exist",
    "auth.text_layer": "{reference_code} page {page}: the access copy's text layer differs from the stored text "
    "({similarity}% alike)",
    "auth.text_layer.missing": "{reference_code} page {page}: recognised text is stored but the access copy has no "
    "text layer there",
    "auth.stored_text": "{reference_code}: the stored text object differs from the pages' text in the catalogue",
    "auth.reference_code": "{reference_code}: the reference code does not have the form of the fonds' template "
    "{template}",
    "auth.reference_code.item": "{reference_code}: the reference code does not carry the item's number {item}",
    "auth.media_type": "{reference_code} {role}: recorded as {media_type} but identified as {puid} ({format_name})",
    "integ.manifest_items": "manifest row {row_number} (item {item}, {title}) has no item in the batch",
    "integ.unlisted_items": "{reference_code} is not named on the batch's manifest",
    "integ.manifest_pages": "{reference_code}: the manifest expects {expected} page(s); the item has {pages}",
    "integ.item_sequence": "item numbers {first}..{last} are missing from the batch's sequence",
    "integ.item_sequence.repeated": "item number {item} is used by {count} items",
    "integ.page_sequence": "{reference_code}: page(s) {missing} are missing from its page sequence",
    "integ.page_sequence.repeated": "{reference_code}: page {page} appears {count} times",
    "integ.page_order.shape": "{reference_code} page {page}: page {position} of the access copy has another shape: "
    "the pages are out of order",
    "integ.page_order.text": "{reference_code} page {page}: page {position} of the access copy holds the text of page "
    "{other}: the pages are out of order",
    "integ.objects_present": "{reference_code} has no current {role} object",
    "integ.required_fields": "{reference_code}: the required field {field} is empty",
    "integ.required_fields.date": "{reference_code}: no date is recorded",
    "use.format_identified": "{reference_code} {role}: no PRONOM format was identified",
    "use.format_accepted": "{reference_code} {role} is {puid} ({format_name}), not a format accepted for preservation",
    "use.file_opens": "{reference_code} {role} does not open: {error}",
    "use.text_extracts": "{reference_code}: the access copy's text layer cannot be extracted: {error}",
    "use.text_extracts.encoding": "{reference_code} {role}: the text object is not UTF-8 ({error})",
    "use.pdfa_declared": "{reference_code} {role} declares PDF/A-{part}{conformance}, not PDF/A-2b",
    "use.pdfa_declared.none": "{reference_code} {role} declares no PDF/A conformance in its XMP metadata",
    "use.pdfa_structure.encrypted": "{reference_code} {role} is encrypted",
    "use.pdfa_structure.no_output_intent": "{reference_code} {role} has no PDF/A output intent",
    "use.pdfa_structure.fonts_not_embedded": "{reference_code} {role} uses a font that is not embedded",
    "use.pdfa_structure.javascript": "{reference_code} {role} contains JavaScript",
    "use.pdfa_structure.no_xmp": "{reference_code} {role} has no XMP metadata stream",
    "use.pdfa_structure.no_id": "{reference_code} {role} has no file identifier (trailer /ID)",
    "sec.level_set": "{reference_code} has no classification level",
    "sec.level_set.invalid": "{reference_code} has the unknown classification level {level}",
    "sec.audit_ingest": "{reference_code}: the access log holds no ingest event for it",
    "sec.audit_filing": "{reference_code}: filed, but the access log holds no filing event of batch {batch}",
    "sec.virus_scan": "{reference_code} {role}: {engine} found {signature}",
    "sec.virus_scan.failed": "the virus scanner {engine} failed: {error}",
    "sec.virus_scan.not_run": "not run: {reason}",
    "copy_replaced": "the copy on the target had changed; it was copied again from the primary",
    "key_not_escrowed": "backup run {run_id} holds no key escrow: set DANGAN_BACKUP_ESCROW_PASSPHRASE or "
    "DANGAN_BACKUP_ESCROW_KEY_FILE, or a system restored from it verifies its access log as signed by another key",
    "keyring_not_escrowed": "backup run {run_id} holds no master keyring although encrypted records need one: the "
    "keyring is missing on this machine; recover it (`dangan keys recover --target NAME`) and back up again",
    "repaired": "the object's bytes had changed; a good copy was put back from backup target {target} (hash checked)",
    "repaired.missing": "the object was missing; a good copy was put back from backup target {target} (hash checked)",
    "not_repaired": "the object is missing or changed and no backup target gave a good copy of it: {reason}",
    "setting_differs": "the backed-up system had {name}={backed_up}; this one has {current}: set it the same",
}


# What a finding is about when it is not an object key: its kind, its id and the English subject it makes (the page
# says `findings.subject.<kind>` with the id).
SUBJECTS: Mapping[str, str] = {
    "event": "event {id}",
    "backup_run": "backup run {id}",
    "document": "document {id}",
}


def subject_of(kind: str, subject_id: int) -> str:
    """The English subject of a finding about the `kind` numbered `subject_id` (a ValueError for another kind)."""
    if kind not in SUBJECTS:
        raise ValueError(f"finding subject kind {kind!r} is not in archive.finding_codes.SUBJECTS")
    return SUBJECTS[kind].format(id=subject_id)


# What a verification says about how it checked (its `notes`), beside what it found: `findings.note.<code>`.
NOTES: Mapping[str, str] = {
    "structure": "structure level: sizes only, nothing hashed; content changes and swapped objects of equal size "
    "are not detectable at this level",
    "sample": "sample level: {hashed} of {total} object(s) drawn for re-hashing with seed {seed} ({percent}%); the "
    "rest were checked for existence and size only",
    "manifest_unusable": "{reason}",
    "plaintext": "full level: {checked} encrypted object(s) also decrypted and their plaintext hashed against the "
    "catalogue ({failed} failed)",
}


@dataclass(frozen=True)
class Note:
    """One note of a verification: its code and the values its sentence is filled from."""

    code: str
    params: Mapping[str, str | int | float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in NOTES:
            raise ValueError(f"note {self.code!r} is not in archive.finding_codes.NOTES")

    @property
    def message(self) -> str:
        return NOTES[self.code].format_map(self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def sentence_key(code: str, variant: str | None = None) -> str:
    """The key of a finding's sentence: its code, or `<code>.<variant>`; a ValueError when none is registered."""
    if code not in _CODES:
        raise ValueError(f"finding code {code!r} is not in archive.finding_codes.FindingCode")
    key = code if variant is None else f"{code}.{variant}"
    if key not in SENTENCES:
        raise ValueError(f"finding sentence {key!r} is not in archive.finding_codes.SENTENCES")
    return key


def placeholders(template: str) -> set[str]:
    """The names a sentence's {placeholders} ask for."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def english(code: str, variant: str | None, values: Mapping[str, Any]) -> str:
    """The finding's sentence for a person, filled from its values (a KeyError names a value it lacks)."""
    sentence = SENTENCES[sentence_key(code, variant)].format_map(values)
    if values.get("document_id") is not None:
        return SENTENCES[IN_DOCUMENT].format_map({**values, "sentence": sentence})
    return sentence
