"""Load: a burst of files dropped at once, taken by 1, 2 and 4 workers on PostgreSQL + Redis.

    LAKEGATE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    LAKEGATE_REDIS_URL=redis://127.0.0.1:6379/15 \\
    uv run python benchmarks/load.py [--files 500] [--rows 10000] [--workers 1,2,4] [--datasets 4]

For each worker count, a fresh project under ``benchmarks/.data/load/`` (its own database,
created beside the one the URL names and dropped afterwards, and its own queue name) with
``lakegate scheduler`` and N ``lakegate worker --concurrency 1`` processes, the storage and
the lake in the project folder (one host: the machine's cores are what is measured; the
two-host path over S3 is tested in ``tests/e2e/test_many_workers.py``). ``--files`` CSV files
of ``--rows`` rows (customers, a distinct slice of ids each) are written under ``.part``
names, then renamed into ``.lakegate/inbox/<dataset>/`` in one burst, spread over
``--datasets`` datasets, after a warm-up (one file per worker, not measured: every process
has imported what an ingest needs). The scheduler claims them (the inbox waits 2 s for a file to settle)
into ``ingest`` runs; the gate decides each version.

Measured from the catalog (the ``Run`` rows) and the processes:

- ``files_per_second``: files / (last run finished - burst);
- ``drop_to_accepted`` p50 / p99: per file, seconds from the burst to its run's end (its
  version committed and gated);
- ``claim_to_finished`` p50 / p99: from the run's creation (the claim) to its end;
- ``cpu_seconds_per_file``: the workers' CPU time (user + system, psutil) / files, and the
  scheduler's; ``scaling``: files/s against the 1-worker row.

Writes ``benchmarks/results/load.json``. On 2 cores the scaling is bounded by the cores (and
by whatever else the machine runs: ``load_average`` is recorded before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "load"
RESULTS = HERE / "results" / "load.json"
LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]
# The measured runs: ingest runs of the load_* datasets (not the warm-up's).
MEASURED = "kind = 'ingest' AND params->>'dataset' LIKE 'load%'"
PROGRESS = (
    "SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')), "
    f"count(*) FILTER (WHERE status IN ('queued', 'running')) FROM jobs_run WHERE {MEASURED}"
)
VERDICTS = (
    "SELECT v.status, count(*) FROM datasets_datasetversion v JOIN datasets_dataset d ON d.id = v.dataset_id "
    "WHERE d.name LIKE 'load%' GROUP BY v.status"
)
WARM = "SELECT count(*) FROM jobs_run WHERE kind = 'ingest' AND status = 'succeeded'"


def lakegate(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*LAKEGATE, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lakegate {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def write_files(folder: Path, files: int, rows: int) -> list[Path]:
    """``files`` CSVs of ``rows`` customers each (a distinct id range per file), written once."""
    import numpy as np
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = folder / f"f{i:04d}.csv"
        paths.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        pl.DataFrame(
            {
                "customer_id": np.arange(i * rows, (i + 1) * rows),
                "age": rng.integers(18, 80, rows),
                "income": rng.normal(50_000, 15_000, rows).round(2),
                "city": rng.choice(["nice", "lyon", "paris", "lille"], rows),
                "plan": rng.choice(["basic", "pro", "team"], rows),
                "tenure_months": rng.integers(0, 120, rows),
                "tickets": rng.poisson(2, rows),
                "churned": rng.random(rows) < 0.2,
            }
        ).write_csv(path)
    return paths


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def warm_up(project: Path, database: str, files: list[Path]) -> None:
    """One file per worker into a ``warmup`` dataset, until all are in: every process has
    imported Django, the readers and the lake before the burst (not measured)."""
    import psycopg

    folder = project / ".lakegate" / "inbox" / "warmup"
    folder.mkdir(parents=True, exist_ok=True)
    for source in files:
        part = folder / f".{source.name}.part"
        shutil.copyfile(source, part)
        part.rename(folder / source.name)
    deadline = time.monotonic() + 300
    with psycopg.connect(database, autocommit=True) as conn:
        while (conn.execute(WARM).fetchone() or (0,))[0] < len(files):
            if time.monotonic() > deadline:
                raise SystemExit("the warm-up files were not ingested in 300 s")
            time.sleep(0.5)


def one_config(  # noqa: PLR0915 - one measurement, read top to bottom
    base_url: str, redis_url: str, files: list[Path], workers: int, datasets: int
) -> dict[str, Any]:
    import psycopg

    name = f"lakegate_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = base_url.rsplit("/", 1)[0] + f"/{name}"
    project = DATA / f"project-{workers}w"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env.update(
        LAKEGATE_PROJECT_DIR=str(project),
        LAKEGATE_DATABASE_URL=database,
        LAKEGATE_REDIS_URL=redis_url,
        LAKEGATE_QUEUE_NAME=f"load-{uuid.uuid4().hex[:10]}",
        LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="1",
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        lakegate(env, "init", str(project))
        lakegate(env, "migrate")
        log = (project / "processes.out").open("ab")
        scheduler = subprocess.Popen([*LAKEGATE, "scheduler"], env=env, cwd=project, stdout=log, stderr=log)
        procs.append(scheduler)
        pool = [
            subprocess.Popen(
                [*LAKEGATE, "worker", "--concurrency", "1"], env=env, cwd=project, stdout=log, stderr=log
            )
            for _ in range(workers)
        ]
        procs.extend(pool)
        warm_up(project, database, files[:workers])
        inbox = project / ".lakegate" / "inbox"
        parts = []
        for i, source in enumerate(files):
            folder = inbox / f"load_{i % datasets}"
            folder.mkdir(parents=True, exist_ok=True)
            part = folder / f".{source.name}.part"
            shutil.copyfile(source, part)
            parts.append(part)
        cpu_before = {p.pid: cpu_seconds(p.pid) for p in procs}
        burst = time.time()
        for part in parts:
            part.rename(part.with_name(part.name[1:].removesuffix(".part")))
        deadline = time.monotonic() + 120 + 20 * len(files)
        with psycopg.connect(database, autocommit=True) as conn:
            while True:
                done, unfinished = conn.execute(PROGRESS).fetchone() or (0, 0)
                if done == len(files) and unfinished == 0:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{workers} workers: {done} of {len(files)} files after the deadline")
                time.sleep(0.5)
            cpu = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs}
            rows = conn.execute(
                "SELECT status, attempts, extract(epoch FROM created_at), extract(epoch FROM finished_at) "
                f"FROM jobs_run WHERE {MEASURED}"
            ).fetchall()
            versions, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT v.sha256) FROM datasets_datasetversion v "
                "JOIN datasets_dataset d ON d.id = v.dataset_id WHERE d.name LIKE 'load%'"
            ).fetchone() or (0, 0)
            verdicts = dict(conn.execute(VERDICTS).fetchall())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(project, ignore_errors=True)
    finished = [float(r[3]) for r in rows]
    span = max(finished) - burst
    worker_cpu = sum(cpu[p.pid] for p in pool)
    return {
        "workers": workers,
        "files": len(files),
        "succeeded": sum(1 for r in rows if r[0] == "succeeded"),
        "retried": sum(1 for r in rows if r[1] > 1),
        "versions": versions,
        "distinct_sha256": distinct,
        "verdicts": verdicts,
        "seconds": round(span, 2),
        "files_per_second": round(len(files) / span, 3),
        "drop_to_accepted_p50": round(percentile([f - burst for f in finished], 0.5), 2),
        "drop_to_accepted_p99": round(percentile([f - burst for f in finished], 0.99), 2),
        "claim_to_finished_p50": round(percentile([float(r[3]) - float(r[2]) for r in rows], 0.5), 2),
        "claim_to_finished_p99": round(percentile([float(r[3]) - float(r[2]) for r in rows], 0.99), 2),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "cpu_seconds_per_file": round(worker_cpu / len(files), 3),
        "scheduler_cpu_seconds": round(cpu[scheduler.pid], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--datasets", type=int, default=4)
    args = parser.parse_args()
    base_url, redis_url = os.environ.get("LAKEGATE_DATABASE_URL"), os.environ.get("LAKEGATE_REDIS_URL")
    if not base_url or not redis_url:
        raise SystemExit("set LAKEGATE_DATABASE_URL and LAKEGATE_REDIS_URL: several workers need both")
    files = write_files(DATA / f"files-{args.rows}", args.files, args.rows)
    load_before = os.getloadavg()
    results = []
    for workers in (int(n) for n in args.workers.split(",")):
        row = one_config(base_url, redis_url, files, workers, args.datasets)
        print(json.dumps(row), flush=True)
        results.append(row)
    first = results[0]["files_per_second"]
    for row in results:
        row["scaling"] = round(row["files_per_second"] / first, 2)
    document = {
        "benchmark": "load",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": {
            "files": args.files,
            "rows_per_file": args.rows,
            "datasets": args.datasets,
            "service": "lakegate scheduler + N x `lakegate worker --concurrency 1`, PostgreSQL + Redis, "
            "storage and lake in the project folder, default gate",
            "command": " ".join(["benchmarks/load.py", *sys.argv[1:]]),
        },
        "results": results,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
