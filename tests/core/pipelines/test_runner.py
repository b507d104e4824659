"""run_pipeline end to end on generated data with known signal: metrics, robustness, cache, retries."""

from __future__ import annotations

import json
import shutil

import numpy as np
import polars as pl
import pytest

from lakegate.errors import ConfigError, PipelineError
from lakegate.models import load_model
from lakegate.pipelines import PipelineInput, ProgressEvent, load_pipeline, run_pipeline
from tests.core.mldata import customers, houses, regions, sensor_readings

CHURN = {
    "inputs": ["customers", "regions"],
    "target": "churned",
    "steps": [
        {"fill_nulls": {"income": "median"}},
        {"join": {"input": "regions", "key": "city"}},
        {"one_hot": ["city", "plan"]},
        {"date_parts": {"columns": ["signup_date"], "parts": ["month", "weekday"]}},
    ],
    "model": {
        "task": "classification",
        "algorithm": "lightgbm",
        "params": {"n_estimators": 80, "learning_rate": 0.05},
        "exclude": ["customer_id"],
        "positive_class": "yes",
    },
    "metrics": ["roc_auc", "f1", "accuracy"],
    "id_columns": ["customer_id"],
    "seed": 7,
}


def spec_of(body: dict, name: str = "churn"):
    return load_pipeline({"pipelines": {name: body}}, name)


def churn_inputs() -> dict:
    return {"customers": customers().lazy(), "regions": regions()}


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("churn")
    events: list[ProgressEvent] = []
    result = run_pipeline(spec_of(CHURN), churn_inputs(), workdir, on_step=events.append)
    return workdir, result, events


def test_classification_learns_the_signal(churn_run):
    _, result, _ = churn_run
    churn_rate = (customers()["churned"] == "yes").mean()
    assert result.metrics["roc_auc"] > 0.75
    assert result.metrics["accuracy"] > max(churn_rate, 1 - churn_rate) + 0.03
    assert result.metrics["f1"] > 0.45
    manifest = result.manifest
    assert manifest.classes == ["no", "yes"]
    assert manifest.positive_class == "yes"
    assert manifest.algorithm == "lightgbm.LGBMClassifier"
    assert manifest.format == "lightgbm"
    assert manifest.training.rows_train + manifest.training.rows_test == 1500
    features = [f.name for f in manifest.features]
    assert {"city_nice", "plan_basic", "region_score", "coastal", "signup_date_month"} <= set(features)
    assert "customer_id" not in features
    assert "churned" not in features


def test_input_schema_marks_what_prediction_needs(churn_run):
    _, result, _ = churn_run
    schema = {c.name: (c.kind, c.required) for c in result.manifest.input_schema}
    assert schema["customer_id"] == ("int", False)  # excluded from features: not needed
    assert schema["city"] == ("str", True)
    assert schema["signup_date"] == ("date", True)
    assert "churned" not in schema


def test_robustness_table_shape_and_degradation(churn_run):
    _, result, _ = churn_run
    rows = result.manifest.robustness.rows
    assert len(rows) == 5 * 3  # (noise x3, swap, missing) x (roc_auc, f1, accuracy)
    assert {(r.perturbation, r.level) for r in rows} == {
        ("noise", 0.1),
        ("noise", 0.5),
        ("noise", 1.0),
        ("swap", 0.1),
        ("missing", 0.1),
    }
    drop = {(r.perturbation, r.level): r.drop for r in rows if r.metric == "roc_auc"}
    assert drop[("noise", 1.0)] > drop[("noise", 0.1)]
    assert drop[("noise", 1.0)] >= drop[("noise", 0.5)] - 0.01
    assert drop[("noise", 1.0)] > 0.02  # a strong perturbation hurts
    assert all(r.before == result.metrics[r.metric] for r in rows)
    summary = result.manifest.robustness.summary
    assert summary["roc_auc_drop"] == max(r.drop for r in rows if r.metric == "roc_auc")
    assert result.promotion_metrics()["robustness"]["noise_f1_drop"] == summary["noise_f1_drop"]


