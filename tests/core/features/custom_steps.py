"""Custom step functions referenced by dotted path from tests."""

from __future__ import annotations

import polars as pl


def add_ratio(frame: pl.LazyFrame, *, numerator: str, denominator: str, name: str = "ratio") -> pl.LazyFrame:
    return frame.with_columns((pl.col(numerator) / (pl.col(denominator) + 1)).alias(name))


def not_a_frame(frame: pl.LazyFrame) -> int:
    return 3


def explode(frame: pl.LazyFrame) -> pl.LazyFrame:
    raise RuntimeError("boom")
