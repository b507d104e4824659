"""Type inference for text columns, and per-column overrides.

A column of text is given the first *kind* that fits every non-null value of a sample
(the first ``sample_rows`` rows of the file), tried in this order:

``bool``
    every value is one of ``true/false/yes/no`` (any case);
``int``
    optional sign and digits only, fits in 64 bits, and no value has a leading zero
    (``007``, ``01234``: codes and zip codes stay text);
``float``
    parses as a 64-bit float (``1.5``, ``-2e3``, ``nan``); with a decimal comma ``1,5``;
``date`` / ``datetime``
    one of :data:`DATE_FORMATS` / :data:`DATETIME_FORMATS` parses every value; day-first
    formats are tried before month-first ones, so ``03/04/2024`` is the 3rd of April
    unless some value (``04/13/2024``) only parses month-first; offsets become UTC;
``categorical``
    text with few distinct values: at least :data:`CATEGORICAL_MIN_VALUES` sampled values
    and at most :data:`CATEGORICAL_MAX_DISTINCT` distinct ones (and at most 1 in 10);
``string``
    anything else.

A value after the sample that does not fit is not lost: the reader notices the failed
parse, widens the column (``int`` -> ``float`` when the value is a number, else
``string``) and reads the file again, with a warning.

Overrides (``{"zip": "string", "when": "date"}``) force a kind; a value that does not
fit an override is an error naming the column, never a silent null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Literal, TypeGuard, cast, get_args

from lakegate.errors import InputError

if TYPE_CHECKING:
    import polars as pl
    from polars.datatypes import DataTypeClass

    PolarsDataType = DataTypeClass | pl.DataType

__all__ = [
    "CATEGORICAL_MAX_DISTINCT",
    "CATEGORICAL_MIN_VALUES",
    "DATETIME_FORMATS",
    "DATE_FORMATS",
    "KINDS",
    "ColumnType",
    "Kind",
    "check_overrides",
    "dtype_name",
    "infer_column",
    "instance",
    "kind_of_dtype",
    "looks_like_header",
    "parse_failure",
    "to_kind",
    "widen",
]

Kind = Literal["int", "float", "bool", "date", "datetime", "string", "categorical"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

CATEGORICAL_MIN_VALUES: Final = 100
CATEGORICAL_MAX_DISTINCT: Final = 256

DATE_FORMATS: Final = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y")
_TIMES: Final = ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M")
DATETIME_FORMATS: Final = (
    *(f"%Y-%m-%dT{t}%#z" for t in _TIMES),
    *(f"%Y-%m-%d {t}%#z" for t in _TIMES),
    *(f"%Y-%m-%dT{t}" for t in _TIMES),
    *(f"%Y-%m-%d {t}" for t in _TIMES),
    *(f"{d} {t}" for d in DATE_FORMATS[1:] for t in _TIMES),
)

_TYPED_CELL: Final = re.compile(
    r"^\s*([+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*|\d{1,2}:\d{2}(:\d{2})?|true|false)\s*$",
    re.IGNORECASE,
)
_TRUE: Final = ("true", "yes")
_FALSE: Final = ("false", "no")
_INT_RE: Final = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")
_LEADING_ZERO_RE: Final = r"^[+-]?0[0-9]"


@dataclass(frozen=True)
class ColumnType:
    """The kind chosen for a text column and how to parse it (``fmt`` for dates)."""

    kind: Kind
    fmt: str | None = None
    decimal_comma: bool = False
    strip: bool = False
    """Strip blanks around values first (only when the sample had some: stripping costs)."""

    @property
    def native(self) -> bool:
        """True when polars' CSV parser can read the kind directly (faster than a cast)."""
        if self.strip:
            return False
        return self.kind in ("int", "float") or (self.kind == "bool" and self.fmt == "true/false")


def looks_like_header(records: Sequence[Sequence[str]], width: int | None = None) -> bool:
    """True when the first of ``records`` (cells as text) names the columns of the others.

    It does unless one of its cells looks like a number, date or boolean, or every column
    below is text too and its cells repeat (then it is more likely data).
    """
    if not records:
        return False
    width = width or len(records[0])
    first, body = records[0], records[1:]
    cells = [cell.strip() for cell in first]
    if not any(cells) or any(_TYPED_CELL.match(cell) for cell in cells if cell):
        return False
    columns = list(zip(*(r[:width] for r in body if len(r) >= width), strict=False))
    typed_below = any(
        any(v.strip() for v in column) and all(_TYPED_CELL.match(v) for v in column if v.strip())
        for column in columns
    )
    named = [cell for cell in cells if cell]
    return typed_below or len(set(named)) == len(named)


