"""Frames -> ``COPY ... FROM STDIN (FORMAT binary)`` bytes, built column-wise with numpy and Arrow.

PostgreSQL parses its binary format about twice as fast as CSV (no number or date parsing),
so when every column has a type listed in :data:`BINARY_TYPES` (and an existing target uses
exactly those types) the exporter sends binary; otherwise it falls back to CSV.

A binary row is a 16-bit field count, then per field a 32-bit length (-1 for null) and the
value in network byte order. Each column becomes an Arrow ``large_binary`` array of
"length + value" fields (fixed-width values through one numpy array, variable ones with a
length prefix joined on), and one ``binary_join_element_wise`` concatenates the fields of
every row; the joined array's data buffer is the COPY payload. No Python loop over rows.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from lakegate.export._pgtypes import json_text

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

__all__ = ["BINARY_TYPES", "HEADER", "TRAILER", "binary_bytes"]

HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, no extension
TRAILER: Final = struct.pack(">h", -1)
_NULL: Final = struct.pack(">i", -1)
_EPOCH_DAYS: Final = 10_957  # 1970-01-01 -> 2000-01-01, PostgreSQL's epoch
_EPOCH_MICROS: Final = _EPOCH_DAYS * 86_400_000_000

# PostgreSQL type -> (polars type to cast to, numpy big-endian dtype) for fixed-width values.
_FIXED: Final[dict[str, tuple[str, str]]] = {
    "boolean": ("UInt8", ">u1"),
    "smallint": ("Int16", ">i2"),
    "integer": ("Int32", ">i4"),
    "bigint": ("Int64", ">i8"),
    "real": ("Float32", ">f4"),
    "double precision": ("Float64", ">f8"),
}
BINARY_TYPES: Final = frozenset(
    {*_FIXED, "date", "timestamp without time zone", "timestamp with time zone", "text", "bytea", "jsonb"}
)


def binary_bytes(frame: pl.DataFrame, types: Mapping[str, str]) -> memoryview:
    """The rows of ``frame`` in COPY binary format (no header or trailer); ``types`` from ``pg_types``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fields = [_field(frame.get_column(name), types[name]) for name in frame.columns]
    count = pa.scalar(struct.pack(">h", len(fields)), pa.large_binary())
    rows = pc.binary_join_element_wise(count, *fields, pa.scalar(b"", pa.large_binary()))
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    import numpy as np

    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=len(rows) + 1, offset=rows.offset * 8)
    data = rows.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def _field(series: pl.Series, pg: str) -> Any:
    import polars as pl

    if pg in _FIXED:
        cast, dtype = _FIXED[pg]
        values = series.cast(getattr(pl, cast)).fill_null(0).to_numpy()
        return _fixed(values.astype(dtype, copy=False), series)
    if pg == "date":
        days = series.cast(pl.Int32).fill_null(0).to_numpy() - _EPOCH_DAYS
        return _fixed(days.astype(">i4"), series)
    if pg.startswith("timestamp"):
        micros = series.dt.cast_time_unit("us").to_physical().fill_null(0).to_numpy() - _EPOCH_MICROS
        return _fixed(micros.astype(">i8"), series)
    if pg == "jsonb":  # version byte 1, then the JSON text
        text = series.to_frame().select(json_text(series.name, series.dtype)).to_series()
        return _variable(text, b"\x01")
    if pg == "bytea":
        return _variable(series, b"")
    return _variable(series.cast(pl.String), b"")


def _fixed(values: np.ndarray[Any, Any], series: pl.Series) -> Any:
    """Fields of a fixed width: one (rows, 4 + width) byte matrix, nulls swapped in afterwards."""
    import numpy as np
    import pyarrow as pa

    width = values.dtype.itemsize
    matrix = np.empty((len(values), 4 + width), dtype=np.uint8)
    matrix[:, :4] = np.frombuffer(struct.pack(">i", width), dtype=np.uint8)
    matrix[:, 4:] = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), width)
    fields = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4 + width), len(values), [None, pa.py_buffer(matrix)]
    ).cast(pa.large_binary())
    return _with_nulls(fields, series)


def _variable(series: pl.Series, prefix: bytes) -> Any:
    """Fields of variable width: a 4-byte length joined before each value."""
    import numpy as np
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc

    payload = series.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.large_binary())
    if isinstance(payload, pa.ChunkedArray):
        payload = payload.combine_chunks()
    lengths = pc.binary_length(payload).fill_null(0).to_numpy(zero_copy_only=False) + len(prefix)
    lengths_be = lengths.astype(">i4")
    heads = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), len(lengths_be), [None, pa.py_buffer(np.ascontiguousarray(lengths_be))]
    ).cast(pa.large_binary())
    parts = [heads, pa.scalar(prefix, pa.large_binary()), payload] if prefix else [heads, payload]
    joined = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.large_binary()))
    return pc.fill_null(joined, pa.scalar(_NULL, pa.large_binary()))


def _with_nulls(fields: Any, series: pl.Series) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not series.null_count():
        return fields
    valid = pa.array(series.is_not_null().to_numpy())
    return pc.if_else(valid, fields, pa.scalar(_NULL, pa.large_binary()))
