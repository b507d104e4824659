"""Stream JSON: a document of records into JSON lines; JSON lines into polars via pyarrow.

Accepted shapes: an array of objects (``[{...}, {...}]``), or an object holding one list
of objects (``{"meta": {...}, "data": [{...}]}``: the list is streamed, the other keys
are ignored with a warning); an object with no such list is one record. An element that
is not an object (an array of numbers, of arrays) is the record ``{"value": element}``,
so such an array is a one-column table ``value`` (as DuckDB reads it), with a warning;
a document that is a single scalar is one such record. An empty array or a file of
blanks is no record at all. NUL bytes between values (padding) are skipped like blanks.
Memory holds one record at a time, so a large export never has to fit in memory.
Errors name the line.

``arrow_scan`` reads JSON lines with pyarrow's streaming reader (one block at a time) as a
lazy polars source; a line it refuses surfaces as a polars ``ComputeError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from lakegate.errors import ReaderError
from lakegate.formats._infer import instance

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

__all__ = ["arrow_scan", "arrow_schema", "json_to_lines"]

_CHUNK: Final = 1024 * 1024
_MAX_RECORD: Final = 64 * 1024 * 1024
_WS: Final = " \t\r\n\x00"  # NUL: padding after the document
ARROW_BLOCK: Final = 4 * 1024 * 1024
"""Bytes per pyarrow block (a line longer than this makes pyarrow refuse the file)."""


class _Cursor:
    """A window over a text stream: ``buf[pos:]`` is unread; refills on demand."""

    def __init__(self, path: Path, handle: TextIO) -> None:
        self.path = path
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.line_base = 1
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.line_base += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def lookahead(self) -> str:
        """The first non-blank character after the current one; nothing is consumed."""
        index = self.pos + 1
        while True:
            while index < len(self.buf) and self.buf[index] in _WS:
                index += 1
            if index < len(self.buf):
                return self.buf[index]
            chunk = "" if self.eof else self.handle.read(_CHUNK)
            if not chunk:
                self.eof = True
                return ""
            self.buf += chunk

    def peek(self) -> str:
        """The next non-blank character ('' at the end), left unread."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, chars: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            self.fail(f"expected {' or '.join(repr(c) for c in chars)}, found {found}")
        self.pos += 1
        return char

    def value(self) -> Any:
        decoder = json.JSONDecoder()
        self.peek()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except RecursionError as exc:
                self.fail(f"JSON nested too deeply to read ({exc})")
            except json.JSONDecodeError as exc:
                # A value cut by the window end: read more and try again (up to a bound).
                if len(self.buf) - self.pos < _MAX_RECORD and self.more():
                    continue
                self.fail(f"malformed JSON: {exc.msg}", at=exc.pos)
            if end == len(self.buf) and self.more():
                continue  # a number may continue in the next chunk
            self.pos = end
            return value

    def line(self, at: int | None = None) -> int:
        return self.line_base + self.buf.count("\n", 0, self.pos if at is None else at)

    def fail(self, reason: str, *, at: int | None = None) -> None:
        raise ReaderError(str(self.path), f"line {self.line(at)}: {reason}")


def json_to_lines(src: Path, dst: Path, *, encoding: str = "utf-8") -> tuple[int, list[str]]:
    """Write the records of the JSON document ``src`` to ``dst`` as JSON lines.

    Return how many records were written and the warnings.
    """
    with (
        src.open(encoding=encoding, errors="strict", newline="") as text,
        # An unpaired surrogate ("\ud800" in the source) is written back as that escape.
        dst.open("w", encoding="utf-8", errors="backslashreplace") as out,
    ):
        cursor = _Cursor(src, text)
        warnings: list[str] = []
        try:
            first = cursor.peek()
            if first == "[":
                counts = _write(out, _array(cursor))
            elif first == "{":
                counts, warnings = _object(cursor, out)
            elif not first:
                return 0, ["empty file (only blanks): no records, an empty table"]
            else:
                counts = _write(out, iter([cursor.value()]))
                warnings.append("a single value, not records: read as one row of column 'value'")
            if cursor.peek():
                cursor.fail("unexpected data after the JSON document")
        except UnicodeDecodeError as exc:
            raise ReaderError(str(src), f"not valid {encoding} text ({exc.reason})") from exc
    count, wrapped = counts
    if count == 0:
        warnings.append("an empty array: no records, an empty table")
    elif wrapped == count and first == "[":
        warnings.append("an array of values, not records: read as one column 'value'")
    elif wrapped and first == "[":
        warnings.append(f"{wrapped} element(s) are not records (objects): read into column 'value'")
    return count, warnings


