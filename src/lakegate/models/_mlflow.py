"""Export a lakegate model version as an MLflow model, and register it with MLflow.

The MLflow model directory is written by hand (MLflow is not a dependency): ``MLmodel``
with a ``python_function`` flavour whose loader is ``code/lakegate_mlflow.py`` (a copy of
:mod:`lakegate.models._mlflow_pyfunc`), the verified lakegate model folder under
``data/model``, the signature (MLflow column specs from the training schema), an input
example, and ``requirements.txt``/``python_env.yaml`` naming lakegate. Registering with a
tracking server needs the ``mlflow`` client (``pip install mlflow-skinny``).
"""

from __future__ import annotations

import json
import platform
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from lakegate._atomic import atomic_dir
from lakegate.errors import ConflictError, InputError, LakegateError, ModelError, NotFoundError
from lakegate.models import _mlflow_pyfunc
from lakegate.models._artifacts import read_artifact
from lakegate.models._manifest import ModelManifest
from lakegate.models._predictor import load_model

__all__ = [
    "MlflowExport",
    "MlflowImport",
    "download_mlflow",
    "export_mlflow",
    "mlflow_tags",
    "read_mlflow_model",
    "register_mlflow",
    "require_mlflow",
]

LOADER_MODULE = "lakegate_mlflow"
# MLflow's column types for lakegate's column kinds.
_MLFLOW_TYPES = {
    "int": "long",
    "float": "double",
    "str": "string",
    "bool": "boolean",
    "date": "datetime",
    "datetime": "datetime",
}
_EXAMPLE_VALUES: dict[str, Any] = {"int": 0, "float": 0.0, "str": "", "bool": False}


class MlflowExport(dict[str, Any]):
    """What was written: ``path``, ``signature``, ``input_example`` (a JSON-able dict)."""


def _class_type(classes: list[Any]) -> str:
    if classes and all(isinstance(c, bool) for c in classes):
        return "boolean"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "long"
    if classes and all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes):
        return "double"
    return "string"


def _signature(manifest: ModelManifest) -> dict[str, str]:
    inputs = []
    for column in manifest.input_schema:
        if column.name == manifest.target:
            continue
        kind = _MLFLOW_TYPES.get(column.kind)
        if kind is None:
            raise InputError(
                f"column {column.name!r} ({column.dtype}) has no MLflow column type",
                detail={"field": column.name, "dtype": column.dtype},
            )
        inputs.append({"type": kind, "name": column.name, "required": column.required})
    out_type = {"clustering": "long"}.get(manifest.task, "double")
    if manifest.task == "classification":
        out_type = _class_type(manifest.classes or [])
    outputs = [{"type": out_type, "name": "prediction", "required": True}]
    if manifest.task == "classification":
        outputs += [
            {"type": "double", "name": f"proba_{label}", "required": True} for label in manifest.classes or []
        ]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs)}


def _input_example(manifest: ModelManifest) -> dict[str, Any]:
    """One row the model accepts: MLflow's ``split`` orientation (columns + data)."""
    columns = [c for c in manifest.input_schema if c.name != manifest.target]
    row = [_EXAMPLE_VALUES.get(c.kind) for c in columns]
    return {"columns": [c.name for c in columns], "data": [row]}


def _requirements() -> list[str]:
    from importlib import metadata

    try:
        return [f"lakegate=={metadata.version('lakegate')}", "pandas"]
    except metadata.PackageNotFoundError:  # pragma: no cover - lakegate runs installed
        return ["lakegate", "pandas"]


