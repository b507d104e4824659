"""Feature steps: learned state, frame results with real values, and the single-row path agreeing."""

# ruff: noqa: DTZ001 - polars datetime columns here are naive, as in the lake

from __future__ import annotations

import datetime as dt
import importlib
import math
import typing

import polars as pl
import pytest
from pydantic import TypeAdapter, ValidationError

from lakegate.errors import ConfigError, PipelineError
from lakegate.features import (
    STEPS,
    FeaturePipeline,
    FittedStep,
    StepConfig,
    StepImpl,
    normalize_step,
    step_impl,
)

ADAPTER: TypeAdapter = TypeAdapter(StepConfig)


def fit_all(frame: pl.DataFrame, *raw_steps: dict) -> tuple[FeaturePipeline, pl.DataFrame]:
    """Fit steps in order like the runner does; return the pipeline and the transformed frame."""
    lazy = frame.lazy()
    fitted = []
    for index, raw in enumerate(raw_steps):
        config = ADAPTER.validate_python(normalize_step(raw))
        impl = step_impl(config)
        state = impl.fit(lazy)
        lazy = impl.transform(lazy, state).collect().lazy()
        fitted.append(FittedStep.create(f"s{index}", config, state))
    return FeaturePipeline(fitted), lazy.collect()


def rows_agree(pipeline: FeaturePipeline, frame: pl.DataFrame, expected: pl.DataFrame) -> None:
    """The pure-Python row path gives exactly the polars result, row by row."""
    assert pipeline.row_wise
    for record, want in zip(frame.to_dicts(), expected.to_dicts(), strict=True):
        got = pipeline.transform_row(dict(record))
        assert set(got) == set(want)
        for key, value in want.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(got[key])
            else:
                assert got[key] == pytest.approx(value) if isinstance(value, float) else got[key] == value, (
                    key
                )


def test_every_step_kind_is_registered_and_importable():
    kinds = {
        typing.get_args(m.model_fields["kind"].annotation)[0] for m in typing.get_args(StepConfig.__origin__)
    }
    assert kinds == set(STEPS)
    for kind, dotted in STEPS.items():
        module_name, _, name = dotted.partition(":")
        cls = getattr(importlib.import_module(module_name), name)
        assert issubclass(cls, StepImpl), kind


def test_short_forms_normalize_to_the_long_form():
    assert normalize_step({"select": ["a", "b"]}) == {"kind": "select", "columns": ["a", "b"]}
    assert normalize_step({"rename": {"a": "b"}, "name": "ren"}) == {
        "kind": "rename",
        "columns": {"a": "b"},
        "name": "ren",
    }
    assert normalize_step({"one_hot": {"columns": ["c"], "max_categories": 3}}) == {
        "kind": "one_hot",
        "columns": ["c"],
        "max_categories": 3,
    }
    assert normalize_step({"fill_nulls": {"income": "median"}}) == {
        "kind": "fill_nulls",
        "values": {"income": "median"},
    }
    assert normalize_step({"custom": "pkg.mod:fn"}) == {"kind": "custom", "function": "pkg.mod:fn"}
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(normalize_step({"one_hot": {"colums": ["c"]}}))


def test_select_rename_cast_and_drop():
    frame = pl.DataFrame(
        {"a": ["1", "2", None], "b": [1.5, 2.5, 3.5], "flag": ["yes", "no", "true"], "x": [1, 2, 3]}
    )
    pipeline, out = fit_all(
        frame,
        {"select": ["a", "b", "flag"]},
        {"rename": {"b": "score"}},
        {"cast": {"a": "int", "score": "int", "flag": "bool"}},
    )
    assert out.to_dict(as_series=False) == {
        "a": [1, 2, None],
        "score": [1, 2, 3],
        "flag": [True, False, True],
    }
    rows_agree(pipeline, frame, out)
    with pytest.raises(PipelineError, match="no column 'nope'"):
        fit_all(frame, {"select": ["a", "nope"]})
    _, dropped = fit_all(frame, {"drop": ["x", "not_there"]})
    assert dropped.columns == ["a", "b", "flag"]


def test_cast_text_to_dates():
    frame = pl.DataFrame(
        {"d": ["2024-02-29", "2023-12-31"], "t": ["2024-01-01 10:30:00", "2024-06-01T00:00:00"]}
    )
    pipeline, out = fit_all(frame, {"cast": {"d": "date", "t": "datetime"}})
    assert out["d"].to_list() == [dt.date(2024, 2, 29), dt.date(2023, 12, 31)]
    assert out["t"].to_list() == [dt.datetime(2024, 1, 1, 10, 30), dt.datetime(2024, 6, 1)]
    rows_agree(pipeline, frame, out)


