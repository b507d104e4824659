"""Each run writes OpenLineage START and COMPLETE (or FAIL) events to its log and, when set, POSTs them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from lakegate.config import OpenLineageSettings
from lakegate_server.jobs.models import Run, RunLogLine
from lakegate_server.jobs.services import run_create

pytestmark = pytest.mark.django_db(transaction=True)


def _events(run: Run) -> list[dict[str, Any]]:
    lines = RunLogLine.objects.filter(run=run).order_by("id")
    return [line.entry["openlineage"] for line in lines if "openlineage" in line.entry]


def test_a_run_logs_start_and_complete(execute_queued):
    run = run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
    assert execute_queued() == ["succeeded"]
    start, complete = _events(run)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert start["job"]["name"] == "selfcheck"


def test_a_failed_run_logs_fail_with_its_error(execute_queued):
    run = run_create(kind="selfcheck", params={"seconds": 0, "fail": True}, created_by="test")
    execute_queued()
    run.refresh_from_db()
    assert run.status == "failed"
    types = [e["eventType"] for e in _events(run)]
    assert types == ["START", "FAIL"]
    assert "on purpose" in _events(run)[-1]["run"]["facets"]["errorMessage"]["message"]


class _Collector(BaseHTTPRequestHandler):
    events: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        _Collector.events.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_events_are_posted_under_the_outbound_policy(execute_queued, settings):
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/lineage"
    try:
        settings.LAKEGATE = settings.LAKEGATE.model_copy(
            update={"openlineage": OpenLineageSettings(url=url, namespace="acme")}
        )
        refused = run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
        assert execute_queued() == ["succeeded"], "a refused POST never fails the run"
        warnings = [line.entry["msg"] for line in RunLogLine.objects.filter(run=refused)]
        assert warnings.count("openlineage event not sent") == 2, "loopback is refused by default"
        assert _Collector.events == []

        settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"outbound": {"allow_private": True}})
        run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
        assert execute_queued() == ["succeeded"]
    finally:
        server.shutdown()
        server.server_close()
    assert [(e["eventType"], e["job"]["namespace"]) for e in _Collector.events] == [
        ("START", "acme"),
        ("COMPLETE", "acme"),
    ]
