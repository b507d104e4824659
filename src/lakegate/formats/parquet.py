"""Parquet (``.parquet``, ``.pq``): passed through as a scan, re-compressed on write.

The types are the file's own; overrides still apply. The footer is read up front so a
file that is not Parquet (or was cut short) fails before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from lakegate.errors import ReaderError
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import check_overrides, to_kind

__all__ = ["ParquetReader"]


class ParquetReader(Reader):
    name = "parquet"
    extensions: ClassVar[tuple[str, ...]] = (".parquet", ".pq")

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        import polars as pl

        if path.stat().st_size == 0:
            raise ReaderError(str(path), "empty file")
        try:
            schema = pl.read_parquet_schema(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReaderError(str(path), f"not a valid Parquet file ({reason})") from exc
        overrides = check_overrides(options.overrides)
        warnings = [
            f"override for unknown column {name!r} ignored" for name in overrides if name not in schema
        ]
        columns = [
            to_kind(pl.col(name), overrides[name], source=dtype).alias(name)
            if name in overrides
            else pl.col(name)
            for name, dtype in schema.items()
        ]
        yield Table(name=None, frame=pl.scan_parquet(path).select(columns), warnings=warnings)