def infer_column(values: pl.Series, *, decimal_comma: bool = False, numbers: bool = True) -> ColumnType:
    """Choose the :class:`ColumnType` of a sample of text values (see the module docstring).

    ``numbers=False`` skips bool/int/float (JSON strings are text on purpose).
    """
    raw = values.drop_nulls()
    text = raw.str.strip_chars()
    strip = bool((text != raw).any())
    text = text.filter(text != "")
    return replace(_infer_kind(text, decimal_comma=decimal_comma, numbers=numbers), strip=strip)


def _infer_kind(text: pl.Series, *, decimal_comma: bool, numbers: bool) -> ColumnType:  # noqa: PLR0911
    import polars as pl

    if text.is_empty():
        return ColumnType("string")
    if numbers:
        lowered = text.str.to_lowercase()
        if lowered.is_in([*_TRUE, *_FALSE]).all():
            plain = lowered.is_in(["true", "false"]).all()
            return ColumnType("bool", fmt="true/false" if plain else "words")
        # Digits with a leading zero are codes (zip codes, ids): numbers would lose the zero.
        if not text.str.contains(_LEADING_ZERO_RE).any():
            if text.str.contains(_INT_RE.pattern).all():
                too_big = text.cast(pl.Int64, strict=False).null_count() > 0
                return ColumnType("string" if too_big else "int")
            floats = _as_float_text(text, decimal_comma=decimal_comma).cast(pl.Float64, strict=False)
            if floats.null_count() == 0:
                return ColumnType("float", decimal_comma=decimal_comma)
    for kind, formats in (("date", DATE_FORMATS), ("datetime", DATETIME_FORMATS)):
        fmt = _first_format(text, cast("Kind", kind), formats)
        if fmt is not None:
            return ColumnType(cast("Kind", kind), fmt=fmt)
    distinct = text.n_unique()
    if (
        len(text) >= CATEGORICAL_MIN_VALUES
        and distinct <= CATEGORICAL_MAX_DISTINCT
        and distinct * 10 <= len(text)
    ):
        return ColumnType("categorical")
    return ColumnType("string")


def _as_float_text(text: pl.Series, *, decimal_comma: bool) -> pl.Series:
    return text.str.replace(",", ".", literal=True) if decimal_comma else text


def _first_format(text: pl.Series, kind: Kind, formats: tuple[str, ...]) -> str | None:
    if not text.str.contains(r"^\d").all():
        return None
    for fmt in formats:
        if kind == "date":
            parsed = text.str.to_date(fmt, strict=False)
        else:
            parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
        if parsed.null_count() == 0:
            return fmt
    return None


def to_kind(  # noqa: PLR0911 - one return per kind
    expr: pl.Expr, column: ColumnType, *, source: pl.DataType | None = None
) -> pl.Expr:
    """An expression turning ``expr`` (text, or ``source`` when typed) into ``column``'s kind.

    Strict: a value that does not fit raises when the frame is collected.
    """
    import polars as pl

    kind = column.kind
    if source is not None and not isinstance(source, pl.String):
        return _cast_typed(expr, source, kind)
    text: pl.Expr = expr
    if column.strip:
        stripped = expr.str.strip_chars()
        text = pl.when(stripped != "").then(stripped).otherwise(None)  # a blank cell is empty: null
    if kind == "int":
        return text.cast(pl.Int64)
    if kind == "float":
        return _float_expr(text, decimal_comma=column.decimal_comma)
    if kind == "bool":
        mapping = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
        return text.str.to_lowercase().replace_strict(mapping, return_dtype=pl.Boolean)
    if kind == "date":
        return text.str.to_date(column.fmt)
    if kind == "datetime":
        # A format with an offset (``%#z``) yields UTC datetimes.
        return text.str.to_datetime(column.fmt, time_unit="us")
    if kind == "categorical":
        return expr.cast(pl.Categorical)
    return expr


def _float_expr(text: pl.Expr, *, decimal_comma: bool) -> pl.Expr:
    import polars as pl

    if decimal_comma:
        text = text.str.replace(",", ".", literal=True)
    return text.cast(pl.Float64)


