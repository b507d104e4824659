"""Column steps: select, drop, rename, cast."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from lakegate.errors import InputError
from lakegate.features._base import Row, State, StepImpl, require_columns
from lakegate.features._configs import CastStep, DropStep, RenameStep, SelectStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Cast", "Drop", "Rename", "Select", "polars_dtype"]


class Select(StepImpl[SelectStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        require_columns(frame, self.config.columns, "select")
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        present = frame.collect_schema()
        # The target is absent at prediction: keep what is there, in the configured order.
        return frame.select([c for c in self.config.columns if c in present])

    def transform_row(self, row: Row, state: State) -> Row:
        return {c: row[c] for c in self.config.columns if c in row}


class Drop(StepImpl[DropStep]):
    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        return frame.drop(self.config.columns, strict=False)

    def transform_row(self, row: Row, state: State) -> Row:
        for column in self.config.columns:
            row.pop(column, None)
        return row


class Rename(StepImpl[RenameStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        require_columns(frame, list(self.config.columns), "rename")
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        return frame.rename(self.config.columns, strict=False)

    def transform_row(self, row: Row, state: State) -> Row:
        renamed = {self.config.columns.get(k, k): v for k, v in row.items()}
        row.clear()
        row.update(renamed)
        return row


def polars_dtype(name: str) -> pl.DataType:
    """The polars type for a cast name (``int``, ``float``, ``str``, ``bool``, ``date``, ``datetime``)."""
    import polars as pl

    types: dict[str, pl.DataType] = {
        "int": pl.Int64(),
        "float": pl.Float64(),
        "str": pl.String(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
    }
    return types[name]


class Cast(StepImpl[CastStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        require_columns(frame, list(self.config.columns), "cast")
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        exprs = []
        for column, name in self.config.columns.items():
            if column not in schema:
                continue
            source = schema[column]
            if source == pl.String and name == "date":
                exprs.append(pl.col(column).str.to_date())
            elif source == pl.String and name == "datetime":
                exprs.append(pl.col(column).str.to_datetime(time_unit="us"))
            elif source == pl.String and name == "bool":
                lowered = pl.col(column).str.to_lowercase()
                exprs.append(
                    pl.when(lowered.is_in(["true", "1", "yes"]))
                    .then(True)
                    .when(lowered.is_in(["false", "0", "no"]))
                    .then(False)
                    .otherwise(None)
                    .alias(column)
                )
            elif source == pl.Boolean and name == "str":
                exprs.append(pl.col(column).cast(pl.String))
            else:
                exprs.append(pl.col(column).cast(polars_dtype(name), strict=True))
        return frame.with_columns(exprs) if exprs else frame

    def transform_row(self, row: Row, state: State) -> Row:
        for column, name in self.config.columns.items():
            if column in row and row[column] is not None:
                try:
                    row[column] = _cast_value(row[column], name)
                except (TypeError, ValueError) as exc:
                    raise InputError(
                        f"{column}: cannot cast {row[column]!r} to {name}",
                        detail=[{"field": column, "reason": f"cannot cast to {name}"}],
                    ) from exc
        return row


def _cast_value(value: Any, name: str) -> Any:  # noqa: PLR0911 - one branch per type
    if name == "int":
        return int(value)
    if name == "float":
        return float(value)
    if name == "str":
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if name == "bool":
        if isinstance(value, str):
            lowered = value.lower()
            return (
                True
                if lowered in {"true", "1", "yes"}
                else False
                if lowered in {"false", "0", "no"}
                else None
            )
        return bool(value)
    if name == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - naive like polars
    return dt.datetime.fromisoformat(str(value))
