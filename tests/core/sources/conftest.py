"""A small paginated JSON API on 127.0.0.1 (stdlib ``http.server`` in a thread)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lakegate.sources import OutboundPolicy

LOOPBACK = OutboundPolicy(allowed_networks=["127.0.0.0/8", "::1/128"], timeout=5)
PAGE = 10


def record(i: int) -> dict[str, Any]:
    return {"id": i, "name": f"item {i}", "updated_at": f"2024-01-{i:02d}T00:00:00Z", "nested": {"a": i}}


@dataclass
class Api:
    port: int
    records: list[dict[str, Any]] = field(default_factory=lambda: [record(i) for i in range(1, 26)])
    seen: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests_to(self, path: str) -> list[tuple[dict[str, str], dict[str, str]]]:
        return [(q, h) for p, q, h in self.seen if p == path]


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: PLR0911, PLR0912
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            api.seen.append((parts.path, query, dict(self.headers.items())))
            rows = api.records
            host = self.headers.get("Host", f"127.0.0.1:{api.port}")
            match parts.path:
                case "/page_number":
                    page = int(query.get("page", "1"))
                    return self._send(200, {"items": rows[(page - 1) * PAGE : page * PAGE]})
                case "/offset":
                    offset, limit = int(query.get("offset", "0")), int(query.get("limit", "10"))
                    return self._send(200, {"items": rows[offset : offset + limit], "total": len(rows)})
                case "/cursor":
                    start = int(query.get("cursor", "0"))
                    nxt = str(start + PAGE) if start + PAGE < len(rows) else None
                    return self._send(200, {"items": rows[start : start + PAGE], "cursors": {"next": nxt}})
                case "/header_link":
                    page = int(query.get("page", "1"))
                    headers = {}
                    if page * PAGE < len(rows):
                        headers["Link"] = f'<http://{host}/header_link?page={page + 1}>; rel="next"'
                    return self._send(200, rows[(page - 1) * PAGE : page * PAGE], headers)
                case "/json_link":
                    page = int(query.get("page", "1"))
                    next_host = query.get("nexthost", host)
                    more = page * PAGE < len(rows)
                    extra = f"&nexthost={next_host}" if "nexthost" in query else ""
                    nxt = f"http://{next_host}/json_link?page={page + 1}{extra}" if more else None
                    return self._send(200, {"data": rows[(page - 1) * PAGE : page * PAGE], "next": nxt})
                case "/single":
                    return self._send(200, rows)
                case "/incremental":
                    since = query.get("updated_since", "")
                    return self._send(200, {"items": [r for r in rows if r["updated_at"] >= since]})
                case "/flaky":
                    key = query["key"]
                    api.hits[key] = api.hits.get(key, 0) + 1
                    if api.hits[key] <= int(query.get("fail", "1")):
                        return self._send(
                            int(query.get("status", "429")), {"error": "slow down"}, {"Retry-After": "0"}
                        )
                    return self._send(200, rows[:3])
                case "/status":
                    return self._send(int(query["code"]), {"error": "nope"})
                case "/redirect":
                    return self._send(302, None, {"Location": query["to"]})
                case "/notjson":
                    self.send_response(200)
                    self.send_header("Content-Length", "5")
                    self.end_headers()
                    self.wfile.write(b"hello")
                    return None
            return self._send(404, {"error": "no route"})

    return Handler


@pytest.fixture
def api():
    holder = Api(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    server.daemon_threads = True
    holder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
