"""Loopback listeners that answer a PostgreSQL client the way hostile or foreign servers would.

Each listens on 127.0.0.1 (an ephemeral port), serves connections in a thread and records the
bytes each client sent, so a test can assert what lakegate did and did not send or show.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

BANNER = "remote-reply-7f3a: internal-service v9.9 on a private port"
SSL_REQUEST = struct.pack(">ii", 8, 80877103)


@dataclass
class Listener:
    port: int
    received: list[bytes] = field(default_factory=list)

    def url(self, user: str = "lakegate", db: str = "warehouse", password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{db}?sslmode=disable"


def _startup(conn: socket.socket) -> bytes:
    """Read the client's startup packet (after answering an SSL/GSS request with 'N')."""
    seen = b""
    while True:
        head = _read(conn, 4)
        length = struct.unpack(">i", head)[0]
        body = _read(conn, length - 4)
        seen += head + body
        if head + body == SSL_REQUEST or struct.unpack(">i", body[:4])[0] == 80877104:  # SSL / GSSENC
            conn.sendall(b"N")
            continue
        return seen


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _error_response(code: str, message: str) -> bytes:
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack(">i", len(body) + 4) + body


def pg_error(code: str = "28P01", message: str = BANNER) -> Callable[[socket.socket], bytes]:
    """A PostgreSQL-speaking server that refuses the login with ``message`` (a FATAL ErrorResponse)."""

    def serve(conn: socket.socket) -> bytes:
        seen = _startup(conn)
        conn.sendall(_error_response(code, message))
        return seen

    return serve


def password_request(conn: socket.socket) -> bytes:
    """A server asking for the password in clear text; records whatever the client answers."""
    seen = _startup(conn)
    conn.sendall(b"R" + struct.pack(">ii", 8, 3))  # AuthenticationCleartextPassword
    conn.settimeout(2)
    try:
        while chunk := conn.recv(4096):
            seen += chunk
    except OSError:
        pass
    return seen


def banner(conn: socket.socket) -> bytes:
    """Not PostgreSQL at all: a service that greets with its banner and hangs up."""
    conn.sendall(f"SSH-2.0-{BANNER}\r\n".encode())
    conn.settimeout(1)
    try:
        return conn.recv(4096)
    except OSError:
        return b""


@contextmanager
def listener(serve: Callable[[socket.socket], bytes]) -> Iterator[Listener]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    found = Listener(port=server.getsockname()[1])
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    found.received.append(serve(conn))
                except (OSError, ConnectionError, struct.error):
                    found.received.append(b"")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join(5)
        server.close()
