"""Pipelines and models through the real `lakegate` command and HTTP, on demo-like customers.

A good batch trains and becomes champion, a better one is promoted, a worse one stays a
candidate; the online route answers with the champion (and a 422 naming a bad field),
follows a hand promotion and a rollback without a restart; a drifted batch fails the gate
and trains nothing; a training worker killed mid-run is retried into exactly one version.
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import httpx
import polars as pl
import pytest
import yaml

from tests.e2e.conftest import Project, free_port, wait_for
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.slow

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


def configure(project: Project, **changes: Any) -> None:
    """Add the churn pipeline to the project's lakegate.yaml."""
    path = project.root / "lakegate.yaml"
    document = yaml.safe_load(path.read_text())
    pipeline = {**CHURN, "promotion": {"rule": "f1 >= champion.f1 + 0.01", "floor": "f1 >= 0.2"}, **changes}
    document["pipelines"] = {"churn": pipeline}
    document["datasets"] = {"customers": {"target": "churned"}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def cli_json(project: Project, *args: str) -> Any:
    return json.loads(project.run(*args, "--json").stdout)


def ingest(project: Project, name: str, frame: Any, *, exit_code: int = 0) -> dict[str, Any]:
    """``lakegate ingest``; it exits 3 when the quality gate rejects the batch."""
    path = project.root / name
    frame.write_csv(path)
    done = project.run("ingest", str(path), "--dataset", "customers", "--json", check=False)
    assert done.returncode == exit_code, done.stderr
    return json.loads(done.stdout)["results"][0]


def train_runs(project: Project) -> list[dict[str, Any]]:
    return cli_json(project, "runs", "list", "--kind", "train")["items"]


def trained_for(project: Project, version: dict[str, Any]) -> dict[str, Any]:
    """The training run for an accepted version: the gate's trigger if it started one, else by hand."""
    assert version["status"] == "accepted", f"the gate did not accept it: {version}"
    triggered = [r for r in train_runs(project) if r["params"].get("version") == version["version"]]
    if triggered:
        return wait_for(
            lambda: (
                (run := cli_json(project, "runs", "show", str(triggered[0]["id"])))["status"]
                in {"succeeded", "failed"}
                and run
            ),
            timeout=180,
            what="the triggered training run",
        )
    return json.loads(project.run("run", "churn", "--wait", "--json", check=False).stdout)


def versions(project: Project) -> dict[int, str]:
    return {v["version"]: v["stage"] for v in cli_json(project, "models", "show", "churn")["items"]}


def test_train_promote_serve_rollback_and_a_drifted_batch(project):
    configure(project)
    project.env.update(LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5")
    port = free_port()
    up = project.start("up", "--port", str(port), log_name="up")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, timeout=60, what="/healthz 200")
    token = cli_json(project, "token", "create", "--role", "editor")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    predict_url = f"{base}/api/v1/models/churn/predict"

    # A first (mediocre) batch: the first model becomes champion by the floor alone.
    first = trained_for(project, ingest(project, "b1.csv", customer_frame(1000, seed=1, noise=0.3)))
    assert first["status"] == "succeeded", first["last_error"]
    assert versions(project) == {1: "champion"}

    # A good batch: better by more than the rule's margin, promoted.
    batch = customer_frame(3000, seed=2, start_id=10_000)
    second = trained_for(project, ingest(project, "b2.csv", batch))
    assert second["result"]["promoted"] is True, second["result"]["decision"]
    assert versions(project) == {1: "archived", 2: "champion"}

    served = httpx.post(predict_url, json=RECORD, headers=headers, timeout=30)
    assert served.status_code == 200, served.text
    assert served.json()["version"] == 2
    bad = httpx.post(predict_url, json={**RECORD, "tenure_months": "long"}, headers=headers, timeout=30)
    assert bad.status_code == 422
    assert bad.json()["error"]["detail"][0]["field"] == "tenure_months"

    # A batch whose labels are mostly noise: the model is worse and stays a candidate.
    third = trained_for(
        project, ingest(project, "b3.csv", customer_frame(4000, seed=3, noise=0.95, start_id=20_000))
    )
    assert third["status"] == "succeeded", third["last_error"]
    assert third["result"]["promoted"] is False
    assert versions(project) == {1: "archived", 2: "champion", 3: "candidate"}

    # Promoted by hand anyway, then rolled back: the online route follows both, no restart.
    promoted = httpx.post(
        f"{base}/api/v1/models/churn/versions/3/promote", json={"reason": "try it"}, headers=headers
    )
    assert promoted.status_code == 200, promoted.text
    wait_for(
        lambda: httpx.post(predict_url, json=RECORD, headers=headers, timeout=30).json()["version"] == 3,
        timeout=10,
        what="the promoted version to serve",
    )
    project.run("models", "rollback", "churn", "--reason", "worse on the noisy batch")
    assert versions(project) == {1: "archived", 2: "champion", 3: "archived"}
    wait_for(
        lambda: httpx.post(predict_url, json=RECORD, headers=headers, timeout=30).json()["version"] == 2,
        timeout=10,
        what="the restored champion to serve",
    )
    audit = httpx.get(f"{base}/api/v1/models/churn/audit", headers=headers).json()["items"]
    assert (audit[0]["action"], audit[0]["version"], audit[0]["actor"]) == ("rolled_back", 2, "cli")
    assert audit[0]["gate"], "the gate verdicts of the training data are in the audit"

    # A drifted batch fails the gate: no training run, no new version.
    before = len(train_runs(project))
    base = customer_frame(3000, seed=4, start_id=30_000)
    drifted = base.with_columns(
        pl.col("age") + 45, pl.col("tenure_months") * 4, pl.col("income") * 3, pl.col("tickets") + 10
    )
    rejected = ingest(project, "b4.csv", drifted, exit_code=3)
    assert rejected["status"] == "rejected", rejected
    time.sleep(2)
    assert len(train_runs(project)) == before
    assert versions(project) == {1: "archived", 2: "champion", 3: "archived"}

    up.send_signal(signal.SIGTERM)
    assert up.wait(timeout=60) == 0


def test_a_killed_training_worker_still_yields_one_model_version(project):
    # Enough trees and rows that training takes a moment: the kill lands inside it.
    configure(project, model={**CHURN["model"], "params": {"n_estimators": 400, "num_leaves": 63}})
    project.env.update(
        LAKEGATE_RUNS__HEARTBEAT_SECONDS="0.5",
        LAKEGATE_RUNS__LEASE_SECONDS="2",
        LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5",
    )
    version = ingest(project, "b1.csv", customer_frame(20_000, seed=1))
    assert version["status"] == "accepted", version
    doomed = project.start("worker", log_name="worker-1")
    project.start("scheduler", log_name="scheduler")
    triggered = [r for r in train_runs(project) if r["params"].get("version") == 1]
    run = triggered[0] if triggered else cli_json(project, "run", "churn")

    wait_for(
        lambda: any(e["msg"].startswith("training lightgbm") for e in project.run_log(run["id"])),
        timeout=120,
        what="the first attempt to start training",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    project.start("worker", log_name="worker-2")

    wait_for(
        lambda: any(e["msg"] == "attempt succeeded" for e in project.run_log(run["id"])),
        timeout=180,
        what="the retried attempt to succeed",
    )
    final = cli_json(project, "runs", "show", str(run["id"]))
    assert final["status"] == "succeeded"
    assert final["attempts"] == 2
    assert "stopped heartbeating during attempt 1" in final["last_error"]
    assert final["result"]["cache_hits"], "the retry reused the first attempt's finished steps"
    models = cli_json(project, "models", "show", "churn")["items"]
    assert [(m["version"], m["run"]) for m in models] == [(1, run["id"])]
    folders = list((project.root / ".lakegate" / "artifacts" / "models" / "churn").iterdir())
    assert len(folders) == 1, f"no half-registered or duplicate model folders: {folders}"
    assert (folders[0] / ".lakegate-manifest.json").is_file()
