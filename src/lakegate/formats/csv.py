"""Delimited text (``.csv``, ``.tsv``, ``.tab``, ``.txt``): sniffed, typed, streamed by polars.

From the first 4 MiB: the encoding (see ``_text``), then the dialect (see ``_dialect``:
separator, header, backslash escapes, lone ``\\r`` line ends) and a decimal comma
(``;`` or tab separated, with a column of values like ``3,14``). A file polars cannot
read as it is (another encoding, NUL padding, lone ``\\r`` line ends, backslash escapes)
is rewritten into a scratch copy first (``_csvprep``). The first ``sample_rows``
records, read as text, give each column its type (``_infer``).

The file itself is then a polars scan with that schema, so writing it streams in bounded
memory. Empty cells and ``NULL``, ``null``, ``None``, ``N/A``, ``n/a``, ``#N/A`` are nulls
(``NA`` is not: it is also a country code). Quoted fields may hold separators and
newlines. Ragged rows are kept and reported, blank lines skipped (see ``_ragged``).
What the head could not show (NULs, lone ``\\r``, blank lines, a quote never closed) is
found by a pass that runs while polars writes, and fixed by a second pass when needed.
Every failure is a ``ReaderError`` naming the file and, where there is one, the line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from lakegate.errors import ReaderError
from lakegate.formats._base import Reader, ReadOptions, Reread, Table
from lakegate.formats._csvprep import Prepared, prepare
from lakegate.formats._dialect import SEPARATORS, Dialect, sniff
from lakegate.formats._infer import (
    ColumnType,
    check_overrides,
    infer_column,
    parse_failure,
    to_kind,
    widen,
)
from lakegate.formats._limits import check_columns, check_line_lengths
from lakegate.formats._ragged import RaggedScan
from lakegate.formats._text import HEAD_BYTES, decode_head, detect_encoding, has_nul, read_head

if TYPE_CHECKING:
    import polars as pl

__all__ = ["NULL_VALUES", "SEPARATORS", "CsvReader", "Dialect", "sniff"]

NULL_VALUES: Final = ["NULL", "null", "None", "N/A", "n/a", "#N/A"]
_MAX_RETRIES: Final = 50
_DECIMAL_COMMA: Final = r"^\s*[+-]?\d+,\d+\s*$"
_LONG_ROW: Final = ("found more fields than defined", "contained column names not specified in schema")


class CsvReader(Reader):
    name = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".tab", ".txt")

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        if path.stat().st_size == 0:
            raise ReaderError(str(path), "empty file")
        head = read_head(path)
        limits = options.reader_limits
        if path.stat().st_size > limits.max_line_bytes:  # a shorter file has no line that long
            bare_cr = b"\n" not in head and b"\r" in head
            check_line_lengths(path, limits, terminator=b"\r" if bare_cr else b"\n")
        encoding = detect_encoding(path, head)
        text = decode_head(path, head, encoding)
        complete = len(head) < HEAD_BYTES
        if not complete:
            text = text[: text.rfind("\n") + 1] or text
        if not text.strip():
            raise ReaderError(str(path), "empty file (no data, only blank lines)")
        dialect = sniff(text, prefer_tab=path.suffix.lower() in (".tsv", ".tab"), complete=complete)
        check_columns(path, len(dialect.names), limits)
        with tempfile.TemporaryDirectory(prefix="lakegate-csv-", dir=options.work_dir) as scratch:
            work = Path(scratch)
            prepared = prepare(
                path,
                work,
                encoding=encoding,
                dialect=dialect,
                strip_nul=has_nul(path, head, encoding),
                fix_line_ends=dialect.bare_cr,
            )
            yield _CsvTable(
                path, prepared, dialect, options, work, _leading_blanks(text, dialect.separator)
            ).table()


def _leading_blanks(text: str, separator: str) -> int:
    """Blank lines and rows of empty cells (``,,,``) before the first record (not data)."""
    count = 0
    for line in text.splitlines():
        if line.replace(separator, "").strip():
            break
        count += 1
    return count


class _CsvTable:
    """Builds (and rebuilds, after a failed parse) the lazy scan of one CSV file."""

    def __init__(
        self,
        path: Path,
        prepared: Prepared,
        dialect: Dialect,
        options: ReadOptions,
        scratch: Path,
        leading_blanks: int = 0,
    ) -> None:
        self.path = path
        self.prepared = prepared
        self.dialect = dialect
        self.options = options
        self.scratch = scratch
        self.leading_blanks = leading_blanks
        self.skip = leading_blanks + (1 if dialect.header else 0)
        self.overrides = check_overrides(options.overrides)
        self.warnings = [
            f"override for unknown column {name!r} ignored"
            for name in self.overrides
            if name not in dialect.names
        ]
        self.warnings.extend(prepared.warnings)
        self.truncate = False  # polars then fails on a row longer than the header: see recover
        self.long_rows = False
        self.retries = 0
        self.ragged = self._ragged()
        sample = self._collect(
            self._scan({name: _string() for name in dialect.names}, truncate=True).head(options.sample_rows)
        )
        self.decimal_comma = dialect.separator != "," and any(
            sample[name].drop_nulls().str.contains(_DECIMAL_COMMA).any() for name in dialect.names
        )
        self.types = {
            name: self.overrides.get(name) or infer_column(sample[name], decimal_comma=self.decimal_comma)
            for name in dialect.names
        }

    def _ragged(self) -> RaggedScan:
        dialect = self.dialect
        return RaggedScan(
            self.source, dialect.separator, dialect.quote, len(dialect.names), skip=self.skip
        ).start()

    @property
    def source(self) -> Path:
        return self.prepared.source

    def _scan(
        self, schema: Mapping[str, pl.DataType], *, decimal_comma: bool = False, truncate: bool | None = None
    ) -> pl.LazyFrame:
        import polars as pl

        dialect = self.dialect
        truncate = self.truncate if truncate is None else truncate
        try:
            return pl.scan_csv(
                self.source,
                has_header=False,
                skip_rows=self.skip,
                separator=dialect.separator,
                quote_char=dialect.quote,
                schema=dict(schema),
                null_values=NULL_VALUES,
                truncate_ragged_lines=truncate,
                # A first row shorter than the header is padded, a longer one cut (when
                # truncating): the same as any other row, never a schema error.
                missing_columns="insert",
                extra_columns="ignore" if truncate else None,
                decimal_comma=decimal_comma,
                raise_if_empty=False,
            )
        except pl.exceptions.PolarsError as exc:
            raise ReaderError(str(self.path), _first_line(exc)) from exc

    def _collect(self, frame: pl.LazyFrame) -> pl.DataFrame:
        import polars as pl

        try:
            return frame.collect()
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            raise self._failure(exc) from exc

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

    def finish(self, written: Path) -> list[str]:
        """After the write: refuse an open quote, re-read for NULs / lone CRs, drop blank lines."""
        facts = self.ragged.wait()
        if facts.open_quote_line is not None:
            raise ReaderError(str(self.path), f"line {facts.open_quote_line}: a quoted field is never closed")
        if (facts.nuls and not self.prepared.nul_stripped) or (
            facts.bare_crs and not self.prepared.line_ends_fixed
        ):
            raise Reread(self._reprepared(strip_nul=bool(facts.nuls), fix_line_ends=bool(facts.bare_crs)))
        report = self.ragged.report(long_rows=self.long_rows)
        warnings = [w for w in (report.warning(len(self.dialect.names)), report.blank_warning()) if w]
        if report.blank_rows:
            raise Reread(_without_rows(written, report.blank_rows, [*self.warnings, *warnings]))
        return warnings

    def _reprepared(self, *, strip_nul: bool, fix_line_ends: bool) -> Table:
        """The table again, from a copy without the NULs / lone CRs found past the head."""
        prepared = prepare(
            self.source,
            self.scratch,
            encoding="utf-8",
            dialect=self.dialect,
            strip_nul=strip_nul,
            fix_line_ends=fix_line_ends,
            name=f"clean{self.retries}.csv",
        )
        prepared.warnings[:0] = self.prepared.warnings
        prepared.nul_stripped |= self.prepared.nul_stripped
        prepared.line_ends_fixed |= self.prepared.line_ends_fixed
        self.retries += 1
        return _CsvTable(
            self.path, prepared, self.dialect, self.options, self.scratch, self.leading_blanks
        ).table()

    def recover(self, exc: BaseException) -> Table:
        """Widen the column a late value did not fit, or re-encode a file that is not UTF-8."""
        message = str(exc)
        self.retries += 1
        if self.retries > _MAX_RETRIES:
            raise self._failure(exc) from exc
        if any(text in message for text in _LONG_ROW) and not self.truncate:
            # A row longer than the header: keep its first fields, report it (see _ragged).
            self.truncate = self.long_rows = True
            return self.table()
        if "invalid utf-8" in message.lower() and self.source == self.path:
            self.prepared = prepare(
                self.path,
                self.scratch,
                encoding="cp1252",
                dialect=self.dialect,
                strip_nul=False,
                fix_line_ends=self.dialect.bare_cr,
            )
            self.warnings.append("not valid UTF-8 past the sampled head; read as cp1252")
            self.ragged = self._ragged()
            return self.table()
        failure = parse_failure(message)
        if failure is None or failure[0] not in self.types:
            raise self._failure(exc) from exc
        column, value = failure
        kind = self.types[column]
        if value is not None and value != value.strip() and not kind.strip:
            self.types[column] = replace(kind, strip=True)  # blanks around a value: strip, retry
            return self.table()
        if column in self.overrides:
            line = self._line_of(column, value)
            raise ReaderError(
                str(self.path),
                f"column {column!r}: value {value!r} is not a valid {kind.kind} (override){line}",
            ) from exc
        wider = widen(kind, value)
        self.types[column] = (
            wider if wider.kind != "float" else replace(wider, decimal_comma=self.decimal_comma)
        )
        self.warnings.append(
            f"column {column!r}: value {value!r} past the sample is not {kind.kind}; read as {wider.kind}"
        )
        return self.table()

    def _failure(self, exc: BaseException) -> ReaderError:
        """The error for a parse failure nothing could fix: an open quote, else polars' reason."""
        facts = self.ragged.wait()
        if facts.open_quote_line is not None:
            return ReaderError(
                str(self.path), f"line {facts.open_quote_line}: a quoted field is never closed"
            )
        failure = parse_failure(str(exc))
        where = self._line_of(*failure) if failure is not None else ""
        return ReaderError(str(self.path), f"cannot read as CSV ({_first_line(exc)}){where}")

    def _line_of(self, column: str, value: str | None) -> str:
        """`` at line N`` for the first row whose ``column`` holds ``value`` (else ``""``)."""
        import polars as pl

        if value is None or column not in self.dialect.names:
            return ""
        text = self._scan({name: _string() for name in self.dialect.names}, truncate=True)
        try:
            found = (
                text.with_row_index("__row__")
                .filter(pl.col(column).str.strip_chars() == value.strip())
                .select("__row__")
                .head(1)
                .collect()
            )
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
            return ""
        if found.is_empty():
            return ""
        line = self.ragged.line_of(int(found.item()))
        return f" at line {line}" if line is not None else ""


def _without_rows(written: Path, rows: tuple[int, ...], warnings: list[str]) -> Table:
    """The table just written, without the given rows (blank lines read as rows of nulls)."""
    import polars as pl

    index = "__lakegate_row__"
    frame = (
        pl.scan_parquet(written)
        .with_row_index(index)
        .filter(~pl.col(index).is_in(pl.Series(rows, dtype=pl.UInt32).implode()))
        .drop(index)
    )
    return Table(name=None, frame=frame, warnings=warnings)


def _string() -> pl.DataType:
    import polars as pl

    return pl.String()


def _native(kind: ColumnType) -> pl.DataType:
    import polars as pl

    return {"int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean()}[kind.kind]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
