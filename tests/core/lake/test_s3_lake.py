"""Lake tables on S3 (a moto server in a child process): writes, evolution, time travel, rollback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lakegate.config import Settings
from lakegate.errors import ConflictError, LakegateError
from lakegate.export._source import open_source
from lakegate.lake import (
    TableLocation,
    as_location,
    batch_frame,
    compact_table,
    export_version,
    restore_to,
    table_file_count,
    table_schema,
    write_batch,
)
from lakegate.lake._location import CLIENT_DEFAULTS
from tests.core.lake.s3server import keys, moto_s3, new_bucket, storage_options


@pytest.fixture(scope="module")
def endpoint():
    with moto_s3() as url:
        yield url


@pytest.fixture
def lake(endpoint) -> TableLocation:
    """An empty lake: ``s3://<fresh bucket>/lake``."""
    return TableLocation(f"s3://{new_bucket(endpoint)}/lake", storage_options(endpoint))


def bucket_of(location: TableLocation) -> str:
    return location.uri.removeprefix("s3://").split("/", 1)[0]


def staged(tmp_path: Path, name: str, frame: pl.DataFrame) -> Path:
    path = tmp_path / f"{name}.parquet"
    frame.write_parquet(path)
    return path


FIRST = pl.DataFrame({"id": [1, 2, 3], "x": [10, 20, 30]})
SECOND = pl.DataFrame({"id": [4, 5], "x": [4.5, 5.5], "y": ["a", "b"]})


def test_appends_evolve_the_schema_and_each_batch_reads_back(lake, endpoint, tmp_path):
    table = lake.child("sales")
    assert not table.exists()
    assert table_schema(table) is None
    first = write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    assert first.delta_version == 0
    assert table.exists()
    second = write_batch(table, staged(tmp_path, "two", SECOND), evolve=True, expected_version=0)
    # The float batch widened x (a rewrite: version 1), then appended (version 2) with y.
    assert second.delta_version == 2
    assert second.added_columns == ("y",)
    assert dict(second.widened_columns) == {"x": "float"}
    assert table_schema(table) == {"id": "int", "x": "float", "y": "string"}

    assert_frame_equal(batch_frame(table, 0).collect().sort("id"), FIRST)
    assert_frame_equal(batch_frame(table, 2).collect().sort("id"), SECOND)
    # Every file is under the table's prefix in the bucket, nothing on the local disk.
    objects = keys(endpoint, bucket_of(table))
    assert objects
    assert all(key.startswith("lake/sales/") for key in objects)
    assert "lake/sales/_delta_log/00000000000000000002.json" in objects


def test_export_version_travels_in_time(lake, tmp_path):
    table = lake.child("sales")
    write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    write_batch(table, staged(tmp_path, "two", SECOND), evolve=True, expected_version=0)
    assert export_version(table, 0, tmp_path / "v0.parquet") == 3
    assert_frame_equal(pl.read_parquet(tmp_path / "v0.parquet").sort("id"), FIRST)
    assert export_version(table, 2, tmp_path / "v2.parquet") == 5
    latest = pl.read_parquet(tmp_path / "v2.parquet").sort("id")
    assert latest["x"].to_list() == [10.0, 20.0, 30.0, 4.5, 5.5]
    assert latest["y"].to_list() == [None, None, None, "a", "b"]
    with pytest.raises(ConflictError, match=r"s3://.*/lake/missing holds no Delta table"):
        export_version(lake.child("missing"), 0, tmp_path / "none.parquet")


def test_a_commit_the_catalog_never_recorded_is_rolled_back(lake, tmp_path):
    table = lake.child("sales")
    write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    lost = pl.DataFrame({"id": [99], "x": [99]})
    # Reached the Delta log, but the process died before the catalog recorded version 1.
    assert write_batch(table, staged(tmp_path, "lost", lost), expected_version=0).delta_version == 1
    retry = pl.DataFrame({"id": [4], "x": [40]})
    write = write_batch(table, staged(tmp_path, "retry", retry), expected_version=0)
    assert write.delta_version == 3  # 2 is the restore of version 0, 3 the retried batch
    rows = pl.scan_delta(table.uri, storage_options=table.options).collect().sort("id")
    assert rows["id"].to_list() == [1, 2, 3, 4]
    assert restore_to(table, 3) is False  # already the recorded version


def test_a_first_write_never_recorded_deletes_only_that_table(lake, endpoint, tmp_path):
    table, sibling = lake.child("t"), lake.child("t2")  # t2's keys share the prefix "lake/t"
    write_batch(sibling, staged(tmp_path, "sib", FIRST), expected_version=None)
    write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    assert restore_to(table, None) is True
    assert not table.exists()
    assert keys(endpoint, bucket_of(table), "lake/t/") == []
    assert keys(endpoint, bucket_of(table), "lake/t2/")  # untouched
    assert pl.scan_delta(sibling.uri, storage_options=sibling.options).collect().height == 3
    # A write over a first write the catalog never saw starts the table again at version 0.
    again = write_batch(table, staged(tmp_path, "again", SECOND), expected_version=None)
    assert again.delta_version == 0
    assert table_schema(table) == {"id": "int", "x": "float", "y": "string"}


