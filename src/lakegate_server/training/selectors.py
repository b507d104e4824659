"""Training reads: pipeline specs from settings, models, versions, champions, the audit log."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Count, QuerySet

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.pipelines import PipelineSpec, config_hash, load_pipelines
from lakegate.storage import download_folder, open_storage
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import Run
from lakegate_server.training.models import (
    ModelVersion,
    PredictionBatch,
    RegisteredModel,
    Stage,
    StageChange,
)
from lakegate_server.training.shapes import ModelRow, PipelineRow

__all__ = [
    "ChampionRef",
    "Impact",
    "champion_generations",
    "champion_ref",
    "dataset_version_impact",
    "model_audit",
    "model_champion",
    "model_get",
    "model_list",
    "model_version_get",
    "model_versions",
    "online_prediction_counts",
    "online_predictions_dataset",
    "pipeline_get",
    "pipeline_last_runs",
    "pipeline_list",
    "pipeline_specs",
    "prediction_batches",
    "version_artifact_dir",
    "version_card_html",
]


def pipeline_specs(*, config: Settings) -> dict[str, PipelineSpec]:
    """Every pipeline of ``lakegate.yaml`` for the project's environment (``LAKEGATE_ENV``).

    Read on each call: parsing takes milliseconds and tests swap settings freely.
    """
    document: dict[str, Any] = {"pipelines": config.pipelines, "environments": config.environments}
    if config.notifiers:
        document["notifiers"] = config.notifiers
    return load_pipelines(document, env=config.env, filename=str(config.paths.config_file.name))


def pipeline_get(*, config: Settings, name: str) -> PipelineSpec:
    specs = pipeline_specs(config=config)
    if name not in specs:
        raise NotFoundError(
            f"no pipeline {name!r} in lakegate.yaml (defined: {', '.join(sorted(specs)) or 'none'})",
            detail={"pipeline": name, "defined": sorted(specs)},
        )
    return specs[name]


def pipeline_last_runs(*, names: list[str]) -> dict[str, Run]:
    """The newest ``train`` run of each pipeline."""
    found: dict[str, Run] = {}
    for run in Run.objects.filter(kind="train").order_by("-id")[:500]:
        name = (run.params or {}).get("pipeline")
        if name in names and name not in found:
            found[name] = run
    return found


def pipeline_list(*, config: Settings) -> list[PipelineRow]:
    """Every pipeline with its champion version and newest training run."""
    specs = pipeline_specs(config=config)
    champions = dict(ModelVersion.objects.filter(stage=Stage.CHAMPION).values_list("model__name", "number"))
    runs = pipeline_last_runs(names=list(specs))
    rows = []
    for name, spec in sorted(specs.items()):
        run = runs.get(name)
        rows.append(
            PipelineRow(
                name=name,
                description=spec.description,
                inputs=list(spec.inputs),
                # A data pipeline writes a dataset: its "task" is `dataset`, its "algorithm" the name.
                task=spec.model.task if spec.model else "dataset",
                algorithm=spec.model.canonical_algorithm if spec.model else f"-> {spec.output_dataset}",
                output=spec.output_dataset,
                target=spec.target,
                metrics=list(spec.metrics),
                promotion=spec.promotion.model_dump(mode="json"),
                triggers=[t.model_dump(mode="json") for t in spec.triggers],
                notifications=list(spec.notifications),
                predict_on=spec.predict_on,
                config_hash=config_hash(spec),
                champion_version=champions.get(name),
                last_run=run.pk if run else None,
                last_run_status=run.status if run else None,
            )
        )
    return rows


def model_list() -> list[ModelRow]:
    """Every registered model with its champion and latest version."""
    rows = []
    for model in RegisteredModel.objects.annotate(version_count=Count("versions")).order_by("name"):
        latest = model.versions.order_by("-number").first()
        champion = model.versions.filter(stage=Stage.CHAMPION).first()
        rows.append(
            ModelRow(
                name=model.name,
                versions=model.version_count,
                latest_version=latest.number if latest else None,
                champion_version=champion.number if champion else None,
                champion_metrics=champion.metrics if champion else {},
                task=latest.task if latest else "",
                algorithm=latest.algorithm if latest else "",
                updated_at=latest.created_at if latest else model.created_at,
            )
        )
    return rows


def model_get(*, name: str) -> RegisteredModel:
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None:
        raise NotFoundError(f"no model named {name!r} (train its pipeline first)", detail={"model": name})
    return model


def model_versions(*, name: str) -> QuerySet[ModelVersion]:
    return model_get(name=name).versions.select_related("model").order_by("-number")


def model_version_get(*, name: str, number: int) -> ModelVersion:
    version = model_versions(name=name).filter(number=number).first()
    if version is None:
        raise NotFoundError(
            f"model {name!r} has no version {number}", detail={"model": name, "version": number}
        )
    return version


def model_champion(*, name: str) -> ModelVersion | None:
    return model_versions(name=name).filter(stage=Stage.CHAMPION).first()


def model_audit(*, name: str, limit: int = 200) -> list[StageChange]:
    model = model_get(name=name)
    return list(
        StageChange.objects.filter(model=model).select_related("model", "version")[: max(1, min(limit, 1000))]
    )


def prediction_batches(*, name: str, limit: int = 50) -> list[PredictionBatch]:
    model = model_get(name=name)
    return list(
        PredictionBatch.objects.filter(version__model=model).select_related("version__model")[
            : max(1, min(limit, 1000))
        ]
    )


def online_predictions_dataset(model: str) -> str:
    """The lake table a model's recorded online predictions land in (see ``serving.record``)."""
    return f"{model.lower()}_online_predictions"


