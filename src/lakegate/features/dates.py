"""date_parts: calendar parts of date/datetime columns as integer features."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from lakegate.errors import InputError, PipelineError
from lakegate.features._base import Row, State, StepImpl, require_columns
from lakegate.features._configs import DatePartsStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["DateParts"]

_TIME_PARTS = frozenset({"hour", "minute"})


def _part_expr(column: str, part: str) -> pl.Expr:
    import polars as pl

    col = pl.col(column).dt
    exprs: dict[str, pl.Expr] = {
        "year": col.year(),
        "quarter": col.quarter(),
        "month": col.month(),
        "week": col.week(),
        "day": col.day(),
        "weekday": col.weekday(),
        "dayofyear": col.ordinal_day(),
        "is_weekend": (col.weekday() >= 6),
        "hour": col.hour(),
        "minute": col.minute(),
    }
    return exprs[part].cast(pl.Int32).alias(f"{column}_{part}")


def _part_value(value: dt.date, part: str) -> int:  # noqa: PLR0911 - one branch per part
    if part == "year":
        return value.year
    if part == "quarter":
        return (value.month - 1) // 3 + 1
    if part == "month":
        return value.month
    if part == "week":
        return value.isocalendar().week
    if part == "day":
        return value.day
    if part == "weekday":
        return value.isoweekday()
    if part == "dayofyear":
        return value.timetuple().tm_yday
    if part == "is_weekend":
        return int(value.isoweekday() >= 6)
    assert isinstance(value, dt.datetime)
    return value.hour if part == "hour" else value.minute


class DateParts(StepImpl[DatePartsStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        import polars as pl

        schema = require_columns(frame, self.config.columns, "date_parts")
        for column in self.config.columns:
            dtype = schema[column]
            if not (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
                raise PipelineError(
                    f"step date_parts: {column!r} is {dtype}, not a date (cast it first)",
                    detail={"step": "date_parts", "column": column},
                )
            if dtype == pl.Date and _TIME_PARTS & set(self.config.parts):
                raise PipelineError(
                    f"step date_parts: {column!r} is a date; hour/minute need a datetime",
                    detail={"step": "date_parts", "column": column},
                )
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        schema = frame.collect_schema()
        present = [c for c in self.config.columns if c in schema]
        frame = frame.with_columns([_part_expr(c, p) for c in present for p in self.config.parts])
        return frame.drop(present) if self.config.drop_original else frame

    def transform_row(self, row: Row, state: State) -> Row:
        for column in self.config.columns:
            if column not in row:
                continue
            value: Any = row.pop(column) if self.config.drop_original else row[column]
            if isinstance(value, str):
                try:
                    value = dt.datetime.fromisoformat(value)
                except ValueError as exc:
                    raise InputError(
                        f"{column}: not a date: {value!r}", detail=[{"field": column, "reason": "not a date"}]
                    ) from exc
            for part in self.config.parts:
                row[f"{column}_{part}"] = None if value is None else _part_value(value, part)
        return row
