"""The trainer allow-list: every algorithm registered, loadable, savable without pickle."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import numpy as np
import pytest

from lakegate.errors import ConfigError, MissingExtraError
from lakegate.models import ALIASES, TRAINERS, evaluate, resolve_algorithm, trainer_for
from lakegate.models.trainers import FORMATS, model_class
from lakegate.models.trainers.sklearn import SklearnModel

HAS_XGBOOST = importlib.util.find_spec("xgboost") is not None


def data(task: str, n: int = 120):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    if task == "classification":
        return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    if task == "regression":
        return x, 3 * x[:, 0] - x[:, 2] + rng.normal(0, 0.1, n)
    return np.vstack([x[: n // 2] - 3, x[n // 2 :] + 3]), None


def test_every_trainer_and_format_is_registered_and_importable():
    for algorithm, (dotted, task) in TRAINERS.items():
        module_name, _, name = dotted.partition(":")
        assert hasattr(importlib.import_module(module_name), name), algorithm
        assert resolve_algorithm(algorithm, task) == algorithm
    for fmt in FORMATS:
        if fmt != "xgboost" or HAS_XGBOOST:
            assert model_class(fmt).format == fmt
    for alias, tasks in ALIASES.items():
        for task, algorithm in tasks.items():
            assert resolve_algorithm(alias, task) == algorithm  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["os.system", "sklearn.svm.SVC", "builtins.eval", "lightgbm.Booster"])
def test_names_outside_the_allow_list_are_refused(name):
    with pytest.raises(ConfigError, match="is not an allowed classification algorithm"):
        resolve_algorithm(name, "classification")


def test_task_mismatch_is_explained():
    with pytest.raises(ConfigError, match=r"is a regression algorithm, but model\.task is classification"):
        resolve_algorithm("sklearn.linear_model.Ridge", "classification")


def test_xgboost_without_the_extra_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "xgboost", None)  # as if the extra were not installed
    with pytest.raises(MissingExtraError) as info:
        trainer_for("xgboost.XGBClassifier").check_params({})
    assert "pip install 'lakegate[xgboost]'" in info.value.message


@pytest.mark.parametrize(
    "algorithm", [a for a, (path, _) in TRAINERS.items() if path.endswith("SklearnTrainer")]
)
def test_every_scikit_learn_estimator_round_trips_through_skops(algorithm, tmp_path):
    task = TRAINERS[algorithm][1]
    x, y = data(task)
    params = {"n_clusters": 2, "n_init": 1} if task == "clustering" else {}
    if "Forest" in algorithm or "Trees" in algorithm or "GradientBoosting" in algorithm:
        params = {"n_estimators": 5} if "Hist" not in algorithm else {"max_iter": 5}
    model = trainer_for(algorithm).fit(x, y, task=task, params=params, seed=0, feature_names=list("abcd"))
    files = model.save(tmp_path)
    # Same model, same bytes: object ids renumbered, fixed timestamps. (Saved before predicting:
    # KNN's KD-tree counts its queries in its state.)
    (tmp_path / "again").mkdir()
    model.save(tmp_path / "again")
    assert (tmp_path / "again" / "model.skops").read_bytes() == (tmp_path / "model.skops").read_bytes()
    loaded = SklearnModel.load(tmp_path, task=task, algorithm=algorithm)
    assert files == ["model.skops"]
    assert np.array_equal(loaded.predict_values(x), model.predict_values(x))


def test_lightgbm_params_are_checked_and_threads_pinned():
    trainer = trainer_for("lightgbm.LGBMRegressor")
    with pytest.raises(ConfigError, match="takes no parameter 'leaves'"):
        trainer.check_params({"leaves": 3})
    x, y = data("regression")
    model = trainer.fit(
        x,
        y,
        task="regression",
        params={"n_estimators": 20, "min_data_in_leaf": 5},
        seed=0,
        feature_names=list("abcd"),
    )
    assert model.booster.feature_name() == list("abcd")
    assert model.booster.params["num_threads"] == 1  # n_jobs=1 unless the spec says otherwise


def test_classification_metrics_on_a_known_case():
    x, y = data("classification")
    model = trainer_for("lightgbm.LGBMClassifier").fit(
        x, y, task="classification", params={"n_estimators": 30}, seed=0, feature_names=list("abcd")
    )
    metrics = evaluate(model, x, y, task="classification", n_classes=2)
    assert set(metrics) == {"accuracy", "f1", "precision", "recall", "roc_auc"}
    assert metrics["accuracy"] > 0.9
    assert metrics["roc_auc"] > 0.95
    single_class = evaluate(model, x[y == 1], y[y == 1], task="classification", n_classes=2)
    assert single_class["roc_auc"] is None  # undefined with one class in the hold-out


def test_multiclass_metrics():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    y = np.digitize(x[:, 0], [-0.5, 0.5])
    model = trainer_for("lightgbm.LGBMClassifier").fit(
        x, y, task="classification", params={"n_estimators": 30}, seed=0, feature_names=list("abc")
    )
    assert model.predict_proba(x).shape == (300, 3)
    metrics = evaluate(model, x, y, task="classification", n_classes=3)
    assert metrics["f1"] > 0.85
    assert metrics["roc_auc"] > 0.95


@pytest.mark.skipif(not HAS_XGBOOST, reason="xgboost extra not installed")
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_xgboost_round_trip(task, tmp_path):
    from lakegate.models.trainers.xgboost import XGBoostModel

    x, y = data(task)
    algorithm = resolve_algorithm("xgboost", task)  # type: ignore[arg-type]
    model = trainer_for(algorithm).fit(
        x, y, task=task, params={"n_estimators": 20}, seed=0, feature_names=list("abcd")
    )
    model.save(tmp_path)
    loaded = XGBoostModel.load(tmp_path, task=task, algorithm=algorithm)
    assert np.allclose(loaded.predict_values(x), model.predict_values(x))
    if task == "classification":
        assert evaluate(loaded, x, y, task=task, n_classes=2)["accuracy"] > 0.9
