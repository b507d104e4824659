"""What every reader shares: the :class:`Table` it yields and the :class:`ReadOptions` it gets.

A reader turns one file into one or more tables. Each table is a polars ``LazyFrame``:
text formats (CSV, JSON lines) are *scans*, so writing the table streams the file
through polars' engine in bounded memory and on every core; formats that can only be
read whole (a sheet, a PDF page's tables) are small in-memory frames made lazy. Work that
can only be judged after the data went through (ragged CSV rows) reports through
:attr:`Table.finish`; a parse failure while writing goes to :attr:`Table.recover`,
which widens a column and returns a table to retry, or raises a ``ReaderError``; ``finish``
may ask for another pass with :class:`Reread`.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from lakegate.formats._archive import ArchiveLimits
from lakegate.formats._limits import ReaderLimits

if TYPE_CHECKING:
    import polars as pl

__all__ = ["DEFAULT_SAMPLE_ROWS", "ReadOptions", "Reader", "Reread", "Table", "safe_name"]

DEFAULT_SAMPLE_ROWS: Final = 10_000
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME: Final = 80


@dataclass(frozen=True)
class ReadOptions:
    """How to read: sheet choice, type overrides, archive and reader limits, scratch space."""

    sheet: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    work_dir: Path | None = None
    """Where decompressed or re-encoded copies go (default: the system temp folder)."""
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    """Rows sampled to sniff the dialect and infer column types."""
    reader_limits: ReaderLimits = field(default_factory=ReaderLimits)
    """Columns, line length, JSON depth, time and memory one file may cost (see ``_limits``)."""


@dataclass
class Table:
    """One table found in a file.

    ``name`` is ``None`` for formats holding a single table (CSV, JSON, Parquet) and the
    sheet or table name otherwise. ``frame`` is lazy: nothing is read until it is written.
    """

    name: str | None
    frame: pl.LazyFrame
    warnings: list[str] = field(default_factory=list)
    recover: Callable[[BaseException], Table] | None = None
    """Called with a failure raised while writing ``frame``: return a table to retry, or raise."""
    error_cells: Mapping[str, int] | None = None
    """Per column, cells that held an error value (``#DIV/0!``) read as nulls (spreadsheets)."""
    finish: Callable[[Path], list[str]] | None = None
    """Called with the file ``frame`` was written to: warnings known only after a full pass.

    It may raise :class:`Reread` when that pass found something only another pass can
    fix (blank lines to drop, NUL bytes past the sampled head)."""


class Reread(Exception):  # noqa: N818 - a request to the writer, not an error
    """Raised by :attr:`Table.finish`: write ``table`` instead of what was just written."""

    def __init__(self, table: Table) -> None:
        super().__init__("write the table again")
        self.table = table


class Reader(ABC):
    """A file format: a name, its extensions and a generator of tables."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    multi_table: ClassVar[bool] = False
    """True when a file can hold several tables (outputs are then named ``<stem>__<table>``)."""

    @abstractmethod
    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        """Yield the tables of ``path``; raise ``ReaderError`` for a file that is not this format."""


def safe_name(name: str, *, default: str = "table") -> str:
    """``name`` reduced to ``[A-Za-z0-9._-]``: safe as one path component, never a traversal."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._-")[:_MAX_NAME].strip("._-")
    return cleaned or default
