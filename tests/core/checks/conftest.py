"""Small real batches for the quality-gate tests: Parquet files in ``tmp_path``, real profiles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from lakegate.lake import profile_parquet

Stored = tuple[pl.LazyFrame, dict[str, dict[str, Any]]]


@pytest.fixture
def store(tmp_path: Path) -> Callable[[str, pl.DataFrame], Stored]:
    """``store(name, frame)`` writes ``name.parquet`` and returns (its scan, its ingest profile)."""

    def write(name: str, frame: pl.DataFrame) -> Stored:
        path = tmp_path / f"{name}.parquet"
        frame.write_parquet(path)
        return pl.scan_parquet(path), profile_parquet(path)

    return write


def mixed_frame(seed: int, rows: int = 4000, *, shift: bool = False) -> pl.DataFrame:
    """Numeric, integer, categorical and boolean columns; ``shift`` moves ``amount``, ``age``,
    ``country`` and ``churned`` and leaves ``score``, ``visits`` and ``device`` alone."""
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "amount": rng.lognormal(3.0 + (0.5 if shift else 0.0), 0.6, rows),
            "age": rng.normal(45 if shift else 38, 9, rows).round(),
            "score": rng.normal(0.0, 1.0, rows),
            "visits": rng.poisson(4, rows),
            "country": rng.choice(
                ["DE", "FR", "IT", "ES"], rows, p=[0.1, 0.2, 0.3, 0.4] if shift else [0.4, 0.3, 0.2, 0.1]
            ),
            "device": rng.choice(["ios", "android", "web"], rows, p=[0.3, 0.3, 0.4]),
            "churned": rng.random(rows) < (0.45 if shift else 0.2),
        }
    )
