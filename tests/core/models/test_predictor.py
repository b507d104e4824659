"""The Predictor: schema validation with field-level errors, fast row path == polars path, decoding."""

# ruff: noqa: DTZ001 - polars datetime columns here are naive, as in the lake

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from lakegate.errors import InputError
from lakegate.models import load_model, write_predictions
from lakegate.models._predictor import FAST_PATH_ROWS
from tests.core.mldata import customers, houses


@pytest.fixture(scope="module")
def predictor(churn_model):
    return load_model(churn_model.model_dir, churn_model.model_sha256)


def records(n: int = 5) -> list[dict]:
    return customers().drop("churned").head(n).to_dicts()


def test_single_record_gives_a_label_and_probabilities(predictor):
    result = predictor.predict(records(1)[0])
    assert result.predictions[0] in {"no", "yes"}
    (probabilities,) = result.probabilities
    assert set(probabilities) == {"no", "yes"}
    assert probabilities["no"] + probabilities["yes"] == pytest.approx(1.0)
    assert result.predictions[0] == max(probabilities, key=probabilities.get)
    assert result.to_dict()["probabilities"] == result.probabilities


def test_fast_row_path_matches_the_polars_path(predictor):
    rows = records(FAST_PATH_ROWS + 20)
    assert predictor.steps.row_wise
    fast = [predictor.predict(r).probabilities[0]["yes"] for r in rows[:30]]
    batch = predictor.predict(rows)  # more rows than the fast path takes: polars
    frame = predictor.predict(customers().head(FAST_PATH_ROWS + 20))
    assert np.allclose(fast, [p["yes"] for p in batch.probabilities[:30]], rtol=0, atol=1e-12)
    assert batch.predictions == frame.predictions


def test_predictions_separate_churners(predictor):
    data = customers(n=600, seed=11)
    scores = np.array([p["yes"] for p in predictor.predict(data).probabilities])
    truth = (data["churned"] == "yes").to_numpy()
    assert scores[truth].mean() > scores[~truth].mean() + 0.2


def test_json_style_inputs_are_coerced(predictor):
    record = records(1)[0]
    as_json = {**record, "signup_date": record["signup_date"].isoformat(), "age": float(record["age"])}
    assert predictor.predict(as_json) == predictor.predict(record)
    with_extra = {**record, "unknown_field": "ignored", "churned": "yes"}
    assert predictor.predict(with_extra) == predictor.predict(record)


def test_unseen_category_and_missing_optional_values_are_handled(predictor):
    record = {**records(1)[0], "city": "berlin", "income": None, "customer_id": None}
    result = predictor.predict(record)
    assert result.predictions[0] in {"no", "yes"}
    del record["customer_id"]  # not needed by the features
    assert predictor.predict(record) == result


def test_bad_fields_are_all_reported(predictor):
    record = {**records(1)[0], "age": "forty", "tenure_months": True, "signup_date": "someday"}
    del record["plan"]
    with pytest.raises(InputError) as info:
        predictor.predict(record)
    problems = {p["field"]: p["reason"] for p in info.value.detail}
    assert problems == {
        "age": "expected an integer, got 'forty'",
        "plan": "missing",
        "tenure_months": "expected an integer, got True",
        "signup_date": "expected a date (YYYY-MM-DD), got 'someday'",
    }
    assert info.value.http_status == 422
    assert info.value.message.startswith("invalid input: age: expected an integer")


def test_errors_in_a_batch_name_the_row(predictor):
    rows = records(3)
    rows[2]["income"] = "lots"
    with pytest.raises(InputError) as info:
        predictor.predict(rows)
    assert info.value.detail == [{"field": "income", "reason": "expected a number, got 'lots'", "row": 2}]


def test_frames_with_wrong_columns_are_refused(predictor):
    with pytest.raises(InputError) as info:
        predictor.predict(customers().drop("city").with_columns(pl.lit("x").alias("age")))
    problems = {p["field"]: p["reason"] for p in info.value.detail}
    assert problems == {"age": "expected int, got String", "city": "missing column"}
    with pytest.raises(InputError, match="a JSON object or a list of objects"):
        predictor.predict("customer")  # type: ignore[arg-type]


def test_empty_list(predictor):
    assert predictor.predict([]).predictions == []


def test_batch_scoring_keeps_ids(predictor, tmp_path):
    data = customers(n=50, seed=3)
    scored = predictor.predict_frame(data)
    assert scored.columns == ["customer_id", "prediction", "proba_no", "proba_yes"]
    assert scored["customer_id"].to_list() == data["customer_id"].to_list()
    out = tmp_path / "predictions" / "batch.parquet"
    assert write_predictions(predictor, data.lazy(), out) == 50
    assert pl.read_parquet(out).equals(scored)


def test_regression_predictor_needs_no_missing_handling(sklearn_model):
    predictor = load_model(sklearn_model.model_dir, sklearn_model.model_sha256)
    data = houses(n=20, seed=4)
    values = predictor.predict(data.drop("price").to_dicts()).predictions
    assert all(isinstance(v, float) for v in values)
    assert np.corrcoef(values, data["price"].to_numpy())[0, 1] > 0.9
    assert predictor.manifest.handles_missing  # HistGradientBoosting takes NaN
    assert predictor.predict({"surface": None, "rooms": 3, "district": "center"}).predictions[0] > 0


def test_a_model_that_cannot_take_missing_values_names_the_feature(tmp_path_factory):
    from tests.core.models.conftest import train

    body = {
        "inputs": "houses",
        "target": "price",
        "steps": [{"one_hot": ["district"]}],
        "model": {"task": "regression", "algorithm": "ridge"},
    }
    result = train(tmp_path_factory, body, {"houses": houses()}, "ridge")
    predictor = load_model(result.model_dir, result.model_sha256)
    with pytest.raises(InputError) as info:
        predictor.predict({"surface": None, "rooms": 3, "district": "north"})
    assert info.value.detail == [
        {"field": "surface", "reason": "missing value (this model needs one)", "row": 0}
    ]


def test_aggregating_pipelines_predict_through_polars(tmp_path_factory):
    from tests.core.mldata import sensor_readings
    from tests.core.models.conftest import train

    body = {
        "inputs": "r",
        "steps": [
            {
                "aggregate": {
                    "by": ["sensor_id"],
                    "time": "ts",
                    "every": "1d",
                    "aggs": {"temperature": ["mean"]},
                }
            }
        ],
        "model": {"task": "clustering", "algorithm": "kmeans", "params": {"n_clusters": 3, "n_init": 2}},
    }
    result = train(tmp_path_factory, body, {"r": sensor_readings()}, "agg")
    predictor = load_model(result.model_dir, result.model_sha256)
    assert not predictor.steps.row_wise
    one = predictor.predict({"sensor_id": "s01", "ts": "2024-05-01T10:00:00", "temperature": 24.0})
    assert len(one.predictions) == 1
    assert isinstance(one.predictions[0], int)
    assert {c.name: c.kind for c in predictor.manifest.input_schema} == {
        "sensor_id": "str",
        "ts": "datetime",
        "temperature": "float",
        "vibration": "float",
    }
    assert not next(c for c in predictor.manifest.input_schema if c.name == "vibration").required
    assert predictor.predict(
        [{"sensor_id": "s01", "ts": dt.datetime(2024, 5, 1), "temperature": 61.0}]
    ).predictions
