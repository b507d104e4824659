"""`lakegate models export --to mlflow`: an MLflow pyfunc model MLflow itself loads and
registers, with lakegate's predictions, metrics and lineage tags.

The MLflow client lives in its own environment (mlflow-skinny + this checkout, made with uv
and cached, see tests/support/envs.py), so the project's lock stays lean.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from lakegate.models import load_model
from lakegate_server.cli import app
from tests.server.training.data import CHURN, customer_frame
from tests.support.envs import tool_python

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()
MLFLOW = ["mlflow-skinny==3.18.0", "pandas>=2.2,<3"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def exported(ingest, pipelines, train, tmp_path) -> Path:
    ingest("customers", customer_frame(600, seed=1))
    pipelines(churn=CHURN)
    assert train().status == "succeeded"
    out = tmp_path / "churn-mlflow"
    result = invoke("models", "export", "churn", "--version", 1, "--to", "mlflow", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["path"] == str(out)
    return out


def to_score(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    frame = customer_frame(40, seed=9, start_id=70_000).drop("churned")
    path = tmp_path / "to_score.parquet"
    frame.write_parquet(path)
    return path, frame


def test_export_writes_an_mlflow_model(exported, tmp_path):
    mlmodel = yaml.safe_load((exported / "MLmodel").read_text())
    pyfunc = mlmodel["flavors"]["python_function"]
    assert (pyfunc["loader_module"], pyfunc["code"], pyfunc["data"]) == ("lakegate_mlflow", "code", "data")
    assert pyfunc["env"] == {"virtualenv": "python_env.yaml"}
    assert mlmodel["flavors"]["lakegate"]["model"] == "churn"
    inputs = {c["name"]: c["type"] for c in json.loads(mlmodel["signature"]["inputs"])}
    assert inputs["age"] == "long"
    assert inputs["city"] == "string"
    assert inputs["signup_date"] == "datetime"
    assert "churned" not in inputs
    outputs = [c["name"] for c in json.loads(mlmodel["signature"]["outputs"])]
    assert outputs == ["prediction", "proba_False", "proba_True"]
    example = json.loads((exported / "input_example.json").read_text())
    assert example["columns"] == list(inputs)
    assert mlmodel["saved_input_example_info"]["artifact_path"] == "input_example.json"
    assert (exported / "requirements.txt").read_text().startswith("lakegate==")

    # The loader MLflow imports from code/ scores like lakegate does (verified folder under data/).
    spec = importlib.util.spec_from_file_location("lakegate_mlflow", exported / "code" / "lakegate_mlflow.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded = module._load_pyfunc(str(exported / "data"))
    _, frame = to_score(tmp_path)
    sha = loaded.meta["sha256"]
    expected = load_model(exported / "data" / "model", sha).predict(frame)
    if importlib.util.find_spec("pandas") is not None:
        got = loaded.predict(frame.to_pandas())
        assert got["prediction"].tolist() == expected.predictions
        assert got["proba_True"].tolist() == [p["True"] for p in expected.probabilities or []]
    else:  # pandas (MLflow's frame) is not in the project's environment: the scoring path itself
        scored = loaded.predictor.predict_frame(frame, keep=[])
        assert scored["prediction"].to_list() == expected.predictions


def test_export_refuses_bad_requests(exported, tmp_path):
    again = invoke("models", "export", "churn", "--version", 1, "--to", "mlflow", "-o", exported)
    assert again.exit_code == 1
    assert "already exists and is not empty" in again.stderr
    other = invoke("models", "export", "churn", "--version", 1, "--to", "onnx", "-o", tmp_path / "x")
    assert other.exit_code == 1
    assert "only mlflow" in other.stderr
    missing = invoke("models", "export", "churn", "--version", 9, "--to", "mlflow", "-o", tmp_path / "y")
    assert missing.exit_code == 1
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()
    if importlib.util.find_spec("mlflow") is None:
        out = tmp_path / "z"
        result = invoke(
            "models",
            "export",
            "churn",
            "--version",
            1,
            "--to",
            "mlflow",
            "-o",
            out,
            "--tracking-uri",
            "file:///x",
        )
        assert result.exit_code == 1
        assert "pip install mlflow-skinny" in result.stderr
        assert "Traceback" not in result.output
        assert not out.exists()  # checked before writing anything


MLFLOW_CHECK = """
import json, sys
import mlflow, pandas as pd
from pathlib import Path
from mlflow.tracking import MlflowClient
from lakegate.models._mlflow import register_mlflow