def _write(out: TextIO, records: Iterator[Any]) -> tuple[int, int]:
    """Write ``records`` as lines; a value that is not an object becomes ``{"value": ...}``."""
    count = wrapped = 0
    for record in records:
        if not isinstance(record, dict):
            record = {"value": record}  # noqa: PLW2901 - the line written for a bare value
            wrapped += 1
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count, wrapped


def _array(cursor: _Cursor) -> Iterator[Any]:
    cursor.expect("[")
    if cursor.peek() == "]":
        cursor.pos += 1
        return
    while True:
        yield cursor.value()
        if cursor.expect(",]") == "]":
            return


def _object(cursor: _Cursor, out: TextIO) -> tuple[tuple[int, int], list[str]]:
    """Stream the one list of records inside an object; else the object is one record."""
    cursor.expect("{")
    others: dict[str, Any] = {}
    streamed: str | None = None
    counts = (0, 0)
    if cursor.peek() == "}":
        cursor.pos += 1
    else:
        while True:
            key = cursor.value()
            cursor.expect(":")
            if cursor.peek() == "[" and _starts_records(cursor):
                if streamed is not None:
                    cursor.fail(f"holds several lists of records ({streamed!r} and {key!r}); expected one")
                streamed = str(key)
                counts = _write(out, _array(cursor))
            else:
                others[str(key)] = cursor.value()
            if cursor.expect(",}") == "}":
                break
    if streamed is None:
        return _write(out, iter([others])), []
    ignored = [k for k in others if k != streamed]
    warnings = (
        [f"read the records under {streamed!r}; ignored the other keys: {', '.join(ignored)}"]
        if ignored
        else []
    )
    return counts, warnings


def _starts_records(cursor: _Cursor) -> bool:
    """True when the array at the cursor starts with an object (a list of records)."""
    return cursor.lookahead() in ("{", "]")


def arrow_schema(schema: pl.Schema) -> pa.Schema | None:
    """The pyarrow JSON reader's schema for ``schema`` (``None`` when it cannot read a type)."""
    import polars as pl
    import pyarrow as pa

    def convert(dtype: pl.DataType) -> pa.DataType | None:
        if isinstance(dtype, pl.Struct):
            fields = [(f.name, convert(instance(f.dtype))) for f in dtype.fields]
            if any(t is None for _, t in fields):
                return None
            return pa.struct([pa.field(name, t) for name, t in fields if t is not None])
        if isinstance(dtype, pl.List):
            inner = convert(instance(dtype.inner))
            return None if inner is None else pa.list_(inner)
        plain: dict[type[pl.DataType], pa.DataType] = {
            pl.String: pa.string(),
            pl.Int64: pa.int64(),
            pl.Float64: pa.float64(),
            pl.Boolean: pa.bool_(),
            # Null (a key null in the whole sample): any later value makes pyarrow stop.
            pl.Null: pa.null(),
        }
        return plain.get(type(dtype))  # the rest: polars' reader

    fields = [(name, convert(instance(dtype))) for name, dtype in schema.items()]
    if any(t is None for _, t in fields):
        return None
    return pa.schema([pa.field(name, t) for name, t in fields if t is not None])


def arrow_scan(source: Path, schema: pl.Schema, arrow: pa.Schema) -> pl.LazyFrame:
    """A lazy polars source over pyarrow's streaming JSON reader (bounded: one block at a time)."""
    import polars as pl
    from polars.io.plugins import register_io_source

    def batches(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _size: int | None
    ) -> Iterator[pl.DataFrame]:
        import pyarrow as pa
        import pyarrow.json as pj

        try:
            reader = pj.open_json(
                source,
                read_options=pj.ReadOptions(block_size=ARROW_BLOCK),
                # "error": a key the sample never saw must stop the read, never vanish.
                parse_options=pj.ParseOptions(explicit_schema=arrow, unexpected_field_behavior="error"),
            )
            for batch in reader:
                frame = pl.DataFrame(pl.from_arrow(batch))
                if with_columns is not None:
                    frame = frame.select(with_columns)
                if predicate is not None:
                    frame = frame.filter(predicate)
                if n_rows is not None:
                    frame = frame.head(n_rows)
                    n_rows -= frame.height
                yield frame
                if n_rows == 0:
                    return
        except pa.ArrowException as exc:
            # A polars error, so that the writer hands it to ``recover`` (-> polars' reader).
            raise pl.exceptions.ComputeError(f"pyarrow JSON reader: {exc}") from exc

    return register_io_source(batches, schema=schema)
