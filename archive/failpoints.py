"""Crash points for fault-injection tests: `failpoint("filing.after_store")` does nothing unless the environment
variable DANGAN_FAILPOINTS arms that name. Test-only by construction: production never sets the variable, and an
unarmed point costs one dictionary lookup.

    DANGAN_FAILPOINTS="filing.after_store=crash"            # SIGKILL this process the first time it is reached
    DANGAN_FAILPOINTS="index.commit=enospc@3;spool.copy=error"  # the third time: OSError ENOSPC; any time: error

Actions: `crash` (SIGKILL of the process itself: nothing runs after it, as with a power cut or `kill -9`),
`enospc` (an OSError "No space left on device"), `error` (a RuntimeError: a bug), `sleep:SECONDS`.
A `@N` suffix fires on the N-th hit only (counted per process). The names are the points' own strings: the
crash-point tests find every `failpoint("...")` in the source and arm each in turn.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from dataclasses import dataclass

ENV = "DANGAN_FAILPOINTS"


@dataclass(frozen=True)
class _Armed:
    action: str
    argument: str | None
    on_hit: int | None  # fire on this hit only; None: every hit


_parsed: dict[str, dict[str, _Armed]] = {}  # the last spec seen, parsed
_hits: dict[str, int] = {}
_lock = threading.Lock()


def failpoint(name: str) -> None:
    """Fire the fault armed for `name`, if any."""
    spec = os.environ.get(ENV, "")
    if not spec:
        return
    armed = _armed(spec).get(name)
    if armed is None:
        return
    with _lock:
        _hits[name] = hit = _hits.get(name, 0) + 1
    if armed.on_hit is not None and hit != armed.on_hit:
        return
    _fire(name, armed)


def _armed(spec: str) -> dict[str, _Armed]:
    if spec not in _parsed:
        _parsed.clear()
        _parsed[spec] = parse(spec)
    return _parsed[spec]


def parse(spec: str) -> dict[str, _Armed]:
    """`name=action[:argument][@hit]` items separated by `;` (or `,`)."""
    found: dict[str, _Armed] = {}
    for item in spec.replace(",", ";").split(";"):
        if not item.strip():
            continue
        name, _, rest = item.strip().partition("=")
        rest, _, hit = rest.partition("@")
        action, _, argument = (rest or "crash").partition(":")
        if action not in ("crash", "enospc", "error", "sleep"):
            raise ValueError(f"{ENV}: unknown action {action!r} for {name!r} (crash, enospc, error, sleep:SECONDS)")
        found[name] = _Armed(action, argument or None, int(hit) if hit else None)
    return found


def _fire(name: str, armed: _Armed) -> None:
    if armed.action == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # SIGKILL is delivered at once; never go on past a crash point
    if armed.action == "enospc":
        raise OSError(errno.ENOSPC, f"No space left on device (failpoint {name})")
    if armed.action == "sleep":
        time.sleep(float(armed.argument or "1"))
        return
    raise RuntimeError(f"failpoint {name}")
