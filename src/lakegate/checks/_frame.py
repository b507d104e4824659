"""Small helpers over polars frames and dtypes shared by the checks."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from lakegate._dtypes import Family, Kind, family, kind

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Family", "Kind", "family", "json_value", "kind", "row_count"]


def row_count(frame: pl.LazyFrame) -> int:
    """Rows of the frame (a Parquet scan answers from metadata)."""
    import polars as pl

    return int(frame.select(pl.len()).collect().item())


def json_value(value: Any, *, max_chars: int = 80) -> Any:
    """A cell as a JSON-safe scalar: ISO dates, finite floats, strings cut to ``max_chars``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    text = str(value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"
