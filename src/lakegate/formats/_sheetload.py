"""Load one sheet through fastexcel without losing a cell: error cells and mixed columns.

- *Error cells* (``#DIV/0!``, ``#N/A``, ``#NAME?``, ``#VALUE!``, ``#REF!``, ``#NUM!``,
  ``#NULL!``, ...) hold no value: they are read as nulls and counted per column and per
  error (fastexcel reports each one it turned into a null). A text cell holding exactly
  such a literal (how ``.ods`` files store them, or a ``#N/A`` typed in) counts as one too,
  as do LibreOffice's ``Err:502``-style codes.
- A column whose cells mix types (numbers and text, dates and durations) is read as
  text, with a warning: sheets are loaded with fastexcel's *strict* coercion, which names
  such a column (its *coerce* mode would null the text in a column of numbers, or refuse
  dates with durations), and the sheet is loaded again with that column as text. A clean
  sheet is parsed once; each mixed column costs one more parse. When durations are part
  of the mix, their text comes from python-calamine, which tells durations from dates
  (fastexcel would write a duration as a date in 1899): ``36:00:00``, as Excel shows
  ``[h]:mm:ss``. Some error cells stop fastexcel's typing too: their column is read as
  text, then typed like any text column (without a warning: only the error cells are).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ERROR_LITERALS", "SheetLoad", "load_sheet"]

ERROR_LITERALS: Final = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
)
_FASTEXCEL_ERRORS: Final = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Value": "#VALUE!",
    "Ref": "#REF!",
    "Num": "#NUM!",
    "Null": "#NULL!",
    "GettingData": "#GETTING_DATA",
}
# Cell types that are one kind of value (an .xls stores a whole number as Int, others as Float).
_FAMILIES: Final = {
    "float": frozenset({"Int", "Float"}),
    "datetime": frozenset({"DateTime", "DateTimeIso"}),
    "duration": frozenset({"Duration", "DurationIso"}),
}
_LIBREOFFICE_ERROR: Final = r"^Err:\d{3}$"
_UNDETERMINED: Final = re.compile(r"could not determine dtype for column (?P<column>.+?)\s*$", re.MULTILINE)
_ERROR_DETAIL: Final = re.compile(r"Error\((?P<kind>\w+)\)")
_COMBINATION: Final = re.compile(r"column type combination:.*?(\{[^}]*\})")


@dataclass
class SheetLoad:
    """A loaded sheet, its error cells ``{column: {literal: n}}`` and its text-read columns."""

    frame: pl.DataFrame
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    mixed: dict[str, str] = field(default_factory=dict)
    """Columns read as text because their cells mix types fastexcel cannot unite: the reason."""


def load_sheet(book: Any, name: str, path: Path, **options: Any) -> SheetLoad:
    """Load sheet ``name`` with fastexcel ``options``; see the module docstring."""
    import fastexcel
    import polars as pl

    forced: dict[str, str] = {}
    mixed: dict[str, str] = {}
    while True:
        try:
            sheet = book.load_sheet(name, dtypes=dict(forced) or None, **options)
            batch, cell_errors = sheet.to_arrow_with_errors()
        except fastexcel.FastExcelError as exc:
            column, combination = _undetermined(exc)
            if column is None or column in forced:
                raise
            forced[column] = _united(combination)
            if forced[column] == "string" and combination:
                kinds = sorted({kind.strip() for kind in combination.strip("{}").split(",")} - {""})
                mixed[column] = f"cells of several types ({{{', '.join(kinds)}}})"
            continue
        columns = {info.index: info.name for info in sheet.selected_columns}
        errors, lost = _cell_errors(cell_errors, columns)
        retry = [column for column in lost if column not in forced]
        if not retry:
            break
        for column in retry:  # a value fastexcel could not convert: read the column as text
            forced[column] = "string"
            mixed[column] = "values of several types"
    frame = pl.DataFrame(pl.from_arrow(batch))
    durations = [column for column, reason in mixed.items() if "Duration" in reason]
    if durations and frame.height:
        frame = _calamine_text(frame, path, name, durations, sheet.selected_columns, options)
    frame = _literal_errors(frame, errors)
    return SheetLoad(frame=frame, errors=errors, mixed=mixed)


def _undetermined(exc: Exception) -> tuple[str | None, str | None]:
    """The column fastexcel could not type, and the mix of cell types when that was why."""
    message = str(exc)
    match = _UNDETERMINED.search(message)
    combination = _COMBINATION.search(message)
    return (match.group("column") if match else None), (combination.group(1) if combination else None)


def _united(combination: str | None) -> str:
    """The fastexcel dtype that holds every cell of a mix without changing one (else text)."""
    kinds = {kind.strip() for kind in (combination or "").strip("{}").split(",")} - {""}
    for dtype, family in _FAMILIES.items():
        if kinds and kinds <= family:
            return dtype
    return "string"


def _cell_errors(cell_errors: Any, columns: dict[int, str]) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Error cells per column and literal; and per column the other values fastexcel nulled."""
    errors: dict[str, Counter[str]] = {}
    lost: Counter[str] = Counter()
    for error in getattr(cell_errors, "errors", None) or ():
        column = columns.get(error.offset_position[1])
        if column is None:
            continue
        match = _ERROR_DETAIL.search(error.detail)
        if match:
            literal = _FASTEXCEL_ERRORS.get(match.group("kind"), f"#{match.group('kind').upper()}")
            errors.setdefault(column, Counter())[literal] += 1
        else:
            lost[column] += 1
    return errors, lost


def _literal_errors(frame: pl.DataFrame, errors: dict[str, Counter[str]]) -> pl.DataFrame:
    """Text cells holding an error literal become nulls, counted in ``errors``."""
    import polars as pl

    replaced: list[pl.Expr] = []
    for column, dtype in frame.schema.items():
        if not isinstance(dtype, pl.String):
            continue
        values = frame[column]
        hits = values.is_in(ERROR_LITERALS) | values.str.contains(_LIBREOFFICE_ERROR)
        if not hits.any():
            continue
        counts = errors.setdefault(column, Counter())
        for literal, count in values.filter(hits).value_counts().iter_rows():
            counts[str(literal)] += int(count)
        replaced.append(pl.when(hits).then(None).otherwise(pl.col(column)).alias(column))
    return frame.with_columns(replaced) if replaced else frame


def _calamine_text(
    frame: pl.DataFrame,
    path: Path,
    name: str,
    columns: list[str],
    infos: Any,
    options: dict[str, Any],
) -> pl.DataFrame:
    """``columns`` as text from python-calamine cells (durations stay durations)."""
    import polars as pl
    from python_calamine import CalamineWorkbook

    header = options.get("header_row")
    start = header + 1 if header is not None else int(options.get("skip_rows") or 0)
    index = {info.name: info.index for info in infos}
    with CalamineWorkbook.from_path(str(path)) as book:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=True)
    body = rows[start : start + frame.height]
    fixed = []
    for column in columns:
        at = index[column]
        # Error cells are "" here: null, as fastexcel read them (and counted them).
        fixed.append(
            pl.Series(
                column, [_cell_text(row[at]) if at < len(row) else None for row in body], dtype=pl.String
            )
        )
    return frame.with_columns(fixed)


def _cell_text(value: Any) -> str | None:  # noqa: PLR0911 - one return per cell type
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        fraction = f"{secs:09.6f}".rstrip("0").rstrip(".") if secs % 1 else f"{int(secs):02d}"
        return f"{sign}{int(hours)}:{int(minutes):02d}:{fraction}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)
