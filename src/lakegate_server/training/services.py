"""Training writes: start pipeline runs (by hand, on new accepted data, on cron), announce a
failed gate to the pipelines that read the dataset, record prediction batches.

Registration of a trained model is in :mod:`lakegate_server.training.registry`; stage
changes (promotion, rollback) in :mod:`lakegate_server.training.promotion`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.utils import timezone

from lakegate.config import Settings
from lakegate.errors import ConfigError
from lakegate.notify import Notification
from lakegate.pipelines import PipelineSpec
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.jobs.cron import cron_fire
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.services import run_create
from lakegate_server.training.models import ModelVersion, PredictionBatch, Stage, TriggerFire
from lakegate_server.training.notifications import pipeline_notify
from lakegate_server.training.selectors import dataset_version_impact, pipeline_get, pipeline_specs

__all__ = [
    "pipeline_predict_queue",
    "pipeline_run_create",
    "pipeline_runs_for_accepted_version",
    "pipelines_cron_fire",
    "pipelines_data_notice_queue",
    "pipelines_data_notify",
    "prediction_batch_record",
]

log = logging.getLogger("lakegate.training")


def pipeline_run_create(
    *,
    config: Settings,
    name: str,
    created_by: str,
    trigger: str = "manual",
    dataset: str | None = None,
    version: int | None = None,
    predict: dict[str, Any] | None = None,
) -> Run:
    """Queue a ``train`` run of pipeline ``name`` (``NotFoundError`` when it is not defined)."""
    pipeline_get(config=config, name=name)
    params: dict[str, Any] = {"pipeline": name, "trigger": trigger}
    if dataset is not None:
        params |= {"dataset": dataset, "version": version}
    if predict is not None:
        params["predict"] = predict
    return run_create(kind="train", params=params, created_by=created_by)


def _fire_once(
    *, pipeline: str, trigger: str, key: str, fired_at: dt.datetime, start: Callable[[], Run | None]
) -> Run | None:
    """Record the firing, then start its run; a firing already recorded starts nothing."""
    try:
        with transaction.atomic():
            fire = TriggerFire.objects.create(pipeline=pipeline, trigger=trigger, key=key, fired_at=fired_at)
            run = start()
            if run is not None:
                fire.run = run
                fire.save(update_fields=["run"])
            return run
    except IntegrityError:
        log.info("trigger already fired", extra={"pipeline": pipeline, "trigger": trigger, "key": key})
        return None


def _specs_or_none(config: Settings, context: str) -> dict[str, PipelineSpec] | None:
    try:
        return pipeline_specs(config=config)
    except ConfigError as exc:
        # A broken pipelines section must not break ingest or the scheduler: say it loudly.
        log.error("pipelines not loaded", extra={"context": context, "error": exc.message})
        return None


def pipeline_runs_for_accepted_version(*, config: Settings, dataset: str, number: int) -> list[Run]:
    """Runs for a newly accepted dataset version (the spine calls this on acceptance).

    - every pipeline with ``on_new_version: <dataset>`` that reads the dataset is trained;
    - every pipeline with ``predict_on: <dataset>`` scores the new batch with its champion
      (after its training, when the same version also retrains it).

    A version that is not accepted starts nothing; calling this again for the same version
    starts nothing again (each firing is recorded once).
    """
    version = DatasetVersion.objects.filter(dataset__name=dataset, number=number).first()
    if version is None or version.status != VersionStatus.ACCEPTED:
        return []
    specs = _specs_or_none(config, f"{dataset}@{number} accepted")
    if not specs:
        return []
    key, now = f"{dataset}@{number}", timezone.now()
    runs: list[Run] = []
    for spec in specs.values():
        trains = dataset in spec.inputs and spec.triggered_by(dataset)
        scores = spec.predict_on == dataset
        predict = {"dataset": dataset, "version": number} if scores else None
        if trains:

            def start(spec: PipelineSpec = spec, predict: dict[str, Any] | None = predict) -> Run | None:
                return _waiting_training(spec.name, predict) or pipeline_run_create(
                    config=config,
                    name=spec.name,
                    created_by="trigger:on_new_version",
                    trigger="on_new_version",
                    dataset=dataset,
                    version=number,
                    predict=predict,
                )

            run = _fire_once(pipeline=spec.name, trigger="on_new_version", key=key, fired_at=now, start=start)
        elif scores:
            run = pipeline_predict_queue(model=spec.name, dataset=dataset, number=number)
        else:
            run = None
        if run is not None:
            runs.append(run)
        if spec.performance is not None and spec.performance.labels == dataset:
            # new labels: the champion's rolling metrics (and its rule) are due again
            runs.append(
                run_create(kind="performance", params={"model": spec.name}, created_by="trigger:labels")
            )
    return runs


def _waiting_training(pipeline: str, predict: dict[str, Any] | None) -> Run | None:
    """A ``train`` run of ``pipeline`` still queued: a newer accepted version joins it.

    Training reads every accepted version up to the latest when it *starts*, so a run that
    has not started yet already covers this version. Versions arriving faster than training
    (stream micro-batches) then cost one queued run, not one run each. Not when this version
    must also be scored (``predict_on``): each batch's scoring rides on its own run.
    """
    if predict is not None:
        return None
    return (
        Run.objects.filter(kind="train", status=RunStatus.QUEUED, params__pipeline=pipeline)
        .order_by("-id")
        .first()
    )


def pipeline_predict_queue(*, model: str, dataset: str, number: int) -> Run | None:
    """Queue the scoring of ``dataset`` version ``number`` by ``model``'s champion, once.

    None when it was queued before (a retried training run) or there is no champion yet.
    """

    def start() -> Run | None:
        if not ModelVersion.objects.filter(model__name=model, stage=Stage.CHAMPION).exists():
            log.warning(
                "no champion to score with; batch not scored",
                extra={"model": model, "dataset": dataset, "version": number},
            )
            return None
        return run_create(
            kind="predict",
            params={"model": model, "dataset": dataset, "version": number},
            created_by="trigger:predict_on",
        )

    return _fire_once(
        pipeline=model, trigger="predict_on", key=f"{dataset}@{number}", fired_at=timezone.now(), start=start
    )


def pipelines_cron_fire(*, config: Settings, now: dt.datetime | None = None) -> list[Run]:
    """Start the runs whose cron time has come (the scheduler calls this every few seconds).

    Each schedule's fired slots are ``TriggerFire`` rows (unique per pipeline, schedule and
    slot: the insert is the claim); see :func:`~lakegate_server.jobs.cron.cron_fire` for
    arming and catching up.
    """
    now = now or timezone.now()
    specs = _specs_or_none(config, "cron")
    if not specs:
        return []
    runs: list[Run] = []
    for spec in specs.values():
        for trigger in spec.cron_triggers:
            label = f"cron:{trigger.cron}@{trigger.timezone}"
            last = TriggerFire.objects.filter(pipeline=spec.name, trigger=label).order_by("-fired_at").first()

            def arm(at: dt.datetime, name: str = spec.name, label: str = label) -> None:
                _fire_once(
                    pipeline=name,
                    trigger=label,
                    key=f"armed:{at.isoformat()}",
                    fired_at=at,
                    start=lambda: None,
                )

            def claim(slot: dt.datetime, name: str = spec.name, label: str = label) -> Run | None:
                return _fire_once(
                    pipeline=name,
                    trigger=label,
                    key=slot.isoformat(),
                    fired_at=slot,
                    start=lambda: pipeline_run_create(
                        config=config, name=name, created_by="trigger:cron", trigger="cron"
                    ),
                )

            run = cron_fire(
                trigger.cron,
                timezone=trigger.timezone,
                last=last.fired_at if last else None,
                now=now,
                arm=arm,
                claim=claim,
                label=f"pipeline {spec.name} {label}",
            )
            if run is not None:
                runs.append(run)
    return runs


def _readers(specs: dict[str, PipelineSpec], dataset: str) -> list[PipelineSpec]:
    """The pipelines that read (or score) ``dataset`` and have channels to tell."""
    return [
        spec for spec in specs.values() if dataset in {*spec.inputs, spec.predict_on} and spec.notifications
    ]


DataEvent = Literal["gate.failed", "data.rejected", "data.revoked"]


def pipelines_data_notice_queue(
    *, config: Settings, event: DataEvent, dataset: str, number: int
) -> Run | None:
    """Queue a ``notify`` run telling the pipelines that read ``dataset`` about its version.

    For a failed gate, a rejection or a revoked approval. None when no pipeline reading it
    has notification channels. A run, not a send: a slow or unreachable channel never holds
    up the ingest, check or decision that caused it; what each channel answered is the
    run's result.
    """
    specs = _specs_or_none(config, f"{dataset}@{number} {event}")
    if not specs or not _readers(specs, dataset):
        return None
    return run_create(
        kind="notify",
        params={"event": event, "dataset": dataset, "version": number},
        created_by=f"trigger:{event}",
    )


def _notice(
    event: DataEvent, spec: PipelineSpec, version: DatasetVersion, impact: dict[str, Any]
) -> Notification:
    name, number = version.dataset.name, version.number
    fields: dict[str, Any] = {"dataset": name, "version": number, "verdict": version.verdict}
    if event == "gate.failed":
        uses = (
            "still uses it (policy: warn)" if version.status == VersionStatus.ACCEPTED else "did not use it"
        )
        title = f"{name} v{number} failed the quality gate; {spec.name} {uses}"
        text = f"verdict {version.verdict or 'fail'}, status {version.status}"
    else:
        verb = "rejected" if event == "data.rejected" else "no longer approved"
        title = f"{name} v{number} is {verb}; {spec.name} stops using it"
        models = [f"{m['model']} v{m['version']} ({m['stage']})" for m in impact.get("models", [])]
        tables = sorted({t["output"] for t in impact.get("prediction_tables", [])})
        text = "fed: " + (", ".join(models + tables) or "no model or prediction table yet")
        fields |= {"models": ", ".join(models), "prediction_tables": ", ".join(tables)}
    return Notification(event=event, title=title, text=text, pipeline=spec.name, fields=fields)


def pipelines_data_notify(
    *, config: Settings, event: DataEvent, dataset: str, number: int
) -> dict[str, dict[str, str | None]]:
    """Send the notice the ``notify`` run carries; pipeline -> channel -> None or the error."""
    version = (
        DatasetVersion.objects.filter(dataset__name=dataset, number=number).select_related("dataset").first()
    )
    specs = _specs_or_none(config, f"{dataset}@{number} {event}")
    if version is None or not specs:
        return {}
    impact = dataset_version_impact(version=version).to_dict()
    return {
        spec.name: pipeline_notify(config, spec, _notice(event, spec, version, impact))
        for spec in _readers(specs, dataset)
    }


def prediction_batch_record(
    *,
    version: ModelVersion,
    source: str,
    output: str,
    rows: int,
    seconds: float,
    source_version: DatasetVersion | None = None,
    output_version: DatasetVersion | None = None,
    run_id: int | None = None,
    created_by: str = "",
) -> PredictionBatch:
    """Record a written batch of predictions (one per run: a retried run updates its record)."""
    values = {
        "source": source,
        "output": output,
        "rows": rows,
        "seconds": seconds,
        "source_version": source_version,
        "output_version": output_version,
        "created_by": created_by,
    }
    if run_id is None:
        return PredictionBatch.objects.create(version=version, **values)
    batch, _ = PredictionBatch.objects.update_or_create(version=version, run_id=run_id, defaults=values)
    return batch
