"""The MLflow model directory lakegate writes and reads back (no MLflow needed here)."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest
import yaml

from lakegate.errors import ConflictError, LakegateError, ModelError, NotFoundError
from lakegate.models import load_model
from lakegate.models._mlflow import export_mlflow, mlflow_tags, read_mlflow_model, register_mlflow
from tests.core.mldata import houses

META = {"name": "churn", "version": 2, "stage": "champion", "metrics": {"f1": 0.5}}


def test_a_regressor_exports_with_its_signature_and_example(sklearn_model, tmp_path):
    out = tmp_path / "price-mlflow"
    written = export_mlflow(sklearn_model.model_dir, sklearn_model.model_sha256, out, meta=META)
    mlmodel = yaml.safe_load((out / "MLmodel").read_text())
    inputs = json.loads(mlmodel["signature"]["inputs"])
    types = {c["name"]: c["type"] for c in inputs}
    assert (types["district"], types["surface"], types["rooms"]) == ("string", "double", "long")
    assert "price" not in types
    outputs = json.loads(mlmodel["signature"]["outputs"])
    assert outputs == [{"type": "double", "name": "prediction", "required": True}]
    example = written["input_example"]
    assert example["columns"] == list(types)
    assert example == json.loads((out / "input_example.json").read_text())
    assert mlmodel["flavors"]["lakegate"]["sha256"] == sklearn_model.model_sha256
    # the copied folder is the registered artifact, byte for byte
    load_model(out / "data" / "model", sklearn_model.model_sha256)
    assert read_mlflow_model(out).sha256 == sklearn_model.model_sha256

    spec = importlib.util.spec_from_file_location("lakegate_mlflow", out / "code" / "lakegate_mlflow.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = houses(n=30, seed=4).drop("price")
    got = module._load_pyfunc(str(out / "data")).predictor.predict_frame(frame, keep=[])
    expected = load_model(sklearn_model.model_dir, sklearn_model.model_sha256).predict(frame)
    assert got["prediction"].to_list() == expected.predictions


def test_a_classifier_names_its_classes_in_the_outputs(churn_model, tmp_path):
    out = tmp_path / "churn-mlflow"
    export_mlflow(churn_model.model_dir, churn_model.model_sha256, out, meta=META)
    outputs = json.loads(yaml.safe_load((out / "MLmodel").read_text())["signature"]["outputs"])
    labels = [str(c) for c in churn_model.manifest.classes]
    assert [c["name"] for c in outputs] == ["prediction", *(f"proba_{label}" for label in labels)]
    assert outputs[0]["type"] == "string"


def test_export_verifies_first_and_never_overwrites(sklearn_model, tmp_path):
    with pytest.raises(ModelError, match="sha256 mismatch"):
        export_mlflow(sklearn_model.model_dir, "0" * 64, tmp_path / "a", meta=META)
    assert not (tmp_path / "a").exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("mine")
    with pytest.raises(ConflictError, match="not empty"):
        export_mlflow(sklearn_model.model_dir, sklearn_model.model_sha256, taken, meta=META)
    assert (taken / "x").read_text() == "mine"


def test_read_refuses_a_flavour_that_disagrees(sklearn_model, tmp_path):
    out = tmp_path / "m"
    export_mlflow(sklearn_model.model_dir, sklearn_model.model_sha256, out, meta=META)
    mlmodel = yaml.safe_load((out / "MLmodel").read_text())
    mlmodel["flavors"]["lakegate"]["sha256"] = "f" * 64
    (out / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(ModelError, match="differs"):
        read_mlflow_model(out)
    shutil.rmtree(out / "data" / "model")
    with pytest.raises(ModelError, match="not a lakegate model"):
        read_mlflow_model(out)
    with pytest.raises(NotFoundError, match="no MLmodel"):
        read_mlflow_model(tmp_path / "none")


def test_tags_carry_identity_and_lineage():
    meta = {**META, "sha256": "ab" * 32, "lineage": [{"dataset": "customers", "versions": [3, 4], "rows": 9}]}
    tags = mlflow_tags(meta)
    assert tags["lakegate.model"] == "churn"
    assert tags["lakegate.version"] == "2"
    assert tags["lakegate.stage"] == "champion"
    assert tags["lakegate.lineage.customers"] == "v3,v4"
    assert json.loads(tags["lakegate.lineage"])[0]["versions"] == [3, 4]
    assert all(isinstance(v, str) for v in tags.values())


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is not None, reason="mlflow is installed here")
def test_registering_without_the_client_says_how_to_install_it(tmp_path):
    with pytest.raises(LakegateError, match="pip install mlflow-skinny"):
        register_mlflow(tmp_path, "file:///nowhere", meta=META)
