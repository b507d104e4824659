"""How ``lakegate up`` runs uvicorn: uvloop + httptools, with limits on slow and bloated clients.

uvicorn times out only idle keep-alive connections: a client that connects and sends half a
request line, or a header a minute, holds its connection for ever, and httptools takes
headers of any size. :class:`LimitedHttpProtocol` closes a connection whose request line and
headers are not complete within ``web.header_timeout_seconds`` (408) or grow past
``web.max_header_bytes`` (431). Bodies are bounded by the ASGI guard in front of the app
(:mod:`lakegate_server.serving.guard`): by size, and by the wait for each chunk.

The event loop never waits for a slow client: each connection is a few callbacks, and other
requests are answered meanwhile. These limits keep such connections from piling up.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lakegate.config import WebSettings
from lakegate_server.http_errors import error_json

__all__ = ["LimitedHttpProtocol", "uvicorn_config"]

log = logging.getLogger("lakegate.serving")

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class LimitedHttpProtocol(HttpToolsProtocol):
    """httptools' protocol with a deadline and a size limit on each request's head."""

    header_timeout: ClassVar[float] = 10.0
    max_header_bytes: ClassVar[int] = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and sends nothing is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            self._refuse(431, "headers_too_large", f"request headers over {self.max_header_bytes} bytes")

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._refuse(
            408, "request_timeout", f"the request headers did not arrive within {self.header_timeout:g} s"
        )

    def _refuse(self, status: int, code: str, message: str) -> None:
        if self.transport.is_closing():
            return
        log.warning(
            "request refused before its headers were in", extra={"status": status, "client": self.client}
        )
        body = error_json(code, message, None)
        head = (
            f"HTTP/1.1 {status} ".encode() + _REASONS[status] + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()
        self._disarm()


def uvicorn_config(
    *, host: str, port: int, web: WebSettings, app: Any = "lakegate_server.asgi:application"
) -> uvicorn.Config:
    """The server ``lakegate up`` runs: limits from ``web:``, proxy headers only from ``web.proxy_ips``."""
    protocol = type(
        "LakegateHttpProtocol",
        (LimitedHttpProtocol,),
        {"header_timeout": web.header_timeout_seconds, "max_header_bytes": web.max_header_bytes},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=protocol,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_keep_alive=max(1, round(web.keep_alive_seconds)),
        # X-Forwarded-For/-Proto set the client address and scheme only when the peer is a
        # proxy named in web.proxy_ips; any other client could forge them (uvicorn's default
        # trusts 127.0.0.1, i.e. every local process).
        proxy_headers=bool(web.proxy_ips),
        forwarded_allow_ips=list(web.proxy_ips) or None,
        server_header=False,
    )
