"""The HTTP access log: one JSON line per request, on every route (the lean ones included).

:class:`AccessLog` is the outermost ASGI layer (:func:`~lakegate_server.serving.app.mount`),
so Django's routes, the lean predict/stream routes and the guard's own refusals all pass
through it. Each request gets an id: a sane incoming ``X-Request-ID`` is kept, any other is
replaced by a fresh one; the id is returned as ``X-Request-ID`` and written in the line::

    {"ts": "2026-12-07T23:59:01.123Z", "request_id": "5f3a9c01e2b4-1a", "method": "POST",
     "route": "/api/v1/models/{name}/predict", "status": 200, "duration_ms": 0.412,
     "token": "ci", "user": null, "bytes_in": 164, "bytes_out": 98, "client": "10.0.0.7"}

``route`` is the path *template* (the raw path may hold names; it is never written), null
when no route matched (404s, static files). ``token`` is the API token's name, ``user`` the
dashboard login: the token itself is never written. The routes behind report those two (and
the template) by setting keys in the ASGI scope: the lean routes directly, Django through
:class:`RouteMiddleware`.

Cheap by design (the predict route is the hot path): no ``logging`` record, one orjson dump
per line, lines buffered and appended to ``logs/access.jsonl`` once a second or every 64 KiB
(one ``write`` of whole lines with ``O_APPEND``, so the processes of a host share the file
without tearing lines). A crash loses at most the last second of lines. ``web.access_log:
false`` removes the layer.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Final

import orjson

from lakegate_server.serving.guard import PREDICT_PATH, STREAM_PATH

__all__ = [
    "PREDICT_ROUTE",
    "ROUTE_KEY",
    "STREAM_ROUTE",
    "TOKEN_KEY",
    "USER_KEY",
    "AccessLog",
    "AccessLogWriter",
    "RouteMiddleware",
    "route_template",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

# What the routes behind report in the ASGI scope.
ROUTE_KEY: Final = "lakegate.route"
TOKEN_KEY: Final = "lakegate.token"  # noqa: S105 - a scope key, not a secret
USER_KEY: Final = "lakegate.user"

# An incoming id is kept when it is this plain (no spaces, quotes or control characters that
# could forge log fields or headers); anything else is replaced.
_SANE_ID: Final = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
PREDICT_ROUTE: Final = "/api/v1/models/{name}/predict"
STREAM_ROUTE: Final = "/api/v1/streams/{dataset}/records"
_FLUSH_BYTES: Final = 64 * 1024
_FLUSH_SECONDS: Final = 1.0
_DJANGO_PARAM: Final = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def route_template(route: str) -> str:
    """Django's ``api/v1/datasets/<str:name>/files`` as ``/api/v1/datasets/{name}/files``."""
    return "/" + _DJANGO_PARAM.sub(r"{\1}", route).lstrip("^").rstrip("$")


def _lean_route(path: str) -> str | None:
    """The lean routes' templates, for requests the guard refused before they were dispatched."""
    if PREDICT_PATH.match(path):
        return PREDICT_ROUTE
    if STREAM_PATH.match(path):
        return STREAM_ROUTE
    return None


class AccessLogWriter:
    """Whole lines, buffered, appended to one file; flushed by the event loop or at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: list[bytes] = []
        self._size = 0
        self._fd: int | None = None
        self._pid = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def write(self, line: bytes) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size >= _FLUSH_BYTES:
            self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # written outside a loop: at once
            self.flush()
            return
        if self._timer is None or self._loop is not loop:  # (a loop that ended never fires)
            if self._timer is not None:
                self._timer.cancel()
            self._loop = loop
            self._timer = loop.call_later(_FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._lines:
                return
            data = b"".join(self._lines)
            self._lines.clear()
            self._size = 0
            if self._fd is None or self._pid != os.getpid():  # a forked process opens its own
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                self._pid = os.getpid()
            with contextlib.suppress(OSError):  # a full disk must not break requests: lines dropped
                os.write(self._fd, data)


class _Clock:
    """``ts`` values: the ISO second is formatted once per second, milliseconds appended."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def stamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"


class AccessLog:
    """ASGI middleware writing one line per HTTP request (other scopes pass untouched)."""

    def __init__(self, app: ASGIApp, write: Callable[[bytes], None]) -> None:
        self.app = app
        self._write = write  # takes one line (bytes, newline included)
        self._prefix = secrets.token_hex(6) + "-"  # ids unique across processes and restarts
        self._count = 0
        self._clock = _Clock()

    def _request_id(self, scope: Scope) -> bytes:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if _SANE_ID.fullmatch(value):
                    return bytes(value)
                break
        self._count += 1
        return f"{self._prefix}{self._count:x}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request_id = self._request_id(scope)
        status: int | None = None
        bytes_in = 0
        bytes_out = 0

        async def counted_receive() -> Message:
            nonlocal bytes_in
            message: Message = await receive()
            body = message.get("body")
            if body:
                bytes_in += len(body)
            return message

        async def tagged_send(message: Message) -> None:
            nonlocal status, bytes_out
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id)]}
            elif kind == "http.response.body":
                bytes_out += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, tagged_send)
        except BaseException:
            if status is None:
                status = 500  # the server answers 500 for an app that raised before answering
            raise
        finally:
            now = time.time()
            client = scope.get("client")
            self._write(
                orjson.dumps(
                    {
                        "ts": self._clock.stamp(now),
                        "request_id": request_id.decode(),
                        "method": scope["method"],
                        "route": scope.get(ROUTE_KEY) or _lean_route(scope["path"]),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - began) * 1000, 3),
                        "token": scope.get(TOKEN_KEY),
                        "user": scope.get(USER_KEY),
                        "bytes_in": bytes_in,
                        "bytes_out": bytes_out,
                        "client": client[0] if client else None,
                    },
                    option=orjson.OPT_APPEND_NEWLINE,
                )
            )


class RouteMiddleware:
    """Django middleware: tells the access log the matched route's template and who called.

    ``request.scope`` is the ASGI scope :class:`AccessLog` holds (Django keeps the same
    dict); under WSGI (the test client) there is none and nothing is recorded.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            match = getattr(request, "resolver_match", None)
            if match is not None and match.route is not None:
                scope[ROUTE_KEY] = route_template(match.route)
            auth = getattr(request, "auth", None)  # Ninja's TokenAuth: the ApiToken
            name = getattr(auth, "name", None)
            if isinstance(name, str):
                scope[TOKEN_KEY] = name
            user = getattr(request, "_cached_user", None)  # only when the view looked at it
            if user is not None and getattr(user, "is_authenticated", False):
                scope[USER_KEY] = user.get_username()
        return response
