"""Several lakegate "hosts" on one machine: project folders sharing only PostgreSQL, Redis and S3.

Used by the multi-host end-to-end tests and ``benchmarks/load.py``. Each host is a
:class:`tests.e2e.conftest.Project` (its own folder and ``lakegate`` processes); what they
share is the environment: ``LAKEGATE_DATABASE_URL``, ``LAKEGATE_REDIS_URL``, the queue name,
the secret key, and ``storage`` / ``lake`` on one bucket.
"""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.core.lake.s3server import storage_options
from tests.e2e.conftest import Project

__all__ = ["IngestReport", "ingest_report", "second_host", "share_bucket"]


def share_bucket(project: Project, endpoint: str, bucket: str, **env: str) -> None:
    """Put the project's storage and lake on ``bucket`` of the S3 server at ``endpoint``."""
    options = json.dumps(storage_options(endpoint))
    project.env.update(
        LAKEGATE_STORAGE=f"s3://{bucket}/state",
        LAKEGATE_STORAGE_OPTIONS=options,
        LAKEGATE_LAKE=f"s3://{bucket}/lake",
        LAKEGATE_LAKE_STORAGE_OPTIONS=options,
        LAKEGATE_SECRET_KEY="hosts-" + uuid.uuid4().hex * 2,
        **env,
    )


@contextmanager
def second_host(first: Project, root: Path) -> Iterator[Project]:
    """Another project folder with the first one's settings: same database, queue and bucket.

    Its processes are killed on the way out (the first host's are the ``project`` fixture's).
    """
    env = {**first.env, "LAKEGATE_PROJECT_DIR": str(root)}
    host = Project(root=root, env=env)
    host.run("init", str(root))
    try:
        yield host
    finally:
        for proc in host.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


RUN_COLUMNS = ("id", "status", "attempts", "worker", "created_at", "finished_at", "last_error")


@dataclass(frozen=True)
class IngestReport:
    """What the catalog says about a batch of ``ingest`` runs, read straight from PostgreSQL."""

    runs: list[dict[str, Any]]  # id, status, attempts, worker, created_at, finished_at, last_error
    starts: dict[int, int]  # run id -> "attempt started" log lines
    successes: dict[int, int]  # run id -> "attempt succeeded" log lines
    versions: list[dict[str, Any]]  # dataset, number, sha256, created_by, status
    unfinished: int  # runs of any kind still queued or running

    def finished(self) -> int:
        return sum(1 for r in self.runs if r["status"] in {"succeeded", "failed", "cancelled"})


def ingest_report(database_url: str) -> IngestReport:
    with psycopg.connect(database_url) as conn:
        runs = [
            dict(zip(RUN_COLUMNS, row, strict=True))
            for row in conn.execute(
                "SELECT id, status, attempts, worker, created_at, finished_at, last_error "
                "FROM jobs_run WHERE kind = 'ingest' ORDER BY id"
            )
        ]
        counts = conn.execute(
            "SELECT run_id, count(*) FILTER (WHERE entry->>'msg' = 'attempt started'), "
            "count(*) FILTER (WHERE entry->>'msg' = 'attempt succeeded') "
            "FROM jobs_runlogline GROUP BY run_id"
        ).fetchall()
        versions = [
            dict(zip(("dataset", "number", "sha256", "created_by", "status"), row, strict=True))
            for row in conn.execute(
                "SELECT d.name, v.number, v.sha256, v.created_by, v.status FROM datasets_datasetversion v "
                "JOIN datasets_dataset d ON d.id = v.dataset_id ORDER BY d.name, v.number"
            )
        ]
        unfinished = conn.execute(
            "SELECT count(*) FROM jobs_run WHERE status IN ('queued', 'running')"
        ).fetchone()
    return IngestReport(
        runs=runs,
        starts={run: started for run, started, _ in counts},
        successes={run: succeeded for run, _, succeeded in counts},
        versions=versions,
        unfinished=int(unfinished[0]) if unfinished else 0,
    )