def test_progress_events_name_each_stage(churn_run):
    _, _, events = churn_run
    done = [(e.stage, e.status) for e in events if e.status != "started"]
    assert done == [
        ("customers", "done"),
        ("regions", "done"),
        ("01_fill_nulls", "done"),
        ("02_join", "done"),
        ("03_one_hot", "done"),
        ("04_date_parts", "done"),
        ("train", "done"),
        ("save", "done"),
    ]
    assert events[-2].rows == 1200
    assert "roc_auc=" in events[-2].message


def test_each_step_output_is_parquet_under_its_folder(churn_run):
    workdir, result, _ = churn_run
    for step in result.steps:
        assert step.path.parent == workdir / step.name
        frame = pl.read_parquet(step.path / "data.parquet")
        assert frame.height == step.rows == 1500
        assert frame.columns == step.columns
    assert not list(workdir.rglob(".*tmp-*"))  # no scratch folders left behind


def test_second_run_reuses_every_step_and_the_model(churn_run):
    workdir, first, _ = churn_run
    events: list[ProgressEvent] = []
    second = run_pipeline(spec_of(CHURN), churn_inputs(), workdir, on_step=events.append)
    assert second.cache_hits == ["01_fill_nulls", "02_join", "03_one_hot", "04_date_parts", "model"]
    assert second.model_sha256 == first.model_sha256
    assert second.metrics == first.metrics
    assert [e.stage for e in events if e.status == "cached"] == [*second.cache_hits[:-1], "train"]


def test_a_changed_param_reuses_steps_but_retrains(churn_run):
    workdir, first, _ = churn_run
    body = json.loads(json.dumps(CHURN))
    body["model"]["params"]["n_estimators"] = 40
    changed = run_pipeline(spec_of(body), churn_inputs(), workdir)
    assert changed.cache_hits == ["01_fill_nulls", "02_join", "03_one_hot", "04_date_parts"]
    assert changed.model_sha256 != first.model_sha256


def test_a_changed_upstream_step_invalidates_what_follows(churn_run):
    workdir, _, _ = churn_run
    body = json.loads(json.dumps(CHURN))
    body["steps"][2] = {"one_hot": {"columns": ["city", "plan"], "max_categories": 2}}
    changed = run_pipeline(spec_of(body), churn_inputs(), workdir)
    assert changed.cache_hits == ["01_fill_nulls", "02_join"]


def test_same_inputs_in_a_fresh_folder_give_the_same_model(churn_run, tmp_path):
    _, first, _ = churn_run
    again = run_pipeline(spec_of(CHURN), churn_inputs(), tmp_path)
    assert again.model_sha256 == first.model_sha256
    assert again.cache_hits == []


def test_a_run_killed_mid_step_leaves_nothing_and_the_retry_matches(churn_run, tmp_path, monkeypatch):
    _, first, _ = churn_run

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt  # the worker dies while writing the second step

    original = pl.DataFrame.write_parquet
    calls = {"n": 0}

    def write_then_die(self, *args, **kwargs):
        calls["n"] += 1
        original(self, *args, **kwargs)
        if calls["n"] == 2:
            killed(self)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(spec_of(CHURN), churn_inputs(), tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "01_fill_nulls").is_dir()
    assert not list((tmp_path / "02_join").iterdir())  # no partial output under a final name
    retried = run_pipeline(spec_of(CHURN), churn_inputs(), tmp_path)
    assert retried.cache_hits == ["01_fill_nulls"]
    assert retried.model_sha256 == first.model_sha256


