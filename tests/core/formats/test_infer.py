"""Type inference rules, overrides and polars error parsing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lakegate.errors import InputError
from lakegate.formats._infer import (
    ColumnType,
    check_overrides,
    dtype_name,
    infer_column,
    looks_like_header,
    parse_failure,
    to_kind,
    widen,
)


@pytest.mark.parametrize(
    ("values", "kind", "fmt"),
    [
        (["true", "False", None, "TRUE"], "bool", "true/false"),
        (["yes", "no"], "bool", "words"),
        (["1", "-2", " 30 "], "int", None),
        (["007", "12"], "string", None),
        (["99999999999999999999999"], "string", None),
        (["1.5", "2", "-3e2", "nan"], "float", None),
        (["2024-01-31", "2023-12-01"], "date", "%Y-%m-%d"),
        (["31/01/2024", "01/02/2024"], "date", "%d/%m/%Y"),
        (["01/31/2024", "02/01/2024"], "date", "%m/%d/%Y"),
        (["2024-01-31 10:00:00", "2024-01-31 11:30:15"], "datetime", "%Y-%m-%d %H:%M:%S%.f"),
        (["2024-01-31T10:00:00Z", "2024-01-31T10:00:00+02:00"], "datetime", "%Y-%m-%dT%H:%M:%S%.f%#z"),
        (["a", "b", None], "string", None),
        ([None, None], "string", None),
        ([""], "string", None),
    ],
)
def test_infer_column(values, kind, fmt):
    column = infer_column(pl.Series(values, dtype=pl.String))
    assert column.kind == kind
    assert column.fmt == fmt


def test_decimal_comma_and_categoricals():
    assert infer_column(pl.Series(["1,5", "2,25"]), decimal_comma=True) == ColumnType(
        "float", decimal_comma=True
    )
    assert infer_column(pl.Series(["1,5", "2,25"])).kind == "string"
    colors = pl.Series(["red", "green", "blue"] * 40)
    assert infer_column(colors).kind == "categorical"
    assert infer_column(pl.Series([f"id{i}" for i in range(200)])).kind == "string"
    assert infer_column(pl.Series(["12", "13"]), numbers=False).kind == "string"


def test_to_kind_parses_text_strictly():
    frame = pl.DataFrame({"b": ["yes", "No"], "d": ["31.01.2024", None], "f": ["1,5", "2"]})
    out = frame.select(
        to_kind(pl.col("b"), ColumnType("bool", fmt="words")),
        to_kind(pl.col("d"), ColumnType("date", fmt="%d.%m.%Y")),
        to_kind(pl.col("f"), ColumnType("float", decimal_comma=True)),
    )
    assert out.to_dicts() == [
        {"b": True, "d": dt.date(2024, 1, 31), "f": 1.5},
        {"b": False, "d": None, "f": 2.0},
    ]
    with pytest.raises(pl.exceptions.PolarsError):
        pl.DataFrame({"x": ["1", "x"]}).select(to_kind(pl.col("x"), ColumnType("int")))


def test_overrides_are_validated():
    assert check_overrides({"a": "INT", "b": "date:%d.%m.%Y"}) == {
        "a": ColumnType("int"),
        "b": ColumnType("date", fmt="%d.%m.%Y"),
    }
    with pytest.raises(InputError, match="unknown type 'number'"):
        check_overrides({"a": "number"})
    with pytest.raises(InputError, match="only date and datetime take a format"):
        check_overrides({"a": "int:%d"})


def test_parse_failure_and_widen():
    message = "could not parse `2.5` as dtype `i64` at column 'qty' (column number 5)"
    assert parse_failure(message) == ("qty", "2.5")
    assert parse_failure("something else") is None
    assert widen(ColumnType("int"), "2.5") == ColumnType("float")
    assert widen(ColumnType("int"), "n/a!") == ColumnType("string")
    assert widen(ColumnType("date", fmt="%Y"), "x") == ColumnType("string")


def test_dtype_names():
    assert dtype_name(pl.Datetime("us", "UTC")) == "datetime[us, UTC]"
    assert dtype_name(pl.List(pl.String)) == "list[string]"
    assert dtype_name(pl.Struct({"a": pl.Int64})) == "struct{a: int64}"
    assert dtype_name(pl.Categorical()) == "categorical"
    assert dtype_name(pl.Float64()) == "float64"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([["id", "name"], ["1", "a"]], True),
        ([["1", "a"], ["2", "b"]], False),
        ([["a", "b"], ["c", "d"]], True),
        ([["a", "a"], ["c", "d"]], False),
        ([["", "value"], ["1", "2"]], True),
        ([["", ""], ["1", "2"]], False),
    ],
)
def test_header_detection(records, expected):
    assert looks_like_header(records) is expected
