"""The whole archive on the S3 backend (moto's S3 server on loopback): ingest, search, download, verify."""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import SecretStr

from api.preservation.verification import VerificationService
from api.records.documents import DocumentService
from api.search.service import SearchService
from api.wiring import build_context
from archive.keys import DERIVED_PREFIX, OBJECT_PREFIX
from archive.values import ObjectRole
from storage_config.settings import S3Options, Settings, StorageOptions
from tests.actors import ARCHIVIST, SYSADMIN
from tests.intake import ingest_paths
from tests.pages import english_page
from tests.s3server import S3Endpoint


def test_ingest_search_download_and_verify_on_s3(s3_server: S3Endpoint, tmp_path: Path) -> None:
    s3 = S3Options(
        endpoint=s3_server.endpoint,
        bucket=f"archive-{uuid.uuid4().hex[:12]}",
        access_key=SecretStr(s3_server.access_key),
        secret_key=SecretStr(s3_server.secret_key),
        secure=False,
        region=s3_server.region,
    )
    settings = Settings(home=tmp_path / "var", workers=1, storage=StorageOptions(backend="s3", s3=s3))
    context = build_context(settings)
    try:
        assert context.store.name == "s3"
        page = english_page(tmp_path / "in")
        outcome = ingest_paths(context, [page.path], actor=ARCHIVIST, languages="eng")
        assert outcome.exit_code() == 0
        document_id = outcome.jobs[0].document_id
        assert len(list(context.store.iter_keys(OBJECT_PREFIX))) == 3
        assert len(list(context.store.iter_keys(DERIVED_PREFIX))) == 2  # the page image and thumbnail
        assert not (tmp_path / "var" / "objects").exists()  # nothing fell back to the local disk

        found = SearchService(context).search(ARCHIVIST, '"payroll registers"')
        assert [hit.document_id for hit in found.hits] == [document_id]
        download = DocumentService(context).open_file(ARCHIVIST, document_id, ObjectRole.ORIGINAL)
        with download.stream as stream:
            assert stream.read() == page.path.read_bytes()

        maintenance = VerificationService(context)
        assert maintenance.verify(SYSADMIN).clean is True
        with context.db.session() as session:
            from archive.models import StoredObject

            pdfa_key = session.query(StoredObject).filter_by(role="pdfa").one().key
        context.store.delete(pdfa_key)
        report = maintenance.verify(SYSADMIN)
        assert report.counts == {"missing": 1, "size_changed": 0, "content_changed": 0, "swapped": 0, "untracked": 0}
        assert report.findings[0].key == pdfa_key
    finally:
        context.close()
