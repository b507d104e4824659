"""``web.processes: 2``: two web processes behind one port, started by the real ``lakegate up``.

Each process stamps its own prefix on the request ids it makes (``X-Request-ID``), so a test
sees which process answered. Both serve a new champion after a promotion, both refuse a
revoked token at once, and ``/metrics`` sums what both counted (multiprocess mode).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Project, free_port, wait_for
from tests.e2e.test_training import RECORD, cli_json, configure, ingest, trained_for, versions
from tests.server.training.data import customer_frame

pytestmark = pytest.mark.slow


def process_of(response: httpx.Response) -> str:
    return response.headers["x-request-id"].rsplit("-", 1)[0]


def from_each_process(
    send: Callable[[], httpx.Response], *, tries: int = 400
) -> dict[str, list[httpx.Response]]:
    """Call ``send`` (a new connection each time) until both processes answered; their answers."""
    answers: dict[str, list[httpx.Response]] = {}
    for _ in range(tries):
        response = send()
        answers.setdefault(process_of(response), []).append(response)
        if len(answers) == 2:
            return answers
    raise AssertionError(f"only {len(answers)} web process(es) answered {tries} requests")


def metric(base: str, headers: dict[str, str], name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics", headers=headers, timeout=30).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


@pytest.mark.timeout(600)  # two trainings through `lakegate up`: ~5 min on a loaded 2-core machine
def test_two_web_processes_share_champions_revocations_and_metrics(project: Project):
    configure(project)
    project.env.update(LAKEGATE_WEB__PROCESSES="2", LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5")
    port = free_port()
    up = project.start("up", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=120, what="/healthz 200")
    issued = cli_json(project, "token", "create", "--role", "editor", "--name", "two-procs")
    headers = {"Authorization": f"Bearer {issued['token']}"}

    first = trained_for(project, ingest(project, "b1.csv", customer_frame(1000, seed=1, noise=0.3)))
    assert first["status"] == "succeeded", first["last_error"]

    def predict() -> httpx.Response:
        return httpx.post(f"{base}/api/v1/models/churn/predict", json=RECORD, headers=headers, timeout=30)

    served = from_each_process(predict)
    predicted = sum(len(answers) for answers in served.values())
    for answers in served.values():
        assert {(r.status_code, r.json()["version"]) for r in answers} == {(200, 1)}

    records = [{"sensor": 1, "value": 0.5}, {"sensor": 2, "value": 1.5}]

    def push() -> httpx.Response:
        url = f"{base}/api/v1/streams/two_procs/records"
        return httpx.post(url, json=records, headers=headers, timeout=30)

    pushes = from_each_process(push)
    pushed = sum(len(answers) for answers in pushes.values()) * len(records)
    assert {r.status_code for answers in pushes.values() for r in answers} == {202}
    # Both processes counted; /metrics (answered by either) sums them.
    name = "lakegate_stream_records_acknowledged_total"
    assert metric(base, headers, name, dataset="two_procs") == pushed
    assert metric(base, headers, "lakegate_predictions_total", model="churn") == predicted
    assert metric(base, headers, "lakegate_prediction_seconds_count", model="churn") == predicted

    # A better model is promoted: both processes serve it (each refreshes within ~1 s).
    second = trained_for(project, ingest(project, "b2.csv", customer_frame(3000, seed=2, start_id=10_000)))
    assert second["result"]["promoted"] is True, second["result"]["decision"]
    assert versions(project)[2] == "champion"

    def both_serve_version_2() -> bool:
        answers = from_each_process(predict)
        return all(r.json()["version"] == 2 for responses in answers.values() for r in responses[-1:])

    wait_for(both_serve_version_2, timeout=15, what="both web processes to serve version 2")

    # Revoked from the CLI: every request after that is refused, whichever process takes it.
    project.run("token", "revoke", str(issued["id"]))
    refused = from_each_process(predict)
    assert {r.status_code for answers in refused.values() for r in answers} == {401}

    # One access-log line per request from both processes, with the token's name only.
    log = (project.root / ".lakegate" / "logs" / "access.jsonl").read_text()
    entries = [json.loads(line) for line in log.splitlines()]
    predicts = [e for e in entries if e["route"] == "/api/v1/models/{name}/predict"]
    assert {e["request_id"].rsplit("-", 1)[0] for e in predicts} >= set(served)
    assert {e["token"] for e in predicts if e["status"] == 200} == {"two-procs"}
    assert issued["token"] not in log
    starts = [
        json.loads(line)
        for line in (project.root / ".lakegate" / "logs" / "web.jsonl").read_text().splitlines()
        if '"process started"' in line
    ]
    roles: dict[str, Any] = {}
    for line in starts:
        roles.setdefault(line["role"], set()).add(line["pid"])
    assert len(roles["web"]) >= 2, roles
    assert len(roles["web-manager"]) == 1
    assert all(line["web_processes"] == 2 and line["access_log"] is True for line in starts)

    # `up` killed outright: its web processes stop by themselves (as its workers do).
    children = psutil.Process(up.pid).children(recursive=True)
    up.kill()
    up.wait()

    def alive(child: psutil.Process) -> bool:
        try:
            return child.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def all_gone() -> bool:
        return not any(alive(child) for child in children)

    wait_for(all_gone, timeout=30, what="the web processes to stop after `up` was killed")
