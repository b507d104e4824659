"""Workbooks (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``) through fastexcel (calamine).

Every sheet is its own table (or only ``ReadOptions.sheet``); empty sheets are skipped
with a warning. Per sheet: empty leading rows and columns are skipped (calamine starts
at the used range; blank rows above the data are dropped), the first non-empty row is
the header unless it looks like data (see ``looks_like_header``), columns with neither a
name nor a value are dropped, unnamed ones become ``column_<n>``.

Types: Excel stores every number as a float, so a number column whose values are all
whole becomes ``int``; a date-time column whose values all fall on midnight becomes
``date``; text columns go through the same inference as CSV (numbers stored as text,
ISO dates typed as text). A sheet is read whole (sheets are bounded: 1,048,576 rows),
after the zip container passed the archive limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from lakegate.errors import ReaderError
from lakegate.formats._archive import check_zip_container
from lakegate.formats._base import Reader, ReadOptions, Table
from lakegate.formats._infer import ColumnType, check_overrides, infer_column, looks_like_header, to_kind

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
        empty: list[str] = []  # empty sheets not reported yet
        found = 0
        previous: Table | None = None  # held back one sheet: trailing empty sheets are reported on it
        for name in names:
            frame = _sheet(book, name, path)
            if frame is None:
                empty.append(name)
                continue
            warnings = [
                f"override for unknown column {c!r} ignored" for c in overrides if c not in frame.columns
            ]
            frame = _typed(frame, overrides, path)
            if empty:
                warnings.append(f"skipped empty sheet(s): {', '.join(empty)}")
                empty = []
            found += 1
            if previous is not None:
                yield previous
            previous = Table(name=name, frame=frame.lazy(), warnings=warnings)
        if previous is not None:
            if empty:
                previous.warnings.append(f"skipped empty sheet(s): {', '.join(empty)}")
            yield previous
        if not found:
            raise ReaderError(str(path), "no data in any sheet" if len(names) > 1 else "the sheet is empty")


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
    try:
        return fastexcel.read_excel(path)
    except (fastexcel.FastExcelError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "password" in reason.lower() or "encrypt" in reason.lower():
            raise ReaderError(str(path), "password-protected (encrypted) workbook") from exc
        raise ReaderError(str(path), f"not a valid workbook ({reason})") from exc


def _sheet(book: Any, name: str, path: Path) -> pl.DataFrame | None:
    """The data of one sheet with its header found, or ``None`` when it is empty.

    calamine parses the whole sheet on every load, so the common case (the header is
    the first row) is read once; only a sheet whose first row is empty or looks like
    data is loaded again with the header found by a probe.
    """
    import fastexcel

    options: dict[str, Any] = {
        "dtype_coercion": "coerce",
        "schema_sample_rows": None,
        "skip_whitespace_tail_rows": True,
    }
    try:
        frame = _load(book, name, header_row=0, **options)
        if frame.width == 0:
            return None
        if not all(column.startswith(_UNNAMED) for column in frame.columns) and looks_like_header(
            [[c if not c.startswith(_UNNAMED) else "" for c in frame.columns], *_text_rows(frame)]
        ):
            return _named(frame)
        first = _first_filled_row(book, name)
        if first is None:
            return None
        probe = _load(book, name, header_row=None, skip_rows=first, n_rows=_PROBE_ROWS, dtypes="string")
        if looks_like_header([[cell or "" for cell in row] for row in probe.rows()]):
            frame = _load(book, name, header_row=first, **options)
        else:
            frame = _load(book, name, header_row=None, skip_rows=first, **options)
    except fastexcel.FastExcelError as exc:
        raise ReaderError(str(path), f"sheet {name!r}: {str(exc).strip().splitlines()[0]}") from exc
    return _named(frame)


def _load(book: Any, name: str, **options: Any) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(book.load_sheet(name, **options).to_polars())


def _text_rows(frame: pl.DataFrame) -> list[list[str]]:
    import polars as pl

    head = frame.head(_PROBE_ROWS).select(pl.all().cast(pl.String))
    return [[cell or "" for cell in row] for row in head.rows()]


def _first_filled_row(book: Any, name: str) -> int | None:
    import polars as pl

    probe = _load(book, name, header_row=None, skip_rows=0, n_rows=_PROBE_ROWS, dtypes="string")
    if probe.width == 0:
        return None
    filled = probe.select(pl.any_horizontal(pl.all().is_not_null()).alias("filled"))["filled"]
    return int(filled.arg_true()[0]) if filled.any() else None


def _named(frame: pl.DataFrame) -> pl.DataFrame | None:
    """Drop columns with neither a name nor a value; name the other unnamed ones."""
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
    return frame.rename(renames)


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