def test_fill_nulls_learns_values_and_fills_nan():
    frame = pl.DataFrame(
        {
            "income": [10.0, None, 30.0, float("nan"), 50.0],
            "city": ["a", None, "b", "b", None],
            "n": [1, None, 3, 3, 5],
        }
    )
    pipeline, out = fit_all(frame, {"fill_nulls": {"income": "median", "city": "mode", "n": {"value": -1}}})
    assert pipeline.steps[0].state == {"values": {"income": 30.0, "city": "b", "n": -1}}
    assert out["income"].to_list() == [10.0, 30.0, 30.0, 30.0, 50.0]
    assert out["city"].to_list() == ["a", "b", "b", "b", "b"]
    assert out["n"].to_list() == [1, -1, 3, 3, 5]
    rows_agree(pipeline, frame, out)
    with pytest.raises(PipelineError, match="needs a numeric column"):
        fit_all(frame, {"fill_nulls": {"city": "mean"}})


def test_scale_standard_and_minmax():
    frame = pl.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [10, 10, 10, 10], "c": [0, 5, 10, None]})
    pipeline, out = fit_all(
        frame, {"scale": {"columns": ["a", "b"]}}, {"scale": {"columns": ["c"], "method": "minmax"}}
    )
    assert out["a"].mean() == pytest.approx(0.0)
    assert out["a"].std(ddof=0) == pytest.approx(1.0)
    assert out["b"].to_list() == [0.0, 0.0, 0.0, 0.0]  # constant column: no division by zero
    assert out["c"].to_list() == [0.0, 0.5, 1.0, None]
    rows_agree(pipeline, frame, out)


def test_one_hot_learns_top_categories_and_zeroes_unseen_ones():
    frame = pl.DataFrame(
        {"city": ["paris", "lyon", "paris", "nice", "paris", "lyon", None], "v": list(range(7))}
    )
    pipeline, out = fit_all(frame, {"one_hot": {"columns": ["city"], "max_categories": 2}})
    assert pipeline.steps[0].state["columns"]["city"] == [["lyon", "city_lyon"], ["paris", "city_paris"]]
    assert out.columns == ["v", "city_lyon", "city_paris"]
    assert out["city_paris"].to_list() == [1, 0, 1, 0, 1, 0, 0]
    assert out["city_lyon"].to_list() == [0, 1, 0, 0, 0, 1, 0]  # nice (rare) and null: all zeros
    rows_agree(pipeline, frame, out)
    unseen = FeaturePipeline(pipeline.steps).transform(pl.LazyFrame({"city": ["berlin"], "v": [0]})).collect()
    assert unseen.row(0, named=True) == {"v": 0, "city_lyon": 0, "city_paris": 0}
    assert pipeline.transform_row({"city": "berlin", "v": 0}) == {"v": 0, "city_lyon": 0, "city_paris": 0}


def test_one_hot_names_are_safe_and_unique_and_booleans_agree():
    frame = pl.DataFrame({"c": ["a b", "a-b", "é"], "flag": [True, False, True]})
    pipeline, out = fit_all(frame, {"one_hot": ["c", "flag"]})
    assert [name for _, name in pipeline.steps[0].state["columns"]["c"]] == ["c_a_b", "c_a_b_2", "c_blank"]
    assert out["flag_true"].to_list() == [1, 0, 1]
    rows_agree(pipeline, frame, out)


def test_one_hot_refuses_float_columns():
    with pytest.raises(PipelineError, match="encode text, boolean or integer"):
        fit_all(pl.DataFrame({"x": [1.5, 2.5]}), {"one_hot": ["x"]})


def test_ordinal_codes_order_and_unknowns():
    frame = pl.DataFrame({"size": ["m", "s", "l", "m", None], "grade": ["b", "a", "c", "a", "b"]})
    pipeline, out = fit_all(
        frame, {"ordinal": {"columns": ["size", "grade"], "order": {"size": ["s", "m", "l"]}}}
    )
    assert out["size"].to_list() == [1, 0, 2, 1, -1]
    assert out["grade"].to_list() == [1, 0, 2, 0, 1]
    rows_agree(pipeline, frame, out)
    assert pipeline.transform_row({"size": "xl", "grade": "z"}) == {"size": -1, "grade": -1}


def test_date_parts():
    frame = pl.DataFrame(
        {
            "when": [dt.datetime(2024, 3, 2, 14, 5), dt.datetime(2023, 12, 31, 0, 0)],
            "d": [dt.date(2024, 1, 1)] * 2,
        }
    )
    pipeline, out = fit_all(
        frame,
        {
            "date_parts": {
                "columns": ["when"],
                "parts": [
                    "year",
                    "quarter",
                    "month",
                    "week",
                    "day",
                    "weekday",
                    "dayofyear",
                    "is_weekend",
                    "hour",
                    "minute",
                ],
            }
        },
    )
    assert out.row(0, named=True) == {
        "d": dt.date(2024, 1, 1),
        "when_year": 2024,
        "when_quarter": 1,
        "when_month": 3,
        "when_week": 9,
        "when_day": 2,
        "when_weekday": 6,
        "when_dayofyear": 62,
        "when_is_weekend": 1,
        "when_hour": 14,
        "when_minute": 5,
    }
    assert out.row(1, named=True)["when_week"] == 52
    rows_agree(pipeline, frame, out)
    with pytest.raises(PipelineError, match="hour/minute need a datetime"):
        fit_all(frame, {"date_parts": {"columns": ["d"], "parts": ["hour"]}})