def export_mlflow(folder: Path, sha256: str, out: Path, *, meta: dict[str, Any]) -> MlflowExport:
    """Write the model at ``folder`` (verified against ``sha256``) as an MLflow model at ``out``.

    ``meta`` (name, version, metrics, lineage...) goes to ``data/lakegate.json``. ``out``
    must not exist yet, or be an empty folder (``ConflictError`` otherwise).
    """
    predictor = load_model(folder, sha256)  # verify the hash and the trust rules first
    manifest = predictor.manifest
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConflictError(f"{out} already exists and is not empty; choose another --out folder")
    if out.is_dir():
        out.rmdir()
    signature = _signature(manifest)
    example = _input_example(manifest)
    try:  # the example must be one the model accepts, as MLflow will replay it
        import polars as pl

        predictor.predict(pl.DataFrame(example["data"], schema=example["columns"], orient="row"))
    except LakegateError:
        example = {}
    python_version = platform.python_version()
    requirements = _requirements()
    with atomic_dir(out) as scratch:
        shutil.copytree(folder, scratch / "data" / _mlflow_pyfunc.MODEL_FOLDER)
        data_meta = {**meta, "sha256": sha256.lower()}
        (scratch / "data" / _mlflow_pyfunc.META_FILE).write_text(
            json.dumps(data_meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
        (scratch / "code").mkdir()
        shutil.copyfile(_mlflow_pyfunc.__file__, scratch / "code" / f"{LOADER_MODULE}.py")
        (scratch / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        python_env = {"python": python_version, "build_dependencies": ["pip"], "dependencies": requirements}
        (scratch / "python_env.yaml").write_text(
            yaml.safe_dump(python_env, sort_keys=False), encoding="utf-8"
        )
        mlmodel: dict[str, Any] = {
            "flavors": {
                "python_function": {
                    "loader_module": LOADER_MODULE,
                    "code": "code",
                    "data": "data",
                    "env": {"virtualenv": "python_env.yaml"},
                    "python_version": python_version,
                },
                "lakegate": {
                    "model": meta.get("name"),
                    "version": meta.get("version"),
                    "sha256": sha256.lower(),
                    "task": manifest.task,
                    "algorithm": manifest.algorithm,
                },
            },
            "model_uuid": uuid.uuid4().hex,
            "signature": signature,
            "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
        if example:
            (scratch / "input_example.json").write_text(json.dumps(example) + "\n", encoding="utf-8")
            mlmodel["saved_input_example_info"] = {
                "artifact_path": "input_example.json",
                "type": "dataframe",
                "pandas_orient": "split",
            }
        (scratch / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False), encoding="utf-8")
    return MlflowExport(path=str(out), signature=signature, input_example=example or None)


def mlflow_tags(meta: dict[str, Any]) -> dict[str, str]:
    """Lineage and identity of a version as MLflow tags (strings, ``lakegate.*``)."""
    tags = {
        "lakegate.model": str(meta.get("name", "")),
        "lakegate.version": str(meta.get("version", "")),
        "lakegate.stage": str(meta.get("stage", "")),
        "lakegate.sha256": str(meta.get("sha256", "")),
        "lakegate.algorithm": str(meta.get("algorithm", "")),
        "lakegate.task": str(meta.get("task", "")),
        "lakegate.config_hash": str(meta.get("config_hash", "")),
        "lakegate.run": str(meta.get("run") or ""),
    }
    for item in meta.get("lineage") or []:
        versions = ",".join(f"v{n}" for n in item.get("versions", []))
        tags[f"lakegate.lineage.{item.get('dataset')}"] = versions
    tags["lakegate.lineage"] = json.dumps(meta.get("lineage") or [], default=str)[:5000]
    return tags


def require_mlflow() -> Any:
    """The ``mlflow`` module, or a ``LakegateError`` saying how to install it."""
    import importlib

    try:  # an optional client, not a dependency (so imported by name, untyped)
        return importlib.import_module("mlflow")
    except ImportError as exc:
        raise LakegateError(
            "registering with MLflow (--tracking-uri) needs the mlflow client: pip install mlflow-skinny",
            detail={"package": "mlflow-skinny"},
        ) from exc


def register_mlflow(
    model_dir: Path, tracking_uri: str, *, meta: dict[str, Any], name: str | None = None
) -> dict[str, Any]:
    """Log ``model_dir`` in a run with the version's metrics and tags, and register it.

    Needs the ``mlflow`` client; returns ``{"run_id", "name", "version", "tracking_uri"}``.
    """
    import importlib

    mlflow = require_mlflow()
    client_class = importlib.import_module("mlflow.tracking").MlflowClient
    registered = name or str(meta["name"])
    tags = mlflow_tags(meta)
    metrics = {k: float(v) for k, v in (meta.get("metrics") or {}).items() if isinstance(v, int | float)}
    try:
        client = client_class(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        experiment = client.get_experiment_by_name("lakegate")
        experiment_id = experiment.experiment_id if experiment else client.create_experiment("lakegate")
        run = client.create_run(experiment_id, tags=tags, run_name=f"{registered} v{meta.get('version')}")
        run_id = run.info.run_id
        for key, value in metrics.items():
            client.log_metric(run_id, key, value)
        client.log_artifacts(run_id, str(model_dir), artifact_path="model")
        client.set_terminated(run_id)
        try:
            client.get_registered_model(registered)
        except mlflow.exceptions.MlflowException:
            client.create_registered_model(registered, tags={"lakegate.model": str(meta["name"])})
        source = f"{run.info.artifact_uri}/model"
        version = client.create_model_version(registered, source, run_id=run_id, tags=tags)
    except mlflow.exceptions.MlflowException as exc:
        raise LakegateError(f"MLflow at {tracking_uri} refused the model: {exc.message}") from exc
    return {
        "run_id": run_id,
        "name": registered,
        "version": int(version.version),
        "tracking_uri": tracking_uri,
    }


def download_mlflow(source: str, tracking_uri: str, dest: Path) -> Path:
    """Download an MLflow model (``models:/name/version``, ``runs:/id/model``...) into ``dest``."""
    mlflow = require_mlflow()
    try:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=source, dst_path=str(dest), tracking_uri=tracking_uri
        )
    except mlflow.exceptions.MlflowException as exc:
        raise LakegateError(f"MLflow at {tracking_uri} has no model {source!r}: {exc.message}") from exc
    return Path(path)


@dataclass(frozen=True)
class MlflowImport:
    """A verified lakegate model found in an MLflow model directory."""

    folder: Path
    sha256: str
    manifest: ModelManifest
    meta: dict[str, Any]


def read_mlflow_model(path: Path) -> MlflowImport:
    """Find and verify the lakegate model inside the MLflow model at ``path``.

    Only MLflow models holding a lakegate model folder (as ``export_mlflow`` writes them) are
    taken: other flavours (pickled scikit-learn, cloudpickle'd python models) are refused,
    never loaded. The folder must hash to the sha256 it names and pass ``load_model``'s
    checks (manifest files, algorithm allow-list, skops trust list) before it is returned.
    """
    mlmodel_file = path / "MLmodel"
    if not mlmodel_file.is_file():
        raise NotFoundError(f"{path}: no MLmodel file; not an MLflow model directory")
    try:
        mlmodel = yaml.safe_load(mlmodel_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ModelError(f"{mlmodel_file}: not valid YAML ({exc})") from exc
    flavors = mlmodel.get("flavors") if isinstance(mlmodel, dict) else None
    if not isinstance(flavors, dict):
        raise ModelError(f"{mlmodel_file}: no flavors")
    pyfunc = flavors.get("python_function") or {}
    data = path / str(pyfunc.get("data", "data"))
    folder = data / _mlflow_pyfunc.MODEL_FOLDER
    meta_file = data / _mlflow_pyfunc.META_FILE
    if "lakegate" not in flavors or not (folder / "model.json").is_file() or not meta_file.is_file():
        raise ModelError(
            f"{path}: not a lakegate model (flavors: {', '.join(sorted(flavors))}); only MLflow models "
            "exported by lakegate are imported, other flavours are pickles and never loaded",
            detail={"flavors": sorted(flavors)},
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        sha256 = str(meta["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{meta_file}: unreadable or without sha256") from exc
    if str(flavors["lakegate"].get("sha256", "")).lower() != sha256.lower():
        raise ModelError(f"{mlmodel_file}: the lakegate flavour's sha256 differs from {meta_file.name}'s")
    trained = read_artifact(folder, sha256)  # hash, manifest files, allow-list, trust list
    return MlflowImport(folder=folder, sha256=sha256.lower(), manifest=trained.manifest, meta=meta)
