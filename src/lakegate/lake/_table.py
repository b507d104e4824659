"""A dataset's Delta table: append or overwrite a staged batch, evolve the schema, travel in time.

The catalog (``DatasetVersion`` in the server) records the Delta version of every accepted
write; readers always read *that* version. A write that reached the Delta log but not the
catalog (the process died in between) is rolled back by :func:`restore_to` before the next
write, so no half-recorded batch ever becomes part of the dataset.

A table is a local folder (``Path``) or a :class:`~lakegate.lake.TableLocation` (an
``s3://`` URI plus storage options); both behave the same.

Schema rules for a batch appended to an existing table (types compared by family: int,
float, bool, string, date, datetime, ...):

- a new column is added (earlier rows read it as null), a missing column is null;
- a batch column that fits the table's type is cast to it (int -> float, null or any -> string);
- any other difference is a type conflict: an error naming the columns, unless
  ``evolve=True``, which widens the table where that is safe (int -> float, any -> string)
  by rewriting it as a new version, then appends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from lakegate._atomic import atomic_path
from lakegate._dtypes import family
from lakegate.errors import ConflictError, InputError
from lakegate.lake._location import TableLocation, as_location, table_errors

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

__all__ = [
    "TableWrite",
    "WriteMode",
    "batch_frame",
    "export_version",
    "restore_to",
    "table_schema",
    "write_batch",
]

WriteMode = Literal["append", "overwrite"]
_BATCH_ROWS: Final = 128 * 1024


@dataclass(frozen=True)
class TableWrite:
    """What a write did: the new Delta version and how the schema changed."""

    delta_version: int
    added_columns: tuple[str, ...] = ()
    widened_columns: Mapping[str, str] = field(default_factory=dict)
    bytes_written: int = 0


def _family(dtype: pl.DataType) -> str:
    """The shared type family; types it calls "other" (lists, structs) keep their own name."""
    name = family(dtype)
    return str(dtype.base_type()).lower() if name == "other" else name


def _open(loc: TableLocation, version: int | None = None) -> Any:
    """The ``DeltaTable`` at ``loc`` (latest version unless ``version``)."""
    from deltalake import DeltaTable

    return DeltaTable(loc.target, version=version, storage_options=loc.options)


def table_schema(table: Path | TableLocation) -> dict[str, str] | None:
    """``{column: family}`` of the table's latest version, or None when there is no table."""
    import polars as pl

    loc = as_location(table)
    if not loc.exists():
        return None
    with table_errors(loc, "read"):
        schema = pl.scan_delta(loc.target, storage_options=loc.polars_options).collect_schema()
    return {name: _family(dtype) for name, dtype in schema.items()}


def _latest(loc: TableLocation) -> int | None:
    return int(_open(loc).version()) if loc.exists() else None


def restore_to(table: Path | TableLocation, version: int | None) -> bool:
    """Undo Delta commits after ``version`` (None: the table should not exist). True if it acted."""
    loc = as_location(table)
    latest = _latest(loc)
    if latest is None or latest == version:
        return False
    with table_errors(loc, "roll back"):
        if version is None:
            loc.delete()
        else:
            _open(loc).restore(version)
    return True


