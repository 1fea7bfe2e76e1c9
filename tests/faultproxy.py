"""A loopback TCP proxy that injects network faults in front of a server (the moto S3 server, in tests/s3server.py).

Switchable at run time, for connections already open as for new ones (a pooled keep-alive connection meets
the fault on its next request):

- `pass_through()`: bytes flow both ways unchanged;
- `slow(ms)`: every chunk of the server's answers is held back `ms` milliseconds;
- `drop()`: a connection that sends anything is closed at once (an orderly close, FIN);
- `reset()`: the same with a TCP reset (RST);
- `blackhole()`: connections are accepted and read, and never answered.

`blackhole_after(n)` switches to the blackhole once n more requests went through, for "the store died midway".
Counters: `requests` (HTTP requests forwarded, counted by their request line) and `faults` (requests or
connections a fault swallowed or cut).
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum

CHUNK = 65536
POLL_SECONDS = 0.1
_METHODS = (b"GET ", b"PUT ", b"HEAD ", b"POST ", b"DELETE ")


class Mode(StrEnum):
    PASS = "pass"
    SLOW = "slow"
    DROP = "drop"
    RESET = "reset"
    BLACKHOLE = "blackhole"


class FaultProxy:
    """Listens on 127.0.0.1 (a port chosen by the OS) and forwards to upstream_host:upstream_port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_SECONDS)
        self.host, self.port = "127.0.0.1", int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._mode = Mode.PASS
        self._latency = 0.0
        self._blackhole_after: int | None = None
        self.requests = 0
        self.faults = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._acceptor.start()

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def mode(self) -> Mode:
        with self._lock:
            return self._mode

    def _set(self, mode: Mode, latency_ms: float = 0.0) -> None:
        with self._lock:
            self._mode, self._latency, self._blackhole_after = mode, latency_ms / 1000.0, None

    def pass_through(self) -> None:
        self._set(Mode.PASS)

    def slow(self, latency_ms: float) -> None:
        self._set(Mode.SLOW, latency_ms)

    def drop(self) -> None:
        self._set(Mode.DROP)

    def reset(self) -> None:
        self._set(Mode.RESET)

    def blackhole(self) -> None:
        self._set(Mode.BLACKHOLE)

    def blackhole_after(self, requests: int) -> None:
        """Pass `requests` more requests through, then blackhole everything."""
        with self._lock:
            self._mode, self._blackhole_after = Mode.PASS, self.requests + requests

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    # -- the proxy itself -------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _on_request(self, data: bytes) -> tuple[Mode, float]:
        """The mode this chunk from the client meets; a chunk that starts a request is counted, as forwarded
        (`requests`) or as met by a fault (`faults`)."""
        with self._lock:
            if data.startswith(_METHODS):
                if self._blackhole_after is not None and self.requests >= self._blackhole_after:
                    self._mode, self._blackhole_after = Mode.BLACKHOLE, None
                if self._mode in (Mode.PASS, Mode.SLOW):
                    self.requests += 1
                else:
                    self.faults += 1
            return self._mode, self._latency

    @property
    def seen(self) -> int:
        """Every request that reached the proxy, forwarded or not."""
        with self._lock:
            return self.requests + self.faults

    def _answer_mode(self) -> tuple[Mode, float]:
        with self._lock:
            return self._mode, self._latency

    def _serve(self, client: socket.socket) -> None:
        link = _Link(client)
        try:
            while not self._stop.is_set() and link.open:
                for key, _ in link.selector.select(POLL_SECONDS):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(CHUNK)
                    if not data:
                        return
                    if source is client:
                        self._from_client(link, data)
                    else:
                        self._from_upstream(link, data)
        except OSError:
            return
        finally:
            link.close()

    def _from_client(self, link: _Link, data: bytes) -> None:
        mode, _ = self._on_request(data)
        if mode is Mode.BLACKHOLE:
            return  # read, never answered
        if mode in (Mode.DROP, Mode.RESET):
            _cut(link.client, reset=mode is Mode.RESET)
            link.open = False
            return
        link.upstream_socket(self.upstream).sendall(data)

    def _from_upstream(self, link: _Link, data: bytes) -> None:
        mode, latency = self._answer_mode()
        if mode is Mode.BLACKHOLE:
            return
        if mode is Mode.SLOW:
            time.sleep(latency)
        link.client.sendall(data)


class _Link:
    """One client connection and, once something is forwarded, its upstream connection."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.upstream: socket.socket | None = None
        self.open = True
        self.selector = selectors.DefaultSelector()
        self.selector.register(client, selectors.EVENT_READ)

    def upstream_socket(self, address: tuple[str, int]) -> socket.socket:
        if self.upstream is None:
            self.upstream = socket.create_connection(address, timeout=10)
            self.selector.register(self.upstream, selectors.EVENT_READ)
        return self.upstream

    def close(self) -> None:
        self.selector.close()
        for sock in (self.client, self.upstream):
            if sock is not None:
                with suppress(OSError):
                    sock.close()


def _cut(sock: socket.socket, *, reset: bool) -> None:
    if reset:  # SO_LINGER with a zero timeout: close() sends RST instead of FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@contextmanager
def fault_proxy(upstream_host: str, upstream_port: int) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_host, upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