def test_input_fingerprint_given_by_the_caller_skips_hashing(tmp_path):
    body = {**CHURN, "inputs": ["customers"], "steps": [{"one_hot": ["city", "plan"]}]}
    frame = customers()
    first = run_pipeline(spec_of(body), {"customers": PipelineInput(frame, fingerprint="v1")}, tmp_path)
    assert first.input_fingerprints == {"customers": "v1"}
    # The fingerprint is trusted: same fingerprint, same cache entry.
    second = run_pipeline(
        spec_of(body), {"customers": PipelineInput(frame.head(10), fingerprint="v1")}, tmp_path
    )
    assert second.cache_hits == ["01_one_hot", "model"]


def test_regression_with_a_scikit_learn_estimator(tmp_path):
    spec = spec_of(
        {
            "inputs": "houses",
            "target": "price",
            "steps": [{"one_hot": ["district"]}],
            "model": {
                "task": "regression",
                "algorithm": "sklearn.ensemble.RandomForestRegressor",
                "params": {"n_estimators": 40, "max_depth": 8},
            },
        },
        "price",
    )
    result = run_pipeline(spec, {"houses": houses()}, tmp_path)
    assert result.metrics["r2"] > 0.9
    assert result.metrics["rmse"] < houses()["price"].std() / 3
    assert result.manifest.format == "skops"
    rmse_drop = {
        r.level: r.drop
        for r in result.manifest.robustness.rows
        if r.perturbation == "noise" and r.metric == "rmse"
    }
    assert rmse_drop[1.0] > rmse_drop[0.5] > rmse_drop[0.1] > 0  # lower is better: drop = increase
    missing = next(r for r in result.manifest.robustness.rows if r.perturbation == "missing")
    assert "imputed with training medians" in missing.note
    # skops files are canonicalised, so a retry elsewhere yields the same artifact hash.
    assert run_pipeline(spec, {"houses": houses()}, tmp_path / "again").model_sha256 == result.model_sha256


def test_time_split_holds_out_the_latest_rows(tmp_path):
    body = {
        **CHURN,
        "inputs": ["customers"],
        "steps": [{"one_hot": ["city", "plan"]}],
        "split": {"method": "time", "column": "signup_date", "test_size": 0.25},
    }
    body["model"] = {**CHURN["model"], "exclude": ["customer_id", "signup_date"]}
    result = run_pipeline(spec_of(body), {"customers": customers()}, tmp_path)
    ordered = customers().sort("signup_date")
    cutoff = ordered["signup_date"][int(1500 * 0.75)]
    assert result.manifest.training.rows_test == (customers()["signup_date"] >= cutoff).sum()


@pytest.fixture(scope="module")
def sensor_spec():
    return spec_of(
        {
            "inputs": "readings",
            "steps": [
                {
                    "aggregate": {
                        "by": ["sensor_id"],
                        "time": "ts",
                        "every": "1d",
                        "aggs": {"temperature": ["mean", "std", "min", "max"], "vibration": ["mean", "max"]},
                    }
                }
            ],
            "model": {
                "task": "clustering",
                "algorithm": "minibatch_kmeans",
                "params": {"n_clusters": 3},
                "warm_start": True,
            },
            "id_columns": ["sensor_id", "ts"],
        },
        "sensors",
    )


def test_per_sensor_per_day_clustering(sensor_spec, tmp_path):
    result = run_pipeline(sensor_spec, {"readings": sensor_readings()}, tmp_path)
    assert result.steps[0].rows == 12 * 6  # one row per sensor per day
    assert result.metrics["silhouette"] > 0.8  # three well separated regimes
    sizes = result.manifest.cluster_sizes
    assert len(sizes) == 3
    assert sum(sizes) == result.manifest.training.rows_train
    assert min(sizes) > 10
    assert [f.name for f in result.manifest.features] == [
        "temperature_mean",
        "temperature_std",
        "temperature_min",
        "temperature_max",
        "vibration_mean",
        "vibration_max",
        "count",
    ]
    agreement = {r.level: r.after for r in result.manifest.robustness.rows if r.perturbation == "noise"}
    assert agreement[0.1] >= agreement[1.0]
    predictor = load_model(result.model_dir, result.model_sha256)
    scored = predictor.predict_frame(sensor_readings(days=1, seed=9))
    assert scored.columns == ["sensor_id", "ts", "prediction"]
    assert scored.height == 12
    # Sensors of the same regime (index mod 3) land in the same cluster.
    by_sensor = dict(zip(scored["sensor_id"], scored["prediction"], strict=True))
    assert len({by_sensor[f"s{i:02d}"] for i in (0, 3, 6, 9)}) == 1
    assert len(set(by_sensor.values())) == 3


