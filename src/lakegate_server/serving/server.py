"""How ``lakegate up`` runs uvicorn: uvloop + httptools, with limits on slow and bloated clients.

uvicorn times out only idle keep-alive connections: a client that connects and sends half a
request line, or a header a minute, or a body a byte a minute, holds its request for ever, and
httptools takes headers of any size. :class:`LimitedHttpProtocol` answers and closes

- 408 when a request's line and headers are not complete within ``web.header_timeout_seconds``
  (counted from the connection or the request's first byte);
- 408 when its body stops arriving for ``web.body_timeout_seconds`` (time the server itself
  stopped reading, because the handler is busy, does not count);
- 431 when its line and headers pass ``web.max_header_bytes``.

One timer per request does all three (armed at the first byte, cancelled when the request is
in): the predict route's requests pay no more than that. Body *sizes* are bounded by the ASGI
guard in front of the app (:mod:`lakegate_server.serving.guard`).

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

__all__ = ["ConfiguredHttpProtocol", "LimitedHttpProtocol", "configure_protocol", "uvicorn_config"]

log = logging.getLogger("lakegate.serving")

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
_IDLE, _HEAD, _BODY = 0, 1, 2  # what the connection is waiting for


class LimitedHttpProtocol(HttpToolsProtocol):
    """httptools' protocol with a deadline and a size limit on each request's head, and an
    idle timeout on its body."""

    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_header_bytes: ClassVar[int] = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._phase = _IDLE
        self._head_bytes = 0
        self._last_data = 0.0
        self._refused = False

    # uvicorn's HttpToolsProtocol narrows asyncio.Protocol's BaseTransport to Transport (with
    # its own ignore); this override keeps uvicorn's signature.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()  # a client that connects and sends nothing is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered and closing: nothing more is parsed
        in_head = self._phase == _HEAD
        if in_head:
            self._head_bytes += len(data)
        else:
            self._last_data = self.loop.time()
        super().data_received(data)
        # Still in the head after this chunk: every byte of it was request line and headers
        # (a head that never ends is cut off here; one that did end is measured exactly below).
        if in_head and self._phase == _HEAD and self._head_bytes > self.max_header_bytes:
            self._refuse(431, "headers_too_large", f"request headers over {self.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase != _HEAD:  # not the connection's first request, timed since connecting
            self._start_head()

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._refuse(431, "headers_too_large", f"request headers over {self.max_header_bytes} bytes")
            return  # no handler is started for it
        # The same timer goes on timing the body; it re-arms itself while the body arrives.
        self._phase = _BODY
        self._last_data = self.loop.time()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._stop()
        super().on_message_complete()

    def _start_head(self) -> None:
        self._phase = _HEAD
        self._head_bytes = 0
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(self.header_timeout, self._check)

    def _stop(self) -> None:
        self._phase = _IDLE
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self, confirmed: bool = False) -> None:
        self._timer = None
        if not confirmed:
            # Once more after the loop's next look at the sockets: a loop that stalled (a busy
            # machine) runs due timers before it reads what arrived meanwhile, and a client
            # whose bytes are waiting there is not slow.
            self._timer = self.loop.call_later(0.001, self._check, True)
            return
        if self._phase == _HEAD:
            self._refuse(
                408, "request_timeout", f"the request headers did not arrive within {self.header_timeout:g} s"
            )
            return
        now = self.loop.time()
        if self.flow is not None and self.flow.read_paused:
            self._last_data = now  # the server stopped reading, not the client sending
        idle = now - self._last_data
        if idle < self.body_timeout:
            self._timer = self.loop.call_later(self.body_timeout - idle, self._check)
            return
        self._refuse(
            408,
            "request_timeout",
            f"no request body received for {self.body_timeout:g} s (web.body_timeout_seconds)",
        )

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._stop()
        self._refused = True
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # too late for an answer of our own
            return
        log.warning("request refused", extra={"status": status, "reason": code, "client": self.client})
        body = error_json(code, message, None)
        head = (
            f"HTTP/1.1 {status} ".encode() + _REASONS[status] + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()  # the handler waiting for the body is told the client left


class ConfiguredHttpProtocol(LimitedHttpProtocol):
    """The protocol ``lakegate up`` serves with: limits from ``web:`` (:func:`configure_protocol`).

    A module-level class, so that a uvicorn config holding it can be sent to worker
    processes (``web.processes``), which set the limits again from their own settings.
    """


def configure_protocol(web: WebSettings) -> type[LimitedHttpProtocol]:
    ConfiguredHttpProtocol.header_timeout = web.header_timeout_seconds
    ConfiguredHttpProtocol.body_timeout = web.body_timeout_seconds
    ConfiguredHttpProtocol.max_header_bytes = web.max_header_bytes
    return ConfiguredHttpProtocol


def uvicorn_config(
    *,
    host: str,
    port: int,
    web: WebSettings,
    app: Any = "lakegate_server.asgi:application",
    processes: int | None = None,
) -> uvicorn.Config:
    """The server ``lakegate up`` runs: limits from ``web:``, proxy headers only from ``web.proxy_ips``,
    ``processes`` (default ``web.processes``) processes sharing the port."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=configure_protocol(web),
        lifespan="off",
        log_config=None,
        access_log=False,  # lakegate's own, cheaper access log: lakegate_server.serving.access
        timeout_keep_alive=max(1, round(web.keep_alive_seconds)),
        # X-Forwarded-For/-Proto set the client address and scheme only when the peer is a
        # proxy named in web.proxy_ips; any other client could forge them (uvicorn's default
        # trusts 127.0.0.1, i.e. every local process).
        proxy_headers=bool(web.proxy_ips),
        forwarded_allow_ips=list(web.proxy_ips) or None,
        server_header=False,
        workers=processes or web.processes,
    )
