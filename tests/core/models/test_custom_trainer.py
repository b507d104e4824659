"""Your own trainer (``model.algorithm: "package.module:Class"``) through a pipeline's YAML.

The example in ``examples/trainers/nearest_centroid.py`` is trained, saved, verified and
loaded like lakegate's own trainers; a pickle is refused, and so is a class that does not
implement the protocol.
"""

from __future__ import annotations

import pickle
import sys
import textwrap
from pathlib import Path

import pytest

from lakegate.errors import ConfigError, ModelError
from lakegate.models import load_model
from lakegate.pipelines import load_pipeline, run_pipeline
from tests.core.mldata import customers

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "trainers"

YAML = """
pipelines:
  churn:
    inputs: [customers]
    target: churned
    steps:
      - fill_nulls: {income: median}
      - one_hot: [city, plan]
      - scale: {columns: [age, income, tenure_months, tickets]}
    model:
      task: classification
      algorithm: "nearest_centroid:NearestCentroid"
      params: {shrink: 0.1}
      exclude: [customer_id, signup_date]
      positive_class: "yes"
    metrics: [roc_auc, accuracy]
    id_columns: [customer_id]
    seed: 7
"""


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def spec_of(text: str):
    return load_pipeline(text, "churn")


def test_own_trainer_trains_saves_verifies_and_serves(tmp_path):
    result = run_pipeline(spec_of(YAML), {"customers": customers(n=800)}, tmp_path)
    assert result.manifest.format == "custom"
    assert result.manifest.algorithm == "nearest_centroid:NearestCentroid"
    assert set(result.manifest.files) == {"centroids.json", "steps.json"}
    assert result.metrics["roc_auc"] > 0.6, "it learned the signal"
    predictor = load_model(result.model_dir, result.model_sha256)
    [prediction] = predictor.predict(customers(n=1, seed=3).drop("churned").to_dicts()).predictions
    assert prediction in {"yes", "no"}
    # Same inputs again: the model comes from the cache; the artifact is the same.
    again = run_pipeline(spec_of(YAML), {"customers": customers(n=800)}, tmp_path)
    assert again.model_cached
    assert again.model_sha256 == result.model_sha256


def test_a_changed_file_is_refused_before_the_trainer_loads_it(tmp_path):
    result = run_pipeline(spec_of(YAML), {"customers": customers(n=400)}, tmp_path)
    (result.model_dir / "centroids.json").write_text('{"shrink": 0, "centroids": [[0]]}')
    with pytest.raises(ModelError, match="sha256 mismatch"):
        load_model(result.model_dir, result.model_sha256)


def test_a_pickle_is_refused_at_save(tmp_path):
    module = tmp_path / "pickling_trainer.py"
    module.write_text(
        textwrap.dedent(
            """
            import pickle
            from nearest_centroid import NearestCentroid

            class Pickling(NearestCentroid):
                def save(self, folder):
                    (folder / "model.pkl").write_bytes(pickle.dumps(self.centroids))
                    return ["model.pkl"]
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        spec = spec_of(YAML.replace("nearest_centroid:NearestCentroid", "pickling_trainer:Pickling"))
        with pytest.raises(ModelError, match=r"model\.pkl is a pickle; lakegate never unpickles"):
            run_pipeline(spec, {"customers": customers(n=300)}, tmp_path / "work")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("pickling_trainer", None)
    assert pickle.dumps([1])[:2] == b"\x80\x04"  # the header the check looks for


@pytest.mark.parametrize(
    ("algorithm", "message"),
    [
        ("no_such_module:Trainer", "cannot import 'no_such_module:Trainer'"),
        ("json:JSONDecoder", "json:JSONDecoder lacks fit, predict, save, load"),
        ("nearest_centroid:NearestCentroid", "trains classification, but model.task is regression"),
    ],
)
def test_a_class_that_is_not_a_trainer_is_a_config_error(tmp_path, algorithm, message):
    text = YAML.replace("nearest_centroid:NearestCentroid", algorithm)
    if "regression" in message:
        text = text.replace("task: classification", "task: regression").replace('positive_class: "yes"', "")
        text = text.replace("target: churned", "target: tickets").replace("[roc_auc, accuracy]", "[rmse]")
    with pytest.raises(ConfigError, match=message):
        run_pipeline(spec_of(text), {"customers": customers(n=200)}, tmp_path)


def test_params_the_class_does_not_take_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not take these parameters"):
        run_pipeline(
            spec_of(YAML.replace("shrink: 0.1", "depth: 3")), {"customers": customers(n=200)}, tmp_path
        )
