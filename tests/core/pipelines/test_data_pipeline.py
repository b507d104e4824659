"""Data pipelines (``output:`` instead of ``model:``): the same steps and cache, a table out."""

from __future__ import annotations

import polars as pl
import pytest

from lakegate.errors import ConfigError
from lakegate.pipelines import config_hash, load_pipeline, run_data_pipeline, run_pipeline
from tests.core.mldata import customers, regions

YAML = """
pipelines:
  curated:
    inputs: [customers, regions]
    steps:
      - fill_nulls: {income: median}
      - join: {input: regions, key: city}
      - drop: [signup_date]
    output: {dataset: customers_curated}
    triggers: [{on_new_version: customers}]
"""


def test_the_steps_result_is_one_table_and_a_rerun_is_cached(tmp_path):
    spec = load_pipeline(YAML, "curated")
    assert (spec.output.dataset, spec.output.mode, spec.model) == ("customers_curated", "overwrite", None)
    raw = customers(n=300)
    assert raw["income"].null_count() > 0
    result = run_data_pipeline(spec, {"customers": raw, "regions": regions()}, tmp_path)
    out = pl.read_parquet(result.path)
    assert (result.dataset, result.rows, out.height) == ("customers_curated", 300, 300)
    assert out["income"].null_count() == 0
    assert "region_score" in out.columns
    assert "signup_date" not in out.columns
    assert not result.cached
    again = run_data_pipeline(spec, {"customers": raw, "regions": regions()}, tmp_path)
    assert again.cached
    assert again.cache_hits == [s.name for s in again.steps]
    assert again.path == result.path


def test_a_data_pipeline_trains_nothing(tmp_path):
    spec = load_pipeline(YAML, "curated")
    with pytest.raises(ConfigError, match="writes the dataset customers_curated; it trains no model"):
        run_pipeline(spec, {"customers": customers(n=50), "regions": regions()}, tmp_path)
    assert len(config_hash(spec)) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("output: {dataset: customers}", "output: customers is also an input"),
        (
            "output: {dataset: customers_curated}\n    model: {task: clustering, algorithm: kmeans}",
            "either model: .* or output:",
        ),
        (
            "output: {dataset: customers_curated}\n    metrics: [f1]",
            "metrics: only for a pipeline that trains",
        ),
    ],
)
def test_spec_mistakes_are_named(change, message):
    with pytest.raises(ConfigError, match=message):
        load_pipeline(YAML.replace("output: {dataset: customers_curated}", change), "curated")
