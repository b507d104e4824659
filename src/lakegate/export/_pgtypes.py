"""Polars/Arrow column types -> PostgreSQL types, and frames -> ``COPY ... (FORMAT csv)`` bytes.

CSV because polars writes it vectorised and multi-threaded, and PostgreSQL's CSV format
keeps nulls and empty strings apart: a null is an unquoted empty field, an empty string is
``""`` (polars quotes empty strings). Backslashes are plain characters in CSV, so strings
need no escaping. Nested values (lists, arrays, structs) become JSON text for ``jsonb``
columns, binary becomes ``\\x<hex>`` for ``bytea`` and durations become ``<n> microseconds``
for ``interval``, all as polars expressions, never per row.

One trap: a line holding only ``\\.`` ends a CSV ``COPY`` early, silently. Only a
one-column frame can produce such a line, so one-column frames quote every string.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from lakegate.errors import ExportError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["csv_bytes", "json_text", "pg_type", "pg_types"]

_JSON_PREFIX = len('{"v":')


def pg_type(name: str, dtype: pl.DataType) -> str:  # noqa: PLR0911 - one answer per type
    """The PostgreSQL column type for a polars dtype; :class:`ExportError` names an unsupported column."""
    import polars as pl

    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return _INTEGER_TYPES.get(str(dtype), "numeric")
    if dtype.is_float():
        return "double precision" if dtype == pl.Float64 else "real"
    if isinstance(dtype, pl.Decimal):
        return f"numeric({int(dtype.precision)}, {int(dtype.scale)})" if dtype.precision else "numeric"
    if dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return "text"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp with time zone" if dtype.time_zone else "timestamp without time zone"
    if dtype == pl.Time:
        return "time without time zone"
    if isinstance(dtype, pl.Duration):
        return "interval"
    if dtype == pl.Binary:
        return "bytea"
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return "jsonb"
    raise ExportError(
        f"column {name!r}: type {dtype} cannot be exported to PostgreSQL", detail={"column": name}
    )


_INTEGER_TYPES = {
    "Int8": "smallint",
    "Int16": "smallint",
    "Int32": "integer",
    "Int64": "bigint",
    "UInt8": "smallint",
    "UInt16": "integer",
    "UInt32": "bigint",
    "UInt64": "numeric(20, 0)",
    "Int128": "numeric(39, 0)",
}


def pg_types(schema: pl.Schema) -> dict[str, str]:
    """Column name -> PostgreSQL type for every column of ``schema``."""
    return {name: pg_type(name, dtype) for name, dtype in schema.items()}


def json_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` (a list, array or struct) as JSON text; null stays null."""
    import polars as pl

    col = pl.col(name)
    if isinstance(dtype, pl.Struct):
        text = col.struct.json_encode()
    else:
        # polars encodes structs only: wrap the value as {"v": ...} and cut the wrapper off.
        text = pl.struct(col.alias("v")).struct.json_encode().str.slice(_JSON_PREFIX).str.strip_suffix("}")
    return pl.when(col.is_null()).then(None).otherwise(text).alias(name)


def _convert(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """The expression that turns column ``name`` into text PostgreSQL parses, if it needs one."""
    import polars as pl

    col = pl.col(name)
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return json_text(name, dtype)
    if dtype == pl.Binary:
        text = pl.concat_str(pl.lit("\\x"), col.bin.encode("hex"))
    elif isinstance(dtype, pl.Duration):
        text = pl.concat_str(col.dt.total_microseconds().cast(pl.String), pl.lit(" microseconds"))
    else:
        return None
    return pl.when(col.is_null()).then(None).otherwise(text).alias(name)


def csv_bytes(frame: pl.DataFrame) -> memoryview:
    """``frame`` as CSV rows (no header) for ``COPY ... FROM STDIN (FORMAT csv)``."""
    conversions = [e for e in (_convert(n, d) for n, d in frame.schema.items()) if e is not None]
    if conversions:
        frame = frame.with_columns(conversions)
    buffer = io.BytesIO()
    frame.write_csv(
        buffer,
        include_header=False,
        quote_style="non_numeric" if frame.width == 1 else "necessary",
    )
    return buffer.getbuffer()
