"""Type families and kinds of polars dtypes: one classification for ingest, the lake and checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Family", "Kind", "family", "kind"]

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
