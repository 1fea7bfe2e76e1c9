"""Rebuilding the search index without holding up the caller: one rebuild at a time per installation (a lock
file beside the index, whichever process or command holds it), its progress in a small state file there, so
every HTTP process and `dangan reindex` see the same rebuild. A rebuild whose process died leaves its state
`running` without the lock: it reads as `interrupted` (the live index was never touched: rebuilds swap in)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import IO, ClassVar

from api.preservation.maintenance import MaintenanceService, Progress
from api.views.preservation import RebuildStateView, ReindexView
from api.wiring import Context
from archive.access import Principal
from archive.errors import DanganError, RebuildRunning
from archive.models.base import utcnow
from archive.permissions import Action, authorize

log = logging.getLogger(__name__)
WRITE_EVERY_SECONDS = 0.5  # progress reaches the state file at most this often (and at the end)


class _Lock:
    """The installation's rebuild lock: taken without waiting, released when the rebuild ends (or dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None

    def take(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise RebuildRunning(
                "the search index is being rebuilt already; follow it with GET /api/v1/index/rebuild"
            ) from exc
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def held_elsewhere(self) -> bool:
        if not self.path.exists():
            return False
        with self.path.open("a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
        return False


class IndexRebuilds:
    """Start a rebuild in the background (HTTP), run one in the foreground (the CLI), read its state."""

    _threads: ClassVar[dict[Path, threading.Thread]] = {}  # this process's background rebuilds, by index directory

    def __init__(self, context: Context) -> None:
        self.context = context
        index_dir = context.settings.resolved_index_dir
        self.lock = _Lock(index_dir.with_name(f".{index_dir.name}.rebuild.lock"))
        self.state_file = index_dir.with_name(f".{index_dir.name}.rebuild.json")

    def start(self, principal: Principal) -> RebuildStateView:
        """Begin a rebuild now and answer at once (409 `rebuild_running` while one runs anywhere)."""
        authorize(principal.roles, Action.REBUILD_INDEX)
        self.lock.take()
        started = self._write(self._running(principal))
        thread = threading.Thread(
            target=self._run_locked,
            args=(principal, None),
            kwargs={"background": True},
            name="index-rebuild",
            daemon=True,
        )
        IndexRebuilds._threads[self.state_file] = thread
        thread.start()
        return started

    def run(self, principal: Principal, *, progress: Progress | None = None) -> ReindexView:
        """Rebuild in this thread (`dangan reindex`), under the same lock and state file."""
        authorize(principal.roles, Action.REBUILD_INDEX)
        self.lock.take()
        self._write(self._running(principal))
        result = self._run_locked(principal, progress, background=False)
        assert result is not None  # a foreground rebuild raises what stopped it
        return result

    def state(self, principal: Principal) -> RebuildStateView:
        authorize(principal.roles, Action.REBUILD_INDEX)
        return self.current()

    def current(self) -> RebuildStateView:
        """The recorded state (no permission check: for the status use case, which has checked its own)."""
        try:
            recorded = RebuildStateView.model_validate_json(self.state_file.read_bytes())
        except (OSError, ValueError):
            return RebuildStateView(state="idle")
        if recorded.state == "running" and not self.lock.held_elsewhere():
            return recorded.model_copy(update={"state": "interrupted"})
        return recorded

    def wait(self, timeout: float | None = None) -> None:
        """Until this process's background rebuild of this index ends (tests, shutdown)."""
        thread = IndexRebuilds._threads.get(self.state_file)
        if thread is not None:
            thread.join(timeout)

    def _running(self, principal: Principal) -> RebuildStateView:
        return RebuildStateView(
            state="running",
            started_by=principal.username,
            started_at=utcnow().isoformat(),
            engine=self.context.settings.search_engine,
        )

    def _run_locked(self, principal: Principal, progress: Progress | None, *, background: bool) -> ReindexView | None:
        state = self.current()
        last_write = 0.0

        def step(done: int, total: int) -> None:
            nonlocal state, last_write
            state = state.model_copy(update={"done": done, "total": total})
            if time.monotonic() - last_write >= WRITE_EVERY_SECONDS:
                last_write = time.monotonic()
                self._write(state)
            if progress is not None:
                progress(done, total)

        try:
            result = MaintenanceService(self.context).reindex(principal, progress=step)
        except BaseException as exc:
            code = exc.code if isinstance(exc, DanganError) else "error"
            self._write(
                state.model_copy(update={"state": "failed", "finished_at": utcnow().isoformat(), "error": code})
            )
            if not background:
                raise
            log.exception("the search index rebuild started by %s failed", principal.username)
            return None
        else:
            done = {"state": "finished", "finished_at": utcnow().isoformat(), "done": result.documents}
            self._write(state.model_copy(update={**done, "total": max(state.total, result.documents)}))
            return result
        finally:
            self.lock.release()  # after the final state is written: nobody reads a finished rebuild as interrupted

    def _write(self, state: RebuildStateView) -> RebuildStateView:
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps(state.as_json()))
        os.replace(temporary, self.state_file)
        return state
