"""End to end: a 10k-row file dropped into the inbox -> ingest, gate, train, promote, predictions.

    uv run python benchmarks/e2e.py [--rows 10000] [--drops 2]

1. Creates a project under ``benchmarks/.data/e2e/`` (``lakegate init``) with a churn pipeline
   (fill_nulls -> one_hot -> date_parts -> LightGBM 100 trees, robustness on, triggered by new
   ``customers`` versions, ``predict_on: customers``) and starts ``lakegate up`` (web, one
   worker, scheduler) with default settings.
2. Drops a CSV of ``--rows`` customers into ``.lakegate/inbox/customers/`` (written under a
   ``.part`` name, then renamed, as the inbox asks) and follows it through the HTTP API:
   the scheduler claims it (the inbox waits 2 s for a file to settle), the ``ingest`` run
   writes the version and the quality gate accepts it, a ``train`` run registers and promotes
   the model, and a ``predict`` run writes the batch's predictions as a new version of
   ``churn_predictions``. The first drop meets a cold worker (it imports LightGBM and
   scikit-learn on its first training); later drops show the steady state.
3. When the quality gate does not start the training itself (``pipeline_runs_for_accepted_version``
   not wired yet), the benchmark starts the same ``train`` run through the API as soon as
   the ingest run finished, and says so (``automatic_trigger: false``).

Writes ``benchmarks/results/e2e.json``: per drop, seconds from the drop to each stage.
Target: < 30 s from drop to predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serving_core import customers, pipeline  # noqa: E402 - the same data and model

DATA = HERE / ".data" / "e2e"
RESULTS = HERE / "results" / "e2e.json"
LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]
TARGET_SECONDS = 30.0


def lakegate(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [*LAKEGATE, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lakegate {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout) if "--json" in args else done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        return response.json() if response.status_code == 200 else None

    def post(self, path: str, body: Any) -> Any:
        response = self.client.post(path, json=body)
        response.raise_for_status()
        return response.json()


def wait(condition: Any, *, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout} s waiting for {what}")


def prepare(rows: int) -> tuple[Path, dict[str, str]]:
    project = DATA / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env["LAKEGATE_PROJECT_DIR"] = str(project)
    lakegate(env, "init", str(project))
    config = yaml.safe_load((project / "lakegate.yaml").read_text())
    churn = pipeline(100)["pipelines"]["churn"]
    churn["model"]["positive_class"] = True  # the lake reads yes/no as booleans
    churn["robustness"] = {"noise": [0.5], "swap": 0.1, "missing": 0.1}
    churn["promotion"] = {"rule": "f1 >= champion.f1 - 0.05", "floor": "f1 >= 0.3"}
    churn["triggers"] = [{"on_new_version": "customers"}, "manual"]
    churn["predict_on"] = "customers"
    churn["id_columns"] = ["customer_id"]
    config["pipelines"] = {"churn": churn}
    config["datasets"] = {"customers": {"target": "churned"}}
    (project / "lakegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return project, env


def drop(project: Path, rows: int, seed: int, start_id: int) -> float:
    import polars as pl

    frame = customers(n=rows, seed=seed).with_columns(pl.col("customer_id") + start_id)
    inbox = project / ".lakegate" / "inbox" / "customers"
    inbox.mkdir(parents=True, exist_ok=True)
    part = inbox / f".batch-{seed}.csv.part"
    frame.write_csv(part)
    started = time.monotonic()
    part.rename(inbox / f"batch-{seed}.csv")
    return started


def newest(api: Api, kind: str, after: int) -> dict[str, Any] | None:
    runs = api.get("/api/v1/runs", kind=kind, limit=20)["items"]
    fresh = [r for r in runs if r["id"] > after]
    return fresh[-1] if fresh else None


def finished(api: Api, run_id: int) -> dict[str, Any] | None:
    run = api.get(f"/api/v1/runs/{run_id}")
    return run if run and run["status"] in {"succeeded", "failed", "cancelled"} else None


def follow(api: Api, started: float, last_run: int, version_number: int) -> dict[str, Any]:
    """Seconds from the drop to each stage, following runs and versions through the API."""
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = round(time.monotonic() - started, 3)

    ingest = wait(lambda: newest(api, "ingest", last_run), timeout=120, what="the inbox claim")
    mark("claimed")
    ingest = wait(lambda: finished(api, ingest["id"]), timeout=300, what="the ingest run")
    mark("ingested_and_gated")
    version = api.get(f"/api/v1/datasets/customers/versions/{version_number}")
    triggered = [
        r
        for r in api.get("/api/v1/runs", kind="train", limit=20)["items"]
        if r["id"] > last_run and r["params"].get("version") == version_number
    ]
    automatic = bool(triggered)
    if version["status"] != "accepted":
        return {"marks": marks, "gate": version["status"], "automatic_trigger": automatic}
    if automatic:
        train = triggered[0]
    else:
        predict = {"dataset": "customers", "version": version_number}
        train = api.post(
            "/api/v1/runs", {"kind": "train", "params": {"pipeline": "churn", "predict": predict}}
        )
    train = wait(lambda: finished(api, train["id"]), timeout=600, what="the train run")
    mark("trained_registered_decided")
    scoring = train["result"].get("predict_run") if train["status"] == "succeeded" else None
    predictions = None
    if scoring:
        predict_run = wait(lambda: finished(api, scoring), timeout=300, what="the predict run")
        mark("predictions_in_lake")
        predictions = predict_run["result"]
    return {
        "marks": marks,
        "total_seconds": marks.get("predictions_in_lake"),
        "gate": version["status"],
        "verdict": version.get("verdict"),
        "automatic_trigger": automatic,
        "train": {
            k: train["result"].get(k)
            for k in ("version", "stage", "promoted", "decision", "metrics", "seconds")
        }
        if train["result"]
        else train["last_error"],
        "predictions": predictions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--drops", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = os.getloadavg()
    project, env = prepare(args.rows)
    port = free_port()
    with (DATA / "up.out").open("wb") as log:
        up = subprocess.Popen([*LAKEGATE, "up", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait(lambda: _healthy(base), timeout=120, what="lakegate up", interval=0.2)
        token = lakegate(env, "token", "create", "--role", "editor", "--json")["token"]
        api = Api(base, token)
        drops = []
        for index in range(args.drops):
            last_run = max((r["id"] for r in api.get("/api/v1/runs", limit=1)["items"]), default=0)
            started = drop(project, args.rows, seed=index + 1, start_id=index * 1_000_000)
            outcome = follow(api, started, last_run, version_number=index + 1)
            outcome["drop"] = index + 1
            outcome["worker"] = "cold (first training in this worker)" if index == 0 else "warm"
            drops.append(outcome)
            print(json.dumps(outcome, default=str), flush=True)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)
    totals = [d["total_seconds"] for d in drops if d.get("total_seconds") is not None]
    results = {
        "benchmark": "e2e",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": {
            "rows_per_file": args.rows,
            "service": "lakegate up: web + 1 worker + scheduler, default settings, SQLite + SQLite queue",
            "model": "LightGBM 100 trees, 13 features, robustness noise/swap/missing",
        },
        "drops": drops,
        "target_seconds": TARGET_SECONDS,
        "met": bool(totals) and all(t < TARGET_SECONDS for t in totals),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
