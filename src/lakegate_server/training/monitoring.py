"""Scoring drift: recent online predictions compared with the champion's training data.

The reference is the stored profiles (sketches) of the dataset versions the champion was
trained on -- the training table is never read again. The current side is only the new
batches of ``<model>_online_predictions`` (the versions flushed since the last scoring-drift
run of that model, its ``through`` watermark), restricted to the rows the champion answered.

Checks: ``completeness`` (a feature that empties in production fails) and ``drift`` over
every input column the model was trained with (not its ``id_columns`` or excluded ones),
plus the prediction distribution: the ``prediction`` column is compared with the training
target's profile as the drift check's label. Its drift (``label_drift``) only warns by
default, since a classifier's predicted shares differ from the true ones by its bias;
``monitoring.drift_severity`` changes that.
The report is the gate's (:class:`lakegate.checks.CheckReport`, JSON + HTML), kept in the
storage; a failed verdict notifies the pipeline's channels (event ``model.drift``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from lakegate.config import Settings
from lakegate.errors import ConfigError, NotFoundError
from lakegate.notify import Notification
from lakegate.storage import Area, join_key, open_storage
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.cron import cron_fire
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.services import run_create
from lakegate_server.training.models import RegisteredModel, Stage, TriggerFire
from lakegate_server.training.notifications import pipeline_notify
from lakegate_server.training.selectors import (
    model_champion,
    model_get,
    online_predictions_dataset,
    pipeline_specs,
)

__all__ = [
    "ScoringDrift",
    "performance_check",
    "performance_last",
    "scoring_drift",
    "scoring_drift_cron_fire",
    "scoring_drift_last",
    "scoring_drift_queue",
    "scoring_drift_report",
]

log = logging.getLogger("lakegate.monitoring")

KIND = "scoring_drift"


@dataclass
class ScoringDrift:
    """One scoring-drift check: what was compared, the verdict, where the report is."""

    model: str
    model_version: int
    status: str
    through: int | None
    versions: list[int]
    rows: int
    drifted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    report_json: str = ""
    report_html: str = ""
    seconds: float = 0.0
    notified: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_version": self.model_version,
            "status": self.status,
            "through": self.through,
            "versions": self.versions,
            "rows": self.rows,
            "drifted": self.drifted,
            "failed": self.failed,
            "report_json": self.report_json,
            "report_html": self.report_html,
            "seconds": round(self.seconds, 4),
            "notified": self.notified,
        }


def scoring_drift_last(*, name: str) -> Run | None:
    """The latest succeeded scoring-drift run of model ``name`` (holds the watermark)."""
    return (
        Run.objects.filter(kind=KIND, status=RunStatus.SUCCEEDED, params__model=name)
        .order_by("-finished_at", "-id")
        .first()
    )


def scoring_drift_report(*, config: Settings, name: str, page: Literal["json", "html"] = "json") -> bytes:
    """The latest scoring-drift report of model ``name`` (``json`` or ``html``)."""
    model_get(name=name)
    runs = Run.objects.filter(kind=KIND, status=RunStatus.SUCCEEDED, params__model=name).order_by(
        "-finished_at", "-id"
    )
    for run in runs[:50]:  # runs that found nothing new have no report
        key = (run.result or {}).get("report_html" if page == "html" else "report_json")
        if key:
            return open_storage(config).get_bytes(key)
    raise NotFoundError(
        f"model {name!r} has no scoring-drift report yet; run `lakegate models drift {name}`",
        detail={"model": name},
    )


def scoring_drift_queue(*, name: str, all_versions: bool = False, created_by: str = "") -> Run:
    """Queue a ``scoring_drift`` run of model ``name`` (which must have a champion)."""
    model_get(name=name)
    if model_champion(name=name) is None:
        raise NotFoundError(f"model {name!r} has no champion to watch", detail={"model": name})
    params: dict[str, Any] = {"model": name, "all_versions": all_versions}
    return run_create(kind=KIND, params=params, created_by=created_by)


def _has_new_predictions(name: str) -> bool:
    newest = DatasetVersion.objects.filter(dataset__name=online_predictions_dataset(name)).aggregate(
        top=Max("number")
    )["top"]
    if newest is None:
        return False
    last = scoring_drift_last(name=name)
    through = (last.result or {}).get("through") if last is not None else None
    return through is None or newest > int(through)


def scoring_drift_cron_fire(*, config: Settings, now: dt.datetime | None = None) -> list[Run]:
    """On ``monitoring.drift_cron``: a scoring-drift run per champion with new recorded predictions.

    Each slot is claimed once per model (a ``TriggerFire`` row, as pipelines' cron triggers).
    """
    cron = config.monitoring.drift_cron
    if not cron:
        return []
    now = now or timezone.now()
    label = f"drift:{cron}"
    runs: list[Run] = []
    champions = RegisteredModel.objects.filter(versions__stage=Stage.CHAMPION).distinct()
    for model in champions:
        name = model.name
        last = TriggerFire.objects.filter(pipeline=name, trigger=label).order_by("-fired_at").first()

        def fire(slot: dt.datetime, key: str, name: str = name, start: bool = True) -> Run | None:
            try:
                with transaction.atomic():
                    row = TriggerFire.objects.create(pipeline=name, trigger=label, key=key, fired_at=slot)
                    if not (start and _has_new_predictions(name)):
                        return None
                    run = scoring_drift_queue(name=name, created_by="trigger:cron")
                    row.run = run
                    row.save(update_fields=["run"])
                    return run
            except IntegrityError:
                return None

        def arm(at: dt.datetime, fire: Callable[..., Run | None] = fire) -> Run | None:
            return fire(at, f"armed:{at.isoformat()}", start=False)

        def claim(slot: dt.datetime, fire: Callable[..., Run | None] = fire) -> Run | None:
            return fire(slot, slot.isoformat())

        run = cron_fire(
            cron,
            last=last.fired_at if last else None,
            now=now,
            arm=arm,
            claim=claim,
            label=f"scoring drift {name}",
        )
        if run is not None:
            runs.append(run)
    return runs


def scoring_drift(
    *, config: Settings, name: str, since: int | None = None, all_versions: bool = False
) -> ScoringDrift:
    """Compare the online predictions flushed after version ``since`` with the champion's training data.

    ``since`` defaults to the watermark of the last scoring-drift run (every version the
    first time; ``all_versions`` ignores the watermark). Raises ``NotFoundError`` without a
    champion. Nothing new to compare gives status ``skip``.
    """
    from lakegate.checks import (
        PREDICTION,
        Reference,
        render_html,
        run_checks,
        scoring_checks,
        scoring_reference,
    )

    started = time.perf_counter()
    model_get(name=name)
    champion = model_champion(name=name)
    if champion is None:
        raise NotFoundError(f"model {name!r} has no champion to watch", detail={"model": name})
    if since is None and not all_versions:
        last = scoring_drift_last(name=name)
        since = (last.result or {}).get("through") if last is not None else None
    dataset = online_predictions_dataset(name)
    new = list(
        DatasetVersion.objects.filter(dataset__name=dataset, number__gt=since or 0)
        .order_by("number")
        .only("number", "delta_version", "rows")
    )
    outcome = ScoringDrift(
        model=name, model_version=champion.number, status="skip", through=since, versions=[], rows=0
    )
    if not new:
        outcome.seconds = time.perf_counter() - started
        return outcome
    outcome.versions = [v.number for v in new]
    outcome.through = new[-1].number

    training = list(champion.dataset_versions.all().order_by("dataset__name", "number"))
    reference = Reference.from_profiles(
        [v.stats for v in training], versions=[f"{v.dataset.name}@{v.number}" for v in training]
    )
    spec = pipeline_specs(config=config).get(name)
    ids = {*spec.id_columns, *spec.model_spec.exclude} if spec is not None else set()
    profile = scoring_reference(reference.profile, target=spec.target if spec is not None else None)
    inputs = [c["name"] for c in champion.input_schema if c.get("name") in profile and c["name"] not in ids]
    current = _current(config, dataset, new, champion.number, [*inputs, PREDICTION])
    checks = scoring_checks(
        inputs,
        prediction=PREDICTION in profile,
        severity=config.monitoring.drift_severity,
        max_rows=config.monitoring.drift_max_rows,
    )
    reference = Reference(profile=profile, versions=reference.versions)
    report = run_checks(
        current,
        checks=checks,
        reference=reference,
        dataset=dataset,
        version=f"{new[0].number}-{new[-1].number}",
    )
    outcome.status = report.status.value
    drift = report.result("drift")
    details = getattr(drift, "details", None)
    outcome.drifted = list(getattr(details, "drifted", ()))
    outcome.rows = int(getattr(details, "current_rows", 0) or 0)
    outcome.failed = [f"{r.code.value}:{r.column or '-'}" for r in report.reasons if r.status.value == "fail"]

    stem = f"{name}-v{champion.number}-{new[0].number}-{new[-1].number}-{uuid.uuid4().hex[:8]}"
    storage = open_storage(config)
    outcome.report_json = join_key(Area.REPORTS, "scoring-drift", name, f"{stem}.json")
    outcome.report_html = join_key(Area.REPORTS, "scoring-drift", name, f"{stem}.html")
    storage.put_bytes(outcome.report_json, report.to_json().encode("utf-8"))
    storage.put_bytes(outcome.report_html, render_html(report).encode("utf-8"))
    if report.status.value == "fail":
        outcome.notified = _notify(config, outcome)
    outcome.seconds = time.perf_counter() - started
    log.info("scoring drift checked", extra={k: v for k, v in outcome.to_dict().items() if k != "notified"})
    return outcome


def _current(
    config: Settings, dataset: str, versions: list[DatasetVersion], champion: int, columns: list[str]
) -> Any:
    """The new batches only (the Delta files each version added), the champion's rows."""
    import polars as pl

    from lakegate.lake import batch_frame

    table = config.lake_table(dataset)
    frames = [batch_frame(table, v.delta_version) for v in versions]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    present = frame.collect_schema().names()
    return frame.filter(pl.col("model_version") == str(champion)).select([c for c in columns if c in present])


def _notify(config: Settings, outcome: ScoringDrift) -> dict[str, str | None]:
    spec = pipeline_specs(config=config).get(outcome.model)
    if spec is None:
        return {}
    notification = Notification(
        event="model.drift",
        title=f"{outcome.model} v{outcome.model_version}: scoring drift failed",
        text=(
            f"{outcome.rows:,} recorded predictions (versions {outcome.versions[0]}-"
            f"{outcome.versions[-1]} of {online_predictions_dataset(outcome.model)}) differ from the "
            "training data: " + ", ".join(outcome.failed)
        ),
        pipeline=spec.name,
        fields={"model": outcome.model, "version": outcome.model_version, "drifted": outcome.drifted},
    )
    return pipeline_notify(config, spec, notification)


def _latest_frame(config: Settings, dataset: str) -> Any:
    """The whole table of ``dataset`` as of its newest version (lazy); None without versions."""
    import polars as pl

    from lakegate.lake import as_location

    latest = DatasetVersion.objects.filter(dataset__name=dataset).order_by("-number").first()
    if latest is None:
        return None
    table = as_location(config.lake_table(dataset))
    return pl.scan_delta(table.target, version=latest.delta_version, storage_options=table.polars_options)


def performance_check(*, config: Settings, name: str) -> dict[str, Any]:
    """The champion's rolling metrics over its labelled online predictions; act on the rule.

    Joins ``<model>_online_predictions`` (the champion's rows) with the labels dataset on
    ``performance.id``; metrics of the last ``window`` labelled predictions (and of earlier
    windows, for the chart). When ``performance.rule`` holds: notify the pipeline's channels
    (``model.performance``) and/or queue a training run, as ``performance.action`` says.
    """
    import polars as pl

    from lakegate.errors import InputError
    from lakegate.models import rolling_performance, rule_holds
    from lakegate_server.training.selectors import pipeline_get
    from lakegate_server.training.services import pipeline_run_create

    spec = pipeline_get(config=config, name=name)
    perf = spec.performance
    if perf is None:
        raise InputError(
            f"pipeline {name!r} has no performance: section (labels dataset, id column, window, rule)",
            detail={"pipeline": name},
        )
    champion = model_champion(name=name)
    if champion is None:
        raise NotFoundError(f"model {name!r} has no champion to watch", detail={"model": name})
    label = perf.label or spec.target
    if label is None:
        raise ConfigError(
            f"pipeline {name}: monitoring.performance needs `label` (the labels' column) "
            "or the pipeline's target"
        )
    outcome: dict[str, Any] = {
        "model": name,
        "model_version": champion.number,
        "labels": perf.labels,
        "window": perf.window,
        "labelled": 0,
        "latest": {},
        "series": [],
        "rule": perf.rule,
        "fired": False,
        "actions": [],
    }
    predictions = _latest_frame(config, online_predictions_dataset(name))
    labels = _latest_frame(config, perf.labels)
    if predictions is None or labels is None:
        return outcome
    for frame, what, column in ((predictions, "recorded predictions", perf.id), (labels, perf.labels, label)):
        if column not in frame.collect_schema().names():
            raise InputError(f"{what}: no column {column!r} (performance of pipeline {name!r})")
    positive = spec.model_spec.positive_class
    proba = f"proba_{positive}" if positive is not None else None
    wanted = [perf.id, "prediction", "predicted_at", *([proba] if proba else [])]
    served = (
        predictions.filter(pl.col("model_version") == str(champion.number))
        .select([c for c in wanted if c in predictions.collect_schema().names()])
        .with_columns(pl.col(perf.id).cast(pl.String))
    )
    truth = labels.select(pl.col(perf.id).cast(pl.String), pl.col(label).alias("label")).unique(
        subset=[perf.id], keep="last"
    )
    joined = served.join(truth, on=perf.id, how="inner").drop_nulls("label").collect()
    outcome.update(
        rolling_performance(
            joined, task=spec.model_spec.task, window=perf.window, positive=positive, proba_column=proba
        )
    )
    if perf.rule and outcome["latest"]:
        holds, trace = rule_holds(perf.rule, outcome["latest"])
        outcome["fired"], outcome["trace"] = holds, trace
        if holds and perf.action in {"notify", "both"}:
            notification = Notification(
                event="model.performance",
                title=f"{name} v{champion.number}: {perf.rule} over the last {perf.window:,} labelled",
                text=f"{trace} ({outcome['labelled']:,} labelled predictions)",
                pipeline=name,
                fields={"model": name, "version": champion.number, **outcome["latest"]},
            )
            outcome["notified"] = pipeline_notify(config, spec, notification)
            outcome["actions"].append("notify")
        if holds and perf.action in {"retrain", "both"}:
            run = pipeline_run_create(config=config, name=name, created_by="trigger:performance")
            outcome["actions"].append(f"retrain:run {run.pk}")
    log.info("performance checked", extra={k: outcome[k] for k in ("model", "labelled", "fired", "latest")})
    return outcome


def performance_last(*, name: str) -> dict[str, Any] | None:
    """The result of the latest succeeded ``performance`` run of model ``name``."""
    run = (
        Run.objects.filter(kind="performance", status=RunStatus.SUCCEEDED, params__model=name)
        .order_by("-finished_at", "-id")
        .first()
    )
    return run.result if run is not None else None
