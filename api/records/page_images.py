"""A record's pages for the viewer: the page list, and each page's image and thumbnail, under the record's own
visibility (hidden answers exactly like missing). The images are derived data (api/search/page_images.py): one
never made, or removed, is drawn from the stored access copy when asked.

In the access log: the page list is a document.view; a served image is a document.page_image or
document.thumbnail event, coalesced to one per account, client and record (and page, for display images) a
minute (archive/audit/coalesce.py: a results page loads dozens of thumbnails); every refusal is recorded,
never coalesced, under the action that was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from api.records.documents import log_record_read, visible_document, visible_page
from api.search.page_images import ImageSource, derive_document, source_of
from api.views.pages import PageInfoView, PageListView, page_info_view
from api.wiring import Context
from archive.access import Principal
from archive.audit.coalesce import COALESCE_SECONDS, recorded_recently
from archive.errors import NotFound, PageImageUnavailable
from archive.events import AuditAction
from archive.keys import derived_key
from archive.permissions import Action, authorize
from archive.values import ObjectRole
from ingest.derived import MEDIA_TYPE

IMAGE_ACTIONS = {
    ObjectRole.PAGE_IMAGE: AuditAction.DOCUMENT_PAGE_IMAGE,
    ObjectRole.THUMBNAIL: AuditAction.DOCUMENT_THUMBNAIL,
}


@dataclass
class ImageDownload:
    stream: BinaryIO
    media_type: str
    size: int


class PageImageService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def _refused(
        self,
        principal: Principal,
        document_id: int,
        client: str | None,
        action: AuditAction = AuditAction.DOCUMENT_VIEW,
    ) -> None:
        log_record_read(self.context, principal, document_id, client, action=action, outcome="denied_or_missing")

    def _viewed(self, principal: Principal, document_id: int, client: str | None, details: dict[str, object]) -> None:
        log_record_read(self.context, principal, document_id, client, details=details)

    def pages(self, principal: Principal, document_id: int, *, client: str | None = None) -> PageListView:
        """The record's current pages: size, engine, confidence, review state, findings, links to the images."""
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                document = visible_document(session, principal, document_id)
                pages: list[PageInfoView] = [page_info_view(document.id, page) for page in document.pages]
        except NotFound:
            self._refused(principal, document_id, client)
            raise
        self._viewed(principal, document_id, client, {"pages": "list"})
        return PageListView(document_id=document_id, pages=pages)

    def open(
        self, principal: Principal, document_id: int, number: int, kind: ObjectRole, *, client: str | None = None
    ) -> ImageDownload:
        """A page's image or thumbnail under the record's own rule (hidden: 'not found', as missing); drawn
        now from the stored access copy if it was never made or was removed. Logged (coalesced) as its action."""
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                document, _ = visible_page(session, principal, document_id, number)
                source = source_of(document)
        except NotFound:
            self._refused(principal, document_id, client, IMAGE_ACTIONS[kind])
            raise
        download = self._read(source, document_id, number, kind)
        self._served(principal, document_id, number, kind, client)
        return download

    def _served(
        self, principal: Principal, document_id: int, number: int, kind: ObjectRole, client: str | None
    ) -> None:
        """The image's event, unless one recorded within the minute covers it (archive/audit/coalesce.py)."""
        action, target = IMAGE_ACTIONS[kind], f"document:{document_id}"
        same = {"page": number} if kind == ObjectRole.PAGE_IMAGE else {}
        with self.context.db.read() as session:
            covered = recorded_recently(
                session, actor=principal.username, action=action, target=target, client=client, same=same
            )
        if not covered:
            details = {"page": number, "covers_seconds": COALESCE_SECONDS}
            log_record_read(self.context, principal, document_id, client, action=action, details=details)

    def _read(self, source: ImageSource | None, document_id: int, number: int, kind: ObjectRole) -> ImageDownload:
        unavailable = PageImageUnavailable(
            f"page {number} of document {document_id} has no {kind.value.replace('_', ' ')}: its access copy "
            "could not be drawn; a system administrator can run `dangan derive` and `dangan verify`"
        )
        if source is None:
            raise unavailable
        key = derived_key(source.pdfa_sha256, number, kind)
        info = self.context.plain.stat(key)
        if info is None:
            derive_document(self.context, source, only=number)
            info = self.context.plain.stat(key)
            if info is None:
                raise unavailable
        return ImageDownload(self.context.plain.open_read(key), MEDIA_TYPE, info.size)
