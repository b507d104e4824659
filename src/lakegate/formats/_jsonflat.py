"""Flatten nested JSON columns into dotted leaf columns; keep schemas Parquet can write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakegate.formats._infer import instance

if TYPE_CHECKING:
    import polars as pl

__all__ = ["flatten_columns", "writable_schema"]


def flatten_columns(schema: pl.Schema) -> tuple[dict[str, tuple[pl.Expr, pl.DataType]], list[str]]:
    """``{"a.b": (expr, dtype)}``: one expression per leaf of the struct columns of ``schema``.

    Also the dotted names of the objects that have no leaf (empty in every record).
    """
    import polars as pl

    flat: dict[str, tuple[pl.Expr, pl.DataType]] = {}
    empty: list[str] = []

    def visit(name: str, expr: pl.Expr, dtype: pl.DataType) -> None:
        if isinstance(dtype, pl.Struct):
            if not dtype.fields:
                empty.append(name)  # Parquet has no struct without fields; it holds no value
            for field in dtype.fields:
                visit(f"{name}.{field.name}", expr.struct.field(field.name), instance(field.dtype))
            return
        unique, index = name, 2
        while unique in flat:
            unique, index = f"{name}_{index}", index + 1
        flat[unique] = (expr, dtype)

    for column, dtype in schema.items():
        visit(column, pl.col(column), dtype)
    return flat, empty


def writable_schema(schema: pl.Schema) -> tuple[pl.Schema, list[str]]:
    """``schema`` with arrays of empty objects read as text (Parquet cannot hold them)."""
    import polars as pl

    listed: list[str] = []

    def fixed(name: str, dtype: pl.DataType) -> pl.DataType:
        if isinstance(dtype, pl.Struct):
            return pl.Struct(
                [pl.Field(f.name, fixed(f"{name}.{f.name}", instance(f.dtype))) for f in dtype.fields]
            )
        if isinstance(dtype, pl.List | pl.Array) and _has_empty_struct(instance(dtype.inner)):
            listed.append(name)
            return pl.String()
        return dtype

    return pl.Schema({name: fixed(name, instance(dtype)) for name, dtype in schema.items()}), listed


def _has_empty_struct(dtype: pl.DataType) -> bool:
    import polars as pl

    if isinstance(dtype, pl.Struct):
        return not dtype.fields or any(_has_empty_struct(instance(f.dtype)) for f in dtype.fields)
    if isinstance(dtype, pl.List | pl.Array):
        return _has_empty_struct(instance(dtype.inner))
    return False
