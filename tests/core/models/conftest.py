from __future__ import annotations

import pytest

from lakegate.pipelines import load_pipeline, run_pipeline
from tests.core.mldata import customers, houses

CHURN = {
    "inputs": ["customers"],
    "target": "churned",
    "steps": [
        {"fill_nulls": {"income": "median"}},
        {"one_hot": ["city", "plan"]},
        {"date_parts": {"columns": ["signup_date"], "parts": ["month", "weekday"]}},
    ],
    "model": {
        "task": "classification",
        "algorithm": "lightgbm",
        "params": {"n_estimators": 60},
        "exclude": ["customer_id"],
        "positive_class": "yes",
    },
    "id_columns": ["customer_id"],
}


def train(tmp_path_factory, body: dict, data: dict, name: str = "m"):
    spec = load_pipeline({"pipelines": {name: body}}, name)
    return run_pipeline(spec, data, tmp_path_factory.mktemp(name))


@pytest.fixture(scope="session")
def churn_model(tmp_path_factory):
    """A LightGBM churn classifier (run result)."""
    return train(tmp_path_factory, CHURN, {"customers": customers()}, "churn")


@pytest.fixture(scope="session")
def sklearn_model(tmp_path_factory):
    """A scikit-learn (skops) regressor."""
    body = {
        "inputs": "houses",
        "target": "price",
        "steps": [{"ordinal": ["district"]}, {"scale": ["surface"]}],
        "model": {
            "task": "regression",
            "algorithm": "sklearn.ensemble.HistGradientBoostingRegressor",
            "params": {"max_iter": 50},
        },
    }
    return train(tmp_path_factory, body, {"houses": houses()}, "price")
