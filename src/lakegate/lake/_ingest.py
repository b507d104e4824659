"""Stage one file for a dataset: hash it, convert it to one Parquet table, profile it.

Staging needs no database and writes only into a scratch folder; the server's
``dataset_ingest`` then commits the staged batch to the Delta table and the catalog.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakegate.errors import InputError, ReaderError
from lakegate.formats import ArchiveLimits, ReaderLimits
from lakegate.lake._convert import convert
from lakegate.lake._stats import profile_parquet

__all__ = ["StagedBatch", "file_sha256", "stage_file"]

_CHUNK = 1024 * 1024


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise ReaderError(str(path), f"cannot read: {exc.strerror}") from exc
    return digest.hexdigest()


@dataclass(frozen=True)
class StagedBatch:
    """A file converted to one Parquet table in a scratch folder, ready to commit."""

    source: str
    sha256: str
    parquet: Path
    rows: int
    bytes_in: int
    bytes_out: int
    schema: Mapping[str, str]
    profile: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    table: str | None = field(default=None)


def stage_file(
    source: Path,
    scratch: Path,
    *,
    sheet: str | None = None,
    overrides: Mapping[str, str] | None = None,
    sha256: str | None = None,
    label: str | None = None,
    limits: ArchiveLimits | None = None,
    reader_limits: ReaderLimits | None = None,
) -> StagedBatch:
    """Convert ``source`` into ``scratch`` as exactly one table and profile it.

    A file holding several tables (a workbook, a PDF) needs ``sheet`` to pick one.
    ``label`` names the file in messages (an upload's original name).
    """
    started = time.perf_counter()
    digest = sha256 or file_sha256(source)
    results = convert(
        [source],
        scratch,
        format="parquet",
        sheet=sheet,
        overrides=overrides,
        limits=limits,
        reader_limits=reader_limits,
        delta_types=True,
    )
    tables = results[0].tables
    name = label or source.name
    if not tables or (tables[0].rows == 0 and len(tables) == 1):
        raise ReaderError(name, "holds no rows")
    if len(tables) > 1:
        names = ", ".join(t.name for t in tables)
        raise InputError(
            f"{name}: holds {len(tables)} tables ({names}); pick one with --sheet",
            detail={"tables": [t.name for t in tables]},
        )
    table = tables[0]
    _check_names_unique_ignoring_case(name, table.schema)
    parquet = Path(table.path)
    return StagedBatch(
        source=name,
        sha256=digest,
        parquet=parquet,
        rows=table.rows,
        bytes_in=results[0].bytes_in,
        bytes_out=table.bytes_out,
        schema=dict(table.schema),
        profile=profile_parquet(parquet, error_cells=table.error_cells),
        warnings=results[0].warnings,
        seconds=round(time.perf_counter() - started, 3),
        table=table.name,
    )


def _check_names_unique_ignoring_case(name: str, schema: Mapping[str, str]) -> None:
    """Delta tables (and most warehouses) tell columns apart ignoring case: refuse ``a`` beside ``A``."""
    seen: dict[str, str] = {}
    for column in schema:
        other = seen.setdefault(column.casefold(), column)
        if other != column:
            raise ReaderError(
                name,
                f"columns {other!r} and {column!r} differ only in case; a dataset's column names "
                "must be unique ignoring case (rename one in the file)",
            )
