"""JSON lines (``.jsonl``, ``.ndjson``) and JSON documents (``.json``), flattened.

Flattening rule: a nested object becomes one column per leaf, named by its path joined
with dots (``{"user": {"address": {"city": "Oslo"}}}`` -> ``user.address.city``); a
missing or null parent gives nulls in all its leaf columns. Arrays stay list columns
(``tags: list[string]``), objects inside arrays included (``list[struct]``). A dotted
name that already exists (a key literally named ``"user.id"`` next to ``user: {id}``)
gets a ``_2`` suffix.

Types come from JSON itself; text values are only checked for dates, datetimes and
categoricals (``"12"`` in JSON is a string on purpose and stays one). The schema is
inferred from ``sample_rows`` lines taken from the head and from points spread through
the file; a key that appears in none of them is not read. A ``.json`` document is first
re-written as JSON lines one record at a time (see ``_jsonstream``). A malformed line is
reported with its number.

Engines: with the schema known, JSON lines are parsed by pyarrow's streaming JSON reader
(multi-threaded C++, strict about types; block by block, so memory stays bounded) and fed
to polars as a lazy source: it parses in ~25% less CPU than polars' ``scan_ndjson``
(benchmarks/convert.py: the whole conversion ~15-30% faster). Anything it refuses (a
value of another type than sampled, a malformed line, a line longer than a block)
switches the file to ``scan_ndjson``, which decides as before: a key read as text with a
warning, or an error naming the line. A datetime column whose sample has no fractional
seconds is parsed with the exact format first (~4x faster than the optional ``%.f``) and
re-read with ``%.f`` only if a later value needs it.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from lakegate.errors import ReaderError
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import (
    ColumnType,
    check_overrides,
    infer_column,
    instance,
    parse_failure,
    to_kind,
)
from lakegate.formats._jsonstream import arrow_scan, arrow_schema, json_to_lines
from lakegate.formats._text import UTF8, detect_encoding, read_head, transcode_to_utf8

if TYPE_CHECKING:
    import polars as pl

__all__ = ["JsonLinesReader", "JsonReader", "flatten_columns"]

_SPREAD_POINTS: Final = 8
_MAX_RETRIES: Final = 50
_FRACTION: Final = "%.f"


class JsonLinesReader(Reader):
    name = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            raise ReaderError(str(path), "empty file")
        encoding = detect_encoding(path, read_head(path, 65536))
        with tempfile.TemporaryDirectory(prefix="lakegate-json-", dir=options.work_dir) as scratch:
            source = path
            if encoding not in UTF8:
                source = Path(scratch) / "utf8.jsonl"
                transcode_to_utf8(path, source, encoding)
            yield _JsonTable(path, source, options).table()


class JsonReader(Reader):
    name = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            raise ReaderError(str(path), "empty file")
        head = read_head(path, 65536)
        encoding = detect_encoding(path, head)
        if encoding in UTF8 and _looks_like_lines(head):
            yield from JsonLinesReader().read(path, options)
            return
        with tempfile.TemporaryDirectory(prefix="lakegate-json-", dir=options.work_dir) as scratch:
            lines = Path(scratch) / "records.jsonl"
            warnings = json_to_lines(path, lines, encoding="utf-8" if encoding in UTF8 else encoding)
            table = _JsonTable(path, lines, options, line_numbers=False).table()
            table.warnings[:0] = warnings
            yield table


def _looks_like_lines(head: bytes) -> bool:
    """A ``.json`` file that is really JSON lines: two objects on their own first lines."""
    lines = [line for line in head.lstrip(b"\xef\xbb\xbf").splitlines()[:3] if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith(b"{"):
        return False
    try:
        return all(isinstance(json.loads(line), dict) for line in lines[:2])
    except ValueError:
        return False


class _JsonTable:
    """Builds the lazy scan of a JSON lines file (``line_numbers``: errors name lines)."""

    def __init__(self, path: Path, source: Path, options: ReadOptions, *, line_numbers: bool = True) -> None:
        import polars as pl

        self.path = path
        self.source = source
        self.line_numbers = line_numbers
        self.overrides = check_overrides(options.overrides)
        sample = _sample_lines(path, source, options.sample_rows, check=line_numbers)
        try:
            sampled = pl.read_ndjson(io.BytesIO(sample), infer_schema_length=None)
        except pl.exceptions.PolarsError as exc:
            raise ReaderError(str(path), f"malformed JSON lines ({_first_line(exc)})") from exc
        self.schema = sampled.schema
        if not self.schema:
            raise ReaderError(str(path), "no keys found in the records")
        self.flat = flatten_columns(self.schema)
        flat_sample = sampled.select(expr.alias(name) for name, (expr, _dtype) in self.flat.items())
        self.warnings = [
            f"override for unknown column {name!r} ignored"
            for name in self.overrides
            if name not in self.flat
        ]
        self.types: dict[str, ColumnType | None] = {}
        self.fractions: dict[str, ColumnType] = {}  # exact-format datetimes -> the %.f format
        for name in self.flat:
            if name in self.overrides:
                self.types[name] = self.overrides[name]
            elif isinstance(flat_sample.schema[name], pl.String):
                kind = infer_column(flat_sample[name], numbers=False)
                self.types[name] = kind if kind.kind != "string" else None
                if (
                    kind.fmt
                    and _FRACTION in kind.fmt
                    and not flat_sample[name].str.contains(".", literal=True).any()
                ):
                    self.types[name] = replace(kind, fmt=kind.fmt.replace(_FRACTION, ""))
                    self.fractions[name] = kind
            else:
                self.types[name] = None
        self.retries = 0
        self.arrow = arrow_schema(self.schema)  # None: polars' reader from the start

    def table(self) -> Table:
        import polars as pl

        if self.arrow is not None:
            scan = arrow_scan(self.source, self.schema, self.arrow)
        else:
            scan = pl.scan_ndjson(self.source, schema=self.schema, infer_schema_length=None)
        columns = []
        for name, (expr, dtype) in self.flat.items():
            kind = self.types.get(name)
            columns.append((expr if kind is None else to_kind(expr, kind, source=dtype)).alias(name))
        return Table(
            name=None, frame=scan.select(columns), warnings=list(self.warnings), recover=self.recover
        )

    def recover(self, exc: BaseException) -> Table:
        """Re-read a column as text when a late value did not fit; name a malformed line."""
        self.retries += 1
        message = str(exc)
        if self.retries > _MAX_RETRIES:
            raise ReaderError(str(self.path), _first_line(exc)) from exc
        failure = parse_failure(message)
        if failure is not None and failure[0] in self.fractions:
            # A later value has fractional seconds: parse the column with the %.f format.
            self.types[failure[0]] = self.fractions.pop(failure[0])
            return self.table()
        if failure is not None and failure[0] in self.types and failure[0] not in self.overrides:
            column, value = failure
            self.types[column] = None
            self.warnings.append(
                f"column {column!r}: value {value!r} past the sample is not a date; kept as text"
            )
            return self.table()
        if failure is not None and failure[0] in self.overrides:
            column, value = failure
            kind = self.overrides[column].kind
            raise ReaderError(
                str(self.path), f"column {column!r}: value {value!r} is not a valid {kind} (override)"
            ) from exc
        if self.arrow is not None:
            # pyarrow refused a line: polars' reader decides (widen a key, or name the line).
            self.arrow = None
            return self.table()
        if "cannot parse" in message:
            # A value whose JSON type differs from the sampled one: read that key as text.
            path = _find_mismatch(self.source, self.schema)
            if path:
                self.schema = _text_leaf(self.schema, path)
                self.flat = flatten_columns(self.schema)
                dotted = ".".join(path)
                self.warnings.append(
                    f"column {dotted!r}: values past the sample are not all one type; read as text"
                )
                return self.table()
        if self.line_numbers:
            _raise_malformed_line(self.path, self.source)
        raise ReaderError(str(self.path), _first_line(exc)) from exc


def _sample_lines(path: Path, source: Path, rows: int, *, check: bool) -> bytes:
    """``rows`` lines: the head and ``_SPREAD_POINTS`` runs spread over the file."""
    size = source.stat().st_size
    head_rows = max(rows // 2, 1)
    spread = max((rows - head_rows) // _SPREAD_POINTS, 1)
    chunks: list[bytes] = []
    with source.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number > head_rows:
                break
            if line.strip():
                if check:
                    _check_line(path, number, line)
                chunks.append(line)
        if not chunks:
            raise ReaderError(str(path), "empty file (only blank lines)")
        for point in range(1, _SPREAD_POINTS + 1):
            handle.seek(size * point // (_SPREAD_POINTS + 1))
            handle.readline()  # resynchronise on a line start
            for _ in range(spread):
                line = handle.readline()
                if not line:
                    break
                if line.strip():
                    chunks.append(line if line.endswith(b"\n") else line + b"\n")
    return b"".join(chunks)


def _check_line(path: Path, number: int, line: bytes) -> None:
    import orjson

    try:
        value = orjson.loads(line)  # ~5x faster; the json module words the error (and allows NaN)
    except orjson.JSONDecodeError:
        value = None
    try:
        value = json.loads(line) if value is None else value
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ReaderError(str(path), f"line {number}: malformed JSON ({reason})") from exc
    if not isinstance(value, dict):
        raise ReaderError(str(path), f"line {number}: expected a JSON object per line")


def _raise_malformed_line(path: Path, source: Path) -> None:
    """Find the first line that is not a JSON object and raise a ``ReaderError`` naming it."""
    with source.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                _check_line(path, number, line)
    raise ReaderError(str(path), "malformed JSON lines")


def flatten_columns(schema: pl.Schema) -> dict[str, tuple[pl.Expr, pl.DataType]]:
    """``{"a.b": (expr, dtype)}``: one expression per leaf of the struct columns of ``schema``."""
    import polars as pl

    flat: dict[str, tuple[pl.Expr, pl.DataType]] = {}

    def visit(name: str, expr: pl.Expr, dtype: pl.DataType) -> None:
        if isinstance(dtype, pl.Struct) and dtype.fields:
            for field in dtype.fields:
                visit(f"{name}.{field.name}", expr.struct.field(field.name), instance(field.dtype))
            return
        unique, index = name, 2
        while unique in flat:
            unique, index = f"{name}_{index}", index + 1
        flat[unique] = (expr, dtype)

    for column, dtype in schema.items():
        visit(column, pl.col(column), dtype)
    return flat


def _text_leaf(schema: pl.Schema, path: tuple[str, ...]) -> pl.Schema:
    """``schema`` with the leaf at ``path`` read as text (numbers and booleans become strings)."""
    import polars as pl

    def replaced(dtype: pl.DataType, rest: tuple[str, ...]) -> pl.DataType:
        if not rest or not isinstance(dtype, pl.Struct):
            return pl.String()
        return pl.Struct(
            [
                pl.Field(f.name, replaced(instance(f.dtype), rest[1:]) if f.name == rest[0] else f.dtype)
                for f in dtype.fields
            ]
        )

    return pl.Schema({k: (replaced(v, path[1:]) if k == path[0] else v) for k, v in schema.items()})


def _mismatch(value: object, dtype: pl.DataType) -> tuple[str, ...] | None:  # noqa: PLR0911
    """The key path inside ``value`` whose JSON type does not fit ``dtype`` (``()``: the value)."""
    import polars as pl

    if value is None or isinstance(dtype, pl.String):
        return None
    if isinstance(dtype, pl.Struct):
        if not isinstance(value, dict):
            return ()
        for field in dtype.fields:
            inner = _mismatch(value.get(field.name), instance(field.dtype))
            if inner is not None:
                return (field.name, *inner)
        return None
    if isinstance(dtype, pl.List):
        return None if isinstance(value, list) else ()
    if isinstance(dtype, pl.Boolean):
        return None if isinstance(value, bool) else ()
    if dtype.is_integer():
        return None if isinstance(value, int) and not isinstance(value, bool) else ()
    if dtype.is_float():
        return None if isinstance(value, int | float) and not isinstance(value, bool) else ()
    return None


def _find_mismatch(source: Path, schema: pl.Schema) -> tuple[str, ...] | None:
    """The first key path of ``source`` whose values do not all fit ``schema``."""
    with source.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                return None
            if not isinstance(record, dict):
                return None
            for key, dtype in schema.items():
                inner = _mismatch(record.get(key), dtype)
                if inner is not None:
                    return (key, *inner)
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
