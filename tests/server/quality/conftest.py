from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest


@pytest.fixture
def readings(tmp_path: Path) -> Callable[..., Path]:
    """``readings("b1.csv", shift=0.0, seed=1)`` -> a CSV of sensor readings (2,000 rows)."""

    def make(name: str, *, shift: float = 0.0, seed: int = 1, rows: int = 2000) -> Path:
        rng = np.random.default_rng(seed)
        frame = pl.DataFrame(
            {
                "sensor": rng.choice(["a", "b", "c"], rows),
                "temp": rng.normal(20 + shift, 2, rows).round(3),
                "humidity": rng.normal(50, 5, rows).round(3),
            }
        )
        path = tmp_path / name
        frame.write_csv(path)
        return path

    return make