model_dir, frame_path, uri = sys.argv[1:4]
meta = json.load(open(model_dir + "/data/lakegate.json"))
loaded = mlflow.pyfunc.load_model(model_dir)
frame = pd.read_parquet(frame_path)
scored = loaded.predict(frame)
example = loaded.input_example
registered = register_mlflow(__import__("pathlib").Path(model_dir), uri, meta=meta)
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
version = client.get_model_version(registered["name"], str(registered["version"]))
run = client.get_run(version.run_id)
reloaded = mlflow.pyfunc.load_model(f"models:/{registered['name']}/{registered['version']}")
from lakegate.models._mlflow import download_mlflow, read_mlflow_model
downloaded = download_mlflow(f"models:/{registered['name']}/{registered['version']}", uri, Path("down"))
imported = read_mlflow_model(downloaded)
print(json.dumps({
    "predictions": scored["prediction"].tolist(),
    "proba_true": scored["proba_True"].tolist(),
    "example_columns": list(example.columns) if example is not None else None,
    "registered": registered,
    "tags": version.tags,
    "metrics": run.data.metrics,
    "reloaded": reloaded.predict(frame)["prediction"].tolist(),
    "imported_sha256": imported.sha256,
}))
"""


def test_mlflow_loads_predicts_and_registers_the_export(exported, tmp_path):
    python = tool_python("mlflow-skinny-3.18.0", MLFLOW, with_lakegate=True)
    source, frame = to_score(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    # MLflow 3 keeps the file store behind this opt-out (a database store needs SQLAlchemy too).
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_ALLOW_FILE_STORE": "true"}
    done = subprocess.run(
        [str(python), "-c", MLFLOW_CHECK, str(exported), str(source), uri],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    meta = json.loads((exported / "data" / "lakegate.json").read_text())
    expected = load_model(exported / "data" / "model", meta["sha256"]).predict(frame)
    assert out["predictions"] == expected.predictions
    assert out["proba_true"] == pytest.approx([p["True"] for p in expected.probabilities or []], abs=1e-12)
    assert out["reloaded"] == expected.predictions
    assert out["imported_sha256"] == meta["sha256"]  # downloaded back from the registry, verified
    assert out["example_columns"] == [c["name"] for c in meta["input_schema"] if c["name"] != "churned"]
    assert out["registered"]["name"] == "churn"
    assert out["registered"]["version"] == 1
    assert out["metrics"] == pytest.approx({k: v for k, v in meta["metrics"].items() if v is not None})
    tags = out["tags"]
    assert (tags["lakegate.model"], tags["lakegate.version"], tags["lakegate.sha256"]) == (
        "churn",
        "1",
        meta["sha256"],
    )
    dataset = meta["lineage"][0]
    assert tags[f"lakegate.lineage.{dataset['dataset']}"] == ",".join(f"v{n}" for n in dataset["versions"])


def test_import_registers_a_verified_candidate(exported, tmp_path):
    from lakegate_server.conf import project
    from lakegate_server.training.models import ModelVersion, StageChange
    from lakegate_server.training.selectors import version_artifact_dir

    meta = json.loads((exported / "data" / "lakegate.json").read_text())
    result = invoke("models", "import", exported, "--from", "mlflow", "--name", "churn_mlflow", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["name"], shown["version"], shown["stage"], shown["created"]) == (
        "churn_mlflow",
        1,
        "candidate",
        True,
    )
    assert shown["sha256"] == meta["sha256"]
    assert shown["metrics"] == meta["metrics"]
    version = ModelVersion.objects.get(model__name="churn_mlflow")
    assert StageChange.objects.get(version=version).reason == f"imported from {exported}"
    _, frame = to_score(tmp_path)
    scored = load_model(version_artifact_dir(project(), version), version.sha256).predict(frame)
    expected = load_model(exported / "data" / "model", meta["sha256"]).predict(frame)
    assert scored.predictions == expected.predictions

    again = invoke("models", "import", exported, "--name", "churn_mlflow")
    assert again.exit_code == 0, again.output
    assert "Already registered: " in again.stdout
    assert ModelVersion.objects.filter(model__name="churn_mlflow").count() == 1


def test_import_refuses_what_it_cannot_trust(exported, tmp_path):
    from lakegate_server.training.models import ModelVersion

    tampered = tmp_path / "tampered"
    shutil.copytree(exported, tampered)
    steps = tampered / "data" / "model" / "steps.json"
    steps.write_text(steps.read_text().replace("median", "mean"))
    result = invoke("models", "import", tampered, "--name", "bad")
    assert result.exit_code == 1
    assert "sha256 mismatch" in result.stderr

    pickled = tmp_path / "pickled"
    (pickled / "data").mkdir(parents=True)
    (pickled / "MLmodel").write_text(
        yaml.safe_dump({"flavors": {"sklearn": {"pickled_model": "model.pkl"}, "python_function": {}}})
    )
    (pickled / "model.pkl").write_bytes(b"\x80\x04not really")
    refused = invoke("models", "import", pickled, "--name", "bad")
    assert refused.exit_code == 1
    assert "not a lakegate model (flavors: python_function, sklearn)" in refused.stderr
    assert "never loaded" in refused.stderr

    nothing = invoke("models", "import", tmp_path / "nope", "--name", "bad")
    assert nothing.exit_code == 1
    assert "no MLmodel file" in nothing.stderr
    assert "Traceback" not in result.output + refused.output + nothing.output
    assert not ModelVersion.objects.filter(model__name="bad").exists()