def test_warm_start_continues_from_the_previous_model(sensor_spec, tmp_path):
    first = run_pipeline(sensor_spec, {"readings": sensor_readings()}, tmp_path)
    previous = load_model(first.model_dir, first.model_sha256)
    later = sensor_readings(start_day=6, shift=4.0, seed=5)
    second = run_pipeline(sensor_spec, {"readings": later}, tmp_path, previous_model=previous)
    assert second.manifest.training.warm_started
    assert second.manifest.training.previous_model_sha256 == first.model_sha256
    current = load_model(second.model_dir, second.model_sha256)
    old_centers, new_centers = previous.model.cluster_centers(), current.model.cluster_centers()
    assert new_centers.shape == old_centers.shape == (3, 7)  # k kept
    assert not np.allclose(new_centers, old_centers)
    # The continued model fits the new data better than the previous one did.
    features = current.predict_frame(later)
    x = current._matrix_from_frame(later)[0]
    from lakegate.models._evaluate import inertia

    assert inertia(x, new_centers) < inertia(x, old_centers)
    assert features.height == 72
    fresh = run_pipeline(sensor_spec, {"readings": later}, tmp_path / "fresh")
    assert not fresh.manifest.training.warm_started


def test_missing_input_and_bad_params_fail_before_any_work(tmp_path):
    with pytest.raises(PipelineError, match="inputs not supplied: regions"):
        run_pipeline(spec_of(CHURN), {"customers": customers()}, tmp_path)
    body = json.loads(json.dumps(CHURN))
    body["model"]["params"] = {"n_estimatorz": 5}
    with pytest.raises(ConfigError, match="takes no parameter 'n_estimatorz'"):
        run_pipeline(spec_of(body), churn_inputs(), tmp_path)
    assert not list(tmp_path.iterdir())


def test_data_problems_are_pipeline_errors_naming_the_step(tmp_path):
    body = {**CHURN, "inputs": ["customers"], "steps": [{"one_hot": ["town"]}]}
    with pytest.raises(PipelineError, match="pipeline churn: step one_hot: no column 'town'"):
        run_pipeline(spec_of(body), {"customers": customers()}, tmp_path)
    single = customers().with_columns(pl.lit("no").alias("churned"))
    body = {**CHURN, "inputs": ["customers"], "steps": [{"one_hot": ["city", "plan"]}]}
    with pytest.raises(PipelineError, match="single class"):
        run_pipeline(spec_of(body), {"customers": single}, tmp_path)
    body = {**CHURN, "inputs": ["customers"], "steps": []}
    with pytest.raises(PipelineError, match="encode text with one_hot/ordinal") as info:
        run_pipeline(spec_of(body), {"customers": customers().select("city", "churned")}, tmp_path)
    assert info.value.detail["pipeline"] == "churn"


def test_custom_step_in_a_pipeline(tmp_path):
    body = {
        **CHURN,
        "inputs": ["customers"],
        "steps": [
            {
                "custom": {
                    "function": "tests.core.features.custom_steps:add_ratio",
                    "params": {"numerator": "tickets", "denominator": "tenure_months"},
                }
            },
            {"one_hot": ["city", "plan"]},
        ],
    }
    result = run_pipeline(spec_of(body), {"customers": customers()}, tmp_path)
    assert "ratio" in [f.name for f in result.manifest.features]
    assert not result.manifest.row_wise
    shutil.rmtree(tmp_path)
