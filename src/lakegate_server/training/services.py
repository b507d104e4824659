"""Training writes: start pipeline runs (by hand, on new accepted data, on cron), change
champions by hand (promote, rollback), record prediction batches.

Registration of a trained model is in :mod:`lakegate_server.training.registry`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from lakegate.errors import ConfigError, ConflictError, InputError, LakegateError, NotFoundError
from lakegate.models import decide_promotion
from lakegate.notify import Notification
from lakegate.pipelines import CronTrigger, PipelineSpec
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.services import run_create
from lakegate_server.training.models import (
    ModelVersion,
    PredictionBatch,
    RegisteredModel,
    Stage,
    StageAction,
    StageChange,
    TriggerFire,
)
from lakegate_server.training.notifications import pipeline_notify
from lakegate_server.training.registry import champion_set, compared_metrics
from lakegate_server.training.selectors import pipeline_get, pipeline_specs

__all__ = [
    "model_promote",
    "model_rollback",
    "pipeline_predict_queue",
    "pipeline_run_create",
    "pipeline_runs_for_accepted_version",
    "pipelines_cron_fire",
    "pipelines_gate_failed_notify",
    "prediction_batch_record",
]

log = logging.getLogger("lakegate.training")


def pipeline_run_create(
    *,
    name: str,
    created_by: str,
    trigger: str = "manual",
    dataset: str | None = None,
    version: int | None = None,
    predict: dict[str, Any] | None = None,
) -> Run:
    """Queue a ``train`` run of pipeline ``name`` (``NotFoundError`` when it is not defined)."""
    pipeline_get(name=name)
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


def _specs_or_none(context: str) -> dict[str, PipelineSpec] | None:
    try:
        return pipeline_specs()
    except ConfigError as exc:
        # A broken pipelines section must not break ingest or the scheduler: say it loudly.
        log.error("pipelines not loaded", extra={"context": context, "error": exc.message})
        return None


def pipeline_runs_for_accepted_version(*, dataset: str, number: int) -> list[Run]:
    """Runs for a newly accepted dataset version (the quality gate calls this on acceptance).

    - every pipeline with ``on_new_version: <dataset>`` that reads the dataset is trained;
    - every pipeline with ``predict_on: <dataset>`` scores the new batch with its champion
      (after its training, when the same version also retrains it).

    A version that is not accepted starts nothing; calling this again for the same version
    starts nothing again (each firing is recorded once).
    """
    version = DatasetVersion.objects.filter(dataset__name=dataset, number=number).first()
    if version is None or version.status != VersionStatus.ACCEPTED:
        return []
    specs = _specs_or_none(f"{dataset}@{number} accepted")
    if not specs:
        return []
    key, now = f"{dataset}@{number}", timezone.now()
    runs: list[Run] = []
    for spec in specs.values():
        trains = dataset in spec.inputs and spec.triggered_by(dataset)
        scores = spec.predict_on == dataset
        predict = {"dataset": dataset, "version": number} if scores else None
        if trains:
            run = _fire_once(
                pipeline=spec.name,
                trigger="on_new_version",
                key=key,
                fired_at=now,
                start=lambda spec=spec, predict=predict: (
                    _waiting_training(spec.name, predict)
                    or pipeline_run_create(
                        name=spec.name,
                        created_by="trigger:on_new_version",
                        trigger="on_new_version",
                        dataset=dataset,
                        version=number,
                        predict=predict,
                    )
                ),
            )
        elif scores:
            run = pipeline_predict_queue(model=spec.name, dataset=dataset, number=number)
        else:
            continue
        if run is not None:
            runs.append(run)
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


def _cron_label(trigger: CronTrigger) -> str:
    return f"cron:{trigger.cron}@{trigger.timezone}"


def _latest_slot(trigger: CronTrigger, now: dt.datetime) -> dt.datetime:
    """The latest scheduled time at or before ``now`` (aware, UTC)."""
    import zoneinfo

    from croniter import croniter  # type: ignore[import-untyped]

    local = (now + dt.timedelta(microseconds=1)).astimezone(zoneinfo.ZoneInfo(trigger.timezone))
    slot: dt.datetime = croniter(trigger.cron, local).get_prev(dt.datetime)
    return slot.astimezone(dt.UTC)


def pipelines_cron_fire(*, now: dt.datetime | None = None) -> list[Run]:
    """Start the runs whose cron time has come (the scheduler calls this every few seconds).

    Each schedule's last fire time is kept in the database (``TriggerFire``): a restarted
    scheduler neither fires a slot twice nor skips one silently. A schedule seen for the
    first time is armed (it fires from its next time on). Slots missed while no scheduler
    ran fire once, for the latest of them, with a warning naming the first one missed.
    """
    now = now or timezone.now()
    specs = _specs_or_none("cron")
    if not specs:
        return []
    runs: list[Run] = []
    for spec in specs.values():
        for trigger in spec.cron_triggers:
            label = _cron_label(trigger)
            last = TriggerFire.objects.filter(pipeline=spec.name, trigger=label).order_by("-fired_at").first()
            if last is None:
                _fire_once(
                    pipeline=spec.name,
                    trigger=label,
                    key=f"armed:{now.isoformat()}",
                    fired_at=now,
                    start=lambda: None,
                )
                log.info("cron schedule armed", extra={"pipeline": spec.name, "cron": label})
                continue
            due = trigger.next_after(last.fired_at)
            if due > now:
                continue
            slot = max(due, _latest_slot(trigger, now))
            if slot > due:
                log.warning(
                    "cron slots missed while no scheduler ran; firing once for the latest",
                    extra={"pipeline": spec.name, "cron": label, "first_missed": due.isoformat()},
                )
            run = _fire_once(
                pipeline=spec.name,
                trigger=label,
                key=slot.isoformat(),
                fired_at=slot,
                start=lambda spec=spec: pipeline_run_create(
                    name=spec.name, created_by="trigger:cron", trigger="cron"
                ),
            )
            if run is not None:
                runs.append(run)
    return runs


def pipelines_gate_failed_notify(*, dataset: str, number: int) -> dict[str, dict[str, str | None]]:
    """Tell the pipelines that read ``dataset`` that its version ``number`` failed the gate.

    The quality gate calls this when it rejects a version. Returns pipeline -> delivery outcome.
    """
    version = DatasetVersion.objects.filter(dataset__name=dataset, number=number).first()
    specs = _specs_or_none(f"{dataset}@{number} rejected")
    if version is None or not specs:
        return {}
    outcome = {}
    for spec in specs.values():
        if dataset not in {*spec.inputs, spec.predict_on} or not spec.notifications:
            continue
        outcome[spec.name] = pipeline_notify(
            spec,
            Notification(
                event="gate.failed",
                title=f"{dataset} v{number} failed the quality gate; {spec.name} "
                + (
                    "still uses it (policy: warn)"
                    if version.status == VersionStatus.ACCEPTED
                    else "did not use it"
                ),
                text=f"verdict {version.verdict or 'fail'}, status {version.status}",
                pipeline=spec.name,
                fields={"dataset": dataset, "version": number, "verdict": version.verdict},
            ),
        )
    return outcome


def _locked(name: str) -> RegisteredModel:
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        raise NotFoundError(f"no model named {name!r}", detail={"model": name})
    return model


def _version(model: RegisteredModel, number: int) -> ModelVersion:
    version = model.versions.filter(number=number).first()
    if version is None:
        raise NotFoundError(
            f"model {model.name!r} has no version {number}", detail={"model": model.name, "version": number}
        )
    return version


def _rule_opinion(name: str, version: ModelVersion, champion: ModelVersion | None) -> dict[str, Any]:
    """What the pipeline's promotion rule would say (recorded with a manual change)."""
    try:
        spec = pipeline_get(name=name)
    except LakegateError:
        return compared_metrics(version, champion, None)
    decision = decide_promotion(
        spec.promotion, version.promotion_metrics, champion.promotion_metrics if champion else None
    )
    return compared_metrics(version, champion, decision)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError("say why: a promotion or rollback needs a reason", detail={"field": "reason"})
    return reason


