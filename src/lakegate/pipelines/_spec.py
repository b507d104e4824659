"""The typed pipeline spec: one entry of the ``pipelines:`` section of ``lakegate.yaml``.

Parsing is light (pydantic only): the algorithm is checked against the allow-list by
name, cron expressions with croniter, promotion rules with the safe rule parser. Checks
that import libraries (estimator parameters, custom step functions) run at the start of
a run, or on demand with :func:`validate_pipeline`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lakegate.errors import ConfigError
from lakegate.features import JoinStep, StepConfig, normalize_step, step_name
from lakegate.models import (
    METRICS,
    PerformanceSpec,
    PromotionSpec,
    RobustnessConfig,
    Task,
    higher_is_better,
    parse_rule,
)
from lakegate.models.trainers import resolve_algorithm

__all__ = [
    "CronTrigger",
    "ManualTrigger",
    "ModelSpec",
    "NewVersionTrigger",
    "PipelineSpec",
    "SplitSpec",
    "Trigger",
    "config_hash",
]

_NAME = r"^[A-Za-z0-9_\-]{1,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """``model:``: what to train."""

    task: Task
    algorithm: str
    params: dict[str, Any] = Field(default_factory=dict)
    features: list[str] | None = Field(None, description="Default: every numeric column but target/ids.")
    exclude: list[str] = Field(default_factory=list)
    positive_class: str | int | bool | None = None
    warm_start: bool = Field(False, description="Clustering: continue MiniBatchKMeans from the champion.")

    @field_validator("algorithm")
    @classmethod
    def _allowed(cls, value: str, info: ValidationInfo) -> str:
        task = info.data.get("task")
        if task is not None:
            try:
                resolve_algorithm(value, task)
            except ConfigError as exc:
                raise ValueError(exc.message.removeprefix("model.algorithm: ")) from exc
        return value

    @model_validator(mode="after")
    def _warm_start(self) -> ModelSpec:
        if self.warm_start and self.canonical_algorithm != "sklearn.cluster.MiniBatchKMeans":
            raise ValueError("warm_start needs algorithm minibatch_kmeans (sklearn.cluster.MiniBatchKMeans)")
        return self

    @property
    def canonical_algorithm(self) -> str:
        return resolve_algorithm(self.algorithm, self.task)


class SplitSpec(_Strict):
    """``split:``: random (seeded, stratified for classification) or by time."""

    method: Literal["random", "time"] = "random"
    test_size: float = Field(0.2, gt=0, lt=1)
    seed: int | None = Field(None, description="Default: the pipeline seed.")
    stratify: bool = True
    column: str | None = Field(None, description="Time split: the time column (after the steps).")
    cutoff: dt.datetime | dt.date | None = Field(
        None, description="Time split: rows from here are the test set."
    )

    @model_validator(mode="after")
    def _time_needs_column(self) -> SplitSpec:
        if self.method == "time" and not self.column:
            raise ValueError("a time split needs column: <time column>")
        if self.method == "random" and (self.column or self.cutoff):
            raise ValueError("column/cutoff apply to method: time only")
        return self


class NewVersionTrigger(_Strict):
    on_new_version: str


class CronTrigger(_Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _valid(cls, value: str) -> str:
        from croniter import croniter  # type: ignore[import-untyped]

        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r} (e.g. '0 3 * * *')")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The next firing time after ``moment`` (aware, in UTC)."""
        import zoneinfo

        from croniter import croniter

        local = moment.astimezone(zoneinfo.ZoneInfo(self.timezone))
        fire: dt.datetime = croniter(self.cron, local).get_next(dt.datetime)
        return fire.astimezone(dt.UTC)


class ManualTrigger(_Strict):
    manual: Literal[True] = True

    @model_validator(mode="before")
    @classmethod
    def _bare_word(cls, value: Any) -> Any:
        return {"manual": True} if value == "manual" else value


def _trigger_kind(value: Any) -> str | None:
    if value == "manual":
        return "manual"
    if isinstance(value, dict):
        return next((k for k in ("on_new_version", "cron", "manual") if k in value), None)
    if isinstance(value, BaseModel):
        return next((k for k in ("on_new_version", "cron", "manual") if hasattr(value, k)), None)
    return None


Trigger = Annotated[
    Annotated[NewVersionTrigger, Tag("on_new_version")]
    | Annotated[CronTrigger, Tag("cron")]
    | Annotated[ManualTrigger, Tag("manual")],
    Discriminator(
        _trigger_kind,
        custom_error_type="trigger",
        custom_error_message="a trigger is 'manual', {on_new_version: DATASET} or {cron: '0 3 * * *'}",
    ),
]


def _default_triggers() -> list[Trigger]:
    return [ManualTrigger()]


class OutputSpec(_Strict):
    """``output:``: a data pipeline writes its result as a new version of this dataset (gated)."""

    dataset: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,100}$")
    mode: Literal["overwrite", "append"] = "overwrite"