def _cast_typed(expr: pl.Expr, source: pl.DataType, kind: Kind) -> pl.Expr:
    import polars as pl

    if kind == "string":
        return expr.cast(pl.String)
    if kind == "categorical":
        return expr.cast(pl.String).cast(pl.Categorical)
    if kind == "date" and isinstance(source, pl.Datetime):
        return expr.dt.date()
    if kind == "datetime" and isinstance(source, pl.Date):
        return expr.cast(pl.Datetime("us"))
    target = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}.get(kind)
    if target is None:
        raise InputError(f"cannot turn a {dtype_name(source)} column into {kind}")
    return expr.cast(target)


def kind_of_dtype(dtype: pl.DataType) -> Kind | None:
    """The kind a typed column already has (``None`` for nested and other types)."""
    import polars as pl

    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    checks: tuple[tuple[type[pl.DataType], Kind], ...] = (
        (pl.Boolean, "bool"),
        (pl.Date, "date"),
        (pl.Datetime, "datetime"),
        (pl.String, "string"),
        (pl.Categorical, "categorical"),
        (pl.Enum, "categorical"),
    )
    for klass, kind in checks:
        if isinstance(dtype, klass):
            return kind
    return None


def check_overrides(overrides: Mapping[str, str] | None) -> dict[str, ColumnType]:
    """Validate ``{"column": "kind"}`` overrides; kinds may carry a format: ``date:%d.%m.%Y``."""
    checked: dict[str, ColumnType] = {}
    for column, spec in (overrides or {}).items():
        kind, _, fmt = spec.strip().partition(":")
        kind = kind.strip().lower()
        if not _is_kind(kind):
            raise InputError(
                f"override for column {column!r}: unknown type {spec!r} (use one of {', '.join(KINDS)})",
                detail={"column": column, "type": spec},
            )
        if fmt and kind not in ("date", "datetime"):
            raise InputError(f"override for column {column!r}: only date and datetime take a format")
        checked[column] = ColumnType(kind, fmt=fmt or None)
    return checked


def _is_kind(name: str) -> TypeGuard[Kind]:
    return name in KINDS


def instance(dtype: PolarsDataType) -> pl.DataType:
    """A dtype instance (polars also hands out dtype classes, like ``pl.Int64``)."""
    return dtype if not isinstance(dtype, type) else dtype()


def widen(column: ColumnType, value: str | None) -> ColumnType:
    """The next kind to try after ``value`` did not fit ``column`` (``string`` fits all)."""
    if column.kind == "int" and value is not None:
        import polars as pl

        if _INT_RE.match(value.strip()):
            return ColumnType("string")  # beyond 64 bits: a float would round it, text keeps every digit
        text = pl.Series([value.strip()])
        if (
            _as_float_text(text, decimal_comma=column.decimal_comma).cast(pl.Float64, strict=False)[0]
            is not None
        ):
            return ColumnType("float", decimal_comma=column.decimal_comma)
    return ColumnType("string")


_PARSE_FAILURES: Final = (
    # polars CSV reader: could not parse `x` as dtype `i64` at column 'qty' (column number 5)
    re.compile(r"could not parse `(?P<value>.*?)` as dtype `[^`]*` at column '(?P<column>[^']*)'", re.DOTALL),
    # strict casts: conversion from `str` to `i64` failed in column 'qty' for 1 out of ... values: ["x"]
    re.compile(
        r"conversion from `[^`]*` to `[^`]*` failed in column '(?P<column>[^']*)'"
        r"[^\[]*\[\"?(?P<value>[^\]\"]*)",
        re.DOTALL,
    ),
    # replace_strict on unmapped values
    re.compile(r"incomplete mapping.*?column '(?P<column>[^']*)'.*?\[\"?(?P<value>[^\]\"]*)", re.DOTALL),
)


def parse_failure(message: str) -> tuple[str, str | None] | None:
    """``(column, value)`` named by a polars parse or cast error, or ``None``."""
    for pattern in _PARSE_FAILURES:
        match = pattern.search(message)
        if match:
            return match.group("column"), match.group("value")
    return None


def dtype_name(dtype: pl.DataType) -> str:
    """A short, stable name for a dtype in reports: ``int64``, ``datetime[us]``, ``list[string]``."""
    import polars as pl

    if isinstance(dtype, pl.Datetime):
        zone = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"datetime[{dtype.time_unit}{zone}]"
    if isinstance(dtype, pl.List | pl.Array):
        return f"list[{dtype_name(instance(dtype.inner))}]"
    if isinstance(dtype, pl.Struct):
        return "struct{" + ", ".join(f"{f.name}: {dtype_name(instance(f.dtype))}" for f in dtype.fields) + "}"
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return "categorical"
    return str(dtype).lower().replace("utf8", "string")
