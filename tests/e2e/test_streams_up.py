"""Records acknowledged by a running `lakegate up` survive SIGKILL of every process."""

from __future__ import annotations

import json
import signal

import httpx
import psutil
import pytest

from tests.e2e.conftest import free_port, wait_for

pytestmark = pytest.mark.slow


def _records(start: int, n: int) -> list[dict]:
    return [{"id": i, "device": f"d{i % 5}", "temp": 20 + i % 7} for i in range(start, start + n)]


def test_acknowledged_records_survive_a_kill_and_land_once(project):
    token = json.loads(project.run("token", "create", "--role", "editor", "--json").stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}

    # First life: nothing is flushed (an hour-long flush interval), then everything is killed.
    project.env["LAKEGATE_STREAMS__FLUSH_SECONDS"] = "3600"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = project.start("up", "--port", str(port), log_name="up1")
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200")
    acknowledged = 0
    for start in range(0, 5000, 500):
        response = httpx.post(
            f"{base}/api/v1/streams/telemetry/records", json=_records(start, 500), headers=headers
        )
        assert response.status_code == 202, response.text
        acknowledged += response.json()["accepted"]
    everything = [up, *psutil.Process(up.pid).children(recursive=True)]
    for proc in everything:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs([psutil.Process(p.pid) for p in everything if psutil.pid_exists(p.pid)], timeout=10)
    assert not (project.root / ".lakegate" / "lake" / "telemetry").exists()  # nothing flushed yet

    # Second life: the flusher seals the dead process's segment and ingests it, once.
    project.env["LAKEGATE_STREAMS__FLUSH_SECONDS"] = "0.5"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = project.start("up", "--port", str(port), log_name="up2")
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200")

    def landed():
        response = httpx.get(f"{base}/api/v1/datasets/telemetry", headers=headers)
        return (
            response.json()
            if response.status_code == 200 and response.json()["rows"] >= acknowledged
            else None
        )

    dataset = wait_for(landed, timeout=90, what="the acknowledged records in the lake")
    assert dataset["rows"] == acknowledged == 5000
    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=60) == 0, project.output("up2")
