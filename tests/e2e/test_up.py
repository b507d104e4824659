"""`lakegate up` serves /healthz, runs a selfcheck through the API with a token, stops cleanly."""

from __future__ import annotations

import json
import signal

import httpx
import psutil
import pytest

from tests.e2e.conftest import free_port, wait_for

pytestmark = pytest.mark.slow


def test_up_serves_runs_selfcheck_and_stops_cleanly(project):
    port = free_port()
    up = project.start("up", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    health = wait_for(
        lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200"
    )
    assert health
    body = httpx.get(f"{base}/healthz").json()
    assert body["status"] == "ok"
    assert f"lakegate is up at {base}" in project.output("up")
    assert "lakegate token create --role editor" in project.output("up")

    token = json.loads(project.run("token", "create", "--role", "editor", "--json").stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/v1/runs").status_code == 401
    created = httpx.post(
        f"{base}/api/v1/runs", json={"kind": "selfcheck", "params": {"seconds": 0.5}}, headers=headers
    )
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]

    def finished():
        run = httpx.get(f"{base}/api/v1/runs/{run_id}", headers=headers).json()
        return run if run["status"] in {"succeeded", "failed", "cancelled"} else None

    run = wait_for(finished, timeout=60, what=f"run {run_id} to finish")
    assert run["status"] == "succeeded", run
    assert run["attempts"] == 1
    logs = httpx.get(f"{base}/api/v1/runs/{run_id}/logs", headers=headers).json()["entries"]
    assert [e["msg"] for e in logs][-1] == "attempt succeeded"

    children = psutil.Process(up.pid).children(recursive=True)
    assert len(children) == 2  # one worker, one scheduler
    state = project.root / ".lakegate" / "logs"
    # Each process logs its start line once it is up; on a loaded machine the scheduler may
    # still be importing when the run finishes.
    wait_for((state / "scheduler.jsonl").exists, timeout=60, what="the scheduler's start line")
    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=30) == 0, project.output("up")
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"children left running: {alive}"
    assert {"web.jsonl", "worker.jsonl", "scheduler.jsonl"} <= {p.name for p in state.iterdir()}
