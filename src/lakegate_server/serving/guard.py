"""The ASGI guard in front of every route: request bodies bounded while they stream in.

Django's ASGI handler reads a whole request body (spooling it to disk past 5 MiB) before any
view runs, and Starlette's ``request.body()`` reads it into memory, so a limit checked by a
view comes too late: a 300 MiB chunked push was in memory before its 413. Here the body is
counted as each chunk arrives:

- a ``Content-Length`` over the route's limit is answered 413 at once, before a byte is read
  (a client that sent ``Expect: 100-continue`` never sends the body);
- a body without one (chunked) is refused with 413 as soon as the count passes the limit;
  the handler behind sees the client go away and drops what it had.

A request with a ``Content-Length`` within the limit, or with no body, goes through untouched
(the HTTP parser reads exactly the declared bytes): the predict route pays a pattern match and
a look at its headers. Refusals close the connection (``Connection: close``): the rest of the body is
never read. Slow clients (headers, and bodies that stop arriving) are timed by the HTTP
protocol class (:mod:`lakegate_server.serving.server`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from django.conf import settings

from lakegate_server.datasets.uploads import MULTIPART_SLACK
from lakegate_server.http_errors import error_json
from lakegate_server.serving.predict import MAX_BODY_BYTES

__all__ = ["PREDICT_PATH", "STREAM_PATH", "UPLOAD_PATHS", "RequestGuard", "body_limit"]

PREDICT_PATH: Final = re.compile(r"^/api/v1/models/[^/]+/predict/?$")
STREAM_PATH: Final = re.compile(r"^/api/v1/streams/[^/]+/records/?$")
# The API's upload route and the dashboard's upload form (tests check both against the URLconf).
UPLOAD_PATHS: Final = re.compile(r"^/(api/v1/datasets/[^/]+/files|upload)/?$")

_PREDICT_LIMIT: Final = f"request body over {MAX_BODY_BYTES} bytes"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def body_limit(path: str) -> tuple[int, str]:
    """The largest body ``path`` takes, and how a refusal names that limit."""
    if PREDICT_PATH.match(path):
        # First, and without reading settings: each ``settings.LAKEGATE`` costs microseconds
        # (Django's lazy settings probe the pydantic model for ``_mask_wrapped``).
        return MAX_BODY_BYTES, _PREDICT_LIMIT
    lg = settings.LAKEGATE
    if STREAM_PATH.match(path):
        limit = lg.streams.max_body_bytes
        return limit, f"the body is over streams.max_body_bytes ({limit} bytes)"
    if UPLOAD_PATHS.match(path):
        # The file may be web.max_upload_bytes; its multipart framing comes on top (the upload
        # handler counts the file's own bytes exactly).
        limit = lg.web.max_upload_bytes
        return limit + MULTIPART_SLACK, f"upload is larger than web.max_upload_bytes={limit}"
    limit = lg.web.max_request_bytes
    return limit, f"request body over web.max_request_bytes ({limit} bytes)"


def _declared_length(scope: Scope) -> tuple[int | str | None, bool]:
    """The declared ``Content-Length`` (None when absent, the raw text when not a number), and
    whether a ``Transfer-Encoding`` came (a chunked body: its length is known only by counting)."""
    length: int | str | None = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            length = int(text) if text.isdigit() else text
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


async def _answer(send: Callable[[Message], Awaitable[None]], status: int, code: str, message: str) -> None:
    body = error_json(code, message, None)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware bounding request bodies by size and by the wait for each chunk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, limit_text = body_limit(scope["path"])
        declared, chunked = _declared_length(scope)
        if isinstance(declared, str):
            await _answer(send, 400, "bad_request", f"Content-Length {declared!r} is not a number")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, "payload_too_large", limit_text)
            return
        if not chunked:
            # The parser reads no more than the declared length, and nothing without one.
            await self.app(scope, receive, send)
            return
        guarded = _GuardedRequest(receive, send, limit, limit_text)
        await self.app(scope, guarded.receive, guarded.send)


class _GuardedRequest:
    """One request's ``receive`` and ``send`` with its body bytes counted."""

    def __init__(self, receive: Any, send: Any, limit: int, limit_text: str) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.limit_text = limit_text
        self.received = 0
        self.complete = False  # the whole body is in (or the guard gave up on it)
        self.started = False  # a response has begun
        self.answered = False  # the guard answered in the app's place

    async def send(self, message: Message) -> None:
        if self.answered:
            return  # the app's own answer to a refused request comes too late: drop it
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def receive(self) -> Message:
        if self.answered:
            return {"type": "http.disconnect"}
        message: Message = await self._receive()
        if self.complete or message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if self.received > self.limit:
            return await self._refuse(413, "payload_too_large", self.limit_text)
        if not message.get("more_body", False):
            self.complete = True
        return message

    async def _refuse(self, status: int, code: str, text: str) -> Message:
        """Answer the client now; the app is told the client left, and drops what it read."""
        self.complete = True
        if not self.started:
            self.answered = True
            await _answer(self._send, status, code, text)
        return {"type": "http.disconnect"}
