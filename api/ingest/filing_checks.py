"""The DA/T 70 four-property checks run at filing: the filed batch is checked and the report stored (with its
audit event and the records' format identification events, as the filer's) so it can be read later
(`dangan check dat70 --list`, GET /api/v1/dat70/runs). Filing never fails because of it: the report grades what
it found, and a check that breaks is logged and said in the filing's answer, the batch stays filed."""

from __future__ import annotations

import logging
from typing import Any

from api.wiring import Context, dat70_tools
from archive.access import Principal
from archive.dat70_runs import record_run
from archive.preservation.dat70_run import check_batch

log = logging.getLogger(__name__)
FILING = "filing"


def check_filed_batch(context: Context, batch_id: int, *, actor: Principal) -> dict[str, Any]:
    """Check the batch just filed; answers the run's id, grade and counts of problems per check."""
    try:
        tools = dat70_tools(context)
        with context.db.write() as session:
            report = check_batch(session, tools, batch_id)
            run = record_run(session, report, actor=actor.username, roles=actor.roles, trigger=FILING)
            problems = {code: count for code, count in run.counts.items() if count}
            return {"run_id": run.id, "grade": run.grade, "problems": problems}
    except Exception as exc:  # the batch is filed whatever happens here; say what broke
        log.exception("DA/T 70 checks of filed batch %s could not run", batch_id)
        return {"run_id": None, "grade": None, "problems": {}, "error": f"{type(exc).__name__}: {exc}"}