def online_prediction_counts(*, name: str) -> dict[int, int]:
    """Recorded online predictions per version of model ``name``: {model version: records}.

    Read from the catalog only: each flushed batch's stored profile counts the values of its
    ``model_version`` column (no read of the table).
    """
    counts: dict[int, int] = {}
    versions = DatasetVersion.objects.filter(dataset__name=online_predictions_dataset(name)).only("stats")
    for version in versions:
        column: dict[str, Any] = dict(version.stats.get("model_version") or {}) if version.stats else {}
        categories = (column.get("categories") or {}).get("counts") or {}
        for value, count in categories.items():
            try:
                number = int(value)
            except (TypeError, ValueError):
                continue
            counts[number] = counts.get(number, 0) + int(count)
    return counts


@dataclass(frozen=True)
class Impact:
    """What a dataset version fed: the model versions trained on it and the predictions it got."""

    models: list[ModelVersion]
    prediction_batches: list[PredictionBatch]

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": [{"model": v.model.name, "version": v.number, "stage": v.stage} for v in self.models],
            "prediction_tables": [
                {"model": b.version.model.name, "model_version": b.version.number, "output": b.output}
                for b in self.prediction_batches
            ],
        }


def dataset_version_impact(*, version: DatasetVersion) -> Impact:
    """The model versions trained on ``version`` and the prediction batches that scored it."""
    models = list(
        ModelVersion.objects.filter(dataset_versions=version)
        .select_related("model")
        .order_by("model__name", "number")
    )
    batches = list(
        PredictionBatch.objects.filter(source_version=version).select_related("version__model").order_by("id")
    )
    return Impact(models=models, prediction_batches=batches)


def _legacy_path(config: Settings, stored: str) -> Path | None:
    """A path written before the storage existed: absolute, or relative to the project folder."""
    path = Path(stored)
    if path.is_absolute():
        return path
    return config.project_dir / path if path.parts[:1] == (config.paths.state.name,) else None


def version_artifact_dir(config: Settings, version: ModelVersion) -> Path:
    """A local folder holding the version's model files, ready for ``load_model`` to verify.

    On a local storage, the stored folder itself; on an object store, a copy in the
    process's cache (``.lakegate/cache/models/<sha256>``), downloaded once and checked
    against the folder's manifest (``load_model`` then checks the recorded sha256).
    """
    if (legacy := _legacy_path(config, version.artifact_path)) is not None:
        return legacy
    storage = open_storage(config)
    if (local := storage.local_path(version.artifact_path)) is not None:
        return local
    prefix, _, inner = version.artifact_path.rpartition("/")
    cache = config.paths.state / "cache" / "models" / version.sha256
    if not (cache / inner).is_dir():
        staging = cache.with_name(f".{cache.name}.{uuid.uuid4().hex[:8]}")
        try:
            download_folder(storage, prefix, staging)
            cache.parent.mkdir(parents=True, exist_ok=True)
            try:
                staging.rename(cache)
            except OSError:  # another thread or process finished the same download first
                if not (cache / inner).is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return cache / inner


def version_card_html(config: Settings, version: ModelVersion) -> bytes | None:
    """The version's model card (self-contained HTML), or None when it has none."""
    if not version.card_path:
        return None
    if (legacy := _legacy_path(config, version.card_path)) is not None:
        return legacy.read_bytes() if legacy.is_file() else None
    try:
        return open_storage(config).get_bytes(version.card_path)
    except NotFoundError:
        return None


@dataclass(frozen=True)
class ChampionRef:
    """What the online route needs to load a champion: no ORM object crosses threads."""

    name: str
    version: int
    generation: int
    sha256: str
    path: Path


def champion_ref(*, config: Settings, name: str) -> ChampionRef | None:
    version = (
        ModelVersion.objects.filter(model__name=name, stage=Stage.CHAMPION).select_related("model").first()
    )
    if version is None:
        return None
    return ChampionRef(
        name=name,
        version=version.number,
        generation=version.model.generation,
        sha256=version.sha256,
        path=version_artifact_dir(config, version),
    )


def champion_generations() -> dict[str, int]:
    """Model name -> generation: one cheap query tells whether any champion changed."""
    return dict(RegisteredModel.objects.values_list("name", "generation"))
