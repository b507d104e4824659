"""Statistics of wide tables: the same profile as the streaming path, in time linear in the width."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest

from lakegate.lake import _stats
from lakegate.lake._stats import profile_parquet


def wide_frame(columns: int, rows: int = 7) -> pl.DataFrame:
    data = {}
    for i in range(columns):
        if i % 3 == 0:
            data[f"n{i}"] = [float(r * i % 11) if r != 2 else None for r in range(rows)]
        elif i % 3 == 1:
            data[f"t{i}"] = [f"v{(r + i) % 4}" for r in range(rows)]
        else:
            data[f"b{i}"] = [r % 2 == 0 for r in range(rows)]
    return pl.DataFrame(data)


def test_a_wide_small_file_is_profiled_in_memory_with_the_same_result(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "wide.parquet"
    wide_frame(90).write_parquet(path)
    in_memory = profile_parquet(path)  # 90 columns > WIDE_COLUMNS: read once, per-column queries
    monkeypatch.setattr(_stats, "WIDE_COLUMNS", 10_000)
    streamed = profile_parquet(path)  # the scan path for narrow or large files
    assert in_memory == streamed
    assert in_memory["n0"]["nulls"] == 1
    assert in_memory["t1"]["categories"]["counts"]


def test_a_thousand_columns_profile_in_seconds_not_minutes(tmp_path: Path) -> None:
    # Before: one collect_all over ~1,700 small plans, 110 s for 1,000 columns x 5 rows
    # (quadratic in the width). A generous bound: the point is linear, not a benchmark.
    path = tmp_path / "wider.parquet"
    wide_frame(1000, rows=5).write_parquet(path)
    started = time.process_time()
    profiles = profile_parquet(path)
    assert len(profiles) == 1000
    assert time.process_time() - started < 30


@pytest.mark.parametrize("columns", [3, 70])
def test_every_column_has_its_sketch(tmp_path: Path, columns: int) -> None:
    path = tmp_path / "t.parquet"
    wide_frame(columns).write_parquet(path)
    profiles = profile_parquet(path)
    assert "quantiles" in profiles["n0"]
    assert "histogram" in profiles["n0"]
    assert "categories" in profiles["t1"]
