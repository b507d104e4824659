"""Property: random typed frames written as CSV and JSON lines convert back to the same values."""

from __future__ import annotations

import datetime as dt
import string
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakegate.lake import convert

from .builders import naive

# Text that cannot be mistaken for another type: a letter first, no null tokens.
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " ,;\"'-", min_size=1, max_size=12).filter(
    lambda s: (
        s[0].isalpha()
        and s.strip() == s
        and s.lower() not in {"true", "false", "yes", "no", "null", "none", "nan", "inf", "infinity"}
    )
)
COLUMNS = {
    "int": (st.integers(min_value=-(2**62), max_value=2**62), pl.Int64),
    "float": (
        st.floats(allow_nan=False, allow_infinity=False, width=64).filter(
            lambda f: f != int(f) or abs(f) < 1e15
        ),
        pl.Float64,
    ),
    "bool": (st.booleans(), pl.Boolean),
    "date": (st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)), pl.Date),
    "datetime": (
        st.datetimes(min_value=naive(1900, 1, 1), max_value=naive(2200, 1, 1)).map(
            lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
        ),
        pl.Datetime("us"),
    ),
    "text": (TEXT, pl.String),
}


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(min_value=1, max_value=30))
    data = {}
    for name in names:
        values, _dtype = COLUMNS[name]
        column = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
        if all(v is None for v in column):
            column[0] = draw(values)
        if name == "float" and all(v is None or float(v).is_integer() for v in column):
            column[0] = 0.5  # a float column must hold a non-whole value, or it reads as int
        data[name] = column
    return pl.DataFrame(data, schema={name: COLUMNS[name][1] for name in names})


def _roundtrip(frame: pl.DataFrame, name: str, write) -> pl.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / name
        write(frame, src)
        [result] = convert([src], Path(folder) / "out")
        return pl.read_parquet(result.outputs[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_csv_roundtrip(frame):
    back = _roundtrip(frame, "data.csv", lambda f, p: f.write_csv(p, datetime_format="%Y-%m-%d %H:%M:%S%.f"))
    assert back.columns == frame.columns
    for name in frame.columns:
        assert back[name].dtype == frame[name].dtype, name
        assert back[name].to_list() == frame[name].to_list(), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_jsonl_roundtrip(frame):
    # JSON has no date type: dates travel as ISO text and come back typed.
    back = _roundtrip(frame, "data.jsonl", lambda f, p: f.write_ndjson(p))
    assert back.columns == frame.columns
    for name in frame.columns:
        expected = frame[name]
        if name == "float":
            assert back[name].dtype in (pl.Float64, pl.Int64), name
            assert [None if v is None else float(v) for v in back[name].to_list()] == expected.to_list()
            continue
        assert back[name].dtype == expected.dtype, name
        assert back[name].to_list() == expected.to_list(), name
