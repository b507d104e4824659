"""Write a starting contract from an accepted version (a frame or its stored profile).

The result is a plain YAML-able dict the user edits and commits: every column typed, nulls
forbidden where there were none, observed ``min``/``max`` for numbers and dates, ``allowed``
values for text with few distinct values, ``unique`` for int/string keys, and at least one row.
Numeric ranges are widened by ``margin`` times the observed range on each side (a fresh batch's
extremes rarely repeat the accepted one's exactly), never below 0 for a column that had no
negative values; integer columns get integer bounds; dates keep their observed range.
From a profile, distinct counts are HyperLogLog estimates, so ``unique`` is only written when
the estimate equals the row count, and ``allowed`` only when the category sketch is complete.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakegate.checks._contract_model import Contract
from lakegate.checks._frame import family, json_value
from lakegate.checks._schema import family_of_dtype_name

if TYPE_CHECKING:
    import polars as pl

__all__ = ["infer_contract"]

_CONTRACT_TYPE = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "string": "string",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "duration": "duration",
}


def infer_contract(
    source: pl.LazyFrame | pl.DataFrame | Mapping[str, Mapping[str, Any]],
    *,
    allowed_max: int = 20,
    ranges: bool = True,
    margin: float = 0.1,
) -> dict[str, Any]:
    """A contract dict describing ``source`` (validated: :func:`load_contract` accepts it)."""
    import polars as pl

    if isinstance(source, pl.LazyFrame | pl.DataFrame):
        columns = _from_frame(source.lazy(), allowed_max)
    else:
        columns = _from_profile(source, allowed_max)
    rules: dict[str, dict[str, Any]] = {}
    for name, facts in columns.items():
        rule: dict[str, Any] = {"type": _CONTRACT_TYPE.get(facts["family"], "any")}
        if facts["nulls"] == 0 and facts["rows"] > 0:
            rule["nullable"] = False
        if ranges and rule["type"] in {"int", "float", "date", "datetime"} and facts.get("min") is not None:
            rule["min"], rule["max"] = _widened(rule["type"], facts["min"], facts["max"], margin)
        if facts.get("allowed"):
            rule["allowed"] = facts["allowed"]
        if facts.get("unique") and rule["type"] in {"int", "string"}:
            rule["unique"] = True
        rules[name] = rule
    data = {"version": 1, "rows": {"min": 1}, "columns": rules}
    return Contract.model_validate(data).to_dict()


def _widened(kind: str, low: Any, high: Any, margin: float) -> tuple[Any, Any]:
    if kind not in {"int", "float"} or margin <= 0:
        return low, high
    pad = (float(high) - float(low)) * margin
    new_low, new_high = float(low) - pad, float(high) + pad
    if float(low) >= 0:
        new_low = max(new_low, 0.0)
    if kind == "int":
        return math.floor(new_low), math.ceil(new_high)
    return _round(new_low, down=True), _round(new_high, down=False)


def _round(value: float, *, down: bool) -> float:
    """``value`` to 3 significant digits, rounded outward (readable bounds, still enclosing)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10 ** (math.floor(math.log10(abs(value))) - 2)
    steps = math.floor(value / step) if down else math.ceil(value / step)
    return float(f"{steps * step:.12g}")


def _from_frame(frame: pl.LazyFrame, allowed_max: int) -> dict[str, dict[str, Any]]:
    import polars as pl

    schema = frame.collect_schema()
    exprs: list[pl.Expr] = [pl.len().alias("\x00rows")]
    for name, dtype in schema.items():
        fam = family(dtype)
        col = pl.col(name)
        exprs.append(col.null_count().alias(f"{name}\x00nulls"))
        if fam in {"int", "float", "date", "datetime"}:
            exprs += [col.min().alias(f"{name}\x00min"), col.max().alias(f"{name}\x00max")]
        if fam in {"int", "string"}:
            exprs.append(col.drop_nulls().n_unique().alias(f"{name}\x00distinct"))
        if fam == "string":
            values = (
                col.cast(pl.String).drop_nulls().unique(maintain_order=False).sort().head(allowed_max + 1)
            )
            exprs.append(values.implode().alias(f"{name}\x00values"))
    row = frame.select(exprs).collect().row(0, named=True)
    rows = int(row["\x00rows"])
    out: dict[str, dict[str, Any]] = {}
    for name, dtype in schema.items():
        nulls = int(row[f"{name}\x00nulls"])
        facts: dict[str, Any] = {"family": family(dtype), "rows": rows, "nulls": nulls}
        if f"{name}\x00min" in row:
            facts["min"], facts["max"] = json_value(row[f"{name}\x00min"]), json_value(row[f"{name}\x00max"])
        distinct = row.get(f"{name}\x00distinct")
        facts["unique"] = distinct is not None and rows > 1 and int(distinct) == rows and nulls == 0
        seen: list[Any] | None = row.get(f"{name}\x00values")
        if seen is not None and 0 < len(seen) <= allowed_max and not facts["unique"]:
            facts["allowed"] = list(seen)
        out[name] = facts
    return out


def _from_profile(profile: Mapping[str, Mapping[str, Any]], allowed_max: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, column in profile.items():
        rows, nulls = int(column.get("rows", 0)), int(column.get("nulls", 0))
        facts: dict[str, Any] = {"family": family_of_dtype_name(str(column.get("dtype", ""))), "rows": rows}
        facts["nulls"] = nulls
        if column.get("min") is not None:
            facts["min"], facts["max"] = column["min"], column["max"]
        distinct = column.get("distinct")
        facts["unique"] = distinct is not None and rows > 1 and nulls == 0 and int(distinct) == rows
        sketch = column.get("categories") or {}
        counts = sketch.get("counts") or {}
        if counts and not sketch.get("other") and len(counts) <= allowed_max and not facts["unique"]:
            facts["allowed"] = sorted(str(v) for v in counts)
        out[name] = facts
    return out
