"""The intake use case as the tests call it: files in, jobs run to their end in the real local worker pool."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from api.ingest.intake import IngestRequest, Intake
from api.runners.local import local_runner
from api.views.ingest import IngestRun
from api.wiring import Context
from archive.access import Principal


def ingest_paths(
    context: Context,
    paths: Sequence[Path],
    *,
    actor: Principal,
    batch_id: int | None = None,
    languages: str | None = None,
    level: str | None = None,
    fonds: str | None = None,
    title: str | None = None,
) -> IngestRun:
    request = IngestRequest(
        paths=list(paths), batch_id=batch_id, languages=languages, level=level, fonds=fonds, title=title
    )
    return Intake(context).ingest_paths(request, actor=actor, runner=local_runner)
