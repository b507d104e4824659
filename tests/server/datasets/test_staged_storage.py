"""Staged files live in the storage: with ``storage: s3://...`` nothing waits on the web host's disk.

An upload (or a claimed inbox drop) is an object ``uploads/<id>/<name>`` in the bucket, the
``ingest`` run names that key, and the worker reads it from there; the object is deleted once
the version committed, moved into the quarantine when the file is at fault, and swept into
the quarantine when no run will take it. A moto S3 server plays the object store.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lakegate.storage import open_storage
from lakegate_server.conf import project
from lakegate_server.datasets.inbox import inbox_claim
from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
from lakegate_server.datasets.services import version_commit
from lakegate_server.datasets.sweep import uploads_sweep
from lakegate_server.jobs.execution import run_execute
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_cancel, run_claim, runs_reap
from tests.core.lake.s3server import keys, moto_s3, new_bucket, storage_options
from tests.support.fixtures import staged_entries

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER = b"id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n"
BAD = b"id,temp,city\nx,1,Oslo\n"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def bucket(settings: Any, endpoint: str) -> str:
    """The storage on a fresh bucket of the moto server (the lake stays the project's folder)."""
    name = new_bucket(endpoint)
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"storage": f"s3://{name}/state", "storage_options": storage_options(endpoint)}
    )
    return name


@pytest.fixture
def dataset() -> str:
    return f"staged_{uuid.uuid4().hex[:10]}"


def upload(api: Any, dataset: str, content: bytes, filename: str = "w.csv") -> dict[str, Any]:
    client = api("editor")
    response = client.client.post(
        f"/api/v1/datasets/{dataset}/files",
        {"file": SimpleUploadedFile(filename, content)},
        headers=client.headers,
    )
    assert response.status_code == 202, response.content
    return response.json()


def test_an_upload_is_staged_in_the_object_store_and_deleted_after_its_commit(
    api, execute_queued, settings, endpoint, bucket, dataset
):
    local_before = staged_entries(settings.LAKEGATE.paths.uploads)
    run = upload(api, dataset, WEATHER)
    key = run["params"]["key"]
    assert key.startswith("uploads/")
    assert key.endswith("/w.csv")
    assert run["params"].get("path") is None, "the run names a storage key, not a path on the web host"
    assert keys(endpoint, bucket, "state/uploads/") == [f"state/{key}"]
    assert staged_entries(settings.LAKEGATE.paths.uploads) == local_before, "nothing staged on this disk"

    assert execute_queued() == ["succeeded"]
    version = DatasetVersion.objects.get(dataset__name=dataset)
    assert (version.number, version.rows, version.source_name) == (1, 2, "w.csv")
    assert keys(endpoint, bucket, "state/uploads/") == [], "the staged object is gone after the commit"


def test_a_bad_upload_moves_from_the_staging_area_into_the_quarantine(
    api, execute_queued, endpoint, bucket, dataset
):
    upload(api, dataset, WEATHER)
    upload(api, dataset, BAD, filename="bad.csv")
    assert execute_queued() == ["succeeded", "failed"]
    [entry] = QuarantinedFile.objects.filter(dataset=dataset)
    assert entry.source_name == "bad.csv"
    assert keys(endpoint, bucket, "state/uploads/") == []
    assert keys(endpoint, bucket, f"state/quarantine/{entry.id}/") == [
        f"state/quarantine/{entry.id}/bad.csv",
        f"state/quarantine/{entry.id}/reason.json",
    ]
    retried = api("editor").post(f"/api/v1/quarantine/{entry.id}/retry?evolve=true")
    assert retried.status_code == 200, retried.content
    assert retried.json()["version"] == 2


