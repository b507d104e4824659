"""Lineage, read from the records every step already writes (no table of its own).

    file (sha256, name, how it came) -> dataset version -> check reports, ledger decisions
      -> runs that read it -> model versions -> batch prediction tables (and their versions)
         and online predictions recorded (counted per model version from the catalog)

:func:`dataset_lineage` walks from a dataset version both ways: up to the file it was
ingested from (and, for a predictions table, to the model and the version it scored) and
down to everything it fed. :func:`model_lineage` walks from a model version up to the
data it was trained on and down to the predictions it made.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.selectors import version_get
from lakegate_server.jobs.models import Run
from lakegate_server.ledger.selectors import decisions_list
from lakegate_server.quality.models import CheckReport
from lakegate_server.training.models import ModelVersion, PredictionBatch
from lakegate_server.training.selectors import (
    model_version_get,
    online_prediction_counts,
    online_predictions_dataset,
)

__all__ = ["dataset_lineage", "file_origin", "model_lineage"]


def _run_id(actor: str) -> int | None:
    kind, _, value = actor.partition(":")
    return int(value) if kind == "run" and value.isdigit() else None


def file_origin(version: DatasetVersion) -> dict[str, Any]:
    """Where a version's bytes came from: the file (name, sha256, size) and how it arrived.

    ``via`` is ``upload`` (API or dashboard), ``inbox``, ``cli``, ``stream``, ``source``,
    ``predictions`` (a model scored another version), ``pipeline`` (a data pipeline wrote it),
    ``quarantine-retry`` or ``other``.
    """
    run_id = _run_id(version.created_by)
    run = Run.objects.filter(pk=run_id).first() if run_id is not None else None
    via, detail = "other", version.created_by
    if run is not None:
        if run.kind == "ingest":
            via = "inbox" if run.created_by == "inbox" else "upload"
            detail = run.created_by
        elif run.kind == "source":
            via, detail = "source", str(run.params.get("name", ""))
        elif run.kind == "predict":
            via, detail = "predictions", str(run.params.get("model", ""))
        elif run.kind == "train":  # a data pipeline's output
            via, detail = "pipeline", str(run.params.get("pipeline", ""))
    elif version.created_by == "cli":
        via = "cli"
    elif version.created_by.startswith("stream") or version.source_name.startswith("stream:"):
        via = "stream"
    elif version.created_by.startswith("source:"):
        via, detail = "source", version.created_by.removeprefix("source:")
    elif version.created_by.startswith("model:"):
        via, detail = "predictions", version.created_by.removeprefix("model:")
    elif version.created_by.startswith(("token:", "user:")):
        via = "quarantine-retry" if version.source_name and _retried(version) else "upload"
    return {
        "name": version.source_name,
        "sha256": version.sha256,
        "bytes": version.bytes_in,
        "via": via,
        "detail": detail,
        "run": run.pk if run is not None else None,
        "ingested_at": version.created_at,
    }


def _retried(version: DatasetVersion) -> bool:
    return version.quarantinedfile_set.exists()


def _version_ref(version: DatasetVersion) -> dict[str, Any]:
    return {
        "dataset": version.dataset.name,
        "version": version.number,
        "status": version.status,
        "verdict": version.verdict,
        "rows": version.rows,
    }


def _model_ref(version: ModelVersion) -> dict[str, Any]:
    return {
        "model": version.model.name,
        "version": version.number,
        "stage": version.stage,
        "run": version.run_id,
        "metrics": version.metrics,
    }


def _batch_ref(batch: PredictionBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "model": batch.version.model.name,
        "model_version": batch.version.number,
        "source": batch.source,
        "output": batch.output,
        "output_version": batch.output_version.number if batch.output_version else None,
        "output_dataset": batch.output_version.dataset.name if batch.output_version else None,
        "rows": batch.rows,
        "run": batch.run_id,
        "created_at": batch.created_at,
    }


def _run_ref(run: Run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "created_by": run.created_by,
        "created_at": run.created_at,
    }


def _runs_reading(version: DatasetVersion, models: list[ModelVersion]) -> list[dict[str, Any]]:
    """Runs that read the version: training runs of the models trained on it, scoring, exports, checks."""
    name, number = version.dataset.name, version.number
    ids = {m.run_id for m in models if m.run_id is not None}
    scoring = Q(kind__in=["predict", "export", "check"], params__dataset=name, params__version=number)
    return [_run_ref(run) for run in Run.objects.filter(Q(pk__in=ids) | scoring).order_by("id")]


def _derived_from(run_id: int | None) -> list[dict[str, Any]]:
    """The input versions a data pipeline's run read (its result lists them)."""
    run = Run.objects.filter(pk=run_id, kind="train").first() if run_id is not None else None
    if run is None or not isinstance(run.result, dict):
        return []
    refs: list[dict[str, Any]] = []
    for item in run.result.get("inputs", []):
        found = DatasetVersion.objects.filter(
            dataset__name=item["dataset"], number__in=item.get("versions", [])
        ).select_related("dataset")
        refs.extend(_version_ref(v) for v in found.order_by("number"))
    return refs


