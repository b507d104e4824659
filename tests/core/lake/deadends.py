"""S3 endpoints on the loopback that never answer, for the "lake is unreachable" tests.

All three live in the test process and need no thread: the kernel does the TCP work
(delta-rs keeps the GIL while it waits, so a Python server thread would never run).

- :func:`refusing`: a bound port nobody listens on; a connect is refused at once.
- :func:`blackholed`: a listener whose accept queue is full, so the kernel drops new SYNs and
  a connect hangs until the client's connect timeout (an address behind a firewall).
- :func:`silent`: a listener that is never accepted from; the kernel completes the handshake
  and the request waits for an answer that never comes (a hung server).
- :func:`answering`: an HTTP server in a child process that answers every request with one
  status (503: a proxy in front of a storage that is down; 429: throttling).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.core.lake.s3server import REGION


def options(endpoint: str) -> dict[str, str]:
    """object_store options for ``endpoint`` (made-up credentials: nothing answers anyway)."""
    return {
        "aws_endpoint_url": endpoint,
        "aws_region": REGION,
        "aws_allow_http": "true",
        "aws_access_key_id": "nobody",
        "aws_secret_access_key": "nothing",
    }


def _listener(backlog: int) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def refusing() -> Iterator[str]:
    """A port held (so nobody else takes it) but not listening: connects are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield _url(sock)


@contextmanager
def blackholed() -> Iterator[str]:
    """A port whose connects hang: its accept queue is full and nothing accepts."""
    with ExitStack() as stack:
        server = stack.enter_context(_listener(0))
        address = server.getsockname()
        for _ in range(8):
            probe = stack.enter_context(socket.socket())
            probe.settimeout(0.5)
            try:
                probe.connect(address)
            except TimeoutError:
                break  # SYNs are dropped now: the queue is full
        else:  # pragma: no cover - a kernel that never drops SYNs
            pytest.skip("cannot make a blackholed loopback port on this kernel")
        yield _url(server)


@contextmanager
def silent() -> Iterator[str]:
    """A port that accepts connections (in the kernel) and never sends a byte."""
    with _listener(64) as server:
        yield _url(server)


_ANSWER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Answer(BaseHTTPRequestHandler):
    def reply(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<Error><Code>ServiceUnavailable</Code><Message>try later</Message></Error>"
        self.send_response(int(sys.argv[1]))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = reply

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def answering(status: int) -> Iterator[str]:
    """An endpoint answering every request with ``status``, served by a child process."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", _ANSWER, str(status)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
