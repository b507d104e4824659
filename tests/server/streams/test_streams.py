"""Pushed records through the API: durable append, flush into versions, crash recovery, compaction."""

from __future__ import annotations

import time

import polars as pl
import pytest
from django.conf import settings as django_settings

from lakegate.lake import table_file_count
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.services import version_commit
from lakegate_server.flow import streams_flush
from lakegate_server.streams.models import Compaction
from lakegate_server.streams.services import stream_batch_key, stream_compact
from lakegate_server.streams.wal import stream_logs_close

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_streams(configure):
    configure(streams={"flush_seconds": 0.01, "check": True})


def _records(start: int, n: int) -> list[dict]:
    return [{"id": i, "sensor": f"s{i % 3}", "value": i * 0.5} for i in range(start, start + n)]


def _lake(name: str) -> pl.DataFrame:
    version = DatasetVersion.objects.filter(dataset__name=name).order_by("-number").first()
    path = django_settings.LAKEGATE.paths.lake / name
    return pl.read_delta(str(path), version=version.delta_version).sort("id")


def test_records_are_acknowledged_then_flushed_into_one_version(api):
    editor = api("editor")
    first = editor.post("/api/v1/streams/readings/records", _records(0, 600))
    assert first.status_code == 202, first.content
    assert first.json() == {"dataset": "readings", "accepted": 600}
    ndjson = "\n".join(f'{{"id": {i}, "sensor": "s9", "value": 1.5}}' for i in range(600, 1000)) + "\n"
    second = editor.client.post(
        "/api/v1/streams/readings/records",
        ndjson,
        content_type="application/x-ndjson",
        headers=editor.headers,
    )
    assert second.status_code == 202, second.content
    assert second.json()["accepted"] == 400
    # Nothing is in the lake before a flush: the records wait on disk.
    assert not DatasetVersion.objects.filter(dataset__name="readings").exists()

    time.sleep(0.05)  # older than flush_seconds: the flusher seals the idle segment itself
    flushed = streams_flush(config=project())
    assert [f["records"] for f in flushed if "records" in f] == [1000]
    version = DatasetVersion.objects.get(dataset__name="readings")
    assert version.rows == 1000
    assert version.source_name.startswith("stream:")
    assert version.status == "accepted"
    frame = _lake("readings")
    assert frame["id"].to_list() == list(range(1000))
    assert streams_flush(config=project()) == []  # nothing left to flush


def test_bad_bodies_are_refused_with_the_reason(api, configure):
    editor = api("editor")
    bad = editor.post("/api/v1/streams/readings/records", raw='[{"id": 1}, [2]]')
    assert bad.status_code == 422
    assert "record 1" in bad.json()["error"]["message"]
    assert editor.post("/api/v1/streams/Bad Name/records", [{"id": 1}]).status_code in {404, 422}
    assert api("viewer").post("/api/v1/streams/readings/records", [{"id": 1}]).status_code == 403
    assert api(None).post("/api/v1/streams/readings/records", [{"id": 1}]).status_code == 401
    configure(streams={"max_body_bytes": 64})
    big = editor.post("/api/v1/streams/readings/records", _records(0, 50))
    assert big.status_code == 413
    assert streams_flush(config=project()) == []  # refused bodies left nothing behind


def test_a_batch_flushed_before_a_crash_is_not_ingested_twice(api):
    """The flusher died after the version committed but before it removed the batch."""
    from lakegate.streams import claim_batch, seal_stale

    assert api("editor").post("/api/v1/streams/readings/records", _records(0, 300)).status_code == 202
    stream_logs_close()
    root = django_settings.LAKEGATE.paths.streams
    seal_stale(root, max_age_seconds=0)
    batch = claim_batch(root, "readings")
    assert batch is not None
    parquet = batch.write_parquet(root.parent / "tmp-crash.parquet")
    key = stream_batch_key("readings", batch.id)
    version_commit(
        config=project(),
        name="readings",
        source=parquet,
        original_name=f"stream:{batch.id}",
        dedupe_key=key,
        created_by="test",
    )
    # ... crash here: the claimed batch is still on disk. The next flush takes it again.
    flushed = streams_flush(config=project())
    assert flushed[0]["duplicate"] is True
    assert DatasetVersion.objects.filter(dataset__name="readings").count() == 1
    assert _lake("readings").height == 300
    assert streams_flush(config=project()) == []


def test_compaction_merges_small_files_and_keeps_rows_and_history(api, configure):
    configure(streams={"compact_min_files": 1000})  # no automatic compaction here
    editor = api("editor")
    for start in range(0, 1000, 100):
        assert editor.post("/api/v1/streams/readings/records", _records(start, 100)).status_code == 202
        stream_logs_close()  # seal each request's segment: one version (and file) per batch
        streams_flush(config=project())
    table = django_settings.LAKEGATE.paths.lake / "readings"
    assert DatasetVersion.objects.filter(dataset__name="readings").count() == 10
    assert table_file_count(table) == 10

    record = stream_compact(config=project(), dataset="readings", min_files=2)
    assert record is not None
    assert (record.files_before, record.files_after) == (10, 1)
    assert table_file_count(table) == 1
    assert Compaction.objects.count() == 1
    assert _lake("readings").height == 1000
    # Time travel still reads an old version's rows.
    v3 = DatasetVersion.objects.get(dataset__name="readings", number=3)
    assert pl.read_delta(str(table), version=v3.delta_version).height == 300

    # A write after compaction builds on the compacted table (not rolled back).
    assert editor.post("/api/v1/streams/readings/records", _records(1000, 50)).status_code == 202
    stream_logs_close()
    streams_flush(config=project())
    latest = DatasetVersion.objects.filter(dataset__name="readings").order_by("-number").first()
    assert latest.number == 11
    assert latest.total_rows == 1050
    assert pl.read_delta(str(table), version=latest.delta_version).height == 1050
    assert table_file_count(table) == 2
    assert stream_compact(config=project(), dataset="readings", min_files=5) is None


def test_batches_holding_equal_records_are_not_taken_for_duplicates(api):
    """A sensor repeating itself sends the same records twice: both batches are kept."""
    editor = api("editor")
    for _ in range(2):
        assert editor.post("/api/v1/streams/readings/records", _records(0, 100)).status_code == 202
        stream_logs_close()
        streams_flush(config=project())
    versions = DatasetVersion.objects.filter(dataset__name="readings").order_by("number")
    assert [v.rows for v in versions] == [100, 100]
    assert versions.last().total_rows == 200
