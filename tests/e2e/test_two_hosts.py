"""Two hosts that share no folder: only PostgreSQL, Redis and an S3 server (moto).

Host A runs the web server and the scheduler (``lakegate up --workers 0``), host B runs
``lakegate worker``; each has its own project folder. A CSV uploaded on A is ingested, gated
and trained on B; A's predict route answers with B's champion; A's API and dashboard show
B's run log; a file B quarantined is retried from A. Neither project folder holds a staged
upload, a quarantined file or a model: they are in the bucket.

SQLite cannot be shared by two hosts, so the embedded pass skips this test; the PostgreSQL +
Redis pass runs it.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.core.lake.s3server import keys, moto_s3, new_bucket
from tests.e2e.conftest import Project, free_port, wait_for
from tests.server.training.data import CHURN, customer_frame
from tests.support.cluster import second_host, share_bucket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("LAKEGATE_DATABASE_URL") or not os.environ.get("LAKEGATE_REDIS_URL"),
        reason="two hosts share PostgreSQL and Redis (SQLite and the embedded queue live in one "
        "project folder): runs in the PostgreSQL + Redis pass",
    ),
]

RECORD = {
    "customer_id": 1,
    "age": 41,
    "income": 52000.0,
    "city": "nice",
    "plan": "basic",
    "tenure_months": 3,
    "tickets": 4,
    "signup_date": "2022-05-01",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def configure(project: Project) -> None:
    """The same lakegate.yaml on every host (configuration is deployed with the code)."""
    path = project.root / "lakegate.yaml"
    document = yaml.safe_load(path.read_text())
    pipeline = {**CHURN, "promotion": {"rule": "f1 >= champion.f1 + 0.01", "floor": "f1 >= 0.2"}}
    document["pipelines"] = {"churn": pipeline}
    document["datasets"] = {"customers": {"target": "churned"}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def local_state(project: Project) -> list[str]:
    """Files a host keeps of what must be shared: staged uploads, quarantine, models."""
    state = project.root / ".lakegate"
    roots = [state / "uploads", state / "quarantine", state / "artifacts" / "models"]
    return sorted(str(p.relative_to(state)) for root in roots if root.exists() for p in root.rglob("*"))


def test_a_file_uploaded_on_one_host_is_ingested_trained_and_served_across_hosts(
    project, tmp_path_factory, s3_endpoint
):
    bucket = new_bucket(s3_endpoint)
    share_bucket(project, s3_endpoint, bucket, LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5")
    host_a = project
    with second_host(host_a, tmp_path_factory.mktemp("host-b")) as host_b:
        across_hosts(host_a, host_b, s3_endpoint, bucket)


def across_hosts(host_a: Project, host_b: Project, s3_endpoint: str, bucket: str) -> None:
    for host in (host_a, host_b):
        configure(host)

    port = free_port()
    host_a.start("up", "--workers", "0", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=90, what="A's /healthz 200")
    worker = host_b.start("worker", log_name="worker")
    token = json.loads(host_a.run("token", "create", "--role", "editor", "--json").stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def run_when_done(run_id: int, timeout: float = 180) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            run = httpx.get(f"{base}/api/v1/runs/{run_id}", headers=headers).json()
            return run if run["status"] in {"succeeded", "failed", "cancelled"} else None

        return wait_for(done, timeout=timeout, what=f"run {run_id} to finish", interval=0.5)

    def upload(name: str, content: bytes) -> dict[str, Any]:
        response = httpx.post(
            f"{base}/api/v1/datasets/customers/files", files={"file": (name, content)}, headers=headers
        )
        assert response.status_code == 202, response.text
        return response.json()

    # Upload on A -> the ingest run on B reads the staged object from the bucket.
    csv = customer_frame(1000, seed=1).write_csv().encode()
    queued = upload("b1.csv", csv)
    assert queued["params"]["key"].startswith("uploads/")
    ingest = run_when_done(queued["id"])
    assert ingest["status"] == "succeeded", ingest["last_error"]
    assert ingest["result"]["status"] == "accepted", ingest["result"]
    assert ingest["worker"].split(":")[1] == str(worker.pid), "host B's worker ran it"

    # The gate accepted it -> the training run (on B) registers the first champion.
    def train_runs() -> list[dict[str, Any]]:
        return httpx.get(f"{base}/api/v1/runs", params={"kind": "train"}, headers=headers).json()["items"]

    train = wait_for(train_runs, timeout=30, what="the triggered training run")[0]
    trained = run_when_done(train["id"], timeout=300)
    assert trained["status"] == "succeeded", trained["last_error"]
    assert trained["worker"].split(":")[1] == str(worker.pid)
    assert trained["result"]["promoted"] is True, trained["result"]["decision"]

    # Predict on A: the champion B trained, loaded from the bucket.
    served = httpx.post(f"{base}/api/v1/models/churn/predict", json=RECORD, headers=headers, timeout=60)
    assert served.status_code == 200, served.text
    assert served.json()["version"] == 1

    # A's API and dashboard show the log B wrote.
    logs = httpx.get(f"{base}/api/v1/runs/{train['id']}/logs", headers=headers).json()["entries"]
    messages = [e["msg"] for e in logs]
    assert "registered v1, promoted to champion" in messages
    assert messages[-1] == "attempt succeeded"
    host_a.run("user", "create", "ops", "--role", "viewer", "--password", "two-hosts-pass")
    with httpx.Client(base_url=base) as browser:
        login = browser.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert csrf, "the login form carries a CSRF token"
        signed_in = browser.post(
            "/login/",
            data={"username": "ops", "password": "two-hosts-pass", "csrfmiddlewaretoken": csrf[1]},
            headers={"Referer": f"{base}/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        page = browser.get(f"/runs/{train['id']}/")
        assert page.status_code == 200
        assert "registered v1, promoted to champion" in page.text

    # A file at fault: B keeps it in the quarantine (in the bucket), A retries it.
    bad = upload("bad.csv", b"customer_id,age\nnot-a-number,41\n")
    failed = run_when_done(bad["id"])
    assert failed["status"] == "failed"
    assert "kept in quarantine as" in failed["last_error"]
    [entry] = httpx.get(f"{base}/api/v1/quarantine", headers=headers).json()["items"]
    assert entry["source"] == "bad.csv"
    assert keys(s3_endpoint, bucket, f"state/quarantine/{entry['id']}/") == [
        f"state/quarantine/{entry['id']}/bad.csv",
        f"state/quarantine/{entry['id']}/reason.json",
    ]
    retried = httpx.post(
        f"{base}/api/v1/quarantine/{entry['id']}/retry",
        params={"evolve": "true"},
        headers=headers,
        timeout=60,
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["version"] == 2
    assert httpx.get(f"{base}/api/v1/quarantine", headers=headers).json()["items"] == []

    # Nothing that must be shared stayed on either host's disk.
    assert keys(s3_endpoint, bucket, "state/uploads/") == []
    assert any(
        k.endswith("/.lakegate-manifest.json") for k in keys(s3_endpoint, bucket, "state/artifacts/models/")
    )
    assert local_state(host_a) == []
    assert local_state(host_b) == []

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
