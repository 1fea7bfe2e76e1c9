"""Before the server starts: can it listen where it was told to? A busy port or an address this machine does
not have is said in one line (instead of uvicorn's traceback after the start-up banner)."""

from __future__ import annotations

import errno
import socket

from archive.errors import ConfigurationError, Conflict

HINT = "pass --host/--port or set DANGAN_SERVER__HOST/DANGAN_SERVER__PORT"


def check_listenable(host: str, port: int) -> None:
    """Bind (and release) the address the way uvicorn will; Conflict when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is no obstacle
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(
                f"port {port} on {host} is in use: stop the other server or pass --port (or set DANGAN_SERVER__PORT)"
            ) from None
        reason = exc.strerror or str(exc)
        raise ConfigurationError(f"cannot listen on {host} port {port}: {reason}; {HINT}") from None
