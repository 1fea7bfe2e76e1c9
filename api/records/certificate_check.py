"""A disposition's certificate read back (JSON, HTML or CSV, checked against the catalogue's SHA-256) and
verified again, as a compliance officer would years later: the stored bytes, the Ed25519 signature by this
archive's log key, the execution's audit event naming the same SHA-256, the records as tombstones naming the
disposition, and (destroy) their objects gone from the primary store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.records.certificates import FORMATS, signature_problems
from api.records.disposition import documents_of, visible_disposition
from api.views.retention import CertificateCheckView
from api.wiring import Context
from archive.access import Principal, within_scope
from archive.audit import log as audit
from archive.audit.keys import load_or_create_signing_key, public_key_fingerprint
from archive.errors import IntegrityFailure, InvalidInput, NotFound
from archive.events import AuditAction
from archive.hashing import CHUNK
from archive.models import AuditEvent, Disposition, Document, Page, StoredObject
from archive.permissions import Action, authorize
from archive.values import DispositionAction, DocumentStatus


@dataclass(frozen=True)
class CertificateFile:
    data: bytes
    media_type: str
    filename: str


@dataclass
class CertificateService:
    context: Context

    def _certificate(self, session: Session, principal: Principal, disposition_id: int) -> tuple[Disposition, Document]:
        disposition = visible_disposition(session, principal, disposition_id)
        certificate = session.get(Document, disposition.certificate_document_id or 0)
        if certificate is None:
            raise NotFound(f"disposition {disposition_id} has no certificate yet: it is {disposition.status}")
        if not within_scope(principal, level=certificate.access_level, departments=certificate.departments):
            raise NotFound(f"disposition {disposition_id} does not exist")
        return disposition, certificate

    def _read(self, stored: StoredObject) -> bytes:
        digest, chunks = hashlib.sha256(), []
        try:
            with self.context.plain.open_read(stored.key) as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    chunks.append(chunk)
        except NotFound:
            raise IntegrityFailure(f"the certificate's object {stored.key} is missing; restore it") from None
        if digest.hexdigest() != stored.content_sha256:
            raise IntegrityFailure(f"the certificate's object {stored.key} changed; restore it from a backup")
        return b"".join(chunks)

    def file(self, principal: Principal, disposition_id: int, fmt: str = "json") -> CertificateFile:
        authorize(principal.roles, Action.READ_RETENTION)
        if fmt not in FORMATS:
            raise InvalidInput(f"{fmt!r} is not a certificate format; use json, html or csv")
        with self.context.db.read() as session:
            _, certificate = self._certificate(session, principal, disposition_id)
            stored = next(o for o in certificate.objects if o.media_type == FORMATS[fmt])
            data = self._read(stored)
        return CertificateFile(data, FORMATS[fmt], f"disposition-{disposition_id}.{fmt}")

    def verify(self, principal: Principal, disposition_id: int, *, client: str | None = None) -> CertificateCheckView:
        authorize(principal.roles, Action.READ_RETENTION)
        key = load_or_create_signing_key(self.context.settings.resolved_audit_key_path)
        checks: list[str] = []
        problems: list[str] = []
        with self.context.db.read() as session:
            disposition, certificate = self._certificate(session, principal, disposition_id)
            stored = next(o for o in certificate.objects if o.media_type == FORMATS["json"])
            try:
                data = self._read(stored)
                checks.append("the stored JSON matches the catalogue's SHA-256")
            except IntegrityFailure as exc:
                data, problems = b"", [exc.message]
            sha = hashlib.sha256(data).hexdigest() if data else stored.sha256
            body, wrong = signature_problems(data, public_key_fingerprint(key)) if data else ({}, [])
            problems += wrong
            if data and not wrong:
                checks.append("the Ed25519 signature holds, by this archive's log key")
            self._against_catalogue(session, disposition, sha, body, checks, problems)
        view = CertificateCheckView(
            disposition_id=disposition_id,
            certificate_document_id=certificate.id,
            sha256=sha,
            key_fingerprint=public_key_fingerprint(key),
            valid=not problems,
            checks=checks,
            problems=problems,
        )
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.CERTIFICATE_VERIFY,
                target=f"disposition:{disposition_id}",
                client=client,
                outcome="valid" if view.valid else "invalid",
                details={"sha256": sha, "problems": problems},
            )
        return view

    def _against_catalogue(
        self,
        session: Session,
        disposition: Disposition,
        sha: str,
        body: dict[str, Any],
        checks: list[str],
        problems: list[str],
    ) -> None:
        if sha == disposition.certificate_sha256:
            checks.append("the disposition names this SHA-256")
        else:
            problems.append("the disposition names another SHA-256 than the stored certificate's")
        events = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == AuditAction.DISPOSITION_EXECUTE,
                AuditEvent.target == f"disposition:{disposition.id}",
            )
        ).all()
        if [details.get("certificate_sha256") for details in events] == [sha]:
            checks.append("the execution's audit event names this SHA-256")
        else:
            problems.append("no single execution event of the access log names this certificate")
        listed = [record.get("reference_code") for record in body.get("records", [])] if body else []
        if body and (body.get("disposition", {}).get("id") != disposition.id or listed != [
            item.reference_code for item in disposition.items
        ]):  # fmt: skip
            problems.append("the certificate names other records or another disposition than the catalogue")
        elif body:
            checks.append("it lists the disposition's records")
        self._tombstones(session, disposition, body, checks, problems)

    def _tombstones(
        self, session: Session, disposition: Disposition, body: dict[str, Any], checks: list[str], problems: list[str]
    ) -> None:
        destroy = disposition.action == DispositionAction.DESTROY
        wanted = DocumentStatus.DISPOSED if destroy else DocumentStatus.TRANSFERRED
        documents = documents_of(session, disposition)
        for document in documents:
            if document.status != wanted or document.disposition_id != disposition.id:
                problems.append(
                    f"{document.reference_code} is {document.status}, not {wanted.value} by this disposition"
                )
            elif destroy:
                texts = select(func.count(Page.id)).where(Page.document_id == document.id, Page.text != "")
                left = session.scalar(texts) or 0
                left += (
                    session.scalar(select(func.count(StoredObject.id)).where(StoredObject.document_id == document.id))
                    or 0
                )
                if left:
                    problems.append(f"{document.reference_code} still has page text or objects in the catalogue")
        if not problems:
            checks.append(f"every record is a tombstone ({wanted.value}) naming this disposition")
        if not destroy or not body:
            return
        keys = {o["key"] for record in body.get("records", []) for o in record.get("objects", [])}
        live = set(session.scalars(select(StoredObject.key).where(StoredObject.key.in_(sorted(keys)))))
        present = [key for key in sorted(keys - live) if self.context.store.stat(key) is not None]
        if present:
            problems.append(f"{len(present)} destroyed object(s) are still in the primary store, e.g. {present[0]}")
        else:
            checks.append("the destroyed records' objects are gone from the primary store")
