"""The status use case: free space of every data disk against the free-space reserve (storage_config/space.py),
and how many ingest jobs wait, are stuck or failed (counts only, for the operator; `dangan jobs` names them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from api.preservation import overview
from api.sealing import has_encrypted_objects
from api.views.base import CodedView
from api.views.status import JobCountsView, PlaceSpaceView, StatusView
from api.wiring import Context
from archive.access import Principal
from archive.coded import STATUS_WARNINGS, Coded
from archive.jobs import stuck
from archive.models import IngestJob, ScannerDevice
from archive.models.base import utcnow
from archive.permissions import Action, authorize
from archive.values import JobState
from storage_config.space import LOW, OK, REFUSING, low_space_warnings, space_report

_ORDER = (OK, LOW, REFUSING)


class StatusService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def status(self, principal: Principal, *, show_paths: bool) -> StatusView:
        """Each place with its free space, reserve and state; `show_paths` for the command line only."""
        authorize(principal.roles, Action.READ_STATUS)
        settings = self.context.settings
        places = [
            PlaceSpaceView(
                place=space.place,
                path=str(space.path) if show_paths else None,
                free_bytes=space.free_bytes,
                reserve_bytes=space.reserve_bytes,
                state=space.state,  # type: ignore[arg-type]
            )
            for space in space_report(settings)
        ]
        warnings = low_space_warnings(settings, show_paths=show_paths)
        jobs = self._job_counts()
        if jobs.stuck or jobs.failed:
            message = (
                f"{jobs.stuck} ingest job(s) stuck (their runner died; the next runner takes them over) and "
                f"{jobs.failed} failed; an archivist lists them with `dangan jobs` and re-runs them with "
                "`dangan jobs retry`"
            )
            warnings.append(STATUS_WARNINGS.line("jobs_need_attention", message, stuck=jobs.stuck, failed=jobs.failed))
        overdue = _overdue_devices(self.context)
        if overdue:
            devices = ", ".join(overdue)
            message = (
                f"{len(overdue)} scanning device(s) past their calibration due date ({devices}); calibrate them "
                "and log it (`dangan device calibrate CODE --result pass --next-due YYYY-MM-DD`)"
            )
            warnings.append(STATUS_WARNINGS.line("calibration_overdue", message, count=len(overdue), devices=devices))
        worst = max((place.state for place in places), key=_ORDER.index, default=OK)
        with self.context.db.read() as session:
            workers, storage = overview.workers(self.context, session), overview.storage_use(self.context, session)
            index = overview.index_state(self.context, session)
        if index.state != "ok":
            message = f"the search index is unavailable ({index.problem}); rebuild it (`dangan reindex`)"
            warnings.append(STATUS_WARNINGS.line("index_unavailable", message, problem=index.problem))
        warnings.extend(self._key_warnings())
        return StatusView(
            state=worst,  # type: ignore[arg-type]
            places=places,
            jobs=jobs,
            warnings=[warning.message for warning in warnings],
            warning_codes=[CodedView(code=w.code, params=dict(w.params)) for w in warnings],
            workers=workers,
            storage=storage,
            index=index,
            backups=overview.backups(self.context, principal),
            last_verification=overview.last_verification(self.context, principal),
        )

    def _key_warnings(self) -> list[Coded]:
        """Loud while encrypted records exist and their keyring is missing or its active key in no escrow."""
        from api.preservation.keys import KeyService

        if not has_encrypted_objects(self.context.db):
            return []
        report = KeyService(self.context).key_status()
        return [STATUS_WARNINGS.line("master_key_warning", line, problem=line) for line in report.warnings]

    def _job_counts(self) -> JobCountsView:
        with self.context.db.read() as session:
            by_state = dict(session.execute(select(IngestJob.state, func.count()).group_by(IngestJob.state)).all())
            lapsed = session.scalar(select(func.count()).select_from(IngestJob).where(stuck(utcnow()))) or 0
        count = {str(state): int(number) for state, number in by_state.items()}
        return JobCountsView(
            queued=count.get(JobState.QUEUED, 0),
            processing=count.get(JobState.PROCESSING, 0) - lapsed,
            retrying=count.get(JobState.RETRYING, 0),
            stuck=lapsed,
            failed=count.get(JobState.FAILED, 0),
        )


def _overdue_devices(context: Context) -> list[str]:
    """Codes of the active scanning devices whose calibration is overdue (archive/models/devices.py)."""
    today = dt.date.today()
    with context.db.read() as session:
        devices = session.scalars(select(ScannerDevice).where(ScannerDevice.status == "active"))
        return [device.code for device in devices if device.calibration_overdue(today)]
