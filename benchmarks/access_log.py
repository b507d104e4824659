"""The access log's own CPU cost per request, measured in one process (no network, no model).

    uv run python benchmarks/access_log.py [--requests 50000] [--rounds 5]

A predict-shaped request (POST, the predict path, an auth header, a 170-byte body, a 90-byte
answer) goes through a trivial ASGI app with and without
:class:`~lakegate_server.serving.access.AccessLog` in front, writing to a real
``access.jsonl`` in a temporary folder; the difference of CPU time (``time.process_time``)
per request is the layer's cost. Also measured: the counters the predict route updates for
``/metrics`` (``prediction_served``), in multiprocess mode as under ``lakegate up``.

On a loaded machine an end-to-end A/B (``benchmarks/serving.py``: ``lakegate`` vs
``lakegate-nolog``) is dominated by noise; this isolates the layer. The share is taken
against the server CPU per predict request that ``benchmarks/results/serving.json``
recorded for ``lakegate-nolog``. Writes ``benchmarks/results/access_log.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "access_log.json"
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"content-type", b"application/json"),
    (b"authorization", b"Bearer lg_0123456789ab_secret"),
    (b"content-length", b"170"),
]


def setup(project: Path) -> None:
    os.environ["LAKEGATE_PROJECT_DIR"] = str(project)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lakegate_server.settings")
    from lakegate_server._django import django_setup

    django_setup(migrate=False)


async def app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    scope["lakegate.route"] = "/api/v1/models/{name}/predict"
    scope["lakegate.token"] = "bench"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"90")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"x" * 90})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"y" * 170, "more_body": False}


async def send(message: Any) -> None:
    return None


async def per_request(target: Any, requests: int) -> float:
    began = time.process_time()
    for _ in range(requests):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/models/churn/predict",
            "headers": HEADERS,
            "client": ("127.0.0.1", 50000),
        }
        await target(scope, receive, send)
    return (time.process_time() - began) / requests * 1e6


def measure_access_log(requests: int, rounds: int) -> dict[str, Any]:
    from lakegate_server.serving.access import AccessLog, AccessLogWriter

    folder = Path(tempfile.mkdtemp())
    writer = AccessLogWriter(folder / "access.jsonl")
    logged = AccessLog(app, writer.write)

    async def go() -> list[tuple[float, float]]:
        pairs = [
            (await per_request(app, requests), await per_request(logged, requests)) for _ in range(rounds)
        ]
        writer.flush()
        return pairs

    pairs = asyncio.run(go())
    lines = sum(1 for _ in (folder / "access.jsonl").open())
    costs = [on - off for off, on in pairs]
    return {
        "bare_us": [round(off, 3) for off, _ in pairs],
        "logged_us": [round(on, 3) for _, on in pairs],
        "cost_us_per_request": round(statistics.median(costs), 3),
        "lines_written": lines,
    }


def measure_counters(requests: int) -> float:
    """CPU per ``prediction_served`` in multiprocess mode (a child process: the env is read at import)."""
    code = (
        "import os, sys, tempfile, time\n"
        "os.environ['PROMETHEUS_MULTIPROC_DIR'] = tempfile.mkdtemp()\n"
        "from lakegate_server.metrics import prediction_served\n"
        f"n = {requests}\n"
        "prediction_served('churn', 1, 0.0001)\n"
        "t = time.process_time()\n"
        "for _ in range(n):\n"
        "    prediction_served('churn', 1, 0.0001)\n"
        "print((time.process_time() - t) / n * 1e6)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lakegate_server.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, django; django.setup(); exec(sys.argv[1])", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return round(float(done.stdout.strip().splitlines()[-1]), 3)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    project = Path(tempfile.mkdtemp()) / "project"
    subprocess.run(
        [sys.executable, "-m", "lakegate_server.cli", "init", str(project)], check=True, capture_output=True
    )
    setup(project)
    load_before = os.getloadavg()
    access = measure_access_log(args.requests, args.rounds)
    counters = measure_counters(args.requests)
    serving = HERE / "results" / "serving.json"
    predict_cpu = None
    if serving.is_file():
        recorded = json.loads(serving.read_text()).get("results", {})
        predict_cpu = (recorded.get("lakegate-nolog") or {}).get("cpu_us_per_request")
    result: dict[str, Any] = {
        "benchmark": "access_log",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "requests_per_round": args.requests,
        "access_log": access,
        "metrics_prediction_served_us_multiprocess": counters,
        "server_cpu_us_per_predict_request": predict_cpu,
    }
    if predict_cpu:
        result["access_log_share_of_predict_cpu"] = round(access["cost_us_per_request"] / predict_cpu, 4)
        result["under_5pct"] = result["access_log_share_of_predict_cpu"] < 0.05
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
