"""Workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) through fastexcel (calamine).

Every sheet is its own table (or only ``ReadOptions.sheet``); empty sheets and chart
sheets are skipped with a warning, and so is a sheet the reader cannot parse (the other
sheets still convert; a workbook with no readable sheet is an error). Per sheet: empty
leading rows and columns are skipped (calamine starts at the used range; blank rows above
the data are dropped), the first non-empty row is the header unless it looks like data
(see ``looks_like_header``), columns with neither a name nor a value are dropped, unnamed
ones become ``column_<n>``.

Types: Excel stores every number as a float, so a number column whose values are all
whole becomes ``int``; a date-time column whose values all fall on midnight becomes
``date``; text columns go through the same inference as CSV (numbers stored as text,
ISO dates typed as text). Error cells (``#DIV/0!``, ``#N/A``, ...) are nulls, counted per
column in a warning and in :attr:`Table.error_cells`; a column mixing types the reader
cannot unite (dates and durations) is text, with a warning (see ``_sheetload``). A sheet
is read whole (sheets are bounded: 1,048,576 rows), after the zip container passed the
archive limits; a legacy ``.xls`` is first parsed once in a budgeted child process.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from lakegate.errors import ReaderError
from lakegate.formats._archive import check_zip_container
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import ColumnType, check_overrides, infer_column, looks_like_header, to_kind
from lakegate.formats._sheetload import SheetLoad, load_sheet

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ExcelReader"]

_PROBE_ROWS: Final = 50
_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNNAMED: Final = "__UNNAMED__"


class ExcelReader(Reader):
    name = "excel"
    extensions: ClassVar[tuple[str, ...]] = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
    multi_table = True

    def read(self, path: Path, options: ReadOptions) -> Iterator[Table]:
        book = _open(path, options)
        names: list[str] = list(book.sheet_names)
        if options.sheet is not None:
            if options.sheet not in names:
                raise ReaderError(str(path), f"no sheet named {options.sheet!r} (sheets: {', '.join(names)})")
            names = [options.sheet]
        overrides = check_overrides(options.overrides)
        skipped = _Skipped(path)  # sheets not reported yet
        failures: list[ReaderError] = []
        found = 0
        previous: Table | None = None  # held back one sheet: trailing skipped sheets are reported on it
        for name in names:
            try:
                loaded = _sheet(book, name, path)
            except ReaderError as error:
                if options.sheet is not None:
                    raise
                failures.append(error)
                skipped.unreadable(name, error.reason)
                continue
            if loaded is None:
                skipped.empty(name)
                continue
            frame = loaded.frame
            warnings = [
                f"override for unknown column {c!r} ignored" for c in overrides if c not in frame.columns
            ]
            warnings.extend(_load_warnings(loaded))
            frame = _typed(frame, overrides, path)
            warnings.extend(skipped.report())
            found += 1
            if previous is not None:
                yield previous
            error_cells = {column: sum(counts.values()) for column, counts in loaded.errors.items()}
            previous = Table(name=name, frame=frame.lazy(), warnings=warnings, error_cells=error_cells)
        if previous is not None:
            previous.warnings.extend(skipped.report())
            yield previous
        if not found:
            if len(failures) == 1 and len(names) == 1:
                raise failures[0]
            reasons = "; ".join(skipped.report())
            detail = f" ({reasons})" if reasons else ""
            raise ReaderError(
                str(path), f"no data in any sheet{detail}" if len(names) > 1 else "the sheet is empty"
            )


class _Skipped:
    """Sheets skipped since the last table: empty ones, chart sheets, unreadable ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.empty_sheets: list[str] = []
        self.charts: list[str] = []
        self.failed: list[str] = []
        self._types: dict[str, str] | None = None

    def empty(self, name: str) -> None:
        (self.charts if self._type(name) == "chart" else self.empty_sheets).append(name)

    def unreadable(self, name: str, reason: str) -> None:
        if self._type(name) == "chart":
            self.charts.append(name)
        else:
            self.failed.append(f"{name!r} ({reason})")

    def report(self) -> list[str]:
        lines = []
        if self.empty_sheets:
            lines.append(f"skipped empty sheet(s): {', '.join(self.empty_sheets)}")
        if self.charts:
            lines.append(f"skipped chart sheet(s): {', '.join(self.charts)}")
        if self.failed:
            lines.append(f"skipped unreadable sheet(s): {', '.join(self.failed)}")
        self.empty_sheets, self.charts, self.failed = [], [], []
        return lines

    def _type(self, name: str) -> str:
        """``chart`` for a chart sheet (python-calamine knows; fastexcel does not say)."""
        if self._types is None:
            self._types = {}
            try:
                from python_calamine import CalamineWorkbook

                with CalamineWorkbook.from_path(str(self.path)) as book:
                    for meta in book.sheets_metadata:
                        kind = str(meta.typ).lower()
                        self._types[meta.name] = "chart" if "chart" in kind else kind
            except Exception:  # noqa: BLE001 - the sheet types only word a warning
                self._types = {}
        return self._types.get(name, "")


