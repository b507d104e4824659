"""Numeric state steps: fill_nulls (learned fill values) and scale (learned mean/std or min/max)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lakegate.errors import PipelineError
from lakegate.features._base import Row, State, StepImpl, require_columns
from lakegate.features._configs import FILL_STRATEGIES, FillNullsStep, ScaleStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FillNulls", "Scale"]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A JSON-able Python scalar (numpy/polars scalars come back as Python values already)."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return float(value)
    raise TypeError(type(value).__name__)


class FillNulls(StepImpl[FillNullsStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        import polars as pl

        schema = require_columns(frame, list(self.config.values), "fill_nulls")
        learned: dict[str, Any] = {}
        exprs: dict[str, pl.Expr] = {}
        for column, value in self.config.values.items():
            if isinstance(value, dict):
                learned[column] = value["value"]
            elif isinstance(value, str) and value in FILL_STRATEGIES:
                numeric = schema[column].is_numeric()
                if value != "mode" and not numeric:
                    raise PipelineError(
                        f"step fill_nulls: {column!r} is {schema[column]}, {value} needs a numeric column",
                        detail={"step": "fill_nulls", "column": column},
                    )
                col = pl.col(column).fill_nan(None) if schema[column].is_float() else pl.col(column)
                agg = {
                    "mean": col.mean(),
                    "median": col.median(),
                    "min": col.min(),
                    "max": col.max(),
                    # Ties broken by value so the learned fill is deterministic.
                    "mode": col.drop_nulls().mode().sort().first(),
                }[value]
                exprs[column] = agg.alias(column)
            else:
                learned[column] = value
        if exprs:
            row = frame.select(list(exprs.values())).collect().row(0, named=True)
            for column, value in row.items():
                if value is None:
                    raise PipelineError(
                        f"step fill_nulls: {column!r} has no values to learn a fill from",
                        detail={"step": "fill_nulls", "column": column},
                    )
                try:
                    learned[column] = _plain(value)
                except TypeError as exc:
                    raise PipelineError(
                        f"step fill_nulls: cannot store a {type(value).__name__} fill for {column!r}",
                        detail={"step": "fill_nulls", "column": column},
                    ) from exc
        return {"values": learned}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        exprs = []
        for column, value in state["values"].items():
            if column not in schema:
                continue
            col = pl.col(column).fill_nan(None) if schema[column].is_float() else pl.col(column)
            exprs.append(col.fill_null(pl.lit(value)).alias(column))
        return frame.with_columns(exprs) if exprs else frame

    def transform_row(self, row: Row, state: State) -> Row:
        for column, value in state["values"].items():
            if column in row and _is_missing(row[column]):
                row[column] = value
        return row


class Scale(StepImpl[ScaleStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        import polars as pl

        schema = require_columns(frame, self.config.columns, "scale")
        bad = [c for c in self.config.columns if not schema[c].is_numeric()]
        if bad:
            raise PipelineError(f"step scale: not numeric: {', '.join(bad)}", detail={"columns": bad})
        exprs = []
        for column in self.config.columns:
            col = pl.col(column).cast(pl.Float64).fill_nan(None)
            if self.config.method == "standard":
                exprs += [col.mean().alias(f"{column}\x00a"), col.std(ddof=0).alias(f"{column}\x00b")]
            else:
                exprs += [col.min().alias(f"{column}\x00a"), (col.max() - col.min()).alias(f"{column}\x00b")]
        stats = frame.select(exprs).collect().row(0, named=True)
        params: dict[str, list[float]] = {}
        for column in self.config.columns:
            offset, spread = stats[f"{column}\x00a"], stats[f"{column}\x00b"]
            # A constant column scales to 0 rather than dividing by zero.
            params[column] = [float(offset or 0.0), float(spread) if spread else 1.0]
        return {"params": params}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        exprs = [
            ((pl.col(c).cast(pl.Float64) - offset) / spread).alias(c)
            for c, (offset, spread) in state["params"].items()
            if c in schema
        ]
        return frame.with_columns(exprs) if exprs else frame

    def transform_row(self, row: Row, state: State) -> Row:
        for column, (offset, spread) in state["params"].items():
            value = row.get(column)
            if value is not None:
                row[column] = (float(value) - offset) / spread
        return row
