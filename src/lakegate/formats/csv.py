"""Delimited text (``.csv``, ``.tsv``, ``.tab``, ``.txt``): sniffed, typed, streamed by polars.

From the first 4 MiB: the encoding (see ``_text``), the separator (``,`` ``;`` tab ``|``:
the one that splits the sampled records into the most consistent number of fields,
tab first for ``.tsv``), whether the first record is a header (it is unless one of its
cells looks like a number, date or boolean, or all columns are text and its cells repeat),
and a decimal comma (``;`` or tab separated, with a column of values like ``3,14``).
The first ``sample_rows`` records, read as text, give each column its type (``_infer``).

The file itself is then a polars scan with that schema, so writing it streams in bounded
memory. Empty cells and ``NULL``, ``null``, ``None``, ``N/A``, ``n/a``, ``#N/A`` are nulls
(``NA`` is not: it is also a country code). Quoted fields may hold separators and
newlines. Ragged rows are kept and reported (see ``_ragged``).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from lakegate.errors import ReaderError
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import (
    ColumnType,
    check_overrides,
    infer_column,
    looks_like_header,
    parse_failure,
    to_kind,
    widen,
)
from lakegate.formats._ragged import RaggedScan
from lakegate.formats._text import (
    HEAD_BYTES,
    UTF8,
    decode_head,
    detect_encoding,
    read_head,
    transcode_to_utf8,
)

if TYPE_CHECKING:
    import polars as pl

__all__ = ["NULL_VALUES", "CsvReader", "Dialect", "sniff"]

NULL_VALUES: Final = ["NULL", "null", "None", "N/A", "n/a", "#N/A"]
SEPARATORS: Final = (",", ";", "\t", "|")
_SNIFF_RECORDS: Final = 200
_MAX_RETRIES: Final = 50
_DECIMAL_COMMA: Final = r"^\s*[+-]?\d+,\d+\s*$"


@dataclass(frozen=True)
class Dialect:
    """How a delimited file is written, as sniffed from its head."""

    separator: str
    quote: str
    header: bool
    names: tuple[str, ...]


def sniff(text: str, *, prefer_tab: bool = False) -> Dialect:
    """Sniff separator, header and column names from the decoded head of a file."""
    best: tuple[float, int, int] | None = None
    chosen: tuple[str, list[list[str]]] = (",", [])
    order = ("\t", ",", ";", "|") if prefer_tab else SEPARATORS
    for rank, separator in enumerate(order):
        records = _records(text, separator)
        if not records:
            continue
        widths = Counter(len(record) for record in records)
        width, count = widths.most_common(1)[0]
        score = (count / len(records) if width > 1 else 0.0, width, -rank)
        if best is None or score > best:
            best, chosen = score, (separator, records)
    separator, records = chosen
    if not records:
        return Dialect(separator=",", quote='"', header=False, names=("column_1",))
    width = Counter(len(record) for record in records).most_common(1)[0][0]
    header = looks_like_header(records, width)
    raw = records[0] if header else []
    names = _column_names([*raw, *[""] * (width - len(raw))][: max(width, len(raw))])
    return Dialect(separator=separator, quote='"', header=header, names=tuple(names))


def _records(text: str, separator: str) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text), delimiter=separator, quotechar='"', strict=False):
            if record:
                records.append(record)
            if len(records) >= _SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # an unterminated quote at the cut of the head: keep what parsed
    return records


def _column_names(raw: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(raw, start=1):
        base = cell.strip() or f"column_{index}"
        name, n = base, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return names


class CsvReader(Reader):
    name = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".tab", ".txt")

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            raise ReaderError(str(path), "empty file")
        head = read_head(path)
        encoding = detect_encoding(path, head)
        text = decode_head(path, head, encoding)
        if len(head) == HEAD_BYTES:
            text = text[: text.rfind("\n") + 1] or text
        if not text.strip():
            raise ReaderError(str(path), "empty file (no data, only blank lines)")
        dialect = sniff(text, prefer_tab=path.suffix.lower() in (".tsv", ".tab"))
        with tempfile.TemporaryDirectory(prefix="lakegate-csv-", dir=options.work_dir) as scratch:
            source = path
            if encoding not in UTF8:
                source = Path(scratch) / "utf8.csv"
                transcode_to_utf8(path, source, encoding)
            yield _CsvTable(path, source, dialect, options, Path(scratch)).table()


class _CsvTable:
    """Builds (and rebuilds, after a failed parse) the lazy scan of one CSV file."""

    def __init__(
        self, path: Path, source: Path, dialect: Dialect, options: ReadOptions, scratch: Path
    ) -> None:
        self.path = path
        self.source = source
        self.dialect = dialect
        self.scratch = scratch
        self.overrides = check_overrides(options.overrides)
        self.warnings = [
            f"override for unknown column {name!r} ignored"
            for name in self.overrides
            if name not in dialect.names
        ]
        self.truncate = False  # polars then fails on a row longer than the header: see recover
        self.long_rows = False
        sample = (
            self._scan({name: _string() for name in dialect.names}, truncate=True)
            .head(options.sample_rows)
            .collect()
        )
        self.decimal_comma = dialect.separator != "," and any(
            sample[name].drop_nulls().str.contains(_DECIMAL_COMMA).any() for name in dialect.names
        )
        self.types = {
            name: self.overrides.get(name) or infer_column(sample[name], decimal_comma=self.decimal_comma)
            for name in dialect.names
        }
        self.ragged = RaggedScan(source, dialect.separator, dialect.quote, len(dialect.names)).start()
        self.retries = 0

    def _scan(
        self, schema: Mapping[str, pl.DataType], *, decimal_comma: bool = False, truncate: bool | None = None
    ) -> pl.LazyFrame:
        import polars as pl

        dialect = self.dialect
        try:
            return pl.scan_csv(
                self.source,
                has_header=False,
                skip_rows=1 if dialect.header else 0,
                separator=dialect.separator,
                quote_char=dialect.quote,
                schema=dict(schema),
                null_values=NULL_VALUES,
                truncate_ragged_lines=self.truncate if truncate is None else truncate,
                decimal_comma=decimal_comma,
                raise_if_empty=False,
            )
        except pl.exceptions.PolarsError as exc:
            raise ReaderError(str(self.path), _first_line(exc)) from exc

    def table(self) -> Table:
        import polars as pl

        schema = {name: (_native(kind) if kind.native else _string()) for name, kind in self.types.items()}
        scan = self._scan(schema, decimal_comma=self.decimal_comma)
        columns = [
            pl.col(name) if kind.native else to_kind(pl.col(name), kind).alias(name)
            for name, kind in self.types.items()
        ]
        return Table(
            name=None,
            frame=scan.select(columns),
            warnings=list(self.warnings),
            recover=self.recover,
            finish=self.finish,
        )

    def finish(self) -> list[str]:
        warning = self.ragged.report(long_rows=self.long_rows).warning(len(self.dialect.names))
        return [warning] if warning else []

    def recover(self, exc: BaseException) -> Table:
        """Widen the column a late value did not fit, or re-encode a file that is not UTF-8."""
        message = str(exc)
        self.retries += 1
        if self.retries > _MAX_RETRIES:
            raise ReaderError(str(self.path), _first_line(exc)) from exc
        if "found more fields than defined" in message and not self.truncate:
            # A row longer than the header: keep its first fields, report it (see _ragged).
            self.truncate = self.long_rows = True
            return self.table()
        if "invalid utf-8" in message.lower() and self.source == self.path:
            self.source = self.scratch / "utf8.csv"
            transcode_to_utf8(self.path, self.source, "cp1252")
            self.warnings.append("not valid UTF-8 past the sampled head; read as cp1252")
            return self.table()
        failure = parse_failure(message)
        if failure is None or failure[0] not in self.types:
            raise ReaderError(str(self.path), _first_line(exc)) from exc
        column, value = failure
        kind = self.types[column]
        if value is not None and value != value.strip() and not kind.strip:
            self.types[column] = replace(kind, strip=True)  # blanks around a value: strip, retry
            return self.table()
        if column in self.overrides:
            raise ReaderError(
                str(self.path), f"column {column!r}: value {value!r} is not a valid {kind.kind} (override)"
            ) from exc
        wider = widen(kind, value)
        self.types[column] = (
            wider if wider.kind != "float" else replace(wider, decimal_comma=self.decimal_comma)
        )
        self.warnings.append(
            f"column {column!r}: value {value!r} past the sample is not {kind.kind}; read as {wider.kind}"
        )
        return self.table()


def _string() -> pl.DataType:
    import polars as pl

    return pl.String()


def _native(kind: ColumnType) -> pl.DataType:
    import polars as pl

    return {"int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean()}[kind.kind]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
