"""The HTTP access log: one JSON line per request on every route, through the real ASGI app.

The app under test is what ``lakegate up`` serves, ``mount(ASGIHandler(), build_app())``;
its lines are collected in a list instead of ``logs/access.jsonl`` (the file writer has its
own tests below, and ``tests/server/test_web_processes.py`` reads the file of a live server).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import Client as DjangoClient

from lakegate_server.accounts.services import token_create, user_create
from lakegate_server.serving import build_app, mount
from lakegate_server.serving.access import AccessLog, AccessLogWriter, route_template

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = {
    "ts",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "token",
    "user",
    "bytes_in",
    "bytes_out",
    "client",
}


class Served:
    """The ASGI app on one long-lived event loop, with the lines it logged."""

    def __init__(self, portal: Any, **mount_kwargs: Any) -> None:
        self.portal = portal
        self.lines: list[bytes] = []
        self.app = mount(ASGIHandler(), build_app(), **({"access_log": self.lines.append} | mount_kwargs))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                return await client.request(method, path, **kwargs)

        return self.portal.call(go)

    def entries(self) -> list[dict[str, Any]]:
        for line in self.lines:
            assert line.endswith(b"\n"), line
            assert line.count(b"\n") == 1, line
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def served() -> Iterator[Served]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield Served(portal)


def test_the_lean_predict_route_logs_its_template_token_name_and_bytes(served):
    issued = token_create(name="ci-reader", role="viewer")
    body = b'{"age": 41}'
    response = served.request(
        "POST",
        "/api/v1/models/secret-model-name/predict",
        content=body,
        headers={"Authorization": f"Bearer {issued.raw}", "Content-Type": "application/json"},
    )
    assert response.status_code == 404, response.text  # no such model: answered after the token check
    (entry,) = served.entries()
    assert set(entry) == FIELDS
    assert entry["route"] == "/api/v1/models/{name}/predict"
    assert (entry["method"], entry["status"], entry["token"], entry["user"]) == (
        "POST",
        404,
        "ci-reader",
        None,
    )
    assert (entry["bytes_in"], entry["bytes_out"]) == (len(body), len(response.content))
    assert entry["request_id"] == response.headers["x-request-id"]
    assert 0 < entry["duration_ms"] < 60_000
    assert entry["client"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    raw = b"".join(served.lines)
    assert issued.raw.encode() not in raw
    assert issued.raw.split("_", 2)[2].encode() not in raw
    assert b"secret-model-name" not in raw  # the template, never the raw path


def test_django_routes_log_the_ninja_template_and_the_token_name(served):
    issued = token_create(name="ops-bot", role="viewer")
    response = served.request(
        "GET", "/api/v1/datasets/orders", headers={"Authorization": f"Bearer {issued.raw}"}
    )
    assert response.status_code == 404
    anonymous = served.request("GET", "/api/v1/runs")
    assert anonymous.status_code == 401
    first, second = served.entries()
    assert (first["route"], first["status"], first["token"]) == ("/api/v1/datasets/{name}", 404, "ops-bot")
    assert (second["route"], second["status"], second["token"]) == ("/api/v1/runs", 401, None)
    assert first["request_id"] != second["request_id"]


def test_dashboard_pages_log_the_signed_in_user(served):
    user = user_create(username="ana", password="a-long-password-1", role="viewer")
    browser = DjangoClient()
    browser.force_login(user)
    cookie = browser.cookies["sessionid"].value
    response = served.request("GET", "/", headers={"Cookie": f"sessionid={cookie}"})
    assert response.status_code == 200
    (entry,) = served.entries()
    assert (entry["route"], entry["user"], entry["token"]) == ("/", "ana", None)
    assert entry["bytes_out"] == len(response.content) > 0


def test_a_sane_request_id_is_kept_and_a_bad_one_replaced(served):
    kept = served.request("GET", "/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert kept.headers["x-request-id"] == "lb-7f3a:42"
    replaced = [
        served.request("GET", "/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        for bad in ('a"b', "x" * 129, "has space", "")
    ]
    generated = served.request("GET", "/healthz").headers["x-request-id"]
    ids = [entry["request_id"] for entry in served.entries()]
    assert ids == ["lb-7f3a:42", *replaced, generated]
    assert len(set(ids)) == len(ids)
    for value in [*replaced, generated]:
        assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", value)


def test_refusals_of_the_guard_and_unknown_paths_are_logged(served):
    too_big = served.request(
        "POST",
        "/api/v1/models/churn/predict",
        content=b"x" * 100,
        headers={"Content-Length": str(1024**3)},
    )
    assert too_big.status_code == 413
    missing = served.request("GET", "/no/such/page")
    assert missing.status_code == 404
    guard, unknown = served.entries()
    assert (guard["status"], guard["route"], guard["bytes_in"]) == (413, "/api/v1/models/{name}/predict", 0)
    assert guard["request_id"] == too_big.headers["x-request-id"]
    assert (unknown["status"], unknown["route"]) == (404, None)


def test_the_log_is_off_by_setting(settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"web": settings.LAKEGATE.web.model_copy(update={"access_log": False})}
    )
    assert not isinstance(mount(ASGIHandler(), build_app()), AccessLog)
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"web": settings.LAKEGATE.web.model_copy(update={"access_log": True})}
    )
    assert isinstance(mount(ASGIHandler(), build_app()), AccessLog)


def test_the_default_writer_appends_to_logs_access_jsonl(settings):
    with anyio.from_thread.start_blocking_portal() as portal:
        served = Served(portal, access_log=None)  # the setting's writer: logs/access.jsonl
        assert isinstance(served.app, AccessLog)
        served.request("GET", "/healthz", headers={"X-Request-ID": "file-1"})
        portal.call(served.app._write.__self__.flush)  # type: ignore[attr-defined]
    path = Path(settings.LAKEGATE.paths.logs) / "access.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["request_id"] for e in entries if e["request_id"] == "file-1"] == ["file-1"]


# -- units -------------------------------------------------------------------------------------


def test_writers_of_two_processes_append_whole_lines(tmp_path):
    path = tmp_path / "logs" / "access.jsonl"
    one, two = AccessLogWriter(path), AccessLogWriter(path)
    for index in range(3000):  # past the 64 KiB flush threshold: flushed while writing
        (one if index % 2 else two).write(json.dumps({"n": index, "pad": "x" * 40}).encode() + b"\n")
    one.flush()
    two.flush()
    two.flush()  # nothing left: writes nothing
    numbers = sorted(json.loads(line)["n"] for line in path.read_text().splitlines())
    assert numbers == list(range(3000))


def test_route_templates_from_django_routes():
    assert route_template("api/v1/datasets/<str:name>/files") == "/api/v1/datasets/{name}/files"
    assert route_template("api/v1/runs/<int:run_id>") == "/api/v1/runs/{run_id}"
    assert route_template("runs/<pk>/") == "/runs/{pk}/"
    assert route_template("") == "/"
