"""``lake: s3://bucket/prefix``: ingest, gate, export, streams and compaction with the lake on S3 (moto)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import polars as pl
import psycopg
import pytest
from typer.testing import CliRunner

from lakegate.lake import TableLocation, table_file_count
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.selectors import dataset_export
from lakegate_server.exports import services as exports
from lakegate_server.flow import ingest_file, streams_flush
from lakegate_server.streams.models import Compaction
from lakegate_server.streams.services import stream_compact
from lakegate_server.streams.wal import stream_logs_close
from tests.core.lake.s3server import KEY, SECRET, keys, moto_s3, new_bucket, storage_options

pytestmark = pytest.mark.django_db(transaction=True)
PG_URL = os.environ.get("LAKEGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
runner = CliRunner()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def bucket(endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket as the lake; credentials from the standard AWS_* variables, as documented."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    name = new_bucket(endpoint)
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={
            "lake": f"s3://{name}/lake",
            "lake_storage_options": storage_options(endpoint, credentials=False),
            "streams": settings.LAKEGATE.streams.model_copy(
                update={"flush_seconds": 0.01, "compact_min_files": 1000}
            ),
        }
    )
    stream_logs_close()  # stream logs pick their settings up when first used
    yield name
    stream_logs_close()


@pytest.fixture
def dataset() -> str:
    return f"s3_{uuid.uuid4().hex[:10]}"


def test_versions_land_on_s3_pass_the_gate_and_export(
    bucket, endpoint, dataset, settings, csv_file, tmp_path
):
    first = ingest_file(
        config=project(), dataset=dataset, path=csv_file("a.csv", "id,temp\n1,20.5\n2,22.1\n"), actor="test"
    )
    second = ingest_file(
        config=project(), dataset=dataset, path=csv_file("b.csv", "id,temp,city\n3,18,Oslo\n"), actor="test"
    )
    assert [first.version.number, second.version.number] == [1, 2]
    assert [first.version.status, second.version.status] == ["accepted", "accepted"]
    assert second.report is not None
    assert second.version.added_columns == ["city"]
    assert second.version.total_rows == 3

    objects = keys(endpoint, bucket, f"lake/{dataset}/")
    assert f"lake/{dataset}/_delta_log/00000000000000000001.json" in objects
    assert not (settings.LAKEGATE.paths.lake / dataset).exists()  # nothing in the local lake

    version, rows = dataset_export(config=project(), name=dataset, number=1, out=tmp_path / "v1.parquet")
    assert (version.number, rows) == (1, 2)
    assert pl.read_parquet(tmp_path / "v1.parquet").sort("id").to_dicts() == [
        {"id": 1, "temp": 20.5},
        {"id": 2, "temp": 22.1},
    ]
    cli = runner.invoke(
        app, ["datasets", "export", dataset, "--version", "2", "-o", str(tmp_path / "v2.parquet"), "--json"]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["rows"] == 3
    assert pl.read_parquet(tmp_path / "v2.parquet")["city"].to_list().count("Oslo") == 1


def test_a_stream_flushes_and_compacts_on_s3(bucket, endpoint, dataset, settings, api):
    editor = api("editor")
    for start in range(0, 300, 100):
        records = [{"id": i, "value": i * 0.5} for i in range(start, start + 100)]
        assert editor.post(f"/api/v1/streams/{dataset}/records", records).status_code == 202
        stream_logs_close()  # seal each request's segment: one version (and file) per batch
        streams_flush(config=project())
    versions = DatasetVersion.objects.filter(dataset__name=dataset).order_by("number")
    assert [(v.number, v.rows) for v in versions] == [(1, 100), (2, 100), (3, 100)]
    assert all(v.verdict for v in versions)  # the gate checked each flushed batch (read from S3)
    table = settings.LAKEGATE.lake_table(dataset)
    assert isinstance(table, TableLocation)
    assert table_file_count(table) == 3

    record = stream_compact(config=project(), dataset=dataset, min_files=2)
    assert record is not None
    assert (record.files_before, record.files_after) == (3, 1)
    assert Compaction.objects.filter(dataset=dataset).count() == 1
    assert table_file_count(table) == 1
    latest = versions.last()
    frame = pl.read_delta(table.uri, version=latest.compacted_delta_version, storage_options=table.options)
    assert frame["id"].sort().to_list() == list(range(300))
    assert any(key.endswith(".parquet") for key in keys(endpoint, bucket, f"lake/{dataset}/"))


@pytest.fixture
def pg_schema() -> Iterator[str]:
    name = f"lg_s3lake_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_an_s3_version_exports_to_postgresql(bucket, dataset, csv_file, pg_schema, configure):
    configure(outbound={"allowed_networks": ["127.0.0.0/8"]})  # the warehouse is the local PostgreSQL
    ingest_file(
        config=project(), dataset=dataset, path=csv_file("a.csv", "id,amount\n1,10.5\n2,20\n"), actor="test"
    )
    ingest_file(config=project(), dataset=dataset, path=csv_file("b.csv", "id,amount\n3,30\n"), actor="test")
    whole = exports.dataset_export(
        config=project(), dataset=dataset, to=PG_URL, table="whole", schema=pg_schema, number=1
    )
    batch = exports.dataset_export(
        config=project(), dataset=dataset, to=PG_URL, table="batch", schema=pg_schema, number=2, scope="batch"
    )
    assert (whole.rows, batch.rows) == (2, 1)
    with psycopg.connect(PG_URL) as conn:
        assert conn.execute(f"select id, amount from {pg_schema}.whole order by id").fetchall() == [
            (1, 10.5),
            (2, 20.0),
        ]
        assert conn.execute(f"select id, amount from {pg_schema}.batch").fetchall() == [(3, 30.0)]