def test_compaction_merges_small_files_on_s3(lake, tmp_path):
    table = lake.child("events")
    expected: int | None = None
    for start in range(0, 50, 10):
        batch = pl.DataFrame({"id": list(range(start, start + 10)), "v": [0.5] * 10})
        expected = write_batch(
            table, staged(tmp_path, f"b{start}", batch), expected_version=expected
        ).delta_version
    assert expected == 4
    assert table_file_count(table) == 5
    done = compact_table(table, expected_version=4, target_bytes=64 * 1024**2)
    assert done is not None
    assert (done.delta_before, done.delta_after, done.files_before, done.files_after) == (4, 5, 5, 1)
    assert table_file_count(table) == 1
    frame = pl.scan_delta(table.uri, storage_options=table.options)
    assert frame.collect()["id"].sort().to_list() == list(range(50))
    old = pl.scan_delta(table.uri, version=1, storage_options=table.options).collect()
    assert old.height == 20  # time travel still reads an old version's files
    assert compact_table(table, expected_version=5, target_bytes=64 * 1024**2) is None


def test_an_s3_table_exports_as_a_stream_of_frames(lake, tmp_path):
    table = lake.child("sales")
    write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    write_batch(table, staged(tmp_path, "two", SECOND), evolve=True, expected_version=0)
    stream = open_source(table, version=0, batch_rows=2)
    assert stream.label == table.uri
    frames = list(stream.frames)
    assert max(f.height for f in frames) <= 2
    assert pl.concat(frames).sort("id")["id"].to_list() == [1, 2, 3]


def test_an_unreachable_lake_names_the_table(endpoint, tmp_path):
    table = TableLocation("s3://lg-no-such-bucket/lake/sales", storage_options(endpoint))
    with pytest.raises(LakegateError, match=r"^s3://lg-no-such-bucket/lake/sales: cannot reach") as info:
        write_batch(table, staged(tmp_path, "one", FIRST), expected_version=None)
    assert "404" in info.value.message
    assert "testing" not in info.value.message  # no credentials in the message


def test_locations_name_their_table_and_hide_their_options(tmp_path):
    remote = TableLocation("s3://bucket/lake/", {"aws_secret_access_key": "s3cr3t"}).child("sales")
    assert (remote.uri, remote.name, remote.local, remote.target) == (
        "s3://bucket/lake/sales",
        "sales",
        None,
        "s3://bucket/lake/sales",
    )
    assert remote.options == {**CLIENT_DEFAULTS, "aws_secret_access_key": "s3cr3t"}
    assert "s3cr3t" not in repr(remote)
    assert str(remote) == "s3://bucket/lake/sales"
    local = as_location(tmp_path / "sales")
    assert (local.local, local.options, local.exists()) == (tmp_path / "sales", None, False)
    assert TableLocation(f"file://{tmp_path}").child("x").local == tmp_path / "x"
    assert as_location(remote) is remote


@pytest.mark.parametrize(
    ("lake", "expected"),
    [
        pytest.param(None, "default", id="default"),
        pytest.param("s3://bucket/some/prefix/", "s3://bucket/some/prefix/sales", id="s3"),
        pytest.param("S3://bucket", "s3://bucket/sales", id="s3-upper-no-prefix"),
        pytest.param("shared/lake", "project/shared/lake/sales", id="relative-folder"),
        pytest.param("file:///srv/lake", "/srv/lake/sales", id="file-uri"),
    ],
)
def test_the_lake_setting_places_every_dataset(tmp_path, lake, expected):
    settings = Settings(project_dir=tmp_path, lake=lake)
    table = settings.lake_table("sales")
    if expected == "default":
        assert table == settings.paths.lake / "sales"
    elif expected.startswith("s3://"):
        assert isinstance(table, TableLocation)
        assert table.uri == expected
    else:
        # LAKEGATE_PROJECT_DIR (the test project) wins over project_dir=: read it back.
        assert table == Path(expected.replace("project", str(settings.project_dir), 1))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"lake": "s3://"}, "names no bucket", id="no-bucket"),
        pytest.param({"lake": "gs://bucket/lake"}, "use s3://bucket/prefix", id="other-scheme"),
        pytest.param({"lake": "file://relative"}, "needs an absolute path", id="relative-file-uri"),
        pytest.param(
            {"lake_storage_options": {"aws_region": "eu-west-1"}}, "only to an s3:// lake", id="options-local"
        ),
    ],
)
def test_a_bad_lake_setting_says_why(tmp_path, fields, message):
    with pytest.raises(ValueError, match=message):
        Settings(project_dir=tmp_path, **fields)


def test_the_storage_options_reach_the_table(tmp_path, endpoint):
    settings = Settings(
        project_dir=tmp_path, lake="s3://bucket/lake", lake_storage_options=storage_options(endpoint)
    )
    table = settings.lake_table("sales")
    assert isinstance(table, TableLocation)
    assert table.options == {**CLIENT_DEFAULTS, **storage_options(endpoint)}