def _derived_datasets(version: DatasetVersion) -> list[dict[str, Any]]:
    """Versions that data pipelines wrote from this version (newest run last)."""
    name, number = version.dataset.name, version.number
    derived = []
    for run in Run.objects.filter(kind="train", status="succeeded").order_by("id"):
        result = run.result if isinstance(run.result, dict) else {}
        output = result.get("output")
        read = any(
            item.get("dataset") == name and number in item.get("versions", [])
            for item in result.get("inputs", [])
        )
        if output and read:
            derived.append({**output, "pipeline": result.get("pipeline"), "run": run.pk})
    return derived


def dataset_lineage(*, name: str, number: int) -> dict[str, Any]:
    """Everything upstream and downstream of version ``number`` of dataset ``name``."""
    version = version_get(name=name, number=number)
    models = list(
        ModelVersion.objects.filter(dataset_versions=version)
        .select_related("model")
        .order_by("model__name", "number")
    )
    scored = PredictionBatch.objects.filter(source_version=version).select_related(
        "version__model", "output_version__dataset"
    )
    produced_by = (
        PredictionBatch.objects.filter(output_version=version)
        .select_related("version__model", "source_version__dataset", "output_version__dataset")
        .first()
    )
    upstream: dict[str, Any] = {"file": file_origin(version)}
    if upstream["file"]["via"] == "pipeline":
        upstream["derived_from"] = _derived_from(upstream["file"]["run"])
    if produced_by is not None:
        upstream["model"] = _model_ref(produced_by.version)
        if produced_by.source_version is not None:
            upstream["scored"] = _version_ref(produced_by.source_version)
    reports = CheckReport.objects.filter(version=version).order_by("-id")
    return {
        "node": {"kind": "dataset_version", **_version_ref(version), "created_at": version.created_at},
        "upstream": upstream,
        "checks": [
            {
                "report_id": r.pk,
                "status": r.status,
                "reference_versions": r.reference_versions,
                "created_at": r.created_at,
            }
            for r in reports
        ],
        "decisions": [d.to_dict() for d in decisions_list(dataset=name, version=number)],
        "downstream": {
            "runs": _runs_reading(version, models),
            "models": [_model_ref(m) for m in models],
            "predictions": [_batch_ref(b) for b in scored.order_by("id")],
            "datasets": _derived_datasets(version),
        },
    }


def model_lineage(*, name: str, number: int) -> dict[str, Any]:
    """A model version's training data (with each version's file) and the predictions it made."""
    version = model_version_get(name=name, number=number)
    data = version.dataset_versions.select_related("dataset").order_by("dataset__name", "number")
    run = Run.objects.filter(pk=version.run_id).first() if version.run_id else None
    batches = PredictionBatch.objects.filter(version=version).select_related(
        "version__model", "output_version__dataset"
    )
    return {
        "node": {"kind": "model_version", **_model_ref(version), "created_at": version.created_at},
        "upstream": {
            "training_data": [{**_version_ref(dv), "file": file_origin(dv)} for dv in data],
            "run": _run_ref(run) if run is not None else None,
        },
        "decisions": [d.to_dict() for d in decisions_list(model=name, version=number)],
        "downstream": {
            "predictions": [_batch_ref(b) for b in batches.order_by("id")],
            "online_predictions": {
                "dataset": online_predictions_dataset(name),
                "records": online_prediction_counts(name=name).get(number, 0),
            },
        },
    }
