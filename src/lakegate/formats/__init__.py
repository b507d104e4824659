"""Format readers: one small class per format, found through a lazy registry.

``read_tables(path)`` yields the :class:`Table` objects of a file (one per sheet or
detected table), unwrapping ``.gz`` and ``.zip`` within :class:`ArchiveLimits`. Readers
import polars and their parsers only when a file of their format is read.
"""

from lakegate.formats._archive import ArchiveLimits
from lakegate.formats._base import Reader, ReadOptions, Reread, Table, safe_name
from lakegate.formats._infer import KINDS, Kind
from lakegate.formats._limits import ReaderLimits
from lakegate.formats._registry import (
    ARCHIVE_EXTENSIONS,
    EXTENSIONS,
    READERS,
    is_multi_table,
    read_tables,
    reader_for,
)

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "EXTENSIONS",
    "KINDS",
    "READERS",
    "ArchiveLimits",
    "Kind",
    "ReadOptions",
    "Reader",
    "ReaderLimits",
    "Reread",
    "Table",
    "is_multi_table",
    "read_tables",
    "reader_for",
    "safe_name",
]
