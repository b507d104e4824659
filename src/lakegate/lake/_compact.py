"""Merge a table's small files (stream micro-batches) into few large ones, in one Delta commit.

Compaction rewrites files, not data: the rows of the compacted version are exactly those
of the version before it, so the catalog's latest version may read the compacted one.
Older versions keep their files (time travel) until a vacuum removes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lakegate.lake._location import TableLocation, as_location, table_errors
from lakegate.lake._table import restore_to

__all__ = ["Compacted", "compact_table", "table_file_count"]


@dataclass(frozen=True)
class Compacted:
    delta_before: int
    delta_after: int
    files_before: int
    files_after: int
    seconds: float


def table_file_count(table: Path | TableLocation) -> int:
    """Data files in the table's latest version (0 when there is no table)."""
    from deltalake import DeltaTable

    loc = as_location(table)
    if not loc.exists():
        return 0
    return len(DeltaTable(loc.target, storage_options=loc.options).file_uris())


def compact_table(
    table: Path | TableLocation, *, expected_version: int, target_bytes: int
) -> Compacted | None:
    """Bin-pack the latest version's files up to ``target_bytes`` each; None when nothing merged.

    ``expected_version`` is the Delta version the catalog knows as latest; commits after it
    (a write that never reached the catalog) are rolled back first, as before any write.
    """
    from deltalake import DeltaTable, WriterProperties

    started = time.perf_counter()
    loc = as_location(table)
    restore_to(loc, expected_version)
    with table_errors(loc.name if loc.local is not None else loc, "compact"):
        dt = DeltaTable(loc.target, storage_options=loc.options)
        before_version, before_files = dt.version(), len(dt.file_uris())
        metrics = dt.optimize.compact(
            target_size=target_bytes, writer_properties=WriterProperties(compression="ZSTD")
        )
        dt = DeltaTable(loc.target, storage_options=loc.options)
    if not metrics.get("numFilesRemoved") or dt.version() == before_version:
        return None
    return Compacted(
        delta_before=before_version,
        delta_after=dt.version(),
        files_before=before_files,
        files_after=len(dt.file_uris()),
        seconds=round(time.perf_counter() - started, 3),
    )
