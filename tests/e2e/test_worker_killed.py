"""A worker killed with SIGKILL mid-run: the reaper re-queues the run, which completes exactly once."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.slow


def test_a_killed_workers_run_is_retried_and_completes_once(project):
    project.env.update(
        LAKEGATE_RUNS__HEARTBEAT_SECONDS="0.5",
        LAKEGATE_RUNS__LEASE_SECONDS="2",
        LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5",
    )
    doomed = project.start("worker", log_name="worker-1")
    project.start("scheduler", log_name="scheduler")
    run = json.loads(project.run("runs", "start", "selfcheck", "--param", "seconds=12", "--json").stdout)

    wait_for(
        lambda: any(e["msg"] == "artifact written" for e in project.run_log(run["id"])),
        timeout=60,
        what="the first attempt to be under way",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    project.start("worker", log_name="worker-2")

    wait_for(
        lambda: any(e["msg"] == "attempt succeeded" for e in project.run_log(run["id"])),
        timeout=60,
        what="the retried attempt to succeed",
    )
    final = json.loads(project.run("runs", "show", str(run["id"]), "--json").stdout)
    assert final["status"] == "succeeded"
    assert final["attempts"] == 2
    assert final["result"]["attempt"] == 2
    assert "stopped heartbeating during attempt 1" in final["last_error"]

    entries = project.run_log(run["id"])
    starts = [e for e in entries if e["msg"] == "attempt started"]
    assert [e["attempt"] for e in starts] == [1, 2]
    assert starts[0]["worker"] != starts[1]["worker"]
    assert [e["msg"] for e in entries].count("attempt succeeded") == 1
    artifact = project.root / ".lakegate" / "artifacts" / "runs" / str(run["id"]) / "selfcheck.txt"
    assert artifact.read_text().startswith(f"run {run['id']} attempt 2")
