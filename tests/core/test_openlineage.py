"""OpenLineage run events: the spec's JSON shape, matching run ids, datasets per kind, the POST guard."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from lakegate.errors import NotificationError
from lakegate.openlineage import SCHEMA_URL, post_event, run_datasets, run_event


def test_start_and_complete_share_a_run_id_and_name_the_datasets():
    params = {"model": "churn", "dataset": "customers_current", "version": 3}
    start = run_event("START", namespace="acme", project="/p", run_id=7, kind="predict", params=params)
    done = run_event(
        "COMPLETE",
        namespace="acme",
        project="/p",
        run_id=7,
        kind="predict",
        params=params,
        result={"rows": 5},
    )
    assert start["run"]["runId"] == done["run"]["runId"]
    other = run_event("START", namespace="acme", project="/q", run_id=7, kind="predict", params=params)
    assert other["run"]["runId"] != start["run"]["runId"], "another project, another run"
    assert (start["eventType"], done["eventType"]) == ("START", "COMPLETE")
    assert start["job"] == {"namespace": "acme", "name": "predict.churn", "facets": {}}
    assert [d["name"] for d in start["inputs"]] == ["customers_current", "models/churn"]
    assert [d["name"] for d in start["outputs"]] == ["churn_predictions"]
    assert start["schemaURL"] == SCHEMA_URL
    assert start["eventTime"].endswith("+00:00")
    json.dumps(start)  # plain JSON


def test_a_failure_carries_the_error_message_facet():
    event = run_event(
        "FAIL",
        namespace="n",
        project="/p",
        run_id=1,
        kind="train",
        params={"pipeline": "churn"},
        error="boom",
    )
    facet = event["run"]["facets"]["errorMessage"]
    assert (facet["message"], facet["programmingLanguage"]) == ("boom", "python")
    assert event["outputs"] == [{"namespace": "n", "name": "models/churn", "facets": {}}]


@pytest.mark.parametrize(
    ("kind", "params", "result", "expected"),
    [
        ("ingest", {"dataset": "sales", "path": "x"}, None, ([], ["sales"])),
        ("check", {"dataset": "sales", "version": 2}, None, (["sales"], [])),
        (
            "train",
            {"pipeline": "churn"},
            {"inputs": [{"dataset": "customers"}]},
            (["customers"], ["models/churn"]),
        ),
        ("scoring_drift", {"model": "Churn"}, None, (["churn_online_predictions", "models/Churn"], [])),
        (
            "performance",
            {"model": "churn"},
            {"labels": "labels"},
            (["churn_online_predictions", "labels"], []),
        ),
        ("selfcheck", {}, None, ([], [])),
    ],
)
def test_datasets_per_kind(kind, params, result, expected):
    assert run_datasets(kind, params, result) == expected


class _Collector(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Collector.bodies.append(
            {"auth": self.headers.get("Authorization"), "event": json.loads(self.rfile.read(length))}
        )
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_posting_goes_through_the_outbound_policy():
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/lineage"
    event = run_event("START", namespace="n", project="/p", run_id=1, kind="selfcheck", params={})
    try:
        with pytest.raises(NotificationError):
            post_event(url, event, outbound={}, api_key=None)  # loopback: refused by default
        assert post_event(url, event, outbound={"allow_private": True}, api_key="k") == 201
    finally:
        server.shutdown()
        server.server_close()
    (received,) = _Collector.bodies
    assert received == {"auth": "Bearer k", "event": event}
