"""Model folders: hash verified before loading, native formats only, untrusted skops types refused."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import pytest
import skops.io as sio
from sklearn.cluster import KMeans
from sklearn.preprocessing import FunctionTransformer

from lakegate.errors import ConflictError, ModelError
from lakegate.models import TrainedModel, artifact_sha256, load_model, render_model_card, save_model
from lakegate.models._artifacts import file_sha256, read_artifact
from lakegate.models.trainers.sklearn import normalize_zip


@pytest.fixture
def copy_of(tmp_path):
    def copy(result):
        folder = tmp_path / "model"
        shutil.copytree(result.model_dir, folder)
        return folder

    return copy


def test_folder_holds_native_files_and_a_manifest(churn_model):
    files = sorted(p.name for p in churn_model.model_dir.iterdir())
    assert files == ["model.json", "model.lgb.txt", "steps.json"]
    manifest = json.loads((churn_model.model_dir / "model.json").read_text())
    assert manifest["files"] == {
        name: file_sha256(churn_model.model_dir / name) for name in ("model.lgb.txt", "steps.json")
    }
    assert manifest["config_hash"] == churn_model.config_hash
    assert {"python", "lakegate", "polars", "lightgbm", "scikit-learn"} <= set(manifest["code_version"])
    assert [f["name"] for f in manifest["features"]][:3] == ["age", "income", "tenure_months"]
    assert artifact_sha256(churn_model.model_dir) == churn_model.model_sha256


def test_the_wrong_hash_is_refused(churn_model):
    with pytest.raises(ModelError, match="sha256 mismatch"):
        load_model(churn_model.model_dir, "0" * 64)


def test_a_tampered_file_is_refused(churn_model, copy_of):
    folder = copy_of(churn_model)
    text = (folder / "model.lgb.txt").read_text()
    (folder / "model.lgb.txt").write_text(text.replace("learning_rate", "learning_ratf", 1))
    with pytest.raises(ModelError, match="sha256 mismatch") as info:
        load_model(folder, churn_model.model_sha256)
    assert info.value.detail["expected"] == churn_model.model_sha256


def test_an_added_file_is_refused(churn_model, copy_of):
    folder = copy_of(churn_model)
    (folder / "extra.pkl").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ModelError, match="sha256 mismatch"):
        load_model(folder, churn_model.model_sha256)
    # Even with a hash that matches the new folder, files outside the manifest are refused.
    with pytest.raises(ModelError, match="files differ from the manifest") as info:
        load_model(folder, artifact_sha256(folder))
    assert info.value.detail["unexpected"] == ["extra.pkl"]


def test_skops_round_trip(sklearn_model):
    predictor = load_model(sklearn_model.model_dir, sklearn_model.model_sha256)
    assert type(predictor.model.estimator).__name__ == "HistGradientBoostingRegressor"
    assert (sklearn_model.model_dir / "model.skops").is_file()


def replace_model_file(folder, data: bytes) -> str:
    """An attacker who can write the folder *and* register its hash."""
    (folder / "model.skops").write_bytes(data)
    manifest = json.loads((folder / "model.json").read_text())
    manifest["files"]["model.skops"] = file_sha256(folder / "model.skops")
    (folder / "model.json").write_text(json.dumps(manifest))
    return artifact_sha256(folder)


def test_untrusted_skops_types_are_refused_even_with_a_matching_hash(sklearn_model, copy_of):
    folder = copy_of(sklearn_model)
    sha = replace_model_file(folder, sio.dumps(FunctionTransformer(func=os.system)))
    with pytest.raises(ModelError, match="refusing to load untrusted types") as info:
        load_model(folder, sha)
    assert "posix.system" in info.value.detail["untrusted"]


def test_a_pickle_disguised_as_skops_is_refused(sklearn_model, copy_of):
    folder = copy_of(sklearn_model)
    sha = replace_model_file(folder, pickle.dumps({"surprise": True}))
    with pytest.raises(ModelError, match="not a skops model file"):
        load_model(folder, sha)


def test_a_different_estimator_than_the_manifest_says_is_refused(sklearn_model, copy_of):
    import numpy as np

    folder = copy_of(sklearn_model)
    other = KMeans(n_clusters=2, n_init=1, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 3)))
    sha = replace_model_file(folder, normalize_zip(sio.dumps(other)))
    with pytest.raises(ModelError, match="holds a KMeans"):
        load_model(folder, sha)


def test_an_algorithm_outside_the_allow_list_is_refused(sklearn_model, copy_of):
    folder = copy_of(sklearn_model)
    manifest = json.loads((folder / "model.json").read_text())
    manifest["algorithm"] = "sklearn.svm.SVR"
    (folder / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="not allowed"):
        load_model(folder, artifact_sha256(folder))


def test_saving_again_is_idempotent_and_a_different_model_conflicts(churn_model, sklearn_model, tmp_path):
    trained = read_artifact(churn_model.model_dir, churn_model.model_sha256)
    target = tmp_path / "m"
    assert save_model(trained, target) == churn_model.model_sha256
    assert save_model(trained, target) == churn_model.model_sha256
    other = read_artifact(sklearn_model.model_dir, sklearn_model.model_sha256)
    with pytest.raises(ConflictError, match="already holds a different model"):
        save_model(TrainedModel(other.model, other.steps, other.manifest), target)
    assert artifact_sha256(target) == churn_model.model_sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no scratch folders left


def test_model_card_is_self_contained_html(churn_model):
    html = render_model_card(churn_model.manifest, sha256=churn_model.model_sha256)
    assert html.startswith("<!doctype html>")
    assert html.rstrip().endswith("</html>")
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "lightgbm.LGBMClassifier" in html
    assert churn_model.model_sha256[:12] in html
    assert f"{churn_model.metrics['roc_auc']:.4g}" in html
    assert html.count("<tr>") > 20  # metrics, robustness, inputs, features, files


def test_model_card_escapes_names(churn_model):
    manifest = churn_model.manifest.model_copy(update={"target": "<script>alert(1)</script>"})
    html = render_model_card(manifest)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
