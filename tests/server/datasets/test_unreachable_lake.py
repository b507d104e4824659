"""An S3 lake that does not answer is an outage, not a bad file: runs retry, files wait, nothing is lost.

The lake is down through the loopback dead ends of ``tests.core.lake.deadends`` (a refused
port), then comes back as a moto S3 server holding the same bucket: the lake's URI stays the
same, only the endpoint it resolves to answers again. No mock of the lake anywhere.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lakegate.errors import LakeUnavailableError
from lakegate.streams import pending_batches
from lakegate_server.conf import project
from lakegate_server.datasets.inbox import inbox_claim
from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
from lakegate_server.flow import streams_flush
from lakegate_server.jobs.execution import run_execute
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.queue import huey
from lakegate_server.jobs.services import run_claim, runs_reap
from lakegate_server.streams.wal import stream_logs_close
from tests.core.lake import deadends
from tests.core.lake.s3server import keys, moto_s3, s3_client, storage_options

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER = b"id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n3,,Oslo\n"
# Small client budgets keep each failed attempt to about a second (the defaults allow ~10 s).
FAST = {"connect_timeout": "1s", "retry_timeout": "1s"}


@pytest.fixture
def dataset() -> str:
    return f"down_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bucket() -> str:
    return f"lg-lake-{uuid.uuid4().hex[:16]}"


def use_lake(settings: Any, bucket: str, options: dict[str, str], *, max_attempts: int = 3) -> None:
    runs = settings.LAKEGATE.runs.model_copy(update={"max_attempts": max_attempts})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"lake": f"s3://{bucket}/lake", "lake_storage_options": options | FAST, "runs": runs}
    )


@pytest.fixture
def lake_down(settings: Any, bucket: str) -> Iterator[str]:
    """The lake ``s3://<bucket>/lake`` behind a port that refuses connections; yields the endpoint."""
    with deadends.refusing() as endpoint:
        use_lake(settings, bucket, deadends.options(endpoint))
        yield endpoint


def lake_up(settings: Any, bucket: str, url: str) -> None:
    """The same lake answers again: moto at ``url`` holds the bucket."""
    s3_client(url).create_bucket(Bucket=bucket)
    use_lake(settings, bucket, storage_options(url))


def upload(api: Any, dataset: str, content: bytes, filename: str = "w1.csv") -> dict[str, Any]:
    client = api("editor")
    response = client.client.post(
        f"/api/v1/datasets/{dataset}/files",
        {"file": SimpleUploadedFile(filename, content)},
        headers=client.headers,
    )
    assert response.status_code == 202, response.content
    return response.json()


def next_attempt() -> str:
    """What one worker does with the next queued message: one attempt of one run."""
    task = huey.dequeue()
    assert task is not None, "nothing queued"
    return huey.execute(task)


def test_an_upload_waits_out_the_outage_and_is_ingested_once(api, settings, bucket, dataset, lake_down):
    run = upload(api, dataset, WEATHER)
    staged = settings.LAKEGATE.paths.state / run["params"]["key"]

    started = time.monotonic()
    assert next_attempt() == "queued"  # re-queued by the runner, not failed
    elapsed = time.monotonic() - started
    shown = api("viewer").get(f"/api/v1/runs/{run['id']}").json()
    assert (shown["status"], shown["attempts"]) == ("queued", 1)
    assert shown["last_error"].startswith(
        f"s3://{bucket}/lake/{dataset}: the lake is unreachable ({lake_down}: connection refused"
    )
    assert staged.read_bytes() == WEATHER  # still staged, unchanged, for the next attempt
    assert not QuarantinedFile.objects.exists()  # not a bad file
    assert not DatasetVersion.objects.filter(dataset__name=dataset).exists()
    assert elapsed < 20

    with moto_s3() as url:
        lake_up(settings, bucket, url)
        assert next_attempt() == "succeeded"
        assert huey.dequeue() is None  # no further attempt is waiting
        commits = keys(url, bucket, f"lake/{dataset}/_delta_log/")

    done = api("viewer").get(f"/api/v1/runs/{run['id']}").json()
    assert (done["status"], done["attempts"], done["result"]["version"]) == ("succeeded", 2, 1)
    [version] = DatasetVersion.objects.filter(dataset__name=dataset)
    assert (version.number, version.rows, version.total_rows, version.delta_version) == (1, 3, 3, 0)
    assert [c for c in commits if c.endswith(".json")] == [
        f"lake/{dataset}/_delta_log/00000000000000000000.json"
    ]
    assert not staged.parent.exists()  # removed once the version committed
    assert not QuarantinedFile.objects.exists()


def drop(settings: Any, dataset: str, name: str, content: bytes) -> Path:
    folder = settings.LAKEGATE.paths.inbox / dataset
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    past = time.time() - 10
    os.utime(path, (past, past))  # settled
    return path