class PipelineSpec(_Strict):
    """One pipeline: inputs -> feature steps -> a model (evaluated, promoted) or a dataset (``output``)."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    inputs: list[str] = Field(
        min_length=1, description="Dataset names; steps run on the first, join the others."
    )
    steps: list[StepConfig] = Field(default_factory=list)
    target: str | None = None
    model: ModelSpec | None = None
    output: OutputSpec | None = Field(
        None, description="A data pipeline: the steps' result becomes a new version of this dataset."
    )
    split: SplitSpec = SplitSpec()
    metrics: list[str] = Field(
        default_factory=list, description="First = primary. Default: all of the task's."
    )
    robustness: RobustnessConfig = RobustnessConfig()
    promotion: PromotionSpec = PromotionSpec()
    triggers: list[Trigger] = Field(default_factory=_default_triggers)
    notifications: list[str] = Field(default_factory=list, description="Names of notifiers.")
    predict_on: str | None = None
    id_columns: list[str] = Field(default_factory=list, description="Carried into batch predictions.")
    performance: PerformanceSpec | None = Field(
        None, description="Labels arriving later: rolling metrics of the champion and a rule."
    )
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("steps"), list):
            data["steps"] = [normalize_step(step) for step in data["steps"]]
        if data.get("robustness") is False:
            data["robustness"] = {"enabled": False}
        if isinstance(data.get("inputs"), str):
            data["inputs"] = [data["inputs"]]
        if isinstance(data.get("promotion"), str):
            data["promotion"] = {"rule": data["promotion"]}
        return data

    @property
    def model_spec(self) -> ModelSpec:
        """The model a training pipeline trains (a data pipeline has none)."""
        if self.model is None:
            raise ConfigError(
                f"pipeline {self.name} writes the dataset {self.output_dataset}; it trains no model"
            )
        return self.model

    @property
    def output_dataset(self) -> str | None:
        return self.output.dataset if self.output is not None else None

    def _data_pipeline(self, output: OutputSpec) -> PipelineSpec:
        if output.dataset in self.inputs:
            raise ValueError(f"output: {output.dataset} is also an input (it would trigger itself)")
        training = [f for f in ("target", "predict_on") if getattr(self, f)]
        if training or self.metrics:
            raise ValueError(f"{', '.join(training or ['metrics'])}: only for a pipeline that trains a model")
        names = [step_name(i, s) for i, s in enumerate(self.steps)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"steps: duplicate step names {', '.join(duplicates)}")
        for step in self.steps:
            if isinstance(step, JoinStep) and step.input not in self.inputs[1:]:
                raise ValueError(
                    f"steps: join input {step.input!r} must be listed in inputs (after the first)"
                )
        for trigger in self.triggers:
            if isinstance(trigger, NewVersionTrigger) and trigger.on_new_version not in self.inputs:
                raise ValueError(f"triggers: on_new_version {trigger.on_new_version!r} is not an input")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> PipelineSpec:
        if (self.model is None) == (self.output is None):
            raise ValueError("a pipeline has either model: (it trains) or output: (it writes a dataset)")
        if self.output is not None:
            return self._data_pipeline(self.output)
        task = self.model_spec.task
        if task != "clustering" and not self.target:
            raise ValueError(f"target: a {task} pipeline needs a target column")
        unknown = [m for m in self.metrics if m not in METRICS[task]]
        if unknown:
            raise ValueError(
                f"metrics: {', '.join(unknown)} not available for {task} ({', '.join(METRICS[task])})"
            )
        if not self.metrics:
            object.__setattr__(self, "metrics", list(METRICS[task]))
        names = [step_name(i, s) for i, s in enumerate(self.steps)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"steps: duplicate step names {', '.join(duplicates)}")
        for step in self.steps:
            if isinstance(step, JoinStep) and step.input not in self.inputs[1:]:
                raise ValueError(
                    f"steps: join input {step.input!r} must be listed in inputs (after the first)"
                )
        for trigger in self.triggers:
            if isinstance(trigger, NewVersionTrigger) and trigger.on_new_version not in {
                *self.inputs,
                self.predict_on,
            }:
                raise ValueError(f"triggers: on_new_version {trigger.on_new_version!r} is not an input")
        self._check_rules(task)
        if self.promotion.rule is None:
            metric = self.primary_metric
            op = ">=" if higher_is_better(metric) else "<="
            promotion = PromotionSpec(rule=f"{metric} {op} champion.{metric}", floor=self.promotion.floor)
            object.__setattr__(self, "promotion", promotion)
        return self

    def _check_rules(self, task: str) -> None:
        known = set(METRICS[task]) | ({"min_cluster_share"} if task == "clustering" else set())
        for text in (self.promotion.rule, self.promotion.floor):
            if text is None:
                continue
            for name in parse_rule(text).names:
                parts = name.split(".")
                if parts[0] in {"champion", "candidate"}:
                    parts = parts[1:]
                if parts and parts[0] == "robustness" and len(parts) == 2:
                    continue
                if len(parts) != 1 or parts[0] not in known:
                    raise ValueError(
                        f"promotion: unknown name {name!r} (metrics: {', '.join(sorted(known))}; "
                        "robustness.<metric>_drop; champion.<metric>)"
                    )

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    @property
    def step_names(self) -> list[str]:
        return [step_name(i, s) for i, s in enumerate(self.steps)]

    @property
    def cron_triggers(self) -> list[CronTrigger]:
        return [t for t in self.triggers if isinstance(t, CronTrigger)]

    def triggered_by(self, dataset: str) -> bool:
        """True when a new version of ``dataset`` should start this pipeline."""
        return any(isinstance(t, NewVersionTrigger) and t.on_new_version == dataset for t in self.triggers)


# Fields that decide what a run produces; triggers, notifications and the description do not.
_HASHED_OUT = frozenset({"description", "triggers", "notifications", "performance"})


def config_hash(spec: PipelineSpec) -> str:
    """A stable sha256 of everything in ``spec`` that decides a run's outputs.

    Key order, short forms and defaults written out or omitted do not change it.
    """
    data = spec.model_dump(mode="json", exclude=set(_HASHED_OUT))
    if data.get("output") is None:
        data.pop("output", None)  # a training pipeline hashes as it did before data pipelines existed
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
