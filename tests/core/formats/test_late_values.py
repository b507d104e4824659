"""Property tests: a rare key or a rare type late in a file is never lost or changed.

Files are long enough that the rare line usually falls outside the sample the reader
types the file from (CSV: the first 10,000 rows; JSON lines: 5,000 head lines and eight
short runs spread through the file), so both the sampled and the unsampled cases occur.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from typing import Any

import polars as pl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lakegate.lake import convert

JSONL_ROWS = 24_000
CSV_ROWS = 12_000
# Each example converts a file of 12-24k lines; shrinking would take minutes, so a failure is
# reported as drawn (hypothesis prints it, and its database replays it on the next run).
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- JSON lines -------------------------------------------------------------------------------

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=2**64, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=8),  # lone surrogates included: they become U+FFFD, see below
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("pqr"), inner, min_size=1, max_size=2)
    ),
    max_leaves=4,
)
rare_json = st.tuples(
    st.integers(min_value=100, max_value=JSONL_ROWS - 1),
    st.sampled_from(["new", "nested", "v"]),
    values,
)


def _check(row: dict[str, Any], schema: pl.Schema, name: str, value: Any) -> None:
    """``value`` (at dotted key ``name``) is in ``row``: its own column, or inside an ancestor's text."""
    if name in row:
        assert _same(value, row[name], schema[name]), (name, value, row[name])
    elif isinstance(value, dict):
        for key, inner in value.items():  # an empty object has no column, and no value to lose
            _check(row, schema, f"{name}.{key}", inner)
    else:
        raise AssertionError(f"key {name!r} was lost")


def _same(expected: Any, got: Any, dtype: pl.DataType) -> bool:  # noqa: PLR0911 - one case per type
    if expected is None:
        return got is None
    if isinstance(dtype, pl.String) and not isinstance(expected, str):
        return got is not None and _equal_json(
            json.loads(got, strict=False), expected
        )  # mixed types: the value's text
    if isinstance(expected, bool) or isinstance(dtype, pl.Boolean):
        return got is expected
    if isinstance(dtype, pl.Float64):
        return got == float(expected)
    if isinstance(expected, list):
        inner = dtype.inner if isinstance(dtype, pl.List) else dtype
        return len(expected) == len(got) and all(
            _same(e, g, inner)  # type: ignore[arg-type]
            for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict):
        fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
        return all(_same(v, got.get(k), fields.get(k, dtype)) for k, v in expected.items()) and all(
            got[k] is None for k in got if k not in expected
        )
    return bool(got == expected)


def _equal_json(got: Any, expected: Any) -> bool:
    """JSON values equal as JSON numbers: polars writes a float such as 6.5e16 as 65000000000000000."""
    if isinstance(expected, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return float(got) == expected
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_equal_json(got[k], v) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(
            _equal_json(g, e) for g, e in zip(got, expected, strict=True)
        )
    return type(got) is type(expected) and bool(got == expected)


@SETTINGS
@given(rare=st.lists(rare_json, min_size=1, max_size=3, unique_by=lambda r: r[0]))
def test_jsonl_rare_keys_and_types_late_in_the_file_are_kept(tmp_path_factory, rare):
    tmp = tmp_path_factory.mktemp("jsonl")
    records: list[dict[str, Any]] = [{"id": i, "v": i, "s": {"a": i}} for i in range(JSONL_ROWS)]
    for index, (line, where, value) in enumerate(rare):
        if where == "new":
            records[line][f"rare{index}"] = value
        elif where == "nested":
            records[line]["s"][f"rare{index}"] = value
        else:
            records[line]["v"] = value
    src = tmp / "rare.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    [result] = convert([src], tmp / "out")
    frame = pl.read_parquet(result.outputs[0])
    assert frame.height == JSONL_ROWS
    for line, _where, _value in rare:
        row = frame.row(line, named=True)
        for name, value in records[line].items():
            _check(row, frame.schema, name, value)
    assert frame["id"].to_list() == list(range(JSONL_ROWS))


# -- CSV --------------------------------------------------------------------------------------

NULL_TOKENS = {"", "NULL", "null", "None", "N/A", "n/a", "#N/A"}
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() not in NULL_TOKENS and t == t.strip())
rare_csv = st.tuples(
    st.integers(min_value=10_001, max_value=CSV_ROWS - 1),
    st.sampled_from(["i", "f", "d", "b", "t"]),
    st.one_of(
        texts,
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.dates().map(dt.date.isoformat),
    ),
)


def _matches(got: Any, text: str, dtype: pl.DataType) -> bool:
    """The cell read back is the text written, for the column's final type."""
    if isinstance(dtype, pl.String | pl.Categorical):
        return bool(got == text)
    if isinstance(dtype, pl.Float64):
        expected = float(text)
        return got == expected or (math.isnan(expected) and math.isnan(got))
    if isinstance(dtype, pl.Int64):
        return bool(got == int(text))  # "+5" and "007" read as 5 and 7, as every reader does
    if isinstance(dtype, pl.Date):
        return bool(got == dt.date.fromisoformat(text))
    if isinstance(dtype, pl.Boolean):
        return ("true" if got else "false") == text.lower()
    return False


@SETTINGS
@given(rare=st.lists(rare_csv, min_size=1, max_size=4, unique_by=lambda r: (r[0], r[1])))
def test_csv_rare_types_late_in_the_file_widen_and_keep_every_value(tmp_path_factory, rare):
    tmp = tmp_path_factory.mktemp("csv")
    rows = [
        {
            "i": str(n),
            "f": f"{n}.5",
            "d": (dt.date(2020, 1, 1) + dt.timedelta(days=n % 900)).isoformat(),
            "b": "true" if n % 2 else "false",
            "t": f"w{n % 7}",
        }
        for n in range(CSV_ROWS)
    ]
    for line, column, text in rare:
        rows[line][column] = text
    src = tmp / "rare.csv"
    with src.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["i", "f", "d", "b", "t"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    [result] = convert([src], tmp / "out")
    frame = pl.read_parquet(result.outputs[0])
    assert frame.height == CSV_ROWS
    for line, column, text in rare:
        assert _matches(frame[column][line], text, frame.schema[column]), (column, text, frame[column][line])
    for n in (0, 1, 5_000, CSV_ROWS - 1):
        for column in ("i", "f", "d", "b", "t"):
            assert _matches(frame[column][n], rows[n][column], frame.schema[column]), (n, column)
