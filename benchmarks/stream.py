"""Pushed records over HTTP: sustained records/s into lakegate's stream endpoint vs a floor.

    uv run --group bench python benchmarks/stream.py [--seconds 60] [--connections 8] [--batch 1000]

1. ``lakegate init`` a project under ``benchmarks/.data/stream/`` and create an editor token.
2. ``lakegate up`` (web server + worker + scheduler, i.e. the flusher) on embedded defaults.
   ``wrk`` POSTs the same JSON array of ``--batch`` records (8 fields each) from
   ``--connections`` keep-alive connections for ``--seconds`` seconds (after a 3 s warm-up);
   each 202 means the records were fsynced to a write-ahead segment. A sampler counts the
   Delta table's data files every second (the bound on small files while records arrive).
3. After the load: how long until every acknowledged record is in the lake (the flusher
   ingests and gates each batch as a version), rows in the lake vs records acknowledged
   (must be equal: nothing lost, nothing twice), versions, files before and after
   ``lakegate stream compact``.
4. The floor: ``benchmarks/_stream_floor.py``, a bare Starlette endpoint that parses the
   body and appends it to one fsynced file, under the same wrk load.

Writes ``benchmarks/results/stream.json``. Target: >= 50,000 records/s with 1k batches and a
bounded file count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serving import free_port, parse_wrk, run, wait_port  # noqa: E402 - shared wrk/process helpers

DATA = HERE / ".data" / "stream"
RESULTS = HERE / "results" / "stream.json"
LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]
UVICORN = ["-m", "uvicorn", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--lifespan", "off"]
DATASET = "telemetry"
TARGET_RECORDS_PER_S = 50_000


def records_body(n: int) -> bytes:
    start = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    rows = [
        {
            "seq": i,
            "device": f"dev-{i % 97:03d}",
            "ts": (start + dt.timedelta(seconds=i)).isoformat(),
            "temp": round(15 + (i % 200) / 10, 2),
            "humidity": round(0.3 + (i % 50) / 100, 2),
            "status": ("ok", "warn", "fault")[i % 3],
            "online": i % 5 != 0,
            "reading": i * 7 % 1000,
        }
        for i in range(n)
    ]
    return json.dumps(rows, separators=(",", ":")).encode()


def wrk(
    url: str, body_file: Path, headers: dict[str, str], seconds: float, connections: int
) -> dict[str, Any]:
    script = DATA / "post.lua"
    lines = [
        'wrk.method = "POST"',
        f'local f = io.open("{body_file}", "rb"); wrk.body = f:read("*all"); f:close()',
    ]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    return parse_wrk(out)


def count_files(table: Path) -> int:
    from deltalake import DeltaTable

    if not (table / "_delta_log").is_dir():
        return 0
    try:
        return len(DeltaTable(str(table)).file_uris())
    except Exception:  # noqa: BLE001 - a commit in progress: try again next second
        return -1


class Sampler(threading.Thread):
    def __init__(self, table: Path) -> None:
        super().__init__(daemon=True)
        self.table, self.stop, self.samples = table, threading.Event(), []

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append(count_files(self.table))


def lakegate_round(args: argparse.Namespace, body_file: Path, batch: int) -> dict[str, Any]:
    project = DATA / "project"
    env = {**os.environ, "LAKEGATE_PROJECT_DIR": str(project), "OMP_NUM_THREADS": "1"}
    run([*LAKEGATE, "init", str(project)], env)
    token = json.loads(run([*LAKEGATE, "token", "create", "--role", "editor", "--json"], env))["token"]
    port = free_port()
    server = subprocess.Popen([*LAKEGATE, "up", "--port", str(port), "--workers", "1"], env=env)
    sampler = Sampler(project / ".lakegate" / "lake" / DATASET)
    try:
        wait_port(port, server)
        url = f"http://127.0.0.1:{port}/api/v1/streams/{DATASET}/records"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        warm = wrk(url, body_file, headers, 3, args.connections)
        sampler.start()
        load = wrk(url, body_file, headers, args.seconds, args.connections)
        acknowledged = (warm["requests"] - warm["non_2xx"] + load["requests"] - load["non_2xx"]) * batch
        print(f"lakegate: {load['rps'] * batch:,.0f} records/s ({load}), draining...", flush=True)
        drained_at, lake = time.monotonic(), {}
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            response = api.get(f"/api/v1/datasets/{DATASET}")
            lake = response.json() if response.status_code == 200 else {}
            if lake.get("rows", 0) >= acknowledged:
                break
            time.sleep(0.5)
        drain_seconds = round(time.monotonic() - drained_at, 2)
        sampler.stop.set()
        files_before = count_files(sampler.table)
        compacted = json.loads(run([*LAKEGATE, "stream", "compact", DATASET, "--json"], env))
        files_after = count_files(sampler.table)
    finally:
        sampler.stop.set()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
    return {
        "records_per_s": round(load["rps"] * batch),
        "wrk": load,
        "acknowledged_records": acknowledged,
        "lake_rows": lake.get("rows"),
        # wrk stops reading at the deadline: requests in flight then (at most one per connection
        # and wrk run) reached the server without wrk counting their 202. So the lake may hold
        # up to that many more records than were acknowledged, never fewer.
        "lost_records": max(0, acknowledged - (lake.get("rows") or 0)),
        "unacknowledged_in_flight_records": max(0, (lake.get("rows") or 0) - acknowledged),
        "in_flight_bound_records": 2 * args.connections * batch,
        "versions": lake.get("versions"),
        "drain_seconds_after_load": drain_seconds,
        "files_max_during_load": max(sampler.samples, default=0),
        "files_before_compaction": files_before,
        "files_after_compaction": files_after,
        "compaction": compacted,
    }


def floor_round(args: argparse.Namespace, body_file: Path, batch: int) -> dict[str, Any]:
    sink = DATA / "floor.ndjson"
    sink.unlink(missing_ok=True)
    port = free_port()
    env = {**os.environ, "FLOOR_FILE": str(sink)}
    server = subprocess.Popen(
        [sys.executable, *UVICORN, "--app-dir", str(HERE), "--port", str(port), "_stream_floor:app"], env=env
    )
    try:
        wait_port(port, server)
        url = f"http://127.0.0.1:{port}/api/v1/streams/{DATASET}/records"
        headers = {"Content-Type": "application/json"}
        wrk(url, body_file, headers, 3, args.connections)
        load = wrk(url, body_file, headers, args.seconds, args.connections)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    print(f"floor: {load['rps'] * batch:,.0f} records/s", flush=True)
    return {"records_per_s": round(load["rps"] * batch), "wrk": load}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing (apt-get install wrk, or `make bench` installs it)")
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    body_file = DATA / "body.json"
    body_file.write_bytes(records_body(args.batch))
    load_before = os.getloadavg()
    lakegate = lakegate_round(args, body_file, args.batch)
    floor = floor_round(args, body_file, args.batch)
    result = {
        "benchmark": "stream",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": load_before},
        "setup": {
            "seconds": args.seconds,
            "connections": args.connections,
            "records_per_request": args.batch,
            "body_bytes": body_file.stat().st_size,
            "lakegate": "lakegate up (1 web process, 1 worker, scheduler/flusher), SQLite, fsync on",
        },
        "lakegate": lakegate,
        "floor": floor,
        "ratio_to_floor": round(lakegate["records_per_s"] / floor["records_per_s"], 3),
        "target_records_per_s": TARGET_RECORDS_PER_S,
        "meets_target": lakegate["records_per_s"] >= TARGET_RECORDS_PER_S
        and lakegate["lost_records"] == 0
        and lakegate["unacknowledged_in_flight_records"] <= lakegate["in_flight_bound_records"],
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("ratio_to_floor", "meets_target")}), flush=True)


if __name__ == "__main__":
    main()
