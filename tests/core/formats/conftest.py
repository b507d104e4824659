"""Shared helpers: convert one file into ``tmp_path/out`` and read the result back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from lakegate.lake import ConvertResult, convert

Converted = tuple[ConvertResult, dict[str, pl.DataFrame]]


@pytest.fixture
def convert_one(tmp_path: Path) -> Callable[..., Converted]:
    """``convert_one(path, **options)`` -> (result, {table name: frame read back})."""

    def run(path: Path, **options: Any) -> Converted:
        out = tmp_path / "out"
        [result] = convert([path], out, **options)
        frames = {t.name: pl.read_parquet(t.path) for t in result.tables}
        return result, frames

    return run