def test_an_inbox_drop_goes_into_the_object_store_for_any_worker(
    execute_queued, settings, endpoint, bucket, dataset
):
    inbox = settings.LAKEGATE.paths.inbox
    if inbox.is_dir():  # other tests' leftovers would be claimed too
        shutil.rmtree(inbox)
    folder = inbox / dataset
    folder.mkdir(parents=True)
    dropped = folder / "w.csv"
    dropped.write_bytes(WEATHER)
    past = time.time() - 10
    os.utime(dropped, (past, past))
    [run] = [r for r in inbox_claim(config=project(), settle_seconds=2) if r.params["dataset"] == dataset]
    assert not dropped.exists()
    assert keys(endpoint, bucket, "state/uploads/") == [f"state/{run.params['key']}"]
    assert not (settings.LAKEGATE.paths.state / run.params["key"]).parent.exists(), "not left on this disk"
    assert execute_queued() == ["succeeded"]
    assert DatasetVersion.objects.get(dataset__name=dataset).rows == 2
    assert keys(endpoint, bucket, "state/uploads/") == []


def test_a_cancelled_upload_in_the_object_store_is_swept_into_the_quarantine(api, endpoint, bucket, dataset):
    run = upload(api, dataset, WEATHER)
    assert uploads_sweep(config=project(), older_than=0) == [], "a queued run's file is left alone"
    run_cancel(run_id=run["id"], by="test")
    assert uploads_sweep(config=project(), older_than=3600) == [], "too fresh to sweep"
    [record] = uploads_sweep(config=project(), older_than=0)
    assert (record.dataset, record.code, record.source_name) == (dataset, "upload_stranded", "w.csv")
    assert f"ingest run {run['id']} ended cancelled" in record.reason
    assert keys(endpoint, bucket, "state/uploads/") == []
    assert keys(endpoint, bucket, f"state/quarantine/{record.id}/") == [
        f"state/quarantine/{record.id}/reason.json",
        f"state/quarantine/{record.id}/w.csv",
    ]


def test_an_ingest_run_reads_only_keys_of_the_staging_area(api, execute_queued, bucket, endpoint, dataset):
    upload(api, dataset, WEATHER)
    assert execute_queued() == ["succeeded"]
    [entry_key] = keys(endpoint, bucket, "state/artifacts/datasets/")
    for key in (entry_key.removeprefix("state/"), "uploads/../quarantine/x", "uploads/a/b/c"):
        created = api("editor").post(
            "/api/v1/runs", {"kind": "ingest", "params": {"dataset": dataset, "key": key}}
        )
        assert created.status_code == 201
        assert execute_queued() == ["failed"]
        failed = Run.objects.get(pk=created.json()["id"])
        assert "params.key must be a staged file's key" in failed.last_error
    assert DatasetVersion.objects.filter(dataset__name=dataset).count() == 1


def test_a_retry_after_the_commit_finishes_that_version_instead_of_ingesting_again(
    api, settings, endpoint, bucket, dataset
):
    """A worker killed after the commit, before the staged object was deleted: the next attempt
    gates the version its run committed and deletes the object; no second version."""
    run = upload(api, dataset, WEATHER)
    key = run["params"]["key"]
    assert run_claim(run_id=run["id"], worker="gone:1:worker") is not None
    scratch = settings.LAKEGATE.paths.state / "tmp" / uuid.uuid4().hex
    local = open_storage(project()).local_copy(key, scratch)
    version_commit(config=project(), name=dataset, source=local, created_by=f"run:{run['id']}")
    assert runs_reap(now=timezone.now() + timedelta(hours=1)).requeued == [run["id"]]
    Run.objects.filter(pk=run["id"]).update(queued_at=timezone.now())  # due now, not after the reap's clock
    assert run_execute(run_id=run["id"]) == "succeeded"
    versions = DatasetVersion.objects.filter(dataset__name=dataset)
    assert [(v.number, v.status) for v in versions] == [(1, "accepted")]
    assert keys(endpoint, bucket, "state/uploads/") == []
    entries = Run.objects.get(pk=run["id"]).log_lines.values_list("entry", flat=True)
    assert any(entry.get("msg") == "ingest resumed" for entry in entries)