def test_when_attempts_run_out_the_file_waits_in_quarantine_with_the_reason(
    api, settings, bucket, dataset, lake_down
):
    use_lake(settings, bucket, deadends.options(lake_down), max_attempts=2)
    dropped = drop(settings, dataset, "w1.csv", WEATHER)
    # (other tests' leftovers in this process's inbox are claimed too: only ours is run here)
    [run] = [r for r in inbox_claim(config=project(), settle_seconds=2) if r.params["dataset"] == dataset]
    staged = settings.LAKEGATE.paths.state / run.params["key"]

    assert run_execute(run_id=run.pk) == "queued"
    assert staged.read_bytes() == WEATHER
    assert run_execute(run_id=run.pk) == "failed"  # the last attempt

    run.refresh_from_db()
    [entry] = QuarantinedFile.objects.all()
    assert (run.status, run.attempts) == ("failed", 2)
    assert run.last_error.startswith(f"w1.csv: s3://{bucket}/lake/{dataset}: the lake is unreachable (")
    assert run.last_error.endswith(f"(kept in quarantine as {entry.id})")
    assert (entry.dataset, entry.source_name, entry.code) == (dataset, "w1.csv", "lake_unavailable")
    assert entry.reason.startswith(f"s3://{bucket}/lake/{dataset}: the lake is unreachable ({lake_down}:")
    kept = settings.LAKEGATE.paths.quarantine / entry.id / "w1.csv"
    assert kept.read_bytes() == WEATHER
    assert not staged.parent.exists()  # moved into the quarantine, not copied
    assert not dropped.exists()  # not put back into the inbox, where it would be claimed again
    assert not any(r.params["dataset"] == dataset for r in inbox_claim(config=project(), settle_seconds=2))

    # Retrying by hand while the lake is still down: a 503 with its own code; the entry stays.
    editor = api("editor")
    retry = editor.client.post(f"/api/v1/quarantine/{entry.id}/retry", headers=editor.headers)
    assert retry.status_code == 503, retry.content
    assert retry.headers["Retry-After"] == "30"
    error = retry.json()["error"]
    assert error["code"] == "lake_unavailable"
    assert error["detail"] == {"location": f"s3://{bucket}/lake/{dataset}", "reason": "unreachable"}
    assert kept.read_bytes() == WEATHER

    with moto_s3() as url:
        lake_up(settings, bucket, url)
        retried = editor.client.post(f"/api/v1/quarantine/{entry.id}/retry", headers=editor.headers)
    assert retried.status_code == 200, retried.content
    assert (retried.json()["version"], retried.json()["rows"]) == (1, 3)
    assert api("viewer").get("/api/v1/quarantine").json()["items"] == []


def test_a_run_failed_by_the_reaper_keeps_its_staged_file_in_quarantine(api, settings, dataset):
    # The local lake (no outage): the worker took the last attempt and died before ingesting.
    runs = settings.LAKEGATE.runs.model_copy(update={"max_attempts": 1})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"runs": runs})
    run = upload(api, dataset, WEATHER)
    staged = settings.LAKEGATE.paths.state / run["params"]["key"]
    assert run_claim(run_id=run["id"], worker="gone:1:worker") is not None

    report = runs_reap(now=timezone.now() + timedelta(hours=1))
    assert report.failed == [run["id"]]
    failed = Run.objects.get(pk=run["id"])
    [entry] = QuarantinedFile.objects.all()
    assert (entry.dataset, entry.source_name, entry.code) == (dataset, "w1.csv", "job_failed")
    assert entry.reason == failed.last_error
    assert "never sent a heartbeat" in entry.reason
    assert not staged.parent.exists()

    retried = api("editor").post(f"/api/v1/quarantine/{entry.id}/retry")
    assert retried.status_code == 200, retried.content
    assert (retried.json()["version"], retried.json()["rows"]) == (1, 3)


def test_a_stream_batch_stays_claimed_through_the_outage_and_lands_once(
    api, settings, bucket, dataset, lake_down
):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={
            "streams": settings.LAKEGATE.streams.model_copy(
                update={"flush_seconds": 0.01, "compact_min_files": 1000}
            )
        }
    )
    stream_logs_close()  # stream logs pick their settings up when first used
    records = [{"id": i, "value": i * 0.5} for i in range(50)]
    assert api("editor").post(f"/api/v1/streams/{dataset}/records", records).status_code == 202
    stream_logs_close()  # seal the segment
    root = settings.LAKEGATE.paths.streams

    for _ in range(2):  # every flush during the outage fails the same way and keeps the batch
        with pytest.raises(
            LakeUnavailableError, match=rf"^s3://{bucket}/lake/{dataset}: the lake is unreachable"
        ):
            streams_flush(config=project())
        [batch] = pending_batches(root, dataset)
        assert batch.records == 50
    first_claim = batch.id
    assert not QuarantinedFile.objects.exists()
    assert not DatasetVersion.objects.filter(dataset__name=dataset).exists()

    with moto_s3() as url:
        lake_up(settings, bucket, url)
        flushed = streams_flush(config=project())
        assert streams_flush(config=project()) == []  # nothing left: the batch went in once
    assert [(f["batch"], f["records"], f["version"]) for f in flushed] == [(first_claim, 50, 1)]
    assert pending_batches(root, dataset) == []
    [version] = DatasetVersion.objects.filter(dataset__name=dataset)
    assert version.rows == 50
    stream_logs_close()
