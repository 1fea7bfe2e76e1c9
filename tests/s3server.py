"""A real S3 server on loopback for tests: moto in server mode speaks the S3 wire protocol over HTTP.

MinIO itself cannot be installed here, so the S3 backend is tested against moto's ThreadedMotoServer
(werkzeug on 127.0.0.1, port chosen by the OS, so parallel runs never collide).
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class S3Endpoint:
    """Where a test S3 server listens and the credentials it accepts (moto accepts any)."""

    host: str
    port: int
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = "us-east-1"

    @property
    def endpoint(self) -> str:
        """host:port as the minio SDK wants it (no scheme; secure=False)."""
        return f"{self.host}:{self.port}"


def closed_port() -> int:
    """A loopback port with nothing listening: bound to learn a free number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_speaks_http(endpoint: S3Endpoint) -> None:
    """Prove a real HTTP server answers on the port (an S3 ListBuckets reply), not just a thread."""
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=5)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200 or b"ListAllMyBucketsResult" not in body:
        raise RuntimeError(f"moto on {endpoint.endpoint} answered {response.status}: {body[:200]!r}")


@contextmanager
def running_s3_server() -> Iterator[S3Endpoint]:
    """Start moto's S3 server on 127.0.0.1, yield its endpoint, stop it afterwards."""
    from moto.server import ThreadedMotoServer  # imported here: moto takes ~0.5 s to import

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever if the server thread dies before binding; bound that wait.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT_SECONDS)
    if starter.is_alive():
        raise RuntimeError(f"moto S3 server did not start within {START_TIMEOUT_SECONDS} s")
    host, port = server.get_host_and_port()
    endpoint = S3Endpoint(host=host, port=port)
    try:
        _check_speaks_http(endpoint)
        yield endpoint
    finally:
        server.stop()


def _byte_flipping_handler(upstream: S3Endpoint) -> type[BaseHTTPRequestHandler]:
    """Forward every request to upstream; flip the last byte of every object GET body on the way back."""

    class FlippingHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=10)
            try:
                connection.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                response = connection.getresponse()
                data = response.read()
            finally:
                connection.close()
            is_object_get = self.command == "GET" and "?" not in self.path and self.path.count("/") >= 2
            if is_object_get and response.status == 200 and data:
                data = data[:-1] + bytes([data[-1] ^ 0x01])
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            upstream_length = response.getheader("Content-Length", "0")
            self.send_header("Content-Length", upstream_length if self.command == "HEAD" else str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward  # noqa: N815 - the stdlib names them so

    return FlippingHandler


@contextmanager
def byte_flipping_proxy(upstream: S3Endpoint) -> Iterator[S3Endpoint]:
    """A loopback HTTP proxy to upstream that corrupts every object download (one byte flipped on the wire)."""
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _byte_flipping_handler(upstream))
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield replace(upstream, port=int(proxy.server_address[1]))
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()
