"""JSON lines (``.jsonl``, ``.ndjson``) and JSON documents (``.json``), flattened.

Flattening rule: a nested object becomes one column per leaf, named by its path joined
with dots (``{"user": {"address": {"city": "Oslo"}}}`` -> ``user.address.city``); a
missing or null parent gives nulls in all its leaf columns. Arrays stay list columns
(``tags: list[string]``), objects inside arrays included (``list[struct]``). A dotted
name that already exists (a key literally named ``"user.id"`` next to ``user: {id}``)
gets a ``_2`` suffix. A key holding only empty objects (``{}``) has no leaf: it gives no
column, with a warning; an array of empty objects is read as its JSON text.

Types come from JSON itself; text values are only checked for dates, datetimes and
categoricals (``"12"`` in JSON is a string on purpose and stays one). The schema is
inferred from ``sample_rows`` lines taken from the head and from points spread through
the file. A ``.json`` document is first re-written as JSON lines one record at a time
(see ``_jsonstream``). An empty file or an empty array is an empty table (with a
warning). A malformed line is reported with its number.

Nothing is lost past the sample: JSON lines are parsed by pyarrow's streaming JSON
reader (multi-threaded C++, block by block, so memory stays bounded) with the sampled
schema as an *exact* schema: a key the sample never saw, or a value of another type,
makes it stop. The file is then read once more in Python to union the types of every
record (``_jsonschema``: a new key widens the schema, a key with mixed types is read as
text, both with a warning) and read by polars' ``scan_ndjson`` with that full schema.
pyarrow parses in ~25% less CPU than ``scan_ndjson`` (benchmarks/convert.py). A datetime
column whose sample has no fractional seconds is parsed with the exact format first (~4x
faster than the optional ``%.f``) and re-read with ``%.f`` only if a later value needs it.
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
    dtype_name,
    infer_column,
    parse_failure,
    to_kind,
)
from lakegate.formats._jsonflat import flatten_columns, writable_schema
from lakegate.formats._jsonschema import scan_schema, without_surrogates
from lakegate.formats._jsonstream import arrow_scan, arrow_schema, json_to_lines
from lakegate.formats._limits import check_json_depth, check_line_lengths, dtype_depth, refusal
from lakegate.formats._text import UTF8, detect_encoding, has_nul, read_head, transcode_to_utf8

if TYPE_CHECKING:
    import polars as pl

__all__ = ["JsonLinesReader", "JsonReader", "flatten_columns"]

_SPREAD_POINTS: Final = 8
_MAX_RETRIES: Final = 50
_FRACTION: Final = "%.f"
_HEAD: Final = 65536


class JsonLinesReader(Reader):
    name = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            yield _empty_table("empty file")
            return
        head = read_head(path, _HEAD)
        encoding = detect_encoding(path, head)
        with tempfile.TemporaryDirectory(prefix="lakegate-json-", dir=options.work_dir) as scratch:
            source, warnings = path, []
            nul = has_nul(path, head, encoding)
            if encoding != "utf-8" or nul:  # utf-8-sig too: pyarrow and polars choke on the BOM
                source = Path(scratch) / "utf8.jsonl"
                done = transcode_to_utf8(path, source, encoding, strip_nul=nul)
                if done.nuls:
                    warnings.append(f"dropped {done.nuls} NUL byte(s) (padding)")
            table = _JsonTable(path, source, options, scratch=Path(scratch)).table()
            table.warnings[:0] = warnings
            yield table


class JsonReader(Reader):
    name = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            yield _empty_table("empty file")
            return
        head = read_head(path, _HEAD)
        encoding = detect_encoding(path, head)
        if encoding in UTF8 and _looks_like_lines(head):
            yield from JsonLinesReader().read(path, options)
            return
        with tempfile.TemporaryDirectory(prefix="lakegate-json-", dir=options.work_dir) as scratch:
            lines = Path(scratch) / "records.jsonl"
            count, warnings = json_to_lines(path, lines, encoding=encoding)
            if not count:
                yield Table(name=None, frame=_no_columns(), warnings=warnings)
                return
            table = _JsonTable(path, lines, options, scratch=Path(scratch), line_numbers=False).table()
            table.warnings[:0] = warnings
            yield table


def _empty_table(reason: str) -> Table:
    return Table(name=None, frame=_no_columns(), warnings=[f"{reason}: no records, an empty table"])


def _no_columns() -> pl.LazyFrame:
    import polars as pl

    return pl.LazyFrame()


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

    def __init__(
        self, path: Path, source: Path, options: ReadOptions, *, scratch: Path, line_numbers: bool = True
    ) -> None:
        import polars as pl

        self.path = path
        self.source = source
        self.scratch = scratch
        self.line_numbers = line_numbers
        self.overrides = check_overrides(options.overrides)
        self.warnings: list[str] = []
        self.schema_warnings: list[str] = []
        self.retries = 0
        self.types: dict[str, ColumnType | None] = {}
        self.fractions: dict[str, ColumnType] = {}  # exact-format datetimes -> the %.f format
        self.limits = options.reader_limits
        if source.stat().st_size > self.limits.max_line_bytes:
            check_line_lengths(source, self.limits, label=str(path))
        sample = _sample_lines(path, source, options.sample_rows, check=line_numbers)
        check_json_depth(path, sample, self.limits)  # polars' schema inference recurses on depth
        self.empty = not sample
        if self.empty:
            return
        try:
            sampled = pl.read_ndjson(io.BytesIO(sample), infer_schema_length=None)
        except pl.exceptions.PolarsError:
            sampled = self._full_scan_sample(sample)
        self._set_schema(sampled.schema)
        flat_sample = sampled.select(expr.alias(name) for name, (expr, _dtype) in self.flat.items())
        self.warnings.extend(
            f"override for unknown column {name!r} ignored"
            for name in self.overrides
            if name not in self.flat
        )
        sample_schema = flat_sample.schema  # built on each access: once, not once per column
        for name in self.flat:
            if name in self.overrides:
                self.types[name] = self.overrides[name]
            elif isinstance(sample_schema[name], pl.String):
                kind = infer_column(flat_sample[name], numbers=False)
                self.types[name] = kind if kind.kind != "string" else None
                if (
                    kind.fmt
                    and _FRACTION in kind.fmt
                    and not flat_sample[name].str.contains(".", literal=True).any()
                ):
                    self.types[name] = replace(kind, fmt=kind.fmt.replace(_FRACTION, ""))
                    self.fractions[name] = kind
        self.arrow = arrow_schema(self.schema)  # None: polars' reader, with the full schema
        if self.arrow is None:
            self._widen_to_full_schema()

    def _full_scan_sample(self, sample: bytes) -> pl.DataFrame:
        """A sample polars cannot type on its own (mixed types): read it with its union schema."""
        import polars as pl

        with tempfile.NamedTemporaryFile(suffix=".jsonl", dir=self.scratch) as handle:
            handle.write(sample)
            handle.flush()
            full = scan_schema(self.path, Path(handle.name), line_numbers=False)
            self._warn(*_text_warnings(full.text_paths))
            try:
                return pl.read_ndjson(io.BytesIO(sample), schema=full.schema)
            except pl.exceptions.PolarsError as exc:
                raise ReaderError(str(self.path), f"malformed JSON lines ({_first_line(exc)})") from exc

    def _set_schema(self, schema: pl.Schema) -> None:
        depth = max((dtype_depth(dtype) for dtype in schema.values()), default=0)
        if depth > self.limits.max_json_depth:
            raise refusal(
                self.path,
                f"JSON nested {depth:,} levels deep, more than {self.limits.max_json_depth}",
                "max_json_depth",
            )
        self.schema, listed = writable_schema(schema)
        self.flat, dropped = flatten_columns(self.schema)
        # Replaced, not added to: the full schema may fill an object the sample saw empty.
        self.schema_warnings = [
            *(f"key {name!r} holds only empty objects ({{}}): no column" for name in dropped),
            *(f"key {name!r} holds arrays of empty objects: read as JSON text" for name in listed),
        ]

    def _warn(self, *warnings: str) -> None:
        self.warnings.extend(w for w in warnings if w not in self.warnings)

    def table(self) -> Table:
        import polars as pl

        if self.empty:
            return _empty_table("only blank lines")
        if not self.flat:
            return Table(
                name=None,
                frame=_no_columns(),
                warnings=[*self.warnings, *self.schema_warnings, "the records hold no keys: an empty table"],
            )
        if self.arrow is not None:
            scan = arrow_scan(self.source, self.schema, self.arrow)
        else:
            scan = pl.scan_ndjson(self.source, schema=self.schema, infer_schema_length=None)
        columns = []
        for name, (expr, dtype) in self.flat.items():
            kind = self.types.get(name)
            columns.append((expr if kind is None else to_kind(expr, kind, source=dtype)).alias(name))
        warnings = [*self.warnings, *self.schema_warnings]
        return Table(name=None, frame=scan.select(columns), warnings=warnings, recover=self.recover)

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
        if failure is not None and failure[0] in self.overrides:
            column, value = failure
            kind = self.overrides[column].kind
            raise ReaderError(
                str(self.path), f"column {column!r}: value {value!r} is not a valid {kind} (override)"
            ) from exc
        if failure is not None and self.types.get(failure[0]) is not None:
            column, value = failure
            self.types[column] = None
            self.warnings.append(
                f"column {column!r}: value {value!r} past the sample is not a date; kept as text"
            )
            return self.table()
        if self.arrow is not None:
            # pyarrow met a record the sampled schema does not describe: read them all.
            self._widen_to_full_schema()
            return self.table()
        if self.line_numbers:
            _raise_malformed_line(self.path, self.source)
        raise ReaderError(str(self.path), _first_line(exc)) from exc

    def _widen_to_full_schema(self) -> None:
        """Type every record (one pass in Python) and read with that schema, losing nothing."""
        import polars as pl

        full = scan_schema(self.path, self.source, line_numbers=self.line_numbers)
        if full.unpaired:
            clean = self.scratch / "without-surrogates.jsonl"
            without_surrogates(self.source, clean)
            self.source = clean
            self._warn(
                f"{full.unpaired} record(s) hold unpaired UTF-16 surrogates (\\ud800), not text: "
                "replaced with U+FFFD"
            )
        before = {name: dtype for name, (_expr, dtype) in self.flat.items()}
        self.arrow = None
        self._set_schema(full.schema)
        self._warn(
            *(
                f"column {name!r}: values past the sample widened it from "
                f"{dtype_name(before[name])} to {dtype_name(dtype)}"
                for name, (_expr, dtype) in self.flat.items()
                if name in before
                and dtype != before[name]
                and not isinstance(before[name], pl.Null)
                and name not in full.text_paths
            )
        )
        added = [name for name in self.flat if name not in before]
        if added:
            self.warnings.append(f"{len(added)} key(s) past the sample widened the schema: {_few(added)}")
        self._warn(*_text_warnings(full.text_paths))
        # A date kind found in the sample still applies to a column that stayed text.
        self.types = {
            name: self.types.get(name) if isinstance(dtype, pl.String) or name in self.overrides else None
            for name, (_expr, dtype) in self.flat.items()
        }
        self.fractions = {name: kind for name, kind in self.fractions.items() if self.types.get(name)}


def _text_warnings(paths: tuple[str, ...]) -> list[str]:
    return [f"column {path!r}: values are not all one JSON type; read as text" for path in paths]


def _few(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


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
            return b""
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
    except RecursionError as exc:
        raise ReaderError(str(path), f"line {number}: JSON nested too deeply to read") from exc
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


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
