"""Text drift: TF-IDF + SVD embeddings and a cross-validated domain classifier."""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
import pytest

from lakegate.checks import (
    ReasonCode,
    Reference,
    Status,
    TextDriftConfig,
    TextDriftDetails,
    reference_sample,
    run_checks,
)
from lakegate.errors import MissingExtraError

WEATHER = ["rain", "wind", "storm", "cloud", "sunny", "forecast", "cold", "warm", "humid", "snow"]
FOOTBALL = ["goal", "match", "striker", "keeper", "league", "referee", "penalty", "coach", "season", "derby"]
COMMON = ["the", "a", "today", "report", "says", "very", "new", "big", "small", "again"]


def notes(seed: int, rows: int, topic: list[str]) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [
        " ".join([*rng.choice(topic, 4), *rng.choice(COMMON, 4), f"id{rng.integers(1_000_000)}"])
        for _ in range(rows)
    ]
    return pl.DataFrame({"note": texts, "stars": rng.integers(1, 6, rows)})


def text_drift(current, reference, **options) -> tuple[Status, TextDriftDetails, list]:
    [result] = run_checks(current, checks=[TextDriftConfig(**options)], reference=reference).checks
    return result.status, result.details, list(result.reasons)


@pytest.fixture
def reference(store) -> Reference:
    frame = notes(1, 800, WEATHER)
    _, profile = store("ref", frame)
    return Reference(profile=profile, sample=reference_sample(frame, 400))


def test_texts_on_another_topic_drift(reference):
    status, details, reasons = text_drift(notes(2, 800, FOOTBALL), reference)
    [column] = details.columns  # "stars" is a category, not free text
    assert column.column == "note"
    assert column.drifted
    assert column.auc is not None
    assert column.auc > 0.95
    assert set(column.terms_current) <= set(FOOTBALL)
    assert set(column.terms_reference) <= set(WEATHER)
    assert status == Status.WARN
    assert [r.code for r in reasons] == [ReasonCode.TEXT_DRIFT]


def test_texts_on_the_same_topic_do_not(reference):
    status, details, reasons = text_drift(notes(3, 800, WEATHER), reference)
    [column] = details.columns
    assert not column.drifted
    assert column.auc is not None
    assert column.auc < 0.6
    assert (status, reasons) == (Status.PASS, [])
    again = text_drift(notes(3, 800, WEATHER), reference)[1]
    assert again == details  # fixed seeds: same folds, same AUC


def test_too_few_texts_skip(reference):
    status, details, reasons = text_drift(notes(2, 5, FOOTBALL), reference, columns=("note",))
    assert details.columns[0].skipped == ReasonCode.TOO_FEW_ROWS
    assert status == Status.SKIP
    assert [r.code for r in reasons] == [ReasonCode.TOO_FEW_ROWS]


def test_without_a_sample_it_skips(store):
    _, profile = store("ref", notes(1, 100, WEATHER))
    status, _, reasons = text_drift(notes(2, 100, FOOTBALL), Reference(profile=profile))
    assert (status, [r.code for r in reasons]) == (Status.SKIP, [ReasonCode.NO_REFERENCE_SAMPLE])


def test_minilm_without_the_extra_names_the_pip_line(reference, monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails, as when absent
    with pytest.raises(MissingExtraError) as caught:
        text_drift(notes(2, 50, FOOTBALL), reference, embedder="minilm")
    assert "pip install 'lakegate[minilm]'" in str(caught.value)
    assert caught.value.detail == {"extra": "minilm", "package": "sentence-transformers"}
