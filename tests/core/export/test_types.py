"""Types and values round-trip from a Delta table (and polars-only types) into PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import struct
from decimal import Decimal

import polars as pl
import pytest

from lakegate.errors import ExportError
from lakegate.export import _postgres, export_table, pg_type
from tests.core.export.conftest import PG_URL

TRICKY = [
    "plain",
    "",
    None,
    "a,b",
    'say "hi"',
    "line\nbreak\r\nx",
    "back\\slash",
    "\\.",
    "\\N",
    "NULL",
    "é ✓",
]
UTC = dt.UTC
NAIVE = dt.datetime(2024, 1, 2, 3, 4, 5, 123456)  # noqa: DTZ001 - a timestamp without time zone on purpose


def frame() -> pl.DataFrame:
    n = len(TRICKY)
    return pl.DataFrame(
        {
            "i8": pl.Series([1, None, -128, *range(n - 3)], dtype=pl.Int8),
            "i32": pl.Series([2**31 - 1, None, *range(n - 2)], dtype=pl.Int32),
            "i64": pl.Series([2**63 - 1, -(2**63), None, *range(n - 3)], dtype=pl.Int64),
            "f64": [0.1, 1 / 3, None, math.inf, -math.inf, 1e300, -0.0, 5e-324, 2.5, 1.0, math.nan],
            "f32": pl.Series([0.1, None, *[1.5] * (n - 2)], dtype=pl.Float32),
            "flag": [True, False, None, *[True] * (n - 3)],
            "day": [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), *[dt.date(2000, 1, 1)] * (n - 3)],
            "naive": pl.Series(
                [NAIVE, None, *[NAIVE.replace(year=1999)] * (n - 2)],
                dtype=pl.Datetime("us"),
            ),
            "aware": pl.Series(
                [
                    dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
                    None,
                    *[dt.datetime(2020, 1, 1, tzinfo=UTC)] * (n - 2),
                ],
                dtype=pl.Datetime("us", "UTC"),
            ),
            "text": TRICKY,
            "amount": pl.Series(
                [Decimal("12.34"), None, *[Decimal("-0.01")] * (n - 2)], dtype=pl.Decimal(10, 2)
            ),
            "raw": [b'\x00\xff,"\n', b"", None, *[b"x"] * (n - 3)],
            "tags": [["a", "b,c"], [], None, ['"q"', None], *[["z"]] * (n - 4)],
            "point": [
                {"x": 1, "label": "a\nb"},
                None,
                {"x": None, "label": None},
                *[{"x": 2, "label": ""}] * (n - 3),
            ],
        }
    )


@pytest.fixture
def formats(monkeypatch) -> list[str]:
    """Which COPY format each batch was encoded in (the real encoders still run)."""
    used: list[str] = []
    binary, csv = _postgres.binary_bytes, _postgres.csv_bytes
    monkeypatch.setattr(_postgres, "binary_bytes", lambda f, t: used.append("binary") or binary(f, t))
    monkeypatch.setattr(_postgres, "csv_bytes", lambda f: used.append("csv") or csv(f))
    return used


# numeric has no binary encoder: a decimal column sends the whole export as CSV.
@pytest.mark.parametrize("copy_format", ["binary", "csv"])
def test_every_value_round_trips_from_delta(make_delta, query, schema, formats, copy_format):
    source = frame() if copy_format == "csv" else frame().drop("amount")
    ordered = source.with_row_index("n").with_columns(pl.col("n").cast(pl.Int64))
    export_table(make_delta(ordered), to=PG_URL, table="t", schema=schema, batch_rows=4)
    assert set(formats) == {copy_format}
    columns = dict(
        query(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
            [schema],
        )
    )
    assert columns == {
        **({"amount": "numeric"} if copy_format == "csv" else {}),
        "n": "bigint",
        "i8": "smallint",
        "i32": "integer",
        "i64": "bigint",
        "f64": "double precision",
        "f32": "real",
        "flag": "boolean",
        "day": "date",
        "naive": "timestamp without time zone",
        "aware": "timestamp with time zone",
        "text": "text",
        "raw": "bytea",
        "tags": "jsonb",
        "point": "jsonb",
    }
    names = list(source.columns)
    got = query(f'SELECT {", ".join(names)} FROM "{schema}".t ORDER BY n')
    expected = source.rows()
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        for name, got_value, wanted in zip(names, row, want, strict=True):
            value = bytes(got_value) if name == "raw" and got_value is not None else got_value
            if name == "point" and wanted is not None:
                assert value == wanted, name
            elif name == "f64" and wanted is not None and math.isnan(wanted):
                assert math.isnan(value), name
            elif name == "f32" and wanted is not None:  # a float4 comes back as its shortest text
                assert struct.pack("f", value) == struct.pack("f", wanted), name
            else:
                assert value == wanted, f"{name}: {value!r} != {wanted!r}"


@pytest.mark.parametrize("copy_format", ["binary", "csv"])
def test_nulls_and_empty_strings_stay_apart(query, schema, formats, copy_format):
    if copy_format == "csv":  # a varchar column is not the type the exporter sends in binary
        query(f'CREATE SCHEMA "{schema}"')
        query(f'CREATE TABLE "{schema}".t (id bigint, s varchar(10))')
    export_table(pl.DataFrame({"id": [1, 2, 3], "s": ["", None, " "]}), to=PG_URL, table="t", schema=schema)
    assert formats == [copy_format]
    assert query(f'SELECT id, s, s IS NULL FROM "{schema}".t ORDER BY id') == [
        (1, "", False),
        (2, None, True),
        (3, " ", False),
    ]


def test_a_single_text_column_holding_the_end_of_data_marker(query, schema, formats):
    # A line "\." ends a CSV COPY early without an error: the one-column case must quote it.
    query(f'CREATE SCHEMA "{schema}"')
    query(f'CREATE TABLE "{schema}".t (s varchar)')  # not the exporter's text type: sent as CSV
    values = ["a", "\\.", None, "", "z"]
    result = export_table(pl.DataFrame({"s": values}), to=PG_URL, table="t", schema=schema)
    assert formats == ["csv"]
    assert result.rows == 5
    got = query(f'SELECT s FROM "{schema}".t')
    assert sorted(got, key=repr) == sorted([(v,) for v in values], key=repr)


def test_polars_only_types(query, schema):
    source = pl.DataFrame(
        {
            "u64": pl.Series([2**64 - 1, None], dtype=pl.UInt64),
            "u16": pl.Series([65535, 0], dtype=pl.UInt16),
            "clock": [dt.time(23, 59, 59, 999999), None],
            "took": [dt.timedelta(days=-1, microseconds=5), None],
            "kind": pl.Series(["a", None], dtype=pl.Categorical),
            "nothing": pl.Series([None, None], dtype=pl.Null),
            "paris": pl.Series(
                [dt.datetime(2024, 7, 1, 12, tzinfo=UTC), None], dtype=pl.Datetime("ns", "Europe/Paris")
            ),
            "fixed": pl.Series([[1, 2], None], dtype=pl.Array(pl.Int64, 2)),
        }
    )
    export_table(source.with_row_index("n"), to=PG_URL, table="t", schema=schema)
    rows = query(f'SELECT u64, u16, clock, took, kind, nothing, paris, fixed FROM "{schema}".t ORDER BY n')
    assert rows[0] == (
        Decimal(2**64 - 1),
        65535,
        dt.time(23, 59, 59, 999999),
        dt.timedelta(days=-1, microseconds=5),
        "a",
        None,
        dt.datetime(2024, 7, 1, 12, tzinfo=UTC),
        [1, 2],
    )
    assert rows[1] == (None, 0, None, None, None, None, None, None)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.Int16, "smallint"),
        (pl.UInt32, "bigint"),
        (pl.Decimal(38, 9), "numeric(38, 9)"),
        (pl.List(pl.String), "jsonb"),
        (pl.Struct({"a": pl.Int8}), "jsonb"),
        (pl.Datetime("ms", "America/New_York"), "timestamp with time zone"),
    ],
    ids=["int16", "uint32", "decimal", "list", "struct", "timestamptz"],
)
def test_pg_type_mapping(dtype, expected):
    assert pg_type("c", dtype) == expected


def test_pg_type_refuses_objects():
    with pytest.raises(ExportError, match="column 'o': type Object"):
        pg_type("o", pl.Object)


@pytest.mark.parametrize("copy_format", ["binary", "csv"])
def test_a_value_postgres_refuses_names_the_column(query, schema, formats, copy_format):
    if copy_format == "csv":
        query(f'CREATE SCHEMA "{schema}"')
        query(f'CREATE TABLE "{schema}".t (id bigint, note varchar)')
    frame = pl.DataFrame({"id": [1, 2], "note": ["fine", "nul \x00 byte"]})
    with pytest.raises(ExportError, match=r"0x00") as info:
        export_table(frame, to=PG_URL, table="t", schema=schema)
    assert f"{schema}.t" in info.value.message
    # PostgreSQL names the field for binary; a CSV line's encoding is checked before it is split.
    assert ("line 2, column note" if copy_format == "binary" else "(COPY t, line 2)") in info.value.message
    assert formats == [copy_format]
