"""Through the running service: an HTTP upload and an inbox drop both become dataset versions."""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from tests.e2e.conftest import free_port, wait_for

pytestmark = pytest.mark.slow


def test_upload_and_inbox_drop_become_versions(project):
    project.env.update(LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5")
    port = free_port()
    up = project.start("up", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200")
    token = json.loads(project.run("token", "create", "--role", "editor", "--json").stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}

    files = {"file": ("day1.csv", b"sensor,value\na,1.5\nb,2.5\n", "text/csv")}
    uploaded = httpx.post(f"{base}/api/v1/datasets/readings/files", files=files, headers=headers)
    assert uploaded.status_code == 202, uploaded.text

    def versions():
        response = httpx.get(f"{base}/api/v1/datasets/readings/versions", headers=headers)
        return response.json()["items"] if response.status_code == 200 else None

    assert wait_for(versions, timeout=60, what="the upload's version")[0]["source"] == "day1.csv"

    inbox = project.root / ".lakegate" / "inbox" / "readings"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / ".day2.csv.part").write_text("sensor,value\nc,3.5\n")
    (inbox / ".day2.csv.part").rename(inbox / "day2.csv")
    both = wait_for(
        lambda: (v := versions()) and len(v) == 2 and v, timeout=60, what="the inbox file's version"
    )
    assert [v["source"] for v in both] == ["day2.csv", "day1.csv"]
    assert both[0]["total_rows"] == 3
    assert not (inbox / "day2.csv").exists()

    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=30) == 0
