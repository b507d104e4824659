"""Budgets one input file may spend: columns, line length, JSON depth, time and memory.

:class:`ArchiveLimits` bounds what an archive expands to; :class:`ReaderLimits` bounds
what a reader may be asked to do with a file once it is plain bytes. Each limit is cheap
to check *before* the expensive work starts, so a hostile file is refused in
milliseconds instead of running a parser for minutes:

* ``max_columns``: the width of every table, checked on its schema before anything is
  written (a CSV's header, a sheet's columns, a JSON file's keys);
* ``max_line_bytes``: the longest physical line of a text file, found by a bounded
  scan (``memchr`` over 1 MiB blocks, about 1 s per GB) before polars sees the file;
* ``max_json_depth``: how deeply JSON values may nest (polars' nested types and Python's
  decoder recurse);
* ``max_seconds`` / ``max_memory_bytes``: the time and address-space budget of the
  readers whose cost cannot be told from the file's size (PDF: a compressed stream can
  hide gigabytes, a page can hold millions of drawing operations; a corrupt ``.xls``
  can loop in calamine). Those parsers run in a child process under ``RLIMIT_DATA``,
  ``RLIMIT_CPU`` and a timeout (see ``_sandbox``).

Every refusal is a ``ReaderError`` naming the file, the limit and its setting
(``readers.<name>`` in lakegate.yaml, ``LAKEGATE_READERS__<NAME>`` in the environment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lakegate.errors import InputError, ReaderError

__all__ = [
    "ReaderLimits",
    "check_columns",
    "check_json_depth",
    "check_line_lengths",
    "dtype_depth",
    "json_depth",
    "refusal",
]

MiB: Final = 1024 * 1024
_BLOCK: Final = MiB


@dataclass(frozen=True)
class ReaderLimits:
    """What one file may cost a reader (defaults fit real data, not hostile files)."""

    max_columns: int = 16_384
    """Columns of one table (Excel's own limit: column XFD)."""
    max_line_bytes: int = 64 * MiB
    """Longest physical line of a text file (CSV, TSV, JSON lines)."""
    max_json_depth: int = 64
    """How deeply JSON objects and arrays may nest."""
    max_seconds: float = 25.0
    """Time one PDF (or legacy .xls) may take to parse, in its child process."""
    max_memory_bytes: int = 512 * MiB
    """Heap of the child process parsing one PDF (or legacy .xls)."""

    def __post_init__(self) -> None:
        for name in ("max_columns", "max_line_bytes", "max_json_depth", "max_seconds", "max_memory_bytes"):
            if not getattr(self, name) > 0:
                raise InputError(f"reader limit {name}: must be positive, got {getattr(self, name)!r}")
        if self.max_line_bytes < _BLOCK:
            raise InputError(f"reader limit max_line_bytes: must be at least {_BLOCK} (1 MiB)")


def refusal(path: str | Path, what: str, limit: str) -> ReaderError:
    """The refusal of ``path`` for passing ``limit`` (a field of :class:`ReaderLimits`)."""
    setting = f"readers.{limit}"
    return ReaderError(str(path), f"{what} (limit; raise {setting} to allow it)", detail={"limit": setting})


def check_columns(path: str | Path, columns: int, limits: ReaderLimits, *, table: str | None = None) -> None:
    """Refuse a table wider than ``limits.max_columns``."""
    if columns > limits.max_columns:
        where = f"table {table!r} has" if table else "has"
        raise refusal(path, f"{where} {columns:,} columns, more than {limits.max_columns:,}", "max_columns")


def check_line_lengths(
    path: Path, limits: ReaderLimits, *, terminator: bytes = b"\n", label: str | None = None
) -> None:
    """Refuse ``path`` when one of its lines is longer than ``limits.max_line_bytes``.

    A line longer than the limit must span blocks (the limit is at least one block), so
    only each block's first and last terminator matter: a scan at ``memchr`` speed that
    stops at the first line over the limit.
    """
    limit = limits.max_line_bytes
    run = 0  # bytes since the last terminator
    line = 1
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            first = block.find(terminator)
            if first < 0:
                run += len(block)
            else:
                run += first
                if run > limit:
                    break
                line += block.count(terminator)
                run = len(block) - block.rfind(terminator) - 1
            if run > limit:
                break
        else:
            return
    raise refusal(label or path, f"line {line:,} is longer than {limit // MiB} MiB", "max_line_bytes")


# A JSON string (no raw newline inside, as JSON requires): possessive, so linear time.
_JSON_STRING: Final = re.compile(rb'"(?:[^"\\\n]++|\\.)*+"')


def json_depth(data: bytes) -> int:
    """How deeply the JSON values in ``data`` (one or more lines) nest: brackets outside strings."""
    import numpy as np

    text = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    if not text.size:
        return 0
    steps = (text == ord("{")).astype(np.int32) + (text == ord("["))
    steps -= (text == ord("}")).astype(np.int32) + (text == ord("]"))
    return int(np.cumsum(steps).max(initial=0))


def check_json_depth(path: str | Path, data: bytes, limits: ReaderLimits) -> None:
    """Refuse JSON nested deeper than ``limits.max_json_depth`` (parsers recurse on depth)."""
    depth = json_depth(data)
    if depth > limits.max_json_depth:
        raise refusal(
            path, f"JSON nested {depth:,} levels deep, more than {limits.max_json_depth}", "max_json_depth"
        )


def dtype_depth(dtype: object) -> int:
    """How deeply a polars type nests (``Struct``, ``List``, ``Array``): 0 for a plain type."""
    inner = getattr(dtype, "inner", None)
    fields = getattr(dtype, "fields", None)
    depth = 0
    if inner is not None:
        depth = max(depth, 1 + dtype_depth(inner))
    if fields:
        depth = max(depth, 1 + max(dtype_depth(f.dtype) for f in fields))
    return depth
