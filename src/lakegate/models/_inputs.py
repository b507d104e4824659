"""Input validation against a model's training schema (the online route's first step).

Each field is checked and coerced by the kind of its training column: numbers must be
numbers (``true`` is not a number), text must be text, dates accept ISO strings. All
problems of a request are reported at once in ``InputError.detail`` as
``[{"field": ..., "reason": ..., "row": ...}]``. Unknown fields are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lakegate.errors import InputError
from lakegate.models._manifest import ColumnSpec

if TYPE_CHECKING:
    import polars as pl

__all__ = ["check_frame", "coerce_row", "polars_type", "raise_problems"]

_MISSING = object()


def _int(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    return None, f"expected an integer, got {value!r}"


def _float(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), None
    return None, f"expected a number, got {value!r}"


def _str(value: Any) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, str) else (None, f"expected text, got {value!r}")


def _bool(value: Any) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, bool) else (None, f"expected true or false, got {value!r}")


def _date(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]), None  # "2024-05-01T00:00" is that date too
        except ValueError:
            pass
    return None, f"expected a date (YYYY-MM-DD), got {value!r}"


def _datetime(value: Any) -> tuple[Any, str | None]:
    parsed: Any = value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None, f"expected a datetime (ISO 8601), got {value!r}"
    if isinstance(parsed, dt.datetime):
        if parsed.tzinfo is not None:  # training columns are naive UTC
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed, None
    if isinstance(parsed, dt.date):
        return dt.datetime(parsed.year, parsed.month, parsed.day), None  # noqa: DTZ001 - naive like polars
    return None, f"expected a datetime (ISO 8601), got {value!r}"


def _any(value: Any) -> tuple[Any, str | None]:
    return value, None


_COERCE = {
    "int": _int,
    "float": _float,
    "str": _str,
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
    "other": _any,
}


# Values already of the right Python type pass without a coercion call (the common case).
_EXACT: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


def coerce_row(
    record: Mapping[str, Any], schema: Sequence[ColumnSpec], row: int | None, problems: list[dict[str, Any]]
) -> dict[str, Any]:
    """Check one record; append problems (field, reason, row) and return the coerced values."""
    out: dict[str, Any] = {}
    for column in schema:
        name = column.name
        value = record.get(name, _MISSING)
        if value is None or type(value) is _EXACT.get(column.kind):
            out[name] = value
            continue
        if value is _MISSING:
            if column.required:
                problems.append(_problem(name, "missing", row))
            out[name] = None
            continue
        coerced, reason = _COERCE[column.kind](value)
        if reason is not None:
            problems.append(_problem(name, reason, row))
        out[name] = coerced
    return out


def _problem(field: str, reason: str, row: int | None) -> dict[str, Any]:
    return (
        {"field": field, "reason": reason} if row is None else {"field": field, "reason": reason, "row": row}
    )


def raise_problems(problems: list[dict[str, Any]]) -> None:
    if not problems:
        return
    shown = "; ".join(
        f"{p['field']}: {p['reason']}" + (f" (row {p['row']})" if "row" in p else "") for p in problems[:5]
    )
    more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
    raise InputError(f"invalid input: {shown}{more}", detail=problems)


def polars_type(kind: str) -> pl.DataType | None:
    import polars as pl

    types: dict[str, pl.DataType] = {
        "int": pl.Int64(),
        "float": pl.Float64(),
        "str": pl.String(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
    }
    return types.get(kind)


def check_frame(frame: pl.LazyFrame, schema: Sequence[ColumnSpec]) -> pl.LazyFrame:
    """Check a batch's columns against the schema, cast them, add absent optional ones as nulls."""
    import polars as pl

    present = frame.collect_schema()
    problems: list[dict[str, Any]] = []
    exprs: list[pl.Expr] = []
    for column in schema:
        target = polars_type(column.kind)
        if column.name not in present:
            if column.required:
                problems.append(_problem(column.name, "missing column", None))
            exprs.append(pl.lit(None, dtype=target).alias(column.name))
            continue
        dtype = present[column.name]
        if target is None or dtype == target:
            exprs.append(pl.col(column.name))
        elif _castable(dtype, column.kind):
            exprs.append(pl.col(column.name).cast(target, strict=True))
        else:
            problems.append(_problem(column.name, f"expected {column.kind}, got {dtype}", None))
    raise_problems(problems)
    return frame.with_columns(exprs)


def _castable(dtype: pl.DataType, kind: str) -> bool:
    import polars as pl

    if kind in {"int", "float"}:
        return dtype.is_numeric() or dtype == pl.Null
    if kind == "str":
        return dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)
    if kind == "bool":
        return dtype in (pl.Boolean, pl.Null)
    return dtype in (pl.Date, pl.Null) or isinstance(dtype, pl.Datetime)
