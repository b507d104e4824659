"""Write a staged Parquet file as a Delta Lake table (``deltalake``), atomically.

A new table is written into the scratch folder and renamed into place (the Delta log
holds relative paths, so the move is safe); an existing Delta table gets a new version
with ``mode="overwrite"``, which the Delta log commits atomically. Types Delta cannot
store are mapped first: dictionary (categorical) columns become strings, all-null
columns become string columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate.errors import ConflictError, LakeError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["write_delta"]

_BATCH_ROWS: Final = 128 * 1024


def write_delta(parquet: Path, target: Path, *, scratch: Path) -> int:
    """Write the rows of ``parquet`` as the Delta table ``target``; return its data size in bytes."""
    from deltalake import DeltaTable, WriterProperties, write_deltalake
    from deltalake.exceptions import DeltaError

    reader = _arrow_reader(parquet)
    properties = WriterProperties(compression="ZSTD")
    try:
        if (target / "_delta_log").is_dir():
            write_deltalake(
                str(target), reader, mode="overwrite", schema_mode="overwrite", writer_properties=properties
            )
        elif target.exists():
            raise ConflictError(f"{target} already exists and is not a Delta table")
        else:
            staged = scratch / f"{target.name}.delta"
            write_deltalake(str(staged), reader, mode="error", writer_properties=properties)
            staged.replace(target)
        files = DeltaTable(str(target)).file_uris()
    except DeltaError as exc:
        raise LakeError(
            f"{target}: cannot write the Delta table ({exc})",
            detail={"location": str(target), "reason": str(exc)},
        ) from exc
    return sum(Path(_local(uri)).stat().st_size for uri in files)


def _local(uri: str) -> str:
    return uri.removeprefix("file://")


def _arrow_reader(parquet: Path) -> pa.RecordBatchReader:
    """Stream ``parquet`` in bounded batches, with types Delta can store."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(parquet)
    schema = pa.schema([_delta_field(f) for f in source.schema_arrow])

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in source.iter_batches(batch_size=_BATCH_ROWS):
            yield batch.cast(schema) if batch.schema != schema else batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _delta_field(f: Any) -> Any:
    import pyarrow as pa

    kind = f.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind):
        kind = pa.large_string()
    if pa.types.is_string_view(kind):
        kind = pa.large_string()
    return pa.field(f.name, kind, nullable=True)
