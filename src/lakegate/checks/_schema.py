"""The ``schema`` check: degenerate batches and schema changes, always a verdict, never a crash.

Findings (default severity): ``zero_rows`` (fail), ``one_row`` (warn), ``no_columns``
(fail); against the reference: ``missing_column`` (fail), ``new_column`` (warn),
``type_changed`` (fail; compared by family, so Int32 -> Int64 is not a change, and an
all-null column typed Null matches anything); per column: ``all_null`` and ``constant``
(warn) when the reference column was not already so (always, without a reference).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakegate.checks._config import SchemaConfig
from lakegate.checks._context import CheckContext
from lakegate.checks._frame import family, kind, row_count
from lakegate.checks._reference import Profile
from lakegate.checks._results import CheckResult, SchemaDetails, TypeChange
from lakegate.checks._types import Reason, ReasonCode

if TYPE_CHECKING:
    import polars as pl

__all__ = ["compute_schema", "family_of_dtype_name"]

_PREFIXES = (
    ("Int", "int"),
    ("UInt", "int"),
    ("Float", "float"),
    ("Decimal", "float"),
    ("Boolean", "bool"),
    ("String", "string"),
    ("Utf8", "string"),
    ("Categorical", "string"),
    ("Enum", "string"),
    ("Datetime", "datetime"),
    ("Date", "date"),
    ("Time", "time"),
    ("Duration", "duration"),
    ("Null", "null"),
)


def family_of_dtype_name(dtype: str) -> str:
    """The family of a dtype as a profile stores it (``str(pl.Int64)`` -> ``int``)."""
    for prefix, fam in _PREFIXES:
        if dtype.startswith(prefix):
            return fam
    return "other"


def _column_stats(context: CheckContext) -> tuple[int, dict[str, tuple[int, bool | None]]]:
    """(rows, {column: (nulls, constant)}) from the batch's profile, or one pass over it."""
    import polars as pl

    schema = context.current.collect_schema()
    profile = context.current_profile
    if profile is not None and set(profile) == set(schema):
        rows = int(next(iter(profile.values()))["rows"]) if profile else row_count(context.current)
        return rows, {name: (int(col["nulls"]), _constant_from_profile(col)) for name, col in profile.items()}
    exprs: list[pl.Expr] = [pl.len().alias("\x00rows")]
    for name, dtype in schema.items():
        exprs.append(pl.col(name).null_count().alias(f"{name}\x00nulls"))
        if kind(dtype) != "other":
            value = pl.col(name).cast(pl.String) if kind(dtype) == "text" else pl.col(name)
            exprs += [value.min().alias(f"{name}\x00min"), value.max().alias(f"{name}\x00max")]
    row = context.current.select(exprs).collect().row(0, named=True)
    stats: dict[str, tuple[int, bool | None]] = {}
    for name, dtype in schema.items():
        nulls = int(row[f"{name}\x00nulls"])
        constant = None
        if kind(dtype) != "other" and row[f"{name}\x00min"] is not None:
            constant = bool(row[f"{name}\x00min"] == row[f"{name}\x00max"])
        stats[name] = (nulls, constant)
    return int(row["\x00rows"]), stats


def _constant_from_profile(column: Mapping[str, Any]) -> bool | None:
    present = int(column.get("rows", 0)) - int(column.get("nulls", 0))
    if present <= 0:
        return None
    if column.get("kind") == "bool":
        return column.get("true") in (0, present)
    if column.get("min") is not None and column.get("kind") in {"numeric", "temporal"}:
        return bool(column["min"] == column["max"])
    distinct = column.get("distinct")
    return None if distinct is None else int(distinct) <= 1


def compute_schema(config: SchemaConfig, context: CheckContext) -> CheckResult:
    """Run the schema check (pure: reads the batch, returns a result)."""
    schema = dict(context.current.collect_schema())
    rows, stats = _column_stats(context)
    reference = context.reference.profile if context.reference is not None else None
    reasons: list[Reason] = []
    if not schema:
        reasons.append(config.reason(ReasonCode.NO_COLUMNS, "the batch has no columns"))
    if rows == 0:
        reasons.append(config.reason(ReasonCode.ZERO_ROWS, "the batch has no rows", value=0))
    elif rows == 1:
        reasons.append(config.reason(ReasonCode.ONE_ROW, "the batch has a single row", value=1))
    missing: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    changes: list[TypeChange] = []
    if reference is not None:
        missing = tuple(n for n in reference if n not in schema)
        new = tuple(n for n in schema if n not in reference)
        reasons += [
            config.reason(ReasonCode.MISSING_COLUMN, f"column {n!r} is missing", column=n) for n in missing
        ]
        reasons += [config.reason(ReasonCode.NEW_COLUMN, f"new column {n!r}", column=n) for n in new]
        changes = _type_changes(schema, reference)
        reasons += [
            config.reason(
                ReasonCode.TYPE_CHANGED,
                f"column {c.column!r} changed type: {c.reference} -> {c.current}",
                column=c.column,
            )
            for c in changes
        ]
    all_null, constant = _degenerate(rows, stats, reference)
    reasons += [config.reason(ReasonCode.ALL_NULL, f"column {n!r} is all null", column=n) for n in all_null]
    reasons += [
        config.reason(ReasonCode.CONSTANT, f"column {n!r} holds one value", column=n) for n in constant
    ]
    details = SchemaDetails(
        rows=rows,
        columns=len(schema),
        missing=missing,
        new=new,
        type_changes=tuple(changes),
        all_null=tuple(all_null),
        constant=tuple(constant),
    )
    return config.result(reasons, details)


def _type_changes(schema: Mapping[str, pl.DataType], reference: Profile) -> list[TypeChange]:
    changes = []
    for name, dtype in schema.items():
        if name not in reference:
            continue
        before = family_of_dtype_name(str(reference[name].get("dtype", "")))
        now = family(dtype)
        if "null" not in {before, now} and now not in {before, "other"}:
            changes.append(TypeChange(column=name, reference=before, current=now))
    return changes


def _degenerate(
    rows: int, stats: Mapping[str, tuple[int, bool | None]], reference: Profile | None
) -> tuple[list[str], list[str]]:
    """(all-null columns, constant columns) that the reference did not already have."""
    all_null: list[str] = []
    constant: list[str] = []
    if rows == 0:
        return all_null, constant
    for name, (nulls, is_constant) in stats.items():
        before = reference.get(name) if reference is not None else None
        if nulls == rows:
            if before is None or int(before.get("nulls", 0)) < int(before.get("rows", 0)):
                all_null.append(name)
        elif is_constant and rows > 1 and (before is None or not _constant_from_profile(before)):
            constant.append(name)
    return all_null, constant
