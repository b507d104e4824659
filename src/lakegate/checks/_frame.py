"""Small helpers over polars frames and dtypes shared by the checks."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Family", "Kind", "family", "json_value", "kind", "row_count"]

Family = Literal["int", "float", "bool", "string", "date", "datetime", "time", "duration", "null", "other"]
Kind = Literal["numeric", "bool", "temporal", "text", "other"]


def family(dtype: pl.DataType) -> Family:  # noqa: PLR0911 - one answer per type family
    """The dtype's family: widths (Int32 vs Int64) and time zones do not matter to a contract."""
    import polars as pl

    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum | pl.Categorical):
        return "string"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Time:
        return "time"
    if isinstance(dtype, pl.Duration):
        return "duration"
    if dtype == pl.Null:
        return "null"  # an all-null column with no type: matches any family
    return "other"


def kind(dtype: pl.DataType) -> Kind:
    """Same classification as the ingest profile (``lakegate.lake._stats``)."""
    fam = family(dtype)
    if fam in {"int", "float"}:
        return "numeric"
    if fam == "bool":
        return "bool"
    if fam == "string":
        return "text"
    if fam in {"datetime", "date", "time", "duration"}:
        return "temporal"
    return "other"


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
