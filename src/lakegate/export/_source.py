"""Open what is being exported as a schema plus a stream of bounded polars frames.

A Delta table folder or :class:`~lakegate.lake.TableLocation` (``s3://...``; optionally at a
``version``), a Parquet file or folder, a
``pyarrow.dataset.Dataset``, a polars ``LazyFrame`` (collected in streaming batches) or a
``DataFrame`` (sliced). Nothing here holds more than one batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from lakegate.lake import TableLocation

__all__ = ["ExportSource", "FrameStream", "open_source"]

ExportSource = Any  # Path | str | TableLocation | pyarrow.dataset.Dataset | polars.LazyFrame | DataFrame


@dataclass(frozen=True)
class FrameStream:
    """The source's column types and an iterator of frames of at most ``batch_rows`` rows."""

    schema: pl.Schema
    frames: Iterator[pl.DataFrame]
    label: str


def open_source(source: ExportSource, *, version: int | None, batch_rows: int) -> FrameStream:
    """Open ``source`` for streaming; ``version`` selects a Delta table version."""
    import polars as pl
    import pyarrow.dataset as ds

    from lakegate.lake import TableLocation

    if batch_rows < 1:
        raise InputError(f"batch_rows must be at least 1, not {batch_rows}")
    if isinstance(source, TableLocation) and source.local is not None:
        source = source.local
    if isinstance(source, str | Path):
        return _from_dataset(_open_path(Path(source), version), batch_rows, label=str(source))
    if isinstance(source, TableLocation):
        return _from_dataset(_open_remote(source, version), batch_rows, label=source.uri)
    if version is not None:
        raise InputError("version= applies only to a Delta table folder")
    if isinstance(source, ds.Dataset):
        return _from_dataset(source, batch_rows, label="dataset")
    if isinstance(source, pl.LazyFrame):
        schema = source.collect_schema()
        return FrameStream(schema, _lazy_batches(source, batch_rows), label="lazy frame")
    if isinstance(source, pl.DataFrame):
        return FrameStream(source.schema, source.iter_slices(batch_rows), label="data frame")
    raise InputError(
        f"cannot export a {type(source).__name__}: give a Delta table folder, a pyarrow dataset "
        "or a polars LazyFrame"
    )


def _open_path(path: Path, version: int | None) -> Any:
    import pyarrow.dataset as ds

    if (path / "_delta_log").is_dir():
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError

        try:
            return DeltaTable(str(path), version=version).to_pyarrow_dataset()
        except DeltaError as exc:
            at = "" if version is None else f" at version {version}"
            raise InputError(f"{path}: cannot read the Delta table{at} ({exc})") from exc
    if version is not None:
        raise InputError(f"{path}: version= needs a Delta table folder (no _delta_log here)")
    if (path.is_file() and path.suffix == ".parquet") or (path.is_dir() and any(path.glob("*.parquet"))):
        return ds.dataset(str(path), format="parquet")
    raise InputError(f"{path}: not a Delta table folder or Parquet data")


def _open_remote(location: TableLocation, version: int | None) -> Any:
    """The Delta table at an object-store ``location`` as a pyarrow dataset."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    at = "" if version is None else f" at version {version}"
    try:
        if not location.exists():
            raise InputError(f"{location.uri}: no Delta table there")
        table = DeltaTable(location.uri, version=version, storage_options=location.options)
        return table.to_pyarrow_dataset()
    except DeltaError as exc:
        raise InputError(f"{location.uri}: cannot read the Delta table{at} ({exc})") from exc


def _from_dataset(dataset: Any, batch_rows: int, *, label: str) -> FrameStream:
    import polars as pl

    schema = pl.from_arrow(dataset.schema.empty_table()).schema  # type: ignore[union-attr]

    def frames() -> Iterator[pl.DataFrame]:
        for batch in dataset.to_batches(batch_size=batch_rows):
            if batch.num_rows:
                yield pl.from_arrow(batch)  # type: ignore[misc]

    return FrameStream(schema, frames(), label=label)


def _lazy_batches(frame: pl.LazyFrame, batch_rows: int) -> Iterator[pl.DataFrame]:
    for batch in frame.collect_batches(chunk_size=batch_rows, lazy=True):
        if batch.height:
            yield batch
