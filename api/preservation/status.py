"""The status use case: free space of every data disk against the free-space reserve (storage_config/space.py)."""

from __future__ import annotations

from api.views.status import PlaceSpaceView, StatusView
from api.wiring import Context
from archive.access import Principal
from archive.permissions import Action, authorize
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
        worst = max((place.state for place in places), key=_ORDER.index, default=OK)
        return StatusView(state=worst, places=places, warnings=warnings)  # type: ignore[arg-type]
