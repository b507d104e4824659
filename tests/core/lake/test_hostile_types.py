"""Types and names a Delta table cannot hold: durations, times of day, names equal ignoring case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lakegate.errors import ReaderError
from lakegate.lake import convert, stage_file


def _durations(tmp_path):
    src = tmp_path / "spans.parquet"
    pl.DataFrame(
        {"d": [dt.timedelta(hours=36), dt.timedelta(seconds=1.5)], "t": [dt.time(1, 2, 3), None]}
    ).write_parquet(src)
    return src


def test_a_duration_column_is_written_to_delta_as_seconds_with_a_warning(tmp_path):
    from deltalake import DeltaTable

    [result] = convert([_durations(tmp_path)], tmp_path / "out", format="delta")
    frame = pl.from_arrow(DeltaTable(result.outputs[0]).to_pyarrow_table())
    assert frame["d"].to_list() == [129600.0, 1.5]
    assert frame["t"].to_list() == ["01:02:03", None]
    assert any("durations stored as seconds" in w for w in result.warnings)
    assert result.schema["spans"]["d"] == "float64"


def test_parquet_output_keeps_durations(tmp_path):
    [result] = convert([_durations(tmp_path)], tmp_path / "out")
    assert pl.read_parquet(result.outputs[0])["d"].dtype == pl.Duration("us")


def test_staging_for_a_dataset_gives_delta_types(tmp_path):
    batch = stage_file(_durations(tmp_path), tmp_path / "scratch")
    assert pl.read_parquet(batch.parquet)["d"].to_list() == [129600.0, 1.5]


def test_columns_equal_ignoring_case_are_refused_for_a_dataset(tmp_path):
    src = tmp_path / "keys.json"
    src.write_text('[{"a": 1, "A": 2}]')
    with pytest.raises(ReaderError) as caught:
        stage_file(src, tmp_path / "scratch")
    assert "'a' and 'A' differ only in case" in caught.value.reason
