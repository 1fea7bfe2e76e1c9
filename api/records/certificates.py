"""The disposition certificate (销毁清册 / 移交清册): one signed JSON document listing the records, their object
hashes, who proposed, approved and executed, when and why; with an HTML and a CSV rendering of the same list.

The JSON is `{"certificate": {...}, "signature": {...}}`: the signature is Ed25519, by the key that signs the
access log's checkpoints, over the canonical JSON of `certificate` (sorted keys, no spaces, UTF-8); the
certificate names the log's chain head before the execution, and the execution's audit event names the SHA-256
of the JSON as stored. All three files are kept as a record of the archive itself (filed, permanent, at the
highest level of the records it lists), so backups, fixity checks and BagIt exports carry it like any other."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive.audit.keys import public_key_fingerprint, public_key_raw
from archive.keys import content_key
from archive.models import Disposition, Document, Fonds, StoredObject, utcnow
from archive.ports import BlobStore
from archive.values import DispositionAction, DocumentStatus, ObjectRole

FORMAT = "dangan-disposition-certificate/1"
TITLES = {
    DispositionAction.DESTROY: "销毁清册 Certificate of destruction",
    DispositionAction.TRANSFER: "移交清册 Certificate of transfer",
}
CSV_FIELDS = ("reference_code", "title", "date", "level", "retention", "due_on", "decision", "appraised_by", "sha256")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def signed(body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The certificate as stored: the body and its signature, readable JSON."""
    document = {
        "certificate": body,
        "signature": {
            "algorithm": "Ed25519",
            "signed": "canonical JSON of `certificate` (sorted keys, separators , and :, UTF-8)",
            "public_key": public_key_raw(key).hex(),
            "key_fingerprint": public_key_fingerprint(key),
            "value": key.sign(canonical(body)).hex(),
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def signature_problems(stored: bytes, trusted_fingerprint: str) -> tuple[dict[str, Any], list[str]]:
    """The body of a stored certificate, and what is wrong with its signature (nothing when it holds)."""
    try:
        document = json.loads(stored.decode("utf-8"))
        body, signature = document["certificate"], document["signature"]
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature["public_key"]))
        public.verify(bytes.fromhex(signature["value"]), canonical(body))
    except InvalidSignature:
        return {}, ["the signature does not match the certificate's contents"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return {}, [f"the certificate cannot be read as a signed certificate ({type(exc).__name__})"]
    if public_key_fingerprint(public) != trusted_fingerprint:
        return body, ["it is signed by another key than this archive's log key"]
    if body.get("format") != FORMAT:
        return body, [f"its format is {body.get('format')!r}, not {FORMAT}"]
    return body, []


def render_html(body: dict[str, Any]) -> bytes:
    e = html.escape
    disposition = body["disposition"]
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{e(str(record.get(name) or ''))}</td>" for name in ("reference_code", "title", "date", "level"))
        + f"<td>{e(record['retention'])}</td><td>{e(str(record.get('due_on') or ''))}</td>"
        + f"<td>{e(record['appraisal']['decision'])}: {e(record['appraisal']['reason'])}</td>"
        + f"<td><code>{'<br>'.join(e(o['sha256']) for o in record['objects'])}</code></td></tr>"
        for record in body["records"]
    )
    people = "".join(
        f"<tr><th>{e(label)}</th><td>{e(str(disposition.get(by) or ''))}</td>"
        f"<td>{e(str(disposition.get(at) or ''))}</td></tr>"
        for label, by, at in (
            ("提议 Proposed", "proposed_by", "proposed_at"),
            ("批准 Approved", "approved_by", "approved_at"),
            ("执行 Executed", "executed_by", "executed_at"),
        )
    )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(body["title"])} {disposition["id"]}</title></head>
<body><h1>{e(body["title"])} · {disposition["id"]}</h1>
<p>{e(disposition["action"])}: {e(disposition["reason"])}</p>
<table>{people}</table>
<table><thead><tr><th>档号 Reference code</th><th>题名 Title</th><th>日期 Date</th><th>密级 Level</th>
<th>保管期限 Retention</th><th>到期 Due</th><th>鉴定 Appraisal</th><th>SHA-256</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Audit chain head before execution: <code>{e(body["audit_chain_head"])}</code></p>
</body></html>
"""
    return page.encode("utf-8")


def render_csv(body: dict[str, Any]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in body["records"]:
        writer.writerow(
            {
                "reference_code": record["reference_code"],
                "title": record["title"],
                "date": record.get("date") or "",
                "level": record.get("level") or "",
                "retention": record["retention"],
                "due_on": record.get("due_on") or "",
                "decision": record["appraisal"]["decision"],
                "appraised_by": record["appraisal"]["decided_by"],
                "sha256": ";".join(o["sha256"] for o in record["objects"]),
            }
        )
    return text.getvalue().encode("utf-8")


def certificate_record(
    store: BlobStore, disposition: Disposition, fonds: Fonds, level: int | None, stored: bytes, body: dict[str, Any]
) -> Document:
    """The certificate as a record of the archive: its JSON (the signed original), HTML and CSV in the store
    (content-addressed; a crash before the commit leaves only unreferenced bytes), a filed, permanent record."""
    files = [
        (stored, "application/json"),
        (render_html(body), "text/html; charset=utf-8"),
        (render_csv(body), "text/csv; charset=utf-8"),
    ]
    sha = hashlib.sha256(stored).hexdigest()
    document = Document(
        fonds=fonds,
        reference_code=f"{fonds.code}-DISPOSITION-{disposition.id:05d}",
        title=f"{body['title']} {disposition.id}",
        access_level=level,
        departments=[],
        language="chi_sim+eng",
        status=DocumentStatus.FILED.value,
        original_filename=f"disposition-{disposition.id}.json",
        original_sha256=sha,
        page_count=0,
        retention="permanent",
        created_at=utcnow(),
    )
    for data, media_type in files:
        digest = hashlib.sha256(data).hexdigest()
        info = store.put_bytes(content_key(digest), data)
        document.objects.append(
            StoredObject(key=info.key, sha256=digest, size=info.size, media_type=media_type, role=ObjectRole.ORIGINAL)
        )
    return document


FORMATS = {"json": "application/json", "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}