def _load_warnings(loaded: SheetLoad) -> list[str]:
    warnings = [f"column {column!r}: {reason}; read as text" for column, reason in loaded.mixed.items()]
    for column, counts in loaded.errors.items():
        total = sum(counts.values())
        kinds = ", ".join(f"{literal} x{count}" for literal, count in sorted(counts.items()))
        warnings.append(f"column {column!r}: {total} error cell(s) read as null ({kinds})")
    return warnings


def _open(path: Path, options: ReadOptions) -> Any:
    import fastexcel

    with path.open("rb") as handle:
        magic = handle.read(8)
    if not magic:
        raise ReaderError(str(path), "empty file")
    suffix = path.suffix.lower()
    if suffix != ".xls" and magic.startswith(_OLE_MAGIC):
        # An encrypted xlsx is an OLE container holding the encrypted package.
        raise ReaderError(str(path), "password-protected (encrypted) workbook")
    if suffix != ".xls":
        if not magic.startswith(_ZIP_MAGIC):
            raise ReaderError(str(path), "not a valid workbook (not a zip container)")
        check_zip_container(path, options.limits, kind="workbook")
    else:
        # calamine can loop and allocate without end on a corrupt OLE file: parse it once
        # in a budgeted child first (see _sandbox).
        from lakegate.formats._sandbox import probe_xls

        probe_xls(path, options.reader_limits, work_dir=options.work_dir)
    try:
        return fastexcel.read_excel(path)
    except (fastexcel.FastExcelError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "password" in reason.lower() or "encrypt" in reason.lower():
            raise ReaderError(str(path), "password-protected (encrypted) workbook") from exc
        raise ReaderError(str(path), f"not a valid workbook ({reason})") from exc


def _sheet(book: Any, name: str, path: Path) -> SheetLoad | None:
    """The data of one sheet with its header found, or ``None`` when it is empty.

    calamine parses the whole sheet on every load, so the common case (the header is
    the first row) is read once; only a sheet whose first row is empty or looks like
    data is loaded again with the header found by a probe.
    """
    import fastexcel

    options: dict[str, Any] = {
        "dtype_coercion": "strict",  # a mixed column is named, never silently coerced (_sheetload)
        "schema_sample_rows": None,
        "skip_whitespace_tail_rows": True,
    }
    try:
        loaded = load_sheet(book, name, path, header_row=0, **options)
        frame = loaded.frame
        if frame.width == 0:
            return None
        if not all(column.startswith(_UNNAMED) for column in frame.columns) and looks_like_header(
            [[c if not c.startswith(_UNNAMED) else "" for c in frame.columns], *_text_rows(frame)]
        ):
            return _named(loaded)
        first = _first_filled_row(book, name)
        if first is None:
            return None
        probe = _load(book, name, header_row=None, skip_rows=first, n_rows=_PROBE_ROWS, dtypes="string")
        if looks_like_header([[cell or "" for cell in row] for row in probe.rows()]):
            loaded = load_sheet(book, name, path, header_row=first, **options)
        else:
            loaded = load_sheet(book, name, path, header_row=None, skip_rows=first, **options)
    except fastexcel.FastExcelError as exc:
        raise ReaderError(str(path), f"sheet {name!r}: {str(exc).strip().splitlines()[0]}") from exc
    return _named(loaded)


def _load(book: Any, name: str, **options: Any) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(book.load_sheet(name, **options).to_polars())


def _text_rows(frame: pl.DataFrame) -> list[list[str]]:
    import polars as pl

    head = frame.head(_PROBE_ROWS).select(
        (pl.col(name).cast(pl.Int64) if isinstance(dtype, pl.Duration) else pl.col(name)).cast(pl.String)
        for name, dtype in frame.schema.items()
    )
    return [[cell or "" for cell in row] for row in head.rows()]


def _first_filled_row(book: Any, name: str) -> int | None:
    import polars as pl

    probe = _load(book, name, header_row=None, skip_rows=0, n_rows=_PROBE_ROWS, dtypes="string")
    if probe.width == 0:
        return None
    # A cell holding "" (some writers fill a blank row with them) is as empty as no cell.
    blank = pl.all().is_null() | (pl.all().str.strip_chars() == "")
    filled = probe.select(pl.any_horizontal(~blank).alias("filled"))["filled"]
    return int(filled.arg_true()[0]) if filled.any() else None


def _named(loaded: SheetLoad) -> SheetLoad | None:
    """Drop columns with neither a name nor a value; name the other unnamed ones (NFC names)."""
    frame = loaded.frame
    keep = [
        column
        for column in frame.columns
        if not column.startswith(_UNNAMED) or frame[column].null_count() < frame.height
    ]
    if not keep:
        return None
    frame = frame.select(keep)
    renames: dict[str, str] = {}
    taken = set(frame.columns)
    for index, column in enumerate(frame.columns, start=1):
        if column.startswith(_UNNAMED):
            new, n = f"column_{index}", 2
            while new in taken:
                new, n = f"column_{index}_{n}", n + 1
            taken.add(new)
            renames[column] = new
        elif (normal := unicodedata.normalize("NFC", column)) != column and normal not in taken:
            taken.add(normal)
            renames[column] = normal
    return SheetLoad(
        frame=frame.rename(renames),
        errors={renames.get(c, c): n for c, n in loaded.errors.items() if c in keep},
        mixed={renames.get(c, c): r for c, r in loaded.mixed.items() if c in keep},
    )


def _typed(frame: pl.DataFrame, overrides: dict[str, ColumnType], path: Path) -> pl.DataFrame:
    import polars as pl

    natural: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        series = frame[name]
        column = pl.col(name)
        if dtype.is_float() and _whole(series):
            natural.append(column.cast(pl.Int64))
        elif isinstance(dtype, pl.Datetime):
            natural.append(column.dt.date() if _midnight(series) else column.cast(pl.Datetime("us")))
        elif isinstance(dtype, pl.String) and name not in overrides:
            natural.append(to_kind(column, infer_column(series), source=dtype).alias(name))
        elif isinstance(dtype, pl.Null):
            natural.append(column.cast(pl.String))
        else:
            natural.append(column)
    frame = frame.select(natural)
    forced = [
        to_kind(pl.col(name), kind, source=frame.schema[name]).alias(name)
        for name, kind in overrides.items()
        if name in frame.columns
    ]
    try:
        return frame.with_columns(forced) if forced else frame
    except pl.exceptions.PolarsError as exc:
        raise ReaderError(str(path), f"{str(exc).strip().splitlines()[0]} (override)") from exc


def _whole(series: pl.Series) -> bool:
    values = series.drop_nulls().drop_nans()
    if values.is_empty() or values.len() < series.drop_nulls().len():
        return False
    in_range = values.abs().max() < 2**53  # type: ignore[operator]
    return bool(in_range and (values == values.round(0)).all())


def _midnight(series: pl.Series) -> bool:
    values = series.drop_nulls()
    return not values.is_empty() and bool((values.dt.truncate("1d") == values).all())
