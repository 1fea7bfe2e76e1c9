"""Taking a batch through the workflow the way people do, for tests whose subject comes after filing.

Staff and the security auditor see an item only once its batch is filed (archive.workflow), so a test that
ingests and then reads or searches as them files the batch first: a second archivist (REVIEWER, never the
uploader) samples every page, passes each, decides; the archivist files."""

from __future__ import annotations

from typing import Any

from api.ingest.acceptance import AcceptanceService
from api.wiring import Context
from archive.access import Principal
from tests.actors import ARCHIVIST, REVIEWER


def file_batch(
    context: Context,
    batch_id: int,
    *,
    reviewer: Principal = REVIEWER,
    filer: Principal = ARCHIVIST,
    justification: str | None = None,
) -> dict[str, Any]:
    """Sample 100% of the batch, pass every page, accept and file it; returns the filing result."""
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch_id, actor=reviewer, percent=100, minimum=1)
    for row in sample["pages"]:
        acceptance.record_verdict(batch_id, row["page_id"], actor=reviewer, passed=True)
    decision = acceptance.decide(batch_id, actor=reviewer)
    assert decision["decision"] == "accepted", decision
    return acceptance.file(batch_id, actor=filer, justification=justification)


def file_batch_cli(cli: Any, batch_id: int, *, justification: str | None = None) -> None:
    """The same through the command line: `reviewer` samples and decides, `archivist` (the default) files."""
    sample = cli("--user", "reviewer", "batch", "sample", str(batch_id), "--percent", "100", "--minimum", "1", "--json")
    assert sample.exit_code == 0, sample.stderr
    for row in sample.json["pages"]:
        verdict = cli("--user", "reviewer", "batch", "verdict", str(batch_id), str(row["page_id"]), "pass")
        assert verdict.exit_code == 0, verdict.stderr
    decided = cli("--user", "reviewer", "batch", "decide", str(batch_id))
    assert decided.exit_code == 0, decided.stderr
    extra = ["--justification", justification] if justification else []
    filed = cli("batch", "file", str(batch_id), *extra)
    assert filed.exit_code == 0, filed.stderr
