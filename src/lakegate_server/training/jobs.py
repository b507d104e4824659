"""The ``train`` and ``predict`` jobs (worker side).

``train`` is safe to retry after a worker was killed: its work folder is keyed by run
(``.lakegate/artifacts/runs/<run>/pipeline/``), so the retry reads finished steps back
from the cache and trains the same bytes; registration is unique per run, so it finds the
version the first attempt may already have registered instead of adding another.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakegate.config import Settings
from lakegate.models import Predictor
from lakegate.notify import Notification
from lakegate.pipelines import PipelineSpec, ProgressEvent, run_data_pipeline, run_pipeline
from lakegate_server.flow import ingest_file, predictions_to_lake
from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.registry import JobSpec
from lakegate_server.training.inputs import pipeline_inputs
from lakegate_server.training.models import ModelVersion
from lakegate_server.training.notifications import pipeline_notify
from lakegate_server.training.predictions import model_load
from lakegate_server.training.registry import Registration, model_version_register
from lakegate_server.training.selectors import model_champion, pipeline_get
from lakegate_server.training.services import pipeline_predict_queue, pipelines_data_notify

__all__ = [
    "NOTIFY",
    "PERFORMANCE",
    "PREDICT",
    "SCORING_DRIFT",
    "TRAIN",
    "NotifyParams",
    "PredictParams",
    "ScoringDriftParams",
    "TrainParams",
]


class ScoreTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    version: int = Field(ge=1)


class TrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline: str
    trigger: Literal["manual", "on_new_version", "cron"] = "manual"
    dataset: str | None = Field(None, description="The dataset whose new version triggered the run.")
    version: int | None = None
    predict: ScoreTarget | None = Field(None, description="Score this version once training is done.")


def _progress(ctx: JobContext) -> Any:
    def on_step(event: ProgressEvent) -> None:
        fields: dict[str, Any] = {"stage": event.stage, "status": event.status}
        if event.rows is not None:
            fields["rows"] = event.rows
        if event.seconds is not None:
            fields["seconds"] = round(event.seconds, 3)
        ctx.log(event.message, **fields)  # also a checkpoint: a lost lease stops the run here

    return on_step


def _previous(config: Settings, spec: PipelineSpec) -> Predictor | None:
    """The champion, for clustering that continues from it (warm start)."""
    if not spec.model_spec.warm_start or model_champion(name=spec.name) is None:
        return None
    return model_load(config=config, name=spec.name)[1]


def _notify_outcome(ctx: JobContext, spec: PipelineSpec, registration: Registration) -> None:
    """Send "trained" (and "promoted") once per version, even when the run was retried."""
    version = registration.version
    if version.notified is not None or (not registration.created and version.run_id != ctx.run_id):
        return
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in version.metrics.items() if isinstance(v, int | float))
    common = {"pipeline": spec.name, "run_id": str(ctx.run_id)}
    outcome = pipeline_notify(
        ctx.settings,
        spec,
        Notification(
            event="model.trained",
            title=f"{spec.name} v{version.number} trained ({version.stage})",
            text=str(version.decision.get("reason", "")),
            fields={"version": version.number, "stage": version.stage, "metrics": metrics},
            **common,
        ),
    )
    if version.decision.get("promote"):
        outcome |= {
            f"promoted:{name}": error
            for name, error in pipeline_notify(
                ctx.settings,
                spec,
                Notification(
                    event="model.promoted",
                    title=f"{spec.name} v{version.number} is the new champion",
                    text=str(version.decision.get("reason", "")),
                    fields={"version": version.number, "metrics": metrics},
                    **common,
                ),
            ).items()
        }
    ModelVersion.objects.filter(pk=version.pk).update(notified=outcome)
    if outcome:
        ctx.log("notifications sent", delivered=sorted(k for k, v in outcome.items() if v is None))


def _train(ctx: JobContext, spec: PipelineSpec, params: TrainParams) -> dict[str, Any]:
    ctx.log("training started", pipeline=spec.name, trigger=params.trigger)
    inputs, lineage = pipeline_inputs(ctx.settings, spec)
    for item in lineage:
        ctx.log(
            "input",
            dataset=item.dataset,
            versions=[v.number for v in item.versions],
            rows=sum(v.rows for v in item.versions),
        )
    result = run_pipeline(
        spec,
        inputs,
        ctx.artifacts_dir / "pipeline",
        on_step=_progress(ctx),
        previous_model=_previous(ctx.settings, spec),
    )
    ctx.checkpoint()
    registration = model_version_register(
        config=ctx.settings,
        spec=spec,
        result=result,
        lineage=lineage,
        run_id=ctx.run_id,
        created_by=f"run:{ctx.run_id}",
    )
    version = registration.version
    if registration.created and registration.decision is not None:  # a new version has its decision
        verb = "promoted to champion" if registration.promoted else "kept as a candidate"
        ctx.log(f"registered v{version.number}, {verb}", reason=registration.decision.reason)
    elif version.run_id == ctx.run_id:
        ctx.log(f"v{version.number} was already registered by this run (retry)")
    else:
        ctx.log(f"same model as v{version.number}; no new version")
    _notify_outcome(ctx, spec, registration)
    scoring = None
    if params.predict is not None:
        queued = pipeline_predict_queue(
            model=spec.name, dataset=params.predict.dataset, number=params.predict.version
        )
        scoring = queued.pk if queued else None
    version.refresh_from_db()
    return {
        "pipeline": spec.name,
        "model": spec.name,
        "version": version.number,
        "stage": version.stage,
        "created": registration.created,
        "promoted": bool(version.decision.get("promote")) and version.run_id == ctx.run_id,
        "decision": version.decision.get("reason", ""),
        "metrics": version.metrics,
        "sha256": version.sha256,
        "inputs": version.lineage,
        "cache_hits": result.cache_hits,
        "seconds": round(result.seconds, 3),
        "predict_run": scoring,
    }


def _transform(ctx: JobContext, spec: PipelineSpec, params: TrainParams) -> dict[str, Any]:
    """A data pipeline: accepted inputs -> steps -> a new version of its output dataset, gated.

    The output goes through the same path as a file (``flow.ingest_file``): one Delta commit,
    the quality gate, and what an accepted version starts (a training pipeline reading it).
    Its ``created_by`` is this run, whose result lists the input versions (lineage). A retry
    after the commit finds the same bytes already ingested (a duplicate, nothing written).
    """
    ctx.log("data pipeline started", pipeline=spec.name, trigger=params.trigger)
    inputs, lineage = pipeline_inputs(ctx.settings, spec)
    result = run_data_pipeline(spec, inputs, ctx.artifacts_dir / "pipeline", on_step=_progress(ctx))
    ctx.checkpoint()
    outcome = ingest_file(
        config=ctx.settings,
        dataset=result.dataset,
        path=result.path,
        mode=result.mode,
        actor=f"run:{ctx.run_id}",
    )
    version = outcome.version
    ctx.log(
        f"{result.dataset} v{version.number} {'already held these rows' if outcome.duplicate else 'written'}",
        status=version.status,
        rows=result.rows,
    )
    return {
        "pipeline": spec.name,
        "output": {
            "dataset": result.dataset,
            "version": version.number,
            "status": version.status,
            "duplicate": outcome.duplicate,
            "rows": result.rows,
        },
        "inputs": [item.to_dict() for item in lineage],
        "cache_hits": result.cache_hits,
        "seconds": round(result.seconds, 3),
    }


def train(ctx: JobContext, params: TrainParams) -> dict[str, Any]:
    spec = pipeline_get(config=ctx.settings, name=params.pipeline)
    if spec.output is not None:
        return _transform(ctx, spec, params)
    return _train(ctx, spec, params)


def train_failed(run: Run, config: Settings) -> None:
    """TRAIN's failure hook: ``run.failed`` to the pipeline's channels.

    Called once the run is FAILED for good, whoever failed it: the job raising (not retried,
    or out of attempts) or the reaper (its worker died on the last attempt, or no worker
    ever took it). ``run.last_error`` is the reason either gave.
    """
    params = TrainParams.model_validate(run.params)
    spec = pipeline_get(config=config, name=params.pipeline)
    pipeline_notify(
        config,
        spec,
        Notification(
            event="run.failed",
            title=f"{spec.name}: training run {run.pk} failed",
            text=run.last_error,
            pipeline=spec.name,
            run_id=str(run.pk),
            fields={"attempt": run.attempts, "trigger": params.trigger},
        ),
    )


TRAIN = JobSpec(
    name="train",
    description="Train a pipeline on its accepted data, register the model, apply the promotion rule.",
    params=TrainParams,
    func=train,
    on_failed=train_failed,
)


class PredictParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    dataset: str
    version: int = Field(ge=1)


def predict(ctx: JobContext, params: PredictParams) -> dict[str, Any]:
    ctx.log("scoring started", model=params.model, dataset=params.dataset, version=params.version)
    batch = predictions_to_lake(
        config=ctx.settings,
        model=params.model,
        dataset=params.dataset,
        number=params.version,
        run_id=ctx.run_id,
        actor=f"run:{ctx.run_id}",
    )
    ctx.log("predictions written", rows=batch.rows, output=batch.output, model_version=batch.version.number)
    return json_safe(batch.to_dict())


PREDICT = JobSpec(
    name="predict",
    description="Score an accepted dataset version with a model's champion into <model>_predictions.",
    params=PredictParams,
    func=predict,
)


class NotifyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Literal["gate.failed", "data.rejected", "data.revoked"]
    dataset: str
    version: int = Field(ge=1)


def notify(ctx: JobContext, params: NotifyParams) -> dict[str, Any]:
    """Tell the pipelines that read a dataset about one of its versions (gate failed, rejected, revoked)."""
    outcome = pipelines_data_notify(
        config=ctx.settings, event=params.event, dataset=params.dataset, number=params.version
    )
    failed = {
        f"{pipeline}:{channel}": error
        for pipeline, channels in outcome.items()
        for channel, error in channels.items()
        if error is not None
    }
    ctx.log("notifications sent", event=params.event, pipelines=sorted(outcome), failed=sorted(failed))
    return {"event": params.event, "dataset": params.dataset, "version": params.version, "outcome": outcome}


NOTIFY = JobSpec(
    name="notify",
    description="Tell the channels of the pipelines that read a dataset version what became of it.",
    params=NotifyParams,
    func=notify,
)


class ScoringDriftParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    all_versions: bool = Field(False, description="Compare every recorded batch, not only the new ones.")


def scoring_drift_job(ctx: JobContext, params: ScoringDriftParams) -> dict[str, Any]:
    """Recent online predictions of a champion against its training data's stored profiles."""
    from lakegate_server.training.monitoring import scoring_drift

    outcome = scoring_drift(config=ctx.settings, name=params.model, all_versions=params.all_versions)
    ctx.log(
        "scoring drift checked",
        model=outcome.model,
        status=outcome.status,
        rows=outcome.rows,
        versions=outcome.versions,
        drifted=outcome.drifted,
    )
    return json_safe(outcome.to_dict())


SCORING_DRIFT = JobSpec(
    name="scoring_drift",
    description="Compare a champion's recent online predictions with its training data (stored sketches).",
    params=ScoringDriftParams,
    func=scoring_drift_job,
)


class PerformanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str


def performance_job(ctx: JobContext, params: PerformanceParams) -> dict[str, Any]:
    """The champion's rolling metrics over labelled online predictions; the rule may act."""
    from lakegate_server.training.monitoring import performance_check

    outcome = performance_check(config=ctx.settings, name=params.model)
    ctx.log(
        "performance checked",
        model=params.model,
        labelled=outcome["labelled"],
        latest=outcome["latest"],
        fired=outcome["fired"],
        actions=outcome["actions"],
    )
    return json_safe(outcome)


PERFORMANCE = JobSpec(
    name="performance",
    description="Rolling metrics of a champion over its labelled online predictions; act on the rule.",
    params=PerformanceParams,
    func=performance_job,
)
