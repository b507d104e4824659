"""Categorical encodings learned at training: one_hot and ordinal.

Categories are compared as text (``true``/``false`` for booleans, ``str(value)``
otherwise) so the polars path and the single-row path agree on every input.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lakegate.errors import PipelineError
from lakegate.features._base import CategoricalGroup, Row, State, StepImpl, require_columns
from lakegate.features._configs import OneHotStep, OrdinalStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["OneHot", "Ordinal", "category_key"]

_UNSAFE = re.compile(r"[^0-9A-Za-z_]+")


def category_key(value: Any) -> str | None:
    """The text a category is compared as (polars casts booleans to ``true``/``false``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_categorical(frame: pl.LazyFrame, columns: list[str], step: str) -> None:
    import polars as pl

    schema = require_columns(frame, columns, step)
    bad = [
        f"{c} ({schema[c]})"
        for c in columns
        if not (schema[c] in (pl.String, pl.Categorical, pl.Boolean) or schema[c].is_integer())
        and not isinstance(schema[c], pl.Enum)
    ]
    if bad:
        raise PipelineError(
            f"step {step}: encode text, boolean or integer columns only, not {', '.join(bad)}",
            detail={"step": step, "columns": bad},
        )


def _as_text(column: str) -> pl.Expr:
    import polars as pl

    return pl.col(column).cast(pl.String)


class OneHot(StepImpl[OneHotStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        _check_categorical(frame, self.config.columns, "one_hot")
        learned: dict[str, list[list[str]]] = {}
        for column in self.config.columns:
            counts = (
                frame.select(_as_text(column).alias("value"))
                .drop_nulls()
                .group_by("value")
                .len()
                .sort(["len", "value"], descending=[True, False])
                .head(self.config.max_categories)
                .collect()
            )
            categories = sorted(counts.get_column("value").to_list())
            taken: set[str] = set()
            pairs = []
            for category in categories:
                base = f"{column}_{_UNSAFE.sub('_', category).strip('_') or 'blank'}"
                name, index = base, 2
                while name in taken:
                    name, index = f"{base}_{index}", index + 1
                taken.add(name)
                pairs.append([category, name])
            learned[column] = pairs
        return {"columns": learned}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        exprs = [
            (_as_text(column) == category).fill_null(False).cast(pl.Int8).alias(name)
            for column, pairs in state["columns"].items()
            if column in schema
            for category, name in pairs
        ]
        frame = frame.with_columns(exprs) if exprs else frame
        if self.config.drop_original:
            frame = frame.drop([c for c in state["columns"] if c in schema])
        return frame

    def transform_row(self, row: Row, state: State) -> Row:
        for column, pairs in state["columns"].items():
            if column not in row:
                continue
            key = category_key(row.pop(column) if self.config.drop_original else row[column])
            for category, name in pairs:
                row[name] = 1 if key == category else 0
        return row

    def groups(self, state: State) -> list[CategoricalGroup]:
        return [
            CategoricalGroup(source=column, columns=tuple(name for _, name in pairs))
            for column, pairs in state["columns"].items()
            if len(pairs) > 1
        ]


class Ordinal(StepImpl[OrdinalStep]):
    def fit(self, frame: pl.LazyFrame) -> State:
        _check_categorical(frame, self.config.columns, "ordinal")
        unknown_order = [c for c in self.config.order if c not in self.config.columns]
        if unknown_order:
            raise PipelineError(
                f"step ordinal: order given for columns it does not encode: {', '.join(unknown_order)}"
            )
        learned: dict[str, list[str]] = {}
        for column in self.config.columns:
            if column in self.config.order:
                learned[column] = [str(c) for c in self.config.order[column]]
                continue
            values = frame.select(_as_text(column).alias("v")).drop_nulls().unique().collect()
            learned[column] = sorted(values.get_column("v").to_list())
        return {"codes": learned}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        schema = frame.collect_schema()
        unknown = self.config.unknown_value
        exprs = [
            _as_text(column)
            .replace_strict(categories, list(range(len(categories))), default=unknown, return_dtype=pl.Int64)
            .fill_null(unknown)
            .alias(column)
            for column, categories in state["codes"].items()
            if column in schema
        ]
        return frame.with_columns(exprs) if exprs else frame

    def transform_row(self, row: Row, state: State) -> Row:
        lookups = self._lookups(state)
        for column, codes in lookups.items():
            if column in row:
                key = category_key(row[column])
                row[column] = (
                    self.config.unknown_value if key is None else codes.get(key, self.config.unknown_value)
                )
        return row

    def _lookups(self, state: State) -> dict[str, dict[str, int]]:
        # Built once per fitted state: the single-row path must not rebuild dicts per call.
        cached: dict[str, dict[str, int]] | None = state.get("_lookup")
        if cached is None:
            cached = {c: {cat: i for i, cat in enumerate(cats)} for c, cats in state["codes"].items()}
            state["_lookup"] = cached
        return cached

    def groups(self, state: State) -> list[CategoricalGroup]:
        return [
            CategoricalGroup(source=column, columns=(column,), codes=tuple(range(len(categories))))
            for column, categories in state["codes"].items()
            if len(categories) > 1
        ]
