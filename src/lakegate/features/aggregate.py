"""aggregate: per key and time window statistics (``group_by_dynamic`` with ``group_by=key``).

One output row per key and window, e.g. per sensor per day: ``temperature_mean``,
``temperature_std``, ... and ``count``. Windows are labelled by their start, in the time
column. The step changes the grain of the data, so it has no single-row path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakegate.errors import PipelineError
from lakegate.features._base import State, StepImpl, require_columns
from lakegate.features._configs import AggregateStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Aggregate"]


def _agg(column: str, how: str) -> pl.Expr:
    import polars as pl

    col = pl.col(column)
    exprs: dict[str, pl.Expr] = {
        "mean": col.mean(),
        "std": col.std(),
        "min": col.min(),
        "max": col.max(),
        "sum": col.sum(),
        "median": col.median(),
        "count": col.count(),
        "first": col.first(),
        "last": col.last(),
        "n_unique": col.n_unique(),
    }
    return exprs[how].alias(f"{column}_{how}")


class Aggregate(StepImpl[AggregateStep]):
    row_wise = False

    def fit(self, frame: pl.LazyFrame) -> State:
        import polars as pl

        config = self.config
        schema = require_columns(frame, [*config.by, config.time, *config.aggs], "aggregate")
        time_type = schema[config.time]
        if not (time_type == pl.Date or isinstance(time_type, pl.Datetime) or time_type.is_integer()):
            raise PipelineError(
                f"step aggregate: time column {config.time!r} is {time_type}, not a date/datetime",
                detail={"step": "aggregate", "column": config.time},
            )
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        config = self.config
        schema = frame.collect_schema()
        exprs = [_agg(c, how) for c, hows in config.aggs.items() if c in schema for how in hows]
        if config.count:
            exprs.append(pl.len().cast(pl.Int64).alias("count"))
        ordered = frame.sort([*config.by, config.time])
        windows = ordered.group_by_dynamic(
            config.time,
            every=config.every,
            period=config.period,
            group_by=config.by or None,
            closed="left",
            label="left",
        ).agg(exprs)
        return windows.sort([*config.by, config.time])  # a stable row order for caching and splits