def test_aggregate_per_sensor_per_day():
    hours = [dt.datetime(2024, 3, 1, h) for h in (1, 5, 23)] + [dt.datetime(2024, 3, 2, 2)]
    frame = pl.DataFrame(
        {
            "sensor": ["a", "a", "a", "a", "b", "b", "b", "b"],
            "ts": hours + hours,
            "temp": [1.0, 2.0, 3.0, 10.0, 5.0, 5.0, 5.0, 7.0],
        }
    )
    pipeline, out = fit_all(
        frame,
        {
            "aggregate": {
                "by": ["sensor"],
                "time": "ts",
                "every": "1d",
                "aggs": {"temp": ["mean", "std", "min", "max"]},
            }
        },
    )
    assert not pipeline.row_wise
    assert out.columns == ["sensor", "ts", "temp_mean", "temp_std", "temp_min", "temp_max", "count"]
    rows = {(r["sensor"], r["ts"].day): r for r in out.to_dicts()}
    assert rows[("a", 1)]["temp_mean"] == pytest.approx(2.0)
    assert rows[("a", 1)]["temp_std"] == pytest.approx(1.0)
    assert (rows[("a", 1)]["temp_min"], rows[("a", 1)]["temp_max"], rows[("a", 1)]["count"]) == (1.0, 3.0, 3)
    assert rows[("a", 2)]["count"] == 1
    assert rows[("a", 2)]["temp_std"] is None
    assert rows[("b", 1)]["temp_std"] == pytest.approx(0.0)
    assert rows[("b", 2)]["temp_max"] == 7.0
    with pytest.raises(PipelineError, match="not a date/datetime"):
        fit_all(frame, {"aggregate": {"time": "temp", "every": "1d", "aggs": {"temp": ["mean"]}}})


def test_aggregate_rejects_a_bad_duration():
    with pytest.raises(ValidationError, match="every"):
        ADAPTER.validate_python(
            {"kind": "aggregate", "time": "ts", "every": "daily", "aggs": {"x": ["mean"]}}
        )


def test_custom_step_runs_a_dotted_function():
    frame = pl.DataFrame({"a": [2, 4], "b": [0, 1]})
    pipeline, out = fit_all(
        frame,
        {
            "custom": {
                "function": "tests.core.features.custom_steps:add_ratio",
                "params": {"numerator": "a", "denominator": "b"},
            }
        },
    )
    assert out["ratio"].to_list() == [2.0, 2.0]
    assert not pipeline.row_wise
    assert len(pipeline.steps[0].impl.code_version()) == 64  # the module's content hash
    with pytest.raises(PipelineError, match="returned int, not a LazyFrame"):
        fit_all(frame, {"custom": "tests.core.features.custom_steps:not_a_frame"})
    with pytest.raises(ConfigError, match="has no function 'missing'"):
        fit_all(frame, {"custom": "tests.core.features.custom_steps:missing"})
    with pytest.raises(ValidationError, match=r"package\.module:function"):
        ADAPTER.validate_python({"kind": "custom", "function": "os.system"})


def test_join_brings_lookup_columns_and_stores_them():
    frame = pl.DataFrame({"city": ["paris", "nice", "berlin"], "score": [1, 2, 3]})
    table = pl.DataFrame(
        {"city": ["paris", "nice", "paris"], "score": [0.5, 0.9, 0.1], "day": [dt.date(2024, 1, 1)] * 3}
    )
    config = ADAPTER.validate_python({"kind": "join", "input": "regions", True: "city"})
    impl = step_impl(config)
    impl.bind({"regions": (table.lazy(), "fp")})
    state = impl.fit(frame.lazy())
    out = impl.transform(frame.lazy(), state).collect()
    # "score" exists on the left, so the right one is renamed after the input; first row per key wins.
    assert out.columns == ["city", "score", "score_regions", "day"]
    assert out["score_regions"].to_list() == [0.5, 0.9, None]
    pipeline = FeaturePipeline([FittedStep.create("j", config, state)])
    restored = FeaturePipeline.from_json(pipeline.to_json())  # the stored state alone reproduces it
    assert restored.transform(frame.lazy()).collect().equals(out)
    rows_agree(restored, frame, out)
