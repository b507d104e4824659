"""join: left-join a small lookup table from another pipeline input, stored with the model.

The table is learned at ``fit`` (deduplicated: the first row per key wins) and kept in
the step state as JSON columns, so the predictor enriches records without the dataset.
A left join never drops or multiplies rows, which keeps one prediction per input record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakegate.errors import PipelineError
from lakegate.features._base import Row, State, StepImpl, require_columns
from lakegate.features._configs import JoinStep
from lakegate.features.encode import category_key

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Join"]

_KEY_KINDS = ("int", "str", "bool")


def _kind(dtype: pl.DataType) -> str | None:
    import polars as pl

    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "str"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    return "datetime" if isinstance(dtype, pl.Datetime) else None


class Join(StepImpl[JoinStep]):
    def __init__(self, config: JoinStep) -> None:
        super().__init__(config)
        self._right: pl.LazyFrame | None = None
        self._fingerprint = ""

    def bind(self, inputs: Mapping[str, tuple[pl.LazyFrame, str]]) -> None:
        if self.config.input not in inputs:
            raise PipelineError(f"step join: input {self.config.input!r} was not supplied")
        self._right, self._fingerprint = inputs[self.config.input]

    def code_version(self) -> str:
        return self._fingerprint

    def fit(self, frame: pl.LazyFrame) -> State:
        config = self.config
        if self._right is None:
            raise PipelineError(f"step join: input {config.input!r} was not supplied")
        left = require_columns(frame, config.key, "join")
        right_schema = require_columns(self._right, [*config.key, *(config.columns or [])], "join")
        bring = config.columns or [c for c in right_schema if c not in config.key]
        kinds = {c: _kind(right_schema[c]) for c in [*config.key, *bring]}
        bad = [c for c, k in kinds.items() if k is None or (c in config.key and k not in _KEY_KINDS)]
        if bad:
            raise PipelineError(
                f"step join: unsupported column types for {', '.join(bad)} (keys: int/text/bool; "
                "values: numbers, text, booleans, dates)",
                detail={"step": "join", "columns": bad},
            )
        table = (
            self._right.select([*config.key, *bring]).unique(
                subset=config.key, keep="first", maintain_order=True
            )
        ).collect()
        if table.height > config.max_rows:
            raise PipelineError(
                f"step join: {config.input} has {table.height} keys, more than max_rows={config.max_rows} "
                "that can be stored with the model",
                detail={"step": "join", "rows": table.height},
            )
        names = {c: (f"{c}_{config.input}" if c in left else c) for c in bring}
        data = {
            c: [v.isoformat() if isinstance(v, dt.date) else v for v in table.get_column(c).to_list()]
            for c in table.columns
        }
        return {"on": list(config.key), "names": names, "kinds": kinds, "data": data}

    def _table(self, state: State) -> pl.LazyFrame:
        import polars as pl

        exprs = []
        for column, kind in state["kinds"].items():
            if kind == "date":
                exprs.append(pl.col(column).str.to_date())
            elif kind == "datetime":
                exprs.append(pl.col(column).str.to_datetime(time_unit="us"))
        schema = {
            c: (pl.String if k in {"str", "date", "datetime"} else None) for c, k in state["kinds"].items()
        }
        table = pl.DataFrame(
            {c: pl.Series(c, state["data"][c], dtype=schema[c], strict=False) for c in state["kinds"]}
        ).lazy()
        return table.with_columns(exprs).rename(state["names"]) if exprs else table.rename(state["names"])

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        table = self._table(state)
        left = frame.collect_schema()
        # Align key types (e.g. Int32 on one side, Int64 on the other) to the left frame's.
        table = table.with_columns([_cast(k, left[k]) for k in state["on"] if k in left])
        # A left join that keeps the left row order (polars does not promise it by default).
        return frame.join(table, on=state["on"], how="left", coalesce=True, maintain_order="left")

    def transform_row(self, row: Row, state: State) -> Row:
        lookup: dict[tuple[Any, ...], dict[str, Any]] | None = state.get("_lookup")
        if lookup is None:
            lookup = self._build_lookup(state)
            state["_lookup"] = lookup
        key = tuple(category_key(row.get(k)) for k in state["on"])
        found = lookup.get(key)
        for column, name in state["names"].items():
            row[name] = None if found is None else found[column]
        return row

    def _build_lookup(self, state: State) -> dict[tuple[Any, ...], dict[str, Any]]:
        kinds, data, on = state["kinds"], state["data"], state["on"]
        values: dict[str, list[Any]] = {}
        for column in state["names"]:
            parse = {"date": dt.date.fromisoformat, "datetime": dt.datetime.fromisoformat}.get(kinds[column])
            values[column] = [parse(v) if parse and v is not None else v for v in data[column]]
        count = len(data[on[0]])
        return {
            tuple(category_key(data[k][i]) for k in on): {c: values[c][i] for c in state["names"]}
            for i in range(count)
        }


def _cast(column: str, dtype: pl.DataType) -> pl.Expr:
    import polars as pl

    return pl.col(column).cast(dtype)
