"""Four workers on two hosts take a queue of uploads: every file ingested once, no run twice.

Host A runs the web server and the scheduler plus two workers, host B two workers; the
hosts share only PostgreSQL, Redis and an S3 server (moto). A burst of small uploads, spread
over two datasets (so commits to one dataset contend for its lock), is sent to A at once.
Then, from the catalog itself:

- versions = files: one version per upload, no duplicate content hash, each dataset's
  version numbers 1..n without a gap, each made by its own run;
- no run executed twice: every ingest run succeeded on its first attempt (the claim's
  fenced lease never handed it to a second worker), its log holds exactly one "attempt
  started" and one "attempt succeeded";
- every worker of both hosts took runs; nothing is left queued or running; no staged object
  is left in the bucket.

``LAKEGATE_LOAD_FILES`` sets the number of uploads: 100 in CI (245 s measured at load average 23
on 2 cores, the S3 server being moto in Python), 500 with ``make load``.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.core.lake.s3server import keys, moto_s3, new_bucket
from tests.e2e.conftest import free_port, wait_for
from tests.support.cluster import ingest_report, second_host, share_bucket

FILES = int(os.environ.get("LAKEGATE_LOAD_FILES", "100"))
pytestmark = [
    pytest.mark.slow,
    # Beyond the suite's 300 s: about 2 s an upload on a loaded 2-core machine.
    pytest.mark.timeout(300 + FILES * 4),
    pytest.mark.skipif(
        not os.environ.get("LAKEGATE_DATABASE_URL") or not os.environ.get("LAKEGATE_REDIS_URL"),
        reason="hosts share PostgreSQL and Redis (SQLite and the embedded queue live in one project "
        "folder): runs in the PostgreSQL + Redis pass",
    ),
]

DATASETS = ("load_a", "load_b")


def test_four_workers_on_two_hosts_ingest_every_file_exactly_once(project, tmp_path_factory):
    with moto_s3() as endpoint:
        bucket = new_bucket(endpoint)
        share_bucket(project, endpoint, bucket, LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="1")
        host_a = project
        with second_host(host_a, tmp_path_factory.mktemp("host-b")) as host_b:
            port = free_port()
            host_a.start("up", "--workers", "0", "--port", str(port), log_name="up")
            base = f"http://127.0.0.1:{port}"
            healthy = lambda: httpx.get(f"{base}/healthz").status_code == 200  # noqa: E731
            wait_for(healthy, timeout=90, what="/healthz 200")
            workers = [
                host.start("worker", log_name=f"worker-{i}") for host in (host_a, host_b) for i in (1, 2)
            ]
            token = host_a.run("token", "create", "--role", "editor", "--json").stdout
            headers = {"Authorization": f"Bearer {json.loads(token)['token']}"}

            def upload(i: int) -> int:
                content = f"id,value,batch\n{i},{i * 0.5},b{i}\n{i + 1},{i * 1.5},b{i}\n".encode()
                response = httpx.post(
                    f"{base}/api/v1/datasets/{DATASETS[i % 2]}/files",
                    files={"file": (f"f{i:04d}.csv", content)},
                    headers=headers,
                    timeout=60,
                )
                assert response.status_code == 202, response.text
                return int(response.json()["id"])

            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                run_ids = list(pool.map(upload, range(FILES)))
            uploaded = time.monotonic() - started
            database = host_a.env["LAKEGATE_DATABASE_URL"]

            def all_done() -> bool:
                now = ingest_report(database)
                return now.finished() == FILES and now.unfinished == 0

            wait_for(all_done, timeout=120 + FILES * 3, what=f"{FILES} ingest runs to finish", interval=1)
            elapsed = time.monotonic() - started
            report = ingest_report(database)
            staged_left = keys(endpoint, bucket, "state/uploads/")
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                proc.wait(timeout=60)

    rate = FILES / elapsed
    print(f"\n{FILES} uploads in {uploaded:.1f} s, all ingested after {elapsed:.1f} s ({rate:.1f} files/s)")
    assert sorted(r["id"] for r in report.runs) == sorted(run_ids)

    # No run executed twice.
    failed = [(r["id"], r["last_error"]) for r in report.runs if r["status"] != "succeeded"]
    assert failed == []
    assert {r["attempts"] for r in report.runs} == {1}, "no run needed (or got) a second attempt"
    assert all(report.starts.get(i) == 1 for i in run_ids), "one 'attempt started' per run"
    assert all(report.successes.get(i) == 1 for i in run_ids), "one 'attempt succeeded' per run"

    # Every file ingested exactly once.
    assert len(report.versions) == FILES, "versions = files"
    assert len({v["sha256"] for v in report.versions}) == FILES, "no duplicate content hash"
    assert sorted(v["created_by"] for v in report.versions) == sorted(f"run:{i}" for i in run_ids)
    for name in DATASETS:
        numbers = [v["number"] for v in report.versions if v["dataset"] == name]
        assert numbers == list(range(1, FILES // 2 + 1)), f"{name}: versions 1..n without a gap"

    # Both hosts' workers took runs; nothing left behind.
    pids = {str(proc.pid) for proc in workers}
    used = {r["worker"].split(":")[1] for r in report.runs}
    assert used <= pids
    assert used & {str(p.pid) for p in workers[:2]}, "host A's workers took runs"
    assert used & {str(p.pid) for p in workers[2:]}, "host B's workers took runs"
    assert report.unfinished == 0
    assert staged_left == []