@transaction.atomic
def model_promote(*, name: str, number: int, reason: str, actor: str) -> ModelVersion:
    """Make version ``number`` the champion by hand (the old champion is archived)."""
    reason = _reason(reason)
    model = _locked(name)
    version = _version(model, number)
    champion = model.versions.filter(stage=Stage.CHAMPION).first()
    compared = _rule_opinion(name, version, champion)
    champion_set(
        model=model,
        version=version,
        action=StageAction.PROMOTED,
        actor=actor,
        reason=reason,
        compared=compared,
    )
    return version


def _former_champion(model: RegisteredModel, exclude: int | None) -> ModelVersion | None:
    """The version that was champion most recently before the current one."""
    changes = StageChange.objects.filter(model=model, action=StageAction.ARCHIVED).order_by(
        "-created_at", "-id"
    )
    for change in changes.select_related("version"):
        if change.version.stage == Stage.ARCHIVED and change.version_id != exclude:
            return change.version
    return None


@transaction.atomic
def model_rollback(*, name: str, number: int | None = None, reason: str, actor: str) -> ModelVersion:
    """Restore a former champion (version ``number``, default: the one before the current)."""
    reason = _reason(reason)
    model = _locked(name)
    champion = model.versions.filter(stage=Stage.CHAMPION).first()
    if number is None:
        version = _former_champion(model, exclude=champion.pk if champion else None)
        if version is None:
            raise ConflictError(f"model {name!r} has no former champion to roll back to")
    else:
        version = _version(model, number)
        was_champion = StageChange.objects.filter(version=version, to_stage=Stage.CHAMPION).exists()
        if not was_champion:
            raise ConflictError(
                f"{name} v{number} was never champion; promote it instead",
                detail={"model": name, "version": number, "stage": version.stage},
            )
    compared = _rule_opinion(name, version, champion)
    champion_set(
        model=model,
        version=version,
        action=StageAction.ROLLED_BACK,
        actor=actor,
        reason=reason,
        compared=compared,
    )
    return version


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