def _plan(
    table: dict[str, str], batch: dict[str, str], *, evolve: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Return (batch casts, table widenings) for appending ``batch`` to ``table``; raise on conflict."""
    casts: dict[str, str] = {}
    widen: dict[str, str] = {}
    conflicts: list[str] = []
    for name, new in batch.items():
        old = table.get(name)
        if old is None or old == new:
            continue
        if new == "null" or old == "string" or (old == "float" and new == "int"):
            casts[name] = old  # lossless: the batch fits the table's type
        elif evolve:
            target = _wider(old, new)
            widen[name] = target
            casts[name] = target
        else:
            conflicts.append(f"{name} is {old} in the dataset but {new} in this file")
    if conflicts:
        hint = "" if evolve else "; use --evolve to widen where safe (int -> float, any -> string)"
        raise InputError("type conflict: " + "; ".join(conflicts) + hint, detail={"conflicts": conflicts})
    return casts, widen


def _wider(old: str, new: str) -> str:
    """The narrowest family holding both: float for int/float, else string."""
    return "float" if {old, new} == {"int", "float"} else "string"


def _arrow_type(family: str, loc: TableLocation, name: str) -> pa.DataType:
    import pyarrow as pa

    if family == "float":
        return pa.float64()
    if family == "string":
        return pa.large_string()
    arrow_schema = pa.schema(_open(loc).schema().to_arrow())
    return arrow_schema.field(name).type


def _delta_type(kind: pa.DataType) -> pa.DataType:
    """Types Delta cannot store become the nearest it can: dictionaries, nulls, string views."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind) or pa.types.is_string_view(kind):
        return pa.large_string()
    return kind


def _stream(
    batches: Iterator[pa.RecordBatch], source: pa.Schema, casts: Mapping[str, pa.DataType]
) -> pa.RecordBatchReader:
    """Stream record batches cast to Delta-storable types (and ``casts``), in bounded memory."""
    import pyarrow as pa

    schema = pa.schema(
        [pa.field(f.name, casts.get(f.name) or _delta_type(f.type), nullable=True) for f in source]
    )

    def cast_all() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield batch.cast(schema) if batch.schema != schema else batch

    return pa.RecordBatchReader.from_batches(schema, cast_all())


def _parquet_reader(path: Path, casts: Mapping[str, pa.DataType]) -> pa.RecordBatchReader:
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    return _stream(source.iter_batches(batch_size=_BATCH_ROWS), source.schema_arrow, casts)


def write_batch(
    table: Path | TableLocation,
    staged: Path,
    *,
    mode: WriteMode = "append",
    evolve: bool = False,
    expected_version: int | None,
) -> TableWrite:
    """Write the staged Parquet ``staged`` into ``table`` as one new Delta version.

    ``expected_version`` is the Delta version the catalog knows as latest (None: none yet);
    commits after it are rolled back first.
    """
    import polars as pl
    from deltalake import WriterProperties, write_deltalake

    loc = as_location(table)
    restore_to(loc, expected_version)
    batch_families = {
        name: _family(dtype) for name, dtype in pl.scan_parquet(staged).collect_schema().items()
    }
    current = table_schema(loc)
    properties = WriterProperties(compression="ZSTD")
    added: tuple[str, ...] = ()
    widen: dict[str, str] = {}
    with table_errors(loc, "write"):
        if current is None or mode == "overwrite":
            if loc.local is not None:
                loc.local.parent.mkdir(parents=True, exist_ok=True)
            write_deltalake(
                loc.target,
                _parquet_reader(staged, {}),
                mode="overwrite",
                schema_mode="overwrite",
                storage_options=loc.options,
                writer_properties=properties,
            )
        else:
            plan_casts, widen = _plan(current, batch_families, evolve=evolve)
            casts = {name: _arrow_type(family, loc, name) for name, family in plan_casts.items()}
            if widen:
                _widen(loc, {name: casts[name] for name in widen}, properties)
            added = tuple(name for name in batch_families if name not in current)
            write_deltalake(
                loc.target,
                _parquet_reader(staged, casts),
                mode="append",
                schema_mode="merge",  # also lets a batch lack columns (read as null)
                storage_options=loc.options,
                writer_properties=properties,
            )
        version = int(_open(loc).version())
    return TableWrite(delta_version=version, added_columns=added, widened_columns=widen)


def _widen(loc: TableLocation, casts: Mapping[str, pa.DataType], properties: Any) -> None:
    """Rewrite the table with widened column types as a new version (old versions stay readable).

    Streaming from the current files while overwriting is safe: an overwrite adds new files
    and marks the old ones removed in the log; nothing is deleted until a vacuum.
    """
    from deltalake import write_deltalake

    dataset = _open(loc).to_pyarrow_dataset()
    reader = _stream(iter(dataset.to_batches(batch_size=_BATCH_ROWS)), dataset.schema, casts)
    write_deltalake(
        loc.target,
        reader,
        mode="overwrite",
        schema_mode="overwrite",
        storage_options=loc.options,
        writer_properties=properties,
    )


def batch_frame(table: Path | TableLocation, delta_version: int) -> pl.LazyFrame:
    """The rows that Delta version ``delta_version`` added (a whole table after an overwrite).

    The files of that version minus the files of the one before: for an append exactly the
    new batch, without reading the rest of the table.
    """
    import polars as pl

    loc = as_location(table)
    current = set(_open(loc, delta_version).file_uris())
    before = set(_open(loc, delta_version - 1).file_uris()) if delta_version else set()
    added = sorted(current - before)
    if not added:
        return pl.scan_delta(loc.target, version=delta_version, storage_options=loc.polars_options).head(0)
    return pl.scan_parquet(added, storage_options=loc.polars_options)


def scan_version(table: Path | TableLocation, delta_version: int) -> pl.LazyFrame:
    """The whole table as of Delta version ``delta_version`` (time travel), lazily."""
    import polars as pl

    loc = as_location(table)
    if not loc.exists():
        raise ConflictError(f"{loc} holds no Delta table")
    return pl.scan_delta(loc.target, version=delta_version, storage_options=loc.polars_options)


def export_version(table: Path | TableLocation, delta_version: int, out: Path) -> int:
    """Write the table as of ``delta_version`` to the Parquet file ``out`` (atomically); return rows."""
    import polars as pl

    frame = scan_version(table, delta_version)
    if out.exists() and out.is_dir():
        raise InputError(f"{out} is a folder; give a file name such as out.parquet")
    with atomic_path(out) as tmp:
        frame.sink_parquet(tmp, compression="zstd")
        rows = pl.scan_parquet(tmp).select(pl.len()).collect().item()
    return int(rows)
