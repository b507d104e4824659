"""The web server as ``lakegate up`` runs it: slow clients, oversized pushes, revocations from the CLI.

Each test starts a real ``lakegate up`` (uvicorn + the ASGI app) in a fresh project and talks
to it over loopback sockets, the way a misbehaving client would.
"""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Any

import httpx
import psutil
import pytest

from tests.e2e import conftest as e2e
from tests.e2e.conftest import Project, free_port, wait_for

# The end-to-end suite's fixtures: a fresh project (and database, in the PostgreSQL pass).
postgres_url = e2e.postgres_url
project = e2e.project

pytestmark = pytest.mark.slow
MIB = 1024**2


def start(proj: Project, **web: str) -> str:
    for name, value in web.items():
        proj.env[f"LAKEGATE_WEB__{name.upper()}"] = value
    port = free_port()
    proj.start("up", "--port", str(port), "--workers", "0", log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=90, what="/healthz 200")
    return base


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (or ``timeout`` passes)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    except ConnectionResetError:
        pass
    return data


def editor_token(proj: Project) -> str:
    return json.loads(proj.run("token", "create", "--role", "editor", "--json").stdout)["token"]


def test_stalled_clients_are_cut_off_while_others_are_answered(project):
    stall = 4.0
    base = start(
        project, header_timeout_seconds=str(stall), body_timeout_seconds=str(stall), max_header_bytes="8192"
    )
    token = editor_token(project)
    silent = connect(base)  # connects, sends nothing
    half_head = connect(base)
    half_head.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    half_body = connect(base)
    half_body.sendall(
        b"POST /api/v1/streams/events/records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n[{"id": 1},'
    )
    began = time.monotonic()
    with httpx.Client(base_url=base) as client:
        answered = [client.get("/healthz") for _ in range(5)]
    served_in = time.monotonic() - began
    assert [r.status_code for r in answered] == [200] * 5
    stalled = [silent, half_head, half_body]
    waiting, _, _ = select.select(stalled, [], [], 0)
    assert served_in < stall, f"others were answered while three clients stalled ({served_in:.2f} s)"
    assert waiting == [], "... and the stalled ones were still waiting then"

    for sock in stalled:
        reply = read_all(sock, timeout=3 * stall)
        sock.close()
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b'"code":"request_timeout"' in reply
    assert time.monotonic() - began < 3 * stall, "cut off after the timeout, not left open"

    bloated = connect(base)
    bloated.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + b"a" * 20_000 + b"\r\n\r\n")
    reply = read_all(bloated, timeout=10)
    bloated.close()
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    assert reply.count(b"HTTP/1.1") == 1, "the refused request reached no handler"
    endless = connect(base)  # a head that never ends, sent in pieces
    endless.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for _ in range(4):
        endless.sendall(b"X-Pad: " + b"b" * 4000 + b"\r\n")
    reply = read_all(endless, timeout=10)
    endless.close()
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    assert httpx.get(f"{base}/healthz").status_code == 200


def chunked_push(
    base: str, path: str, headers: dict[str, str], total: int, chunk: int = MIB
) -> tuple[int, bytes]:
    """POST ``total`` bytes chunked (no Content-Length); stop when the server answers.

    Returns (bytes sent before the answer, the answer).
    """
    sock = connect(base)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    piece = f"{chunk:x}\r\n".encode() + b"7" * chunk + b"\r\n"
    sent = 0
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(piece)
            sent += chunk
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply = read_all(sock, timeout=10)
    sock.close()
    return sent, reply


def test_a_chunked_push_far_over_the_limit_is_refused_early_and_costs_no_memory(project):
    base = start(project)
    token = editor_token(project)
    web = psutil.Process(project.procs[0].pid)  # `lakegate up` serves the web in its own process
    path = "/api/v1/streams/events/records"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    warm = httpx.post(f"{base}{path}", json=[{"id": 1}], headers=auth)
    assert warm.status_code == 202, warm.text
    before = web.memory_info().rss
    sent, reply = chunked_push(base, path, auth, total=300 * MIB)
    grown = web.memory_info().rss - before
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"streams.max_body_bytes" in reply
    assert sent < 64 * MIB, f"answered after {sent / MIB:.0f} MiB of 300 (the limit is 16 MiB)"
    assert grown < 48 * MIB, f"the web process grew by {grown / MIB:.0f} MiB"


def test_a_token_revoked_by_the_cli_is_refused_by_the_next_push(project):
    base = start(project)
    created = json.loads(project.run("token", "create", "--role", "editor", "--json").stdout)
    headers = {"Authorization": f"Bearer {created['token']}"}
    url = f"{base}/api/v1/streams/events/records"
    with httpx.Client() as client:
        assert client.post(url, json=[{"id": 1}], headers=headers).status_code == 202
        assert client.post(url, json=[{"id": 2}], headers=headers).status_code == 202  # cached now
        project.run("token", "revoke", str(created["id"]))  # another process
        refused = client.post(url, json=[{"id": 3}], headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "unauthorized"


def test_bad_tokens_are_throttled_by_the_running_server(project):
    base = start(project, token_failure_limit="5")
    headers: dict[str, Any] = {"Authorization": "Bearer lg_000000000000_guess"}
    with httpx.Client(base_url=base) as client:
        statuses = [
            client.post("/api/v1/models/churn/predict", json={}, headers=headers).status_code
            for _ in range(8)
        ]
        django_route = client.get("/api/v1/runs", headers=headers)
    assert statuses == [401] * 4 + [429] * 4
    assert django_route.status_code == 429, "one count for both stacks"
    assert int(django_route.headers["retry-after"]) > 0
