"""Executing an approved disposition: destroy or transfer its records, write the signed certificate (kept as a
record), and log it, in one catalogue transaction; then remove what destruction leaves behind outside it.

Destroy: each record becomes a tombstone (reference code, title, level, status `disposed`, the disposition and
so its certificate); its object rows and its pages' text go in the same transaction (page rows stay as numbers
and sizes, which the batch's acceptance samples name); after the commit
its objects leave the primary store (a content key another live record still names is kept), its page images
and thumbnails are pruned, and the search index drops it. The keys are listed as `destroyed_object` rows, so
`dangan backup run` removes them from every target on its next run, and a crash after the commit is finished
by running `execute` again (it sweeps what is left; `dangan derive` prunes leftover page images).

Transfer: the records are exported as a BagIt bag (api/records/bagit_export.py) into the destination folder
first, then marked `transferred` (out of use, out of search; their objects are kept)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.records.bagit_export import export_bag
from api.records.certificates import TITLES, certificate_record, signed
from api.records.disposition import (
    DispositionService,
    disposition_view,
    documents_of,
    statuses_of,
    visible_disposition,
)
from api.records.holds import refuse_held
from api.records.retention import check_disposable, retention_of
from api.search.page_images import KINDS, prune_derived
from api.search.rows import index_current
from api.views.catalogue import level_label
from api.views.records import BagExportView
from api.views.retention import DispositionView
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.audit.keys import load_or_create_signing_key
from archive.dates import stored_text
from archive.errors import InvalidInput
from archive.events import AuditAction
from archive.keys import derived_key
from archive.models import (
    Appraisal,
    AuditEvent,
    DestroyedObject,
    Disposition,
    Document,
    Fonds,
    StoredObject,
    utcnow,
)
from archive.permissions import Action, authorize
from archive.values import DispositionAction, DispositionStatus, DocumentStatus, ObjectRole
from archive.workflow import transition_disposition, transition_document


def _stamp(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass
class DisposalService:
    context: Context

    def execute(self, principal: Principal, disposition_id: int, *, client: str | None = None) -> DispositionView:
        """Carry out an approved disposition (refused while any record is on hold). Run again on an executed
        one, it finishes removing what a crash left in the primary store, and changes nothing else."""
        authorize(principal.roles, Action.EXECUTE_DISPOSITION)
        steps = DispositionService(self.context)
        with self.context.db.read() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            action, status, destination = disposition.action, disposition.status, disposition.destination
            if status != DispositionStatus.EXECUTED:
                transition_disposition(disposition_id, status, DispositionStatus.EXECUTED)  # approved only
                with steps._refusals_logged(principal, f"disposition:{disposition_id}", client):
                    refuse_held(session, documents_of(session, disposition))
        if status != DispositionStatus.EXECUTED:
            bag = self._transfer_bag(principal, disposition_id, destination) if action == "transfer" else None
            try:
                with steps._refusals_logged(principal, f"disposition:{disposition_id}", client):
                    derived = self._commit(principal, disposition_id, bag, client)
            except BaseException:
                if bag is not None:
                    shutil.rmtree(bag.path, ignore_errors=True)  # not transferred: no bag
                raise
            prune_derived(self.context, derived)
        removed = self.sweep(disposition_id)
        with self.context.db.read() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            ids = [item.document_id for item in disposition.items] + [disposition.certificate_document_id or 0]
        index_current(self.context, [i for i in ids if i])  # out of the index; the certificate in it
        with self.context.db.read() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            return disposition_view(disposition, statuses_of(session, disposition), removed)

    def _transfer_bag(self, principal: Principal, disposition_id: int, destination: str | None) -> BagExportView:
        folder = Path(destination or "")
        if not folder.is_absolute():
            raise InvalidInput(
                f"the transfer destination {destination!r} is not an absolute folder on this machine",
                InvalidInput.TRANSFER_NEEDS_DESTINATION,
            )
        with self.context.db.read() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            ids = [item.document_id for item in disposition.items]
        label = f"disposition-{disposition_id}"
        return export_bag(
            self.context, fonds=None, batch_id=None, target=folder / label, actor=principal, records=(label, ids)
        )

    def _commit(
        self, principal: Principal, disposition_id: int, bag: BagExportView | None, client: str | None
    ) -> list[str]:
        """The catalogue side, in one transaction; returns the page-image keys to prune after it."""
        with self.context.db.write() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            disposition.status = transition_disposition(
                disposition_id, disposition.status, DispositionStatus.EXECUTED
            ).value
            documents = documents_of(session, disposition)
            refuse_held(session, documents)
            for document in documents:
                check_disposable(document)
            disposition.executed_by, disposition.executed_at = principal.username, utcnow()
            disposition.export_path = bag.path if bag is not None else None
            body, derived = self._body(session, disposition, documents, bag)
            stored = signed(body, load_or_create_signing_key(self.context.settings.resolved_audit_key_path))
            level = max((d.access_level for d in documents if d.access_level is not None), default=None)
            fonds = session.get(Fonds, documents[0].fonds_id)
            assert fonds is not None
            certificate = certificate_record(self.context.store, disposition, fonds, level, stored, body)
            session.add(certificate)
            session.flush()
            disposition.certificate_document_id = certificate.id
            disposition.certificate_sha256 = hashlib.sha256(stored).hexdigest()
            destroy = disposition.action == DispositionAction.DESTROY
            history.record_many(session, self._events(principal, disposition, certificate.reference_code, documents))
            for document in documents:
                target = DocumentStatus.DISPOSED if destroy else DocumentStatus.TRANSFERRED
                document.status = transition_document(document.id, document.status, target).value
                document.disposition_id = disposition.id
                if destroy:
                    self._tombstone(session, disposition, document)
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.DISPOSITION_EXECUTE,
                target=f"disposition:{disposition.id}",
                client=client,
                details={
                    "action": disposition.action,
                    "records": [document.reference_code for document in documents],
                    "certificate_sha256": disposition.certificate_sha256,
                    "certificate": certificate.reference_code,
                    "proposed_by": disposition.proposed_by,
                    "approved_by": disposition.approved_by,
                },
            )
            return derived

    @staticmethod
    def _events(
        principal: Principal, disposition: Disposition, certificate: str, documents: list[Document]
    ) -> list[history.Event]:
        """Each record's history: removed from the holdings (destroyed or transferred), and for a destruction the
        deletion of each of its objects."""
        detail = {"action": disposition.action, "disposition": disposition.id, "certificate": certificate}
        events = []
        for document in documents:
            events.append(history.Event(document.id, history.EventType.DEACCESSION, principal.username, detail=detail))
            if disposition.action == DispositionAction.DESTROY:
                events.extend(
                    history.Event(document.id, history.EventType.DELETION, principal.username, obj.key, detail=detail)
                    for obj in document.objects
                )
        return events

    @staticmethod
    def _tombstone(session: Session, disposition: Disposition, document: Document) -> None:
        """The record's object rows go and its pages' text and word boxes are erased (the page rows stay as
        numbers and sizes: acceptance samples of the batch name them); the keys no live record shares are noted
        for removal from the store."""
        keys = {(stored.key, stored.sha256) for stored in document.objects}
        document.objects.clear()
        for page in document.all_pages:
            page.text, page.boxes, page.ocr_confidence, page.review_note = "", None, None, None
        session.flush()
        for key, sha in sorted(keys):
            shared = session.scalar(select(func.count(StoredObject.id)).where(StoredObject.key == key))
            if not shared:
                session.add(DestroyedObject(key=key, sha256=sha, disposition_id=disposition.id, destroyed_at=utcnow()))

    def _body(
        self, session: Session, disposition: Disposition, documents: list[Document], bag: BagExportView | None
    ) -> tuple[dict[str, Any], list[str]]:
        """The certificate's contents (and the page-image keys of the records, for the pruning)."""
        chosen = [item.appraisal_id for item in disposition.items]
        appraisals = {a.id: a for a in session.scalars(select(Appraisal).where(Appraisal.id.in_(chosen)))}
        by_id = {document.id: document for document in documents}
        head = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
        records, derived = [], []
        for item in disposition.items:
            document = by_id[item.document_id]
            retention = retention_of(document)
            appraisal = appraisals[item.appraisal_id]
            objects = [
                {"role": o.role, "sha256": o.sha256, "size": o.size, "media_type": o.media_type, "key": o.key}
                for o in sorted(document.objects, key=lambda o: o.id)
            ]
            item.objects = objects
            numbers = sorted({page.number for page in document.all_pages})
            derived += [
                derived_key(o.sha256, number, kind)
                for o in document.objects
                if o.role == ObjectRole.PDFA
                for number in numbers
                for kind in KINDS
            ]
            records.append(
                {
                    "document_id": document.id,
                    "reference_code": document.reference_code,
                    "title": document.title,
                    "fonds": document.fonds.code,
                    "date": stored_text(document.date, document.date_precision),
                    "level": level_label(document.access_level),
                    "retention": retention.code,
                    "counted_after": retention.counted_after,
                    "due_on": retention.due_on.isoformat() if retention.due_on else None,
                    "page_count": document.page_count,
                    "appraisal": {
                        "decision": appraisal.decision,
                        "reason": appraisal.reason,
                        "decided_by": appraisal.decided_by,
                        "decided_at": _stamp(appraisal.decided_at),
                    },
                    "objects": objects,
                }
            )
        body = {
            "format": "dangan-disposition-certificate/1",
            "title": TITLES[DispositionAction(disposition.action)],
            "disposition": {
                "id": disposition.id,
                "action": disposition.action,
                "reason": disposition.reason,
                "destination": disposition.destination,
                "proposed_by": disposition.proposed_by,
                "proposed_at": _stamp(disposition.proposed_at),
                "approved_by": disposition.approved_by,
                "approved_at": _stamp(disposition.approved_at),
                "executed_by": disposition.executed_by,
                "executed_at": _stamp(disposition.executed_at),
            },
            "records": records,
            "audit_chain_head": head or "0" * 64,
            "transfer": None
            if bag is None
            else {"bag": bag.path, "payload_oxum": bag.payload_oxum, "files": bag.files, "bytes": bag.bytes},
        }
        return body, derived

    def sweep(self, disposition_id: int) -> int:
        """Remove from the primary store the destroyed keys that no live record names; returns how many of the
        disposition's destroyed keys are gone from the store now."""
        with self.context.db.read() as session:
            rows = list(
                session.scalars(select(DestroyedObject).where(DestroyedObject.disposition_id == disposition_id))
            )
            keys = [row.key for row in rows]
            live = set(session.scalars(select(StoredObject.key).where(StoredObject.key.in_(keys))))
        gone = 0
        for key in keys:
            if key in live:
                continue
            self.context.store.delete(key)
            gone += 1
        return gone
