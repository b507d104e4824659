"""A labelled text column trains without custom code: ``tfidf`` step + a linear model, in YAML."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lakegate.errors import PipelineError
from lakegate.models import load_model
from lakegate.pipelines import load_pipeline, run_pipeline

YAML = """
pipelines:
  tickets:
    inputs: [tickets]
    target: topic
    steps:
      - tfidf: {columns: [body], max_features: 200, ngrams: 2}
    model:
      task: classification
      algorithm: logistic_regression
      params: {max_iter: 500}
      exclude: [ticket_id]
    metrics: [accuracy, f1]
    id_columns: [ticket_id]
    seed: 3
"""

WORDS = {
    "billing": ["invoice", "charged", "refund", "payment", "card", "price", "twice"],
    "delivery": ["parcel", "courier", "late", "tracking", "address", "shipped", "box"],
    "login": ["password", "reset", "account", "locked", "email", "code", "sign"],
}
FILLER = ["the", "my", "is", "please", "help", "today", "still", "again", "with", "and"]


def tickets(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    topics = rng.choice(sorted(WORDS), n)
    bodies = []
    for topic in topics:
        words = list(rng.choice(WORDS[topic], 3)) + list(rng.choice(FILLER, 5))
        if rng.random() < 0.15:  # some noise: a word from another topic
            other = rng.choice([t for t in WORDS if t != topic])
            words.append(str(rng.choice(WORDS[other])))
        rng.shuffle(words)
        bodies.append(" ".join(words).capitalize() + ".")
    return pl.DataFrame({"ticket_id": np.arange(n), "body": bodies, "topic": topics})


def test_tfidf_and_a_linear_model_classify_text(tmp_path):
    spec = load_pipeline(YAML, "tickets")
    result = run_pipeline(spec, {"tickets": tickets(600, seed=1)}, tmp_path)
    assert result.metrics["accuracy"] > 0.9
    assert result.manifest.format == "skops"
    features = [f.name for f in result.manifest.features]
    assert features[0] == "body_tfidf_0"
    assert 20 < len(features) <= 200
    assert "body" in {c.name for c in result.manifest.input_schema if c.required}

    predictor = load_model(result.model_dir, result.model_sha256)
    fresh = tickets(30, seed=9)
    batch = predictor.predict_frame(fresh.drop("topic"))
    assert (batch["prediction"] == fresh["topic"]).mean() > 0.85
    one = predictor.predict({"ticket_id": 1, "body": "I was charged twice, please refund the payment"})
    assert one.predictions == ["billing"]
    rows = predictor.predict(fresh.drop("topic").to_dicts()).predictions
    assert rows == batch["prediction"].to_list(), "the single-row path weighs words as the batch path"


def test_a_non_text_column_is_refused(tmp_path):
    spec = load_pipeline(YAML.replace("columns: [body]", "columns: [ticket_id]"), "tickets")
    with pytest.raises(PipelineError, match=r"step tfidf: text columns only, not ticket_id \(Int64\)"):
        run_pipeline(spec, {"tickets": tickets(50, seed=1)}, tmp_path)
